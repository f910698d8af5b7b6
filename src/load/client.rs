//! The lean client of the closed model: one HTTP/1.1 keep-alive connection per virtual
//! user, driven by hyper's connection API directly, in the user's own task. No pool, no cookie jar, no redirect
//! logic and no per-request client machinery: under load those cost more than the
//! request itself. A connection that fails is dropped and the next request opens a new
//! one. HTTPS targets, and the open model (many requests in flight per session), use the
//! runner's pooled client instead.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::runner::{Outgoing, Received, TransportError};

/// Where the lean client connects: a plain `http://` target.
#[derive(Debug, Clone)]
pub struct LeanTarget {
    pub addr: SocketAddr,
    /// The `Host` header.
    pub authority: String,
}

impl LeanTarget {
    /// `Some` for an `http://` URL whose host resolves; `None` sends the caller to the pooled client.
    pub async fn resolve(base_url: &str) -> Option<LeanTarget> {
        let uri: Uri = base_url.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?.clone();
        let port = authority.port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((authority.host(), port)).await.ok()?.next()?;
        Some(LeanTarget {
            addr,
            authority: authority.to_string(),
        })
    }
}

/// A request in hyper's terms, built once per rendered step and reused for every send.
#[derive(Debug, Clone)]
pub struct Prepared {
    method: Method,
    uri: Uri,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Prepared {
    pub fn new(target: &LeanTarget, out: &Outgoing) -> Result<Prepared, TransportError> {
        let request = to_request(target, out)?;
        let (parts, _) = request.into_parts();
        Ok(Prepared {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body: out.body.clone().map(Bytes::from).unwrap_or_default(),
        })
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

type Connection = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;
/// An open connection: the handle requests go through, and the connection it drives.
type Open = (SendRequest<Full<Bytes>>, Pin<Box<Connection>>);

/// One virtual user's connection, opened on first use. The connection is driven in the
/// user's own task, beside the request waiting on it, rather than in a task of its own:
/// each exchange then costs no wake-up of another task.
#[derive(Default)]
pub struct LeanConn {
    open: Option<Open>,
}

/// Runs `work` while driving `connection`; a connection that ends first fails the work.
async fn driving<T>(
    connection: &mut Pin<Box<Connection>>,
    work: impl Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    tokio::select! {
        biased;
        result = work => result,
        ended = connection.as_mut() => Err(TransportError::Broken(match ended {
            Ok(()) => "the server closed the connection".to_string(),
            Err(e) => e.to_string(),
        })),
    }
}

impl LeanConn {
    async fn open(target: &LeanTarget) -> Result<Open, TransportError> {
        let stream = TcpStream::connect(target.addr)
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        Ok((sender, Box::pin(connection)))
    }

    /// Sends `out` on this user's connection; the whole exchange shares one deadline.
    pub async fn send(
        &mut self,
        target: &LeanTarget,
        prepared: &Prepared,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Received, TransportError> {
        let started = Instant::now();
        match tokio::time::timeout(timeout, self.exchange(target, prepared, max_body, started)).await {
            Ok(Ok(received)) => Ok(received),
            Ok(Err(e)) => {
                self.open = None;
                Err(e)
            }
            Err(_) => {
                self.open = None;
                Err(TransportError::Timeout(timeout))
            }
        }
    }

    async fn exchange(
        &mut self,
        target: &LeanTarget,
        prepared: &Prepared,
        max_body: usize,
        started: Instant,
    ) -> Result<Received, TransportError> {
        let request = prepared.request();
        // A kept-alive connection is reused once it is ready for the next request; one the
        // server closed (or never opened) is replaced.
        if let Some((sender, connection)) = &mut self.open {
            let ready = driving(connection, async {
                sender.ready().await.map_err(|e| TransportError::Broken(e.to_string()))
            })
            .await;
            if ready.is_err() {
                self.open = None;
            }
        }
        let (sender, connection) = match &mut self.open {
            Some(open) => open,
            None => self.open.insert(Self::open(target).await?),
        };
        let exchange = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| TransportError::Broken(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        TransportError::BodyTooLarge(max_body)
                    } else {
                        TransportError::Broken(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(Received {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.to_vec(),
                elapsed: started.elapsed(),
            })
        };
        driving(connection, exchange).await
    }
}

fn to_request(target: &LeanTarget, out: &Outgoing) -> Result<Request<Full<Bytes>>, TransportError> {
    let uri: Uri = out
        .url
        .parse()
        .map_err(|_| TransportError::Invalid(format!("url {:?}", out.url)))?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let method = Method::from_bytes(out.method.as_bytes())
        .map_err(|_| TransportError::Invalid(format!("method {:?}", out.method)))?;
    let mut builder = Request::builder().method(method).uri(path);
    let headers = builder.headers_mut().expect("a fresh builder has headers");
    headers.insert(
        hyper::header::HOST,
        HeaderValue::from_str(&target.authority).map_err(|_| TransportError::Invalid("host".into()))?,
    );
    for (name, value) in &out.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| TransportError::Invalid(format!("header name {name:?}")))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| TransportError::Invalid(format!("value of header {name}")))?;
        headers.append(name, value);
    }
    let body = out.body.clone().map(Bytes::from).unwrap_or_default();
    builder
        .body(Full::new(body))
        .map_err(|e| TransportError::Invalid(e.to_string()))
}
