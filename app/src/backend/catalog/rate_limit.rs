//! Client-side spacing of AWS control-plane calls, so a sync stays inside API Gateway's quotas
//! (GetResources 5 per 2 s, everything 10 per second) instead of leaning on throttling retries.

use std::time::Duration;

use tokio::{sync::Mutex, time::Instant};

/// Lets one call through every `interval`, in the order callers arrive.
pub struct RateLimiter {
    interval: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn per_second(calls: f64) -> Self {
        Self::every(Duration::from_secs_f64(1.0 / calls))
    }

    pub fn every(interval: Duration) -> Self {
        Self {
            interval,
            next_free: Mutex::new(None),
        }
    }

    /// Waits until this caller's slot comes.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next_free.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// The quotas of one API Gateway account.
pub struct ApiGatewayLimits {
    pub all: RateLimiter,
    pub get_resources: RateLimiter,
}

impl ApiGatewayLimits {
    /// API Gateway's documented control-plane quotas.
    pub fn aws() -> Self {
        Self {
            all: RateLimiter::per_second(10.0),
            get_resources: RateLimiter::every(Duration::from_millis(400)),
        }
    }

    /// AWS's quotas, or none for a local endpoint such as moto.
    pub fn for_endpoint(settings: &crate::backend::config::AwsSettings) -> Self {
        if settings.endpoint_url.is_some() {
            Self::unlimited()
        } else {
            Self::aws()
        }
    }

    /// No spacing: for a local endpoint such as moto.
    pub fn unlimited() -> Self {
        Self {
            all: RateLimiter::every(Duration::ZERO),
            get_resources: RateLimiter::every(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_spaced_by_the_interval() {
        let limiter = RateLimiter::every(Duration::from_millis(40));
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // The first goes at once, the next four 40 ms apart.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(160) && elapsed < Duration::from_millis(400),
            "{elapsed:?}"
        );
    }

    #[tokio::test]
    async fn an_idle_limiter_does_not_bank_calls() {
        let limiter = RateLimiter::every(Duration::from_millis(50));
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(50) && elapsed < Duration::from_millis(150),
            "{elapsed:?}"
        );
    }
}
