//! Capability URLs for file content: the upload URL, the expiring download URL and the
//! permanent public URL.
//!
//! These URLs are served outside the bearer-token layer, so the signature is the only thing
//! that grants access. It is an HMAC over the purpose, the bot, the file and (for uploads
//! and private downloads) the upload generation and expiry, so a URL cannot be guessed,
//! cannot be turned into another purpose (an upload URL does not download), and dies with
//! the content it was made for: a re-upsert bumps the generation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in a URL.
const SIGNATURE_BYTES: usize = 16;

/// What a signed URL may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `PUT` the content once.
    Upload,
    /// `GET` the content until the expiry.
    Download,
    /// `GET` the content of a `public_content` file, for as long as it stays public.
    Public,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Upload => "upload",
            Purpose::Download => "content",
            Purpose::Public => "public",
        }
    }
}

/// What a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant<'a> {
    pub purpose: Purpose,
    pub bot: &'a str,
    pub file: &'a str,
    /// Upload generation (0 for public URLs, which follow the file's current content).
    pub generation: u64,
    /// Unix seconds after which the URL is refused (0: never).
    pub expires: i64,
}

/// How content URLs are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// The reference server's own: `/_storage/{bot}/{file}/{purpose}?generation=…&expires=…&signature=…`
    /// on the API's origin.
    Reference,
    /// The other server's, as an S3-like storage host would spell them (`variant.rs`):
    /// `/bp-files/{bot}/{file}?versionId=…&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-Signature=…`
    /// (PUT uploads, GET downloads) and `/bp-public/{bot}/{file}?X-Amz-Signature=…`. A
    /// download URL is valid `ttl_secs` from its `X-Amz-Date`.
    S3 { ttl_secs: u64 },
}

/// Path prefixes of the S3-like URLs.
pub const S3_FILES: &str = "/bp-files";
pub const S3_PUBLIC: &str = "/bp-public";

/// Signs and checks content URLs with the server's secret key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
    style: UrlStyle,
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Self {
        Signer {
            key,
            style: UrlStyle::Reference,
        }
    }

    /// The same signer, spelling its URLs in `style`.
    pub fn with_style(self, style: UrlStyle) -> Self {
        Signer { style, ..self }
    }

    fn mac(&self, grant: &Grant<'_>) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("hmac takes any key length");
        let generation = grant.generation.to_be_bytes();
        let expires = grant.expires.to_be_bytes();
        let parts: [&[u8]; 5] = [
            grant.purpose.name().as_bytes(),
            grant.bot.as_bytes(),
            grant.file.as_bytes(),
            &generation,
            &expires,
        ];
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    pub fn sign(&self, grant: &Grant<'_>) -> String {
        let full = self.mac(grant).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&full[..SIGNATURE_BYTES])
    }

    /// Whether `signature` was made for exactly `grant` (compared in constant time).
    pub fn verify(&self, grant: &Grant<'_>, signature: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')) else {
            return false;
        };
        bytes.len() == SIGNATURE_BYTES && self.mac(grant).verify_truncated_left(&bytes).is_ok()
    }

    /// The URL `grant` is for, below `origin` (`http://host:port`).
    pub fn url(&self, origin: &str, grant: &Grant<'_>) -> String {
        if let UrlStyle::S3 { ttl_secs } = self.style {
            return self.s3_url(origin, grant, ttl_secs);
        }
        let signature = self.sign(grant);
        let base = format!(
            "{origin}/_storage/{}/{}/{}",
            grant.bot,
            grant.file,
            grant.purpose.name()
        );
        match grant.purpose {
            Purpose::Upload => format!("{base}?generation={}&signature={signature}", grant.generation),
            Purpose::Download => format!(
                "{base}?generation={}&expires={}&signature={signature}",
                grant.generation, grant.expires
            ),
            Purpose::Public => format!("{base}?signature={signature}"),
        }
    }
}

impl Signer {
    fn s3_url(&self, origin: &str, grant: &Grant<'_>, ttl_secs: u64) -> String {
        let signature = self.sign(grant);
        let (bot, file, generation) = (grant.bot, grant.file, grant.generation);
        match grant.purpose {
            Purpose::Upload => {
                format!("{origin}{S3_FILES}/{bot}/{file}?versionId={generation}&X-Amz-Signature={signature}")
            }
            Purpose::Download => {
                let ttl = i64::try_from(ttl_secs).unwrap_or(i64::MAX);
                let date = chrono::DateTime::from_timestamp(grant.expires.saturating_sub(ttl), 0)
                    .unwrap_or_default()
                    .format(S3_DATE);
                format!(
                    "{origin}{S3_FILES}/{bot}/{file}?versionId={generation}&X-Amz-Date={date}&X-Amz-Expires={ttl}&X-Amz-Signature={signature}"
                )
            }
            Purpose::Public => format!("{origin}{S3_PUBLIC}/{bot}/{file}?X-Amz-Signature={signature}"),
        }
    }
}

/// The format of `X-Amz-Date`.
pub const S3_DATE: &str = "%Y%m%dT%H%M%SZ";

/// The expiry (Unix seconds) an S3-like download URL names: `X-Amz-Date` plus `X-Amz-Expires`.
pub fn s3_expires(date: &str, ttl: &str) -> Option<i64> {
    let at = chrono::NaiveDateTime::parse_from_str(date, S3_DATE).ok()?.and_utc();
    at.timestamp().checked_add(ttl.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(purpose: Purpose, generation: u64, expires: i64) -> Grant<'static> {
        Grant {
            purpose,
            bot: "bot_1",
            file: "file_1",
            generation,
            expires,
        }
    }

    #[test]
    fn a_signature_is_bound_to_everything_it_covers() {
        let signer = Signer::new([3; 32]);
        let upload = grant(Purpose::Upload, 1, 0);
        let sig = signer.sign(&upload);
        assert!(signer.verify(&upload, &sig));
        assert!(!signer.verify(&grant(Purpose::Upload, 2, 0), &sig));
        assert!(!signer.verify(&grant(Purpose::Download, 1, 0), &sig));
        assert!(!signer.verify(&Grant { bot: "bot_2", ..upload }, &sig));
        assert!(!signer.verify(
            &Grant {
                file: "file_2",
                ..upload
            },
            &sig
        ));
        assert!(!Signer::new([4; 32]).verify(&upload, &sig));
        assert!(!signer.verify(&upload, "not-base64!"));
        assert!(!signer.verify(&upload, ""));
        let mut tampered = sig.into_bytes();
        tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
        assert!(!signer.verify(&upload, std::str::from_utf8(&tampered).unwrap()));
    }

    #[test]
    fn urls_carry_what_the_signature_covers() {
        let signer = Signer::new([3; 32]);
        let url = signer.url("http://h:1", &grant(Purpose::Download, 7, 1_700_000_000));
        assert!(
            url.starts_with("http://h:1/_storage/bot_1/file_1/content?generation=7&expires=1700000000&signature="),
            "{url}"
        );
        let url = signer.url("http://h:1", &grant(Purpose::Public, 0, 0));
        assert!(
            url.starts_with("http://h:1/_storage/bot_1/file_1/public?signature="),
            "{url}"
        );
    }

    #[test]
    fn s3_urls_name_their_expiry_by_date_and_lifetime() {
        let signer = Signer::new([3; 32]).with_style(UrlStyle::S3 { ttl_secs: 3600 });
        let url = signer.url("http://s:2", &grant(Purpose::Download, 7, 1_700_003_600));
        assert!(
            url.starts_with(
                "http://s:2/bp-files/bot_1/file_1?versionId=7&X-Amz-Date=20231114T221320Z&X-Amz-Expires=3600&X-Amz-Signature="
            ),
            "{url}"
        );
        assert!(!url.contains("signature=") && !url.contains("expires="), "{url}");
        assert_eq!(s3_expires("20231114T221320Z", "3600"), Some(1_700_003_600));
        assert_eq!(s3_expires("nope", "3600"), None);
        let url = signer.url("http://s:2", &grant(Purpose::Upload, 2, 0));
        assert!(
            url.starts_with("http://s:2/bp-files/bot_1/file_1?versionId=2&X-Amz-Signature="),
            "{url}"
        );
    }
}
