//! Secrets out of everything a run writes: the token, every value a scenario marks secret
//! and the signature of every presigned URL (a file's `url` grants access by itself) are
//! masked in one pass over each step result before it leaves the runner, so no reporter,
//! file or curl line can leak them.

use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;

use crate::report::{Exchange, StepResult};

/// The mask that replaces a secret.
pub const MASK: &str = "***";

/// The query parameters that make a URL a grant of its own: the reference server's
/// `signature`, S3's and GCS's presigned-URL signatures, credentials and session tokens.
static URL_GRANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)([?&](?:signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)[^&"'\s<>\\]+"#,
    )
    .expect("valid regex")
});

/// `…&signature=abc…` → `…&signature=***…`.
fn mask_url_grants(text: &str) -> String {
    if !text.contains('=') {
        return text.to_string();
    }
    URL_GRANT.replace_all(text, format!("${{1}}{MASK}")).into_owned()
}

/// The set of secret strings of a run; shared by its scenarios, grows as secrets are captured.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn add(&self, secret: &str) {
        // Very short values would mask unrelated text everywhere; they are not worth hiding.
        if secret.len() < 4 {
            return;
        }
        let mut secrets = self.secrets.write().expect("redactor poisoned");
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn mask(&self, text: &str) -> String {
        let secrets = self.secrets.read().expect("redactor poisoned");
        let mut out = text.to_string();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        mask_url_grants(&out)
    }

    fn mask_in_place(&self, text: &mut String) {
        let masked = self.mask(text);
        *text = masked;
    }

    pub fn scrub_exchange(&self, exchange: &mut Exchange) {
        let request = &mut exchange.request;
        self.mask_in_place(&mut request.url);
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case("authorization") {
                *value = format!("Bearer {MASK}");
            } else {
                self.mask_in_place(value);
            }
        }
        if let Some(body) = &mut request.body {
            self.mask_in_place(body);
        }
        if let Some(response) = &mut exchange.response {
            for (_, value) in &mut response.headers {
                self.mask_in_place(value);
            }
            self.mask_in_place(&mut response.body);
        }
        if let Some(error) = &mut exchange.error {
            self.mask_in_place(error);
        }
        self.mask_in_place(&mut exchange.curl);
    }

    /// Masks every string of a step result.
    pub fn scrub_step(&self, step: &mut StepResult) {
        self.mask_in_place(&mut step.name);
        for check in &mut step.checks {
            self.mask_in_place(&mut check.message);
            for d in &mut check.diff {
                self.mask_in_place(&mut d.message);
                self.mask_in_place(&mut d.path);
                for v in [&mut d.expected, &mut d.actual].into_iter().flatten() {
                    let text = v.to_string();
                    let masked = self.mask(&text);
                    if masked != text {
                        *v = serde_json::from_str(&masked).unwrap_or(serde_json::Value::String(masked));
                    }
                }
            }
        }
        for exchange in &mut step.exchanges {
            self.scrub_exchange(exchange);
        }
        for value in &mut step.trace {
            self.mask_in_place(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_ignores_tiny_values() {
        let r = Redactor::default();
        r.add("bp_pat_secret");
        r.add("bp_pat_secret_longer");
        r.add("ab");
        assert_eq!(r.mask("a bp_pat_secret_longer b bp_pat_secret ab"), "a *** b *** ab");
    }

    #[test]
    fn presigned_url_grants_are_masked_and_the_rest_of_the_url_kept() {
        let r = Redactor::default();
        let json = r#"{"url":"http://h/_storage/b/f/content?generation=1&expires=9&signature=P11m-5_x"}"#;
        assert_eq!(
            r.mask(json),
            r#"{"url":"http://h/_storage/b/f/content?generation=1&expires=9&signature=***"}"#
        );
        let s3 = "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123&x=1";
        assert_eq!(
            r.mask(s3),
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&x=1"
        );
        assert_eq!(r.mask("design=1&assignature=2"), "design=1&assignature=2");
    }
}
