//! A misbehaving server on purpose: raw TCP on 127.0.0.1:0, so it can send what no HTTP
//! framework would (bad JSON, endless bodies, stalls, resets, redirects, scripted status
//! sequences, a megabyte of headers, a gzip bomb, a body announced at 10 GB). Each path
//! under `/v1/chat/users/` picks a behaviour.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use flate2::{Compress, Compression, FlushCompress};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the double saw: request heads, for tests that check what was (not) sent.
#[derive(Default)]
pub struct Seen {
    pub heads: Vec<String>,
}

pub struct Double {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Double {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const USER: &str = r#"{"user":{"id":"user_01JDOUBLE000000000000000000","createdAt":"2025-01-01T00:00:00.000Z","updatedAt":"2025-01-01T00:00:00.000Z","tags":{}}}"#;

fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub async fn start() -> Double {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let counters: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (seen2, counters2) = (seen.clone(), counters);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (seen, counters) = (seen2.clone(), counters2.clone());
            tokio::spawn(async move { serve(stream, seen, counters, addr).await });
        }
    });
    Double {
        url: format!("http://{addr}"),
        seen,
        task,
    }
}

async fn serve(
    mut stream: TcpStream,
    seen: Arc<Mutex<Seen>>,
    counters: Arc<Mutex<HashMap<String, usize>>>,
    addr: SocketAddr,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    seen.lock().unwrap().heads.push(head.clone());
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_string();
    let count = {
        let mut c = counters.lock().unwrap();
        let n = c.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let name = path.rsplit('/').next().unwrap_or("");
    let bytes = match name {
        "users" => response("200 OK", "application/json", r#"{"users":[],"meta":{}}"#),
        "ok" => response("200 OK", "application/json", USER),
        "bad-json" => response("200 OK", "application/json", "{\"user\": {\"id\": "),
        "wrong-content-type" => response("200 OK", "text/html; charset=utf-8", USER),
        "empty" => response("200 OK", "application/json", ""),
        "error-as-success" => response("200 OK", "application/json", r#"{"id":"err_20250101120000x1A2B3C4D","code":404,"type":"ResourceNotFound","message":"gone"}"#),
        "unparsable-status" => b"HTTP/1.1 two hundred OK\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
        "redirect-away" => format!(
            "HTTP/1.1 302 Found\r\nlocation: http://{addr}/v1/chat/users/ok-elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .into_bytes(),
        "endless" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n[").await;
            let block = vec![b'1'; 64 * 1024];
            loop {
                if stream.write_all(&block).await.is_err() {
                    return;
                }
            }
        }
        "huge-headers" => {
            // A megabyte of headers: 1,024 of 1,000 bytes each.
            let mut head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n".to_vec();
            let pad = "a".repeat(1000);
            for i in 0..1024 {
                head.extend_from_slice(format!("x-pad-{i}: {pad}\r\n").as_bytes());
            }
            head.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n{USER}", USER.len()).as_bytes());
            head
        }
        "gzip-bomb" => {
            let bomb = gzip_bomb();
            let mut bytes = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bomb.len()
            )
            .into_bytes();
            bytes.extend_from_slice(bomb);
            bytes
        }
        "redirect-loop" => format!(
            "HTTP/1.1 302 Found\r\nlocation: http://{addr}{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .into_bytes(),
        "ten-gigabytes" => {
            // Announces 10 GB, sends the first bytes, then nothing more.
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10737418240\r\n\r\n{\"user\":")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "never-answers" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "stalls-mid-body" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"user\":")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "reset" => {
            // Linger 0: close sends a reset, not a graceful end (and does not block).
            #[expect(deprecated, reason = "linger 0 is the point: the close must be a reset")]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
            return;
        }
        "reversed-status" => {
            // scheduled → pending → scheduled: a move back that the graph forbids.
            let status = ["scheduled", "pending", "scheduled", "processed"][(count - 1).min(3)];
            response("200 OK", "application/json", &event(status))
        }
        "leaves-terminal" => {
            let status = ["pending", "failed", "processed"][(count - 1).min(2)];
            response("200 OK", "application/json", &event(status))
        }
        // Rate limited once, with Retry-After (seconds), then answered.
        "limited-once" if count == 1 => rate_limited(Some("1")),
        "limited-once" => response("200 OK", "application/json", USER),
        // Rate limited once with Retry-After as an HTTP date (in the past: no wait).
        "limited-dated" if count == 1 => rate_limited(Some("Thu, 01 Jan 2015 00:00:00 GMT")),
        "limited-dated" => response("200 OK", "application/json", USER),
        // Rate limited for ever, without Retry-After.
        "limited-always" => rate_limited(None),
        // A first status no path of the graph leads to.
        "starts-wrong" => response("200 OK", "application/json", &event("ignored")),
        // scheduled → processed: pending went unseen between two reads.
        "skips-pending" => {
            let status = ["scheduled", "processed"][(count - 1).min(1)];
            response("200 OK", "application/json", &event(status))
        }
        // Already processed at the first read: scheduled and pending went unseen.
        "starts-late" => response("200 OK", "application/json", &event("processed")),
        _ => response("404 Not Found", "application/json", r#"{"id":"err_20250101120000x1A2B3C4D","code":404,"type":"ResourceNotFound","message":"no"}"#),
    };
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

fn rate_limited(retry_after: Option<&str>) -> Vec<u8> {
    let body = r#"{"id":"err_20250101120000x1A2B3C4D","code":429,"type":"RateLimited","message":"slow down"}"#;
    let retry = retry_after.map(|v| format!("retry-after: {v}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n{retry}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn event(status: &str) -> String {
    format!(
        r#"{{"event":{{"id":"evt_01JDOUBLE0000000000000000000","createdAt":"2025-01-01T00:00:00.000Z","type":"t","payload":{{}},"status":"{status}","failureReason":null}}}}"#
    )
}

/// Bytes that inflate 1,024 times over to 1 GiB of zeros: about 1 MB of gzip, made once.
///
/// Deflate cannot do better than about 1,032:1, so the bomb is built from one compressed
/// mebibyte of zeros ended by a full flush (which makes it stand alone), repeated 1,024
/// times; the CRC of the whole is combined from the CRC of one mebibyte.
pub fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        const MIB: usize = 1024 * 1024;
        const REPEAT: u32 = 1024;
        let zeros = vec![0u8; MIB];
        let mut deflate = Compress::new(Compression::best(), false);
        let mut segment = Vec::with_capacity(64 * 1024);
        deflate.compress_vec(&zeros, &mut segment, FlushCompress::Full).unwrap();
        assert_eq!(deflate.total_in(), MIB as u64, "one call compresses the whole mebibyte");
        let mut last = Vec::with_capacity(64);
        deflate.compress_vec(&[], &mut last, FlushCompress::Finish).unwrap();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&zeros);
        for _ in 0..REPEAT.trailing_zeros() {
            let twice = crc.clone();
            crc.combine(&twice);
        }
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        for _ in 0..REPEAT {
            out.extend_from_slice(&segment);
        }
        out.extend_from_slice(&last);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE: the inflated size modulo 2^32; 1 GiB fits.
        out.extend_from_slice(&(u32::try_from(MIB).unwrap() * REPEAT).to_le_bytes());
        out
    })
}
