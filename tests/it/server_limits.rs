//! What one client can hold of the reference server: a connection only as long as the
//! header read timeout while it dawdles over its request head, and no more than
//! `max_in_flight` requests at once (past that, 429 `RateLimited` with `Retry-After`).

use std::time::{Duration, Instant};

use bpharness::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util::{Api, assert_error, into_reply};

/// Upper bound on every wait here: far above the configured limits, so a slow machine does
/// not fail the test, and still a bound.
const PATIENCE: Duration = Duration::from_secs(10);

/// Reads until the server closes the connection; how long that took.
async fn time_to_eof(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open for {PATIENCE:?}");
    started.elapsed()
}

#[rstest::rstest]
#[case::half_a_head("GET /v1/chat/users HTTP/1.1\r\nhost: 127.0.0.1\r\nx-bot-id: ")]
#[case::nothing_at_all("")]
#[tokio::test]
async fn a_slow_request_head_is_cut_off(#[case] sent: &str) {
    let timeout = Duration::from_millis(200);
    let api = Api::start_with(ServerConfig {
        header_read_timeout: timeout,
        ..ServerConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(api.server.addr).await.unwrap();
    stream.write_all(sent.as_bytes()).await.unwrap();
    let waited = time_to_eof(&mut stream).await;
    // Not cut before its time: the timer, not a parse error, closed it.
    assert!(waited >= timeout - Duration::from_millis(50), "closed after {waited:?}");
    // The server is still there for a client that sends its request.
    let r = api.get("/v1/chat/users").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn requests_over_the_in_flight_bound_are_rate_limited() {
    let api = Api::start_with(ServerConfig {
        max_in_flight: 1,
        ..ServerConfig::default()
    })
    .await;
    // One request whose body never finishes holds the only permit.
    let mut held = TcpStream::connect(api.server.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/users HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {}\r\nx-bot-id: {}\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{{\"tags\"",
        api.token, api.bot
    );
    held.write_all(head.as_bytes()).await.unwrap();

    // Once the held request is being handled, the next one is refused.
    let deadline = Instant::now() + PATIENCE;
    let refused = loop {
        let response = api
            .http
            .get(api.url("/v1/chat/users"))
            .bearer_auth(&api.token)
            .header("x-bot-id", &api.bot)
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            break response;
        }
        assert!(Instant::now() < deadline, "never refused over the bound");
        tokio::task::yield_now().await;
    };
    let retry_after = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "Retry-After: {retry_after:?}");
    let reply = into_reply(refused).await;
    assert_error(&reply, 429, "RateLimited");

    // Finishing the held body lets it through, and frees the permit.
    held.write_all(b": {}}").await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, held.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 201"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let r = api.get("/v1/chat/users").await;
    assert_eq!(r.status, 200, "{:#}", r.body);
}
