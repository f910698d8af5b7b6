//! The baseline of `scripts/bench-server.sh`: the cheapest axum server that answers the
//! same route with a JSON body of the same shape, built the same way (release, axum with the
//! crate's features, multi-threaded tokio). Its requests/s are the denominator of the
//! bench's ratio, so what that ratio measures is the reference server's own work (auth,
//! store, serialization) and not axum, hyper, tokio or the machine.
//!
//! `cargo run --release --example bare_axum -- 127.0.0.1:0`: one route, no auth, no state.
//! It prints the address it bound so the bench can ask for port 0.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// A user as `getUser` answers it, fixed: the body never changes, whatever the id.
const USER: &str = r#"{"user":{"id":"user_01JZ0000000000000000000000","createdAt":"2025-01-01T00:00:00.000Z","updatedAt":"2025-01-01T00:00:00.000Z","tags":{}}}"#;

async fn get_user() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], USER)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("url: http://{}", listener.local_addr()?);
    let app = Router::new().route("/v1/chat/users/{id}", get(get_user));
    axum::serve(listener, app).await
}
