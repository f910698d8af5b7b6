//! Capturing a run's traffic: every exchange, secrets masked, written as HAR 1.2 (the format
//! browsers and HTTP tools read), and read back for schema inference.

mod har;

use std::sync::{Arc, Mutex};

pub use self::har::{Har, HarEntry, read_har, to_har, write_har};

/// One exchange as sent and received, whole (bodies up to the run's body cap).
#[derive(Debug, Clone)]
pub struct Captured {
    pub started: chrono::DateTime<chrono::Utc>,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub error: Option<String>,
    pub elapsed_ms: f64,
}

/// Where a run puts what it captures; the caller keeps a clone and reads it afterwards.
#[derive(Debug, Clone, Default)]
pub struct CaptureSink(pub Arc<Mutex<Vec<Captured>>>);

impl CaptureSink {
    pub fn push(&self, exchange: Captured) {
        self.0.lock().expect("capture sink poisoned").push(exchange);
    }

    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.0.lock().expect("capture sink poisoned"))
    }

    /// Applies `f` to every string of every exchange (secret masking).
    pub fn map_strings(&self, f: impl Fn(&str) -> String) {
        let mut all = self.0.lock().expect("capture sink poisoned");
        for c in all.iter_mut() {
            c.url = f(&c.url);
            for (_, v) in c.request_headers.iter_mut().chain(c.response_headers.iter_mut()) {
                *v = f(v);
            }
            if let Some(b) = &mut c.request_body {
                *b = f(b);
            }
            c.response_body = f(&c.response_body);
            if let Some(e) = &mut c.error {
                *e = f(e);
            }
        }
    }
}
