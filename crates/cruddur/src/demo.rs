//! Demo mode (`--demo`, `CRUDDUR_DEMO=1`), used by `waggle up`: the faults an app has in real life,
//! made predictable so the demo's telemetry has something to find. User `garek`'s requests load
//! slow preferences (600-900 ms), search scans a slow index (250-400 ms), and about one request in
//! thirty fails with a 500 and an exception. Each fault is a child span of the request, named for
//! what it simulates and marked `app.demo_fault`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cruddur_telemetry::SpanExt as _;
use tracing::Instrument as _;

use crate::error::ApiError;
use crate::users::caller_handle;

/// The user whose requests are slow.
pub const SLOW_USER: &str = "garek";
/// The route that is slow for everyone.
pub const SLOW_ROUTE: &str = "/api/activities/search";
/// One request in this many fails.
const FAILURE_EVERY: u64 = 30;

/// Requests seen, the demo's only randomness: faults are spread evenly and reproducibly.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A delay between `low` and `high` ms picked from the request number.
fn delay(request: u64, low: u64, high: u64) -> Duration {
    let spread = request.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    Duration::from_millis(low + spread % (high - low + 1))
}

/// A child span that just takes time.
async fn slow_step(name: &'static str, fault: &'static str, pause: Duration) {
    let span = tracing::info_span!("demo-fault", otel.name = name);
    span.set_attribute("app.demo_fault", fault);
    tokio::time::sleep(pause).instrument(span).await;
}

/// The middleware injecting the faults.
pub async fn faults(request: Request, next: Next) -> Response {
    let number = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_owned();
    if path == "/api/health-check" {
        return next.run(request).await;
    }
    if caller_handle(request.headers()).as_deref() == Some(SLOW_USER) {
        slow_step("load-user-preferences", "slow_user", delay(number, 600, 900)).await;
    }
    if path == SLOW_ROUTE {
        slow_step("search-index-scan", "slow_route", delay(number, 250, 400)).await;
    }
    if number % FAILURE_EVERY == FAILURE_EVERY - 1 {
        return ApiError::Upstream("demo fault: connection reset by the activity store").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_delays_stay_in_range_and_vary() {
        let delays: Vec<Duration> = (0..100).map(|request| delay(request, 600, 900)).collect();
        assert!(delays.iter().all(|pause| (600..=900).contains(&(pause.as_millis() as u64))));
        assert!(delays.iter().collect::<std::collections::HashSet<_>>().len() > 50);
    }
}
