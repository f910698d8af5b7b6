//! Starting a server on a socket, in process.
//!
//! Connections are served by hyper's HTTP/1 builder rather than `axum::serve`, which sets no
//! timer: with one, a client that sends its request head too slowly (or half of it, then
//! nothing) is disconnected after `ServerConfig::header_read_timeout` instead of holding a
//! connection and a task forever. Shutdown is graceful: no new connection is taken, idle
//! ones are closed, requests under way are answered.
//!
//! The other server (`ServerConfig::other_server`) listens twice: the API, and its storage
//! host on another port of the same address, which its file URLs point to (unless
//! `FilesConfig::public_origin` names another origin, a proxy in front of it).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::ServerConfig;
use super::routes::app;
use super::state::{AppState, Seeds};
use super::variant::{Variant, storage_router};

/// A running server: its URL, its seeded ids, and the means to stop it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub url: String,
    /// The other server's storage host (`http://host:port`), where its file URLs point;
    /// `None` on the reference server, which serves file content on `url`.
    pub storage_url: Option<String>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    pub fn seeds(&self) -> &Seeds {
        self.state.seeds()
    }

    /// The first token of the primary workspace.
    pub fn token(&self) -> &str {
        &self.seeds().tokens[0]
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server ends (for `serve`).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` and serves the API there in a background task (and, for the other
/// server, its storage host on another port of the same address).
pub async fn spawn(mut config: ServerConfig, addr: SocketAddr) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let storage = match config.variant {
        Variant::Reference => None,
        Variant::Other => {
            let storage = TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?;
            let storage_url = format!("http://{}", storage.local_addr()?);
            config.files.public_origin.get_or_insert_with(|| storage_url.clone());
            Some((storage, storage_url))
        }
    };
    let header_read_timeout = config.header_read_timeout;
    let state = AppState::new(config);
    let api = (listener, app(state.clone()));
    let (storage, storage_url) = match storage {
        Some((listener, url)) => (Some((listener, storage_router(state.clone()))), Some(url)),
        None => (None, None),
    };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(api, storage, header_read_timeout, rx));
    Ok(ServerHandle {
        addr,
        url: format!("http://{addr}"),
        storage_url,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Accepts a connection on `listener`, or waits forever when there is none.
async fn accept(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Accepts connections on both listeners until `shutdown`, then waits for the ones open to
/// finish.
async fn serve(
    api: (TcpListener, Router),
    storage: Option<(TcpListener, Router)>,
    header_read_timeout: Duration,
    mut shutdown: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    loop {
        let (accepted, app) = tokio::select! {
            accepted = api.0.accept() => (accepted, &api.1),
            accepted = accept(storage.as_ref().map(|s| &s.0)) => (accepted, &storage.as_ref().expect("accepted on it").1),
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // A failure of one connection (reset before accept, no file descriptor left):
            // the listener itself is fine; pause so a full fd table is not spun on.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that vanishes or is timed out ends its connection with an error;
            // there is nobody to tell.
            let _ = connection.await;
        });
    }
    drop((api, storage));
    graceful.shutdown().await;
    Ok(())
}

/// A server on an ephemeral loopback port: what tests and a run without `--target` use.
pub async fn spawn_local(config: ServerConfig) -> std::io::Result<ServerHandle> {
    spawn(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
