//! Where the authorizer gets its bundle: an S3 object Gatehouse publishes (gzip'd JSON), checked
//! at most every `refresh` (a HEAD; the body is read again only when its ETag changed). A copy
//! not confirmed against S3 for longer than `max_staleness` is never used: the authorizer then
//! refuses every call, saying why.

use std::{
    io::Read,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Mutex;

use crate::bundle::{Bundle, BundleError, Compiled};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("the access bundle cannot be read: {0}")]
    Unavailable(String),
    #[error("the access bundle was last confirmed {0} s ago, longer than the {1} s allowed: refusing every call until S3 answers")]
    Stale(u64, u64),
    #[error("{0}")]
    Invalid(#[from] BundleError),
}

/// Decodes a published bundle: gzip'd or plain JSON.
pub fn decode(bytes: &[u8]) -> Result<Bundle, BundleError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut json)
            .map_err(|e| BundleError::Unreadable(format!("gzip: {e}")))?;
        Bundle::from_json(&json)
    } else {
        Bundle::from_json(bytes)
    }
}

/// A bundle as Gatehouse publishes it: gzip'd JSON.
pub fn encode(bundle: &Bundle) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bundle.to_json()).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

struct Loaded {
    bundle: Arc<Compiled>,
    etag: String,
    confirmed_at: Instant,
}

pub struct S3Source {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    refresh: Duration,
    max_staleness: Duration,
    loaded: Mutex<Option<Loaded>>,
}

pub enum BundleSource {
    /// A bundle given once (tests, `gatehouse authorize`).
    Fixed(Arc<Compiled>),
    S3(S3Source),
}

impl BundleSource {
    pub async fn current(&self) -> Result<Arc<Compiled>, SourceError> {
        match self {
            BundleSource::Fixed(b) => Ok(b.clone()),
            BundleSource::S3(s3) => s3.current().await,
        }
    }
}

impl S3Source {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: String,
        key: String,
        refresh: Duration,
        max_staleness: Duration,
    ) -> S3Source {
        S3Source {
            client,
            bucket,
            key,
            refresh,
            max_staleness,
            loaded: Mutex::new(None),
        }
    }

    pub async fn current(&self) -> Result<Arc<Compiled>, SourceError> {
        let mut loaded = self.loaded.lock().await;
        if let Some(l) = loaded.as_ref() {
            if l.confirmed_at.elapsed() < self.refresh {
                return Ok(l.bundle.clone());
            }
        }
        match self.check(loaded.as_ref().map(|l| l.etag.as_str())).await {
            Ok(None) => {
                let l = loaded.as_mut().expect("an unchanged bundle was loaded");
                l.confirmed_at = Instant::now();
                Ok(l.bundle.clone())
            }
            Ok(Some((bundle, etag))) => {
                let bundle = Arc::new(bundle);
                *loaded = Some(Loaded {
                    bundle: bundle.clone(),
                    etag,
                    confirmed_at: Instant::now(),
                });
                Ok(bundle)
            }
            Err(e) => match loaded.as_ref() {
                Some(l) if l.confirmed_at.elapsed() <= self.max_staleness => {
                    tracing::warn!(error = %e, "serving the last access bundle read");
                    Ok(l.bundle.clone())
                }
                Some(l) => Err(SourceError::Stale(
                    l.confirmed_at.elapsed().as_secs(),
                    self.max_staleness.as_secs(),
                )),
                None => Err(e),
            },
        }
    }

    /// `None` when the object's ETag is still `etag`; else the new bundle and its ETag.
    async fn check(&self, etag: Option<&str>) -> Result<Option<(Compiled, String)>, SourceError> {
        let unavailable =
            |e: String| SourceError::Unavailable(format!("s3://{}/{}: {e}", self.bucket, self.key));
        if let Some(etag) = etag {
            let head = self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .send()
                .await
                .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
            if head.e_tag() == Some(etag) {
                return Ok(None);
            }
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        let etag = object.e_tag().unwrap_or_default().to_string();
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .into_bytes();
        let bundle = decode(&bytes)?.compile()?;
        tracing::info!(version = bundle.version, etag, "access bundle loaded");
        Ok(Some((bundle, etag)))
    }
}
