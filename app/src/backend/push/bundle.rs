//! Token mode's write: the access bundle in S3. What S3 holds is read with a HEAD (the content
//! hash Gatehouse set as metadata, the version, the ETag); a push publishes only when the
//! desired state's bundle hashes differently, and records what it published in
//! `access_bundles`.

use aws_sdk_s3::{error::DisplayErrorContext, primitives::ByteStream};
use sqlx::PgPool;

use crate::{
    backend::config::AwsSettings,
    domain::access_bundle::{self, Nesting},
};

const SHA_META: &str = "gatehouse-content-sha256";
const VERSION_META: &str = "gatehouse-version";

/// What S3 holds at the bundle's key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishedHead {
    /// `None`: the object lacks Gatehouse's metadata (written by someone else).
    pub content_sha256: Option<String>,
    pub version: Option<u64>,
    pub etag: Option<String>,
}

/// S3's state and the directory's nesting, read for a plan.
#[derive(Clone, Debug, Default)]
pub struct BundleActual {
    /// `None`: no object at the key.
    pub head: Option<PublishedHead>,
    pub nesting: Nesting,
    /// The last version Gatehouse recorded publishing, and the ETag S3 gave it.
    pub last_version: u64,
    pub last_etag: Option<String>,
}

impl BundleActual {
    /// Why S3's bundle is not the one to keep, if it is not: missing, edited outside
    /// Gatehouse (its ETag is not the one Gatehouse's write got), or another state's.
    pub fn difference(&self, desired_sha: &str) -> Option<&'static str> {
        let Some(head) = &self.head else {
            return Some("access bundle missing from S3");
        };
        if self.last_etag.is_some() && head.etag != self.last_etag {
            return Some("access bundle edited outside Gatehouse");
        }
        if head.content_sha256.as_deref() != Some(desired_sha) {
            return Some("access bundle out of date with the approved state");
        }
        None
    }
}

pub struct BundlePublisher {
    client: aws_sdk_s3::Client,
    pub bucket: String,
    pub key: String,
}

impl BundlePublisher {
    pub async fn new(settings: &AwsSettings, bucket: String, key: String) -> BundlePublisher {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        let region = settings
            .region
            .clone()
            .or_else(|| settings.targets.first().map(|t| t.region.clone()));
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(endpoint) = &settings.endpoint_url {
            loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
        }
        let config = loader.load().await;
        // Path-style addressing works with S3 and with local endpoints alike.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(settings.endpoint_url.is_some())
            .interceptor(crate::backend::aws_calls::AwsCallObserver)
            .build();
        BundlePublisher {
            client: aws_sdk_s3::Client::from_conf(s3),
            bucket,
            key,
        }
    }

    /// Creates the bucket if it does not exist (the local demo's seed).
    pub async fn ensure_bucket(&self) -> Result<(), String> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "creating bucket {}: {}",
                    self.bucket,
                    DisplayErrorContext(e)
                )
            })
    }

    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    pub async fn head(&self) -> Result<Option<PublishedHead>, String> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(head) => {
                let meta = head.metadata();
                Ok(Some(PublishedHead {
                    content_sha256: meta.and_then(|m| m.get(SHA_META)).cloned(),
                    version: meta
                        .and_then(|m| m.get(VERSION_META))
                        .and_then(|v| v.parse().ok()),
                    etag: head.e_tag().map(String::from),
                }))
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(format!("{}: {}", self.location(), DisplayErrorContext(e))),
        }
    }

    /// Writes the bundle; answers the ETag S3 gave it.
    pub async fn put(
        &self,
        body: Vec<u8>,
        content_sha256: &str,
        version: u64,
    ) -> Result<Option<String>, String> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .content_encoding("gzip")
            .metadata(SHA_META, content_sha256)
            .metadata(VERSION_META, version.to_string())
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| format!("PutObject {}: {}", self.location(), DisplayErrorContext(e)))?;
        Ok(out.e_tag().map(String::from))
    }
}

/// Every nested-group edge of the stored directory: `[child, parent]` object ids.
pub async fn nesting(pool: &PgPool) -> sqlx::Result<Nesting> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT member_id, group_id FROM directory_memberships WHERE member_kind = 'group' ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
}

/// The last version Gatehouse published (0: none yet) and the ETag S3 gave it.
pub async fn last_published(pool: &PgPool) -> sqlx::Result<(u64, Option<String>)> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT version, etag FROM access_bundles ORDER BY version DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(v, e)| (v as u64, e)).unwrap_or((0, None)))
}

/// Records a published bundle.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    pool: &PgPool,
    version: u64,
    content_sha256: &str,
    publisher: &BundlePublisher,
    etag: Option<&str>,
    body: &[u8],
    run_id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO access_bundles (version, content_sha256, bucket, object_key, etag, body, push_run_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (version) DO UPDATE SET etag = EXCLUDED.etag, body = EXCLUDED.body, published_at = now()",
    )
    .bind(version as i64)
    .bind(content_sha256)
    .bind(&publisher.bucket)
    .bind(&publisher.key)
    .bind(etag)
    .bind(body)
    .bind(run_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The last published bundle's version and what tells it apart from any other database's
/// (content hash and publication time), for `gatehouse authorize` and the try-it page.
pub async fn latest_stamp(pool: &PgPool) -> sqlx::Result<Option<(u64, String)>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, content_sha256 || ' ' || published_at::text FROM access_bundles
         ORDER BY version DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(v, stamp)| (v as u64, stamp)))
}

/// The bytes published as `version`.
pub async fn body_of(pool: &PgPool, version: u64) -> sqlx::Result<Vec<u8>> {
    sqlx::query_scalar("SELECT body FROM access_bundles WHERE version = $1")
        .bind(version as i64)
        .fetch_one(pool)
        .await
}

/// The desired state's bundle and its content hash.
pub fn desired_bundle(
    desired: &crate::domain::desired::DesiredState,
    nesting: &Nesting,
) -> (authorizer::bundle::Bundle, String) {
    let bundle = access_bundle::build(desired, nesting);
    let sha = access_bundle::content_sha256(&bundle);
    (bundle, sha)
}
