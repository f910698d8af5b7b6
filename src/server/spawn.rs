//! Starting a server on a socket, in process.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::ServerConfig;
use super::routes::router;
use super::state::{AppState, Seeds};

/// A running server: its URL, its seeded ids, and the means to stop it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub url: String,
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

/// Binds `addr` and serves the API there in a background task.
pub async fn spawn(config: ServerConfig, addr: SocketAddr) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config);
    let app = super::fault::wrap(router(state.clone()), state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(ServerHandle {
        addr,
        url: format!("http://{addr}"),
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// A server on an ephemeral loopback port: what tests and a run without `--target` use.
pub async fn spawn_local(config: ServerConfig) -> std::io::Result<ServerHandle> {
    spawn(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
