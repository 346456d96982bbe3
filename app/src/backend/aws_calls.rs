//! Every AWS SDK call Gatehouse makes, seen by one interceptor put on each client: counted by
//! service, operation and outcome, timed, throttles counted per attempt, and logged (debug) in
//! the span of the run that made it (sync, push, drift, export), with AWS's request id.

use std::time::Instant;

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            context::{
                AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
                FinalizerInterceptorContextRef,
            },
            Intercept,
        },
        orchestrator::Metadata,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor: stateless, shared by every client.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsCallObserver;

#[derive(Clone, Copy, Debug)]
struct CallStart(Instant);

impl Storable for CallStart {
    type Storer = StoreReplace<Self>;
}

#[derive(Clone, Copy, Debug)]
struct Attempts(u32);

impl Storable for Attempts {
    type Storer = StoreReplace<Self>;
}

/// Whether an answer is AWS saying "slow down": HTTP 429, or a throttling error code in the
/// body (the query protocols — IAM, STS — answer 400 with `<Code>Throttling</Code>`).
pub fn is_throttle(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let body = String::from_utf8_lossy(&body[..body.len().min(2048)]);
    [
        "Throttling",
        "TooManyRequests",
        "RequestLimitExceeded",
        "SlowDown",
    ]
    .iter()
    .any(|code| body.contains(code))
}

fn names(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>()
        .map(|m| (m.service().to_string(), m.name().to_string()))
        .unwrap_or_else(|| ("unknown".into(), "unknown".into()))
}

impl Intercept for AwsCallObserver {
    fn name(&self) -> &'static str {
        "GatehouseAwsCallObserver"
    }

    fn read_before_execution(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallStart(Instant::now()));
        cfg.interceptor_state().store_put(Attempts(0));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let n = cfg.load::<Attempts>().map_or(0, |a| a.0);
        cfg.interceptor_state().store_put(Attempts(n + 1));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let body = response.body().bytes().unwrap_or_default();
        if is_throttle(response.status().as_u16(), body) {
            let (service, operation) = names(cfg);
            metrics::counter!(
                "gatehouse_aws_throttles_total",
                "service" => service.clone(),
                "operation" => operation.clone(),
            )
            .increment(1);
            tracing::warn!(aws.service = %service, aws.operation = %operation, "AWS throttled a call; the SDK retries it with backoff");
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = names(cfg);
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        let took = cfg.load::<CallStart>().map(|s| s.0.elapsed());
        let attempts = cfg.load::<Attempts>().map_or(0, |a| a.0);
        let request_id = context
            .response()
            .and_then(|r| {
                r.headers()
                    .get("x-amzn-requestid")
                    .or_else(|| r.headers().get("x-amz-request-id"))
            })
            .unwrap_or("")
            .to_string();
        metrics::counter!(
            "gatehouse_aws_calls_total",
            "service" => service.clone(),
            "operation" => operation.clone(),
            "outcome" => if ok { "ok" } else { "error" },
        )
        .increment(1);
        if let Some(took) = took {
            metrics::histogram!(
                "gatehouse_aws_call_duration_seconds",
                "service" => service.clone(),
                "operation" => operation.clone(),
            )
            .record(took.as_secs_f64());
        }
        tracing::debug!(
            aws.service = %service,
            aws.operation = %operation,
            aws.request_id = %request_id,
            attempts,
            ok,
            ms = took.map_or(0, |t| t.as_millis() as u64),
            "AWS call"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_throttle;

    #[test]
    fn throttles_are_told_from_other_errors() {
        assert!(is_throttle(429, b""));
        assert!(is_throttle(
            400,
            b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"
        ));
        assert!(is_throttle(
            400,
            br#"{"__type":"TooManyRequestsException","message":"slow down"}"#
        ));
        assert!(!is_throttle(
            400,
            b"<Error><Code>NoSuchEntity</Code></Error>"
        ));
        assert!(!is_throttle(200, b"Throttling is a word in this policy"));
        assert!(!is_throttle(404, b"{}"));
    }
}
