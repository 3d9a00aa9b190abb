//! `GET /metrics` of a real `serve` process, on its own address, read by Prometheus's own
//! Python parser (`prometheus_client`, tests/metrics): requests by route template and status,
//! latency histograms, the pools, the workers' queues and the event consumers' lag.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::replica::Replica;
use crate::serially;
use crate::support::TestApp;
use crate::support::clinic::clinic;
use crate::support::http::request;

/// The parser's Python, installed once per run.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    crate::support::venv_python("metrics", &PYTHON)
}

/// Every sample of `exposition`, as prometheus_client parses it (it fails on a malformed one).
pub fn parse(exposition: &str) -> Vec<Value> {
    use std::io::Write;
    let mut child = std::process::Command::new(python())
        .arg(crate::support::root().join("tests/metrics/parse.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot start the parser");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client refused the exposition: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

/// The value of the sample `name` whose labels include `labels`.
pub fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(label, wanted)| s["labels"][label] == *wanted)
        })
        .and_then(|s| s["value"].as_f64())
}

/// Where the process said it serves its metrics.
pub fn metrics_addr(replica: &Replica) -> SocketAddr {
    replica
        .log()
        .iter()
        .find_map(|line| {
            let (_, rest) = line.split_once("metrics on http://")?;
            rest.split_once("/metrics")?.0.parse().ok()
        })
        .expect("the process names its metrics address")
}

#[actix_web::test]
async fn metrics_are_served_apart_and_parse_as_prometheus_text() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let replica = Replica::start(
        &app.db.url,
        &[
            ("PROLO_METRICS_BIND", "127.0.0.1:0"),
            ("PROLO_POOL_SIZE", "6"),
            ("PROLO_NO_WEBHOOKS", "true"),
        ],
    )
    .await;
    assert!(
        replica
            .until_ready(std::time::Duration::from_secs(30))
            .await
    );
    let metrics = metrics_addr(&replica);
    let admin = format!("Bearer {}", app.admin_key);
    let auth = [("Authorization", admin.as_str())];
    for _ in 0..3 {
        let reply = request(replica.addr, "GET", "/v1/locations", None, &auth).await;
        assert_eq!(reply.status, 200);
    }
    let unknown = uuid::Uuid::new_v4();
    let path = format!("/v1/sessions/{unknown}");
    assert_eq!(
        request(replica.addr, "GET", &path, None, &auth)
            .await
            .status,
        404
    );
    assert_eq!(
        request(replica.addr, "GET", "/v1/api-keys", None, &[])
            .await
            .status,
        401
    );
    let booked = request(
        replica.addr,
        "POST",
        "/v1/sessions",
        Some(&c.booking("injection", "2027-01-05T10:00:00-07:00")),
        &auth,
    )
    .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    // The notification planner runs here, not in the process (its worker is off there): the
    // booking's confirmation is then due, and waits for a sender.
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let now = crate::support::TEST_NOW.parse().unwrap();
    prolo_scheduler::app::notifications::plan::plan_pending(&mut conn, now)
        .await
        .unwrap();

    // Not on the API's address.
    assert_eq!(
        request(replica.addr, "GET", "/metrics", None, &[])
            .await
            .status,
        404
    );
    let scrape = request(metrics, "GET", "/metrics", None, &[]).await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        scrape.headers
    );
    let samples = parse(&scrape.text);

    let requests = "prolo_http_requests_total";
    let of = |route: &'static str, status: &'static str| {
        [("method", "GET"), ("route", route), ("status", status)]
    };
    assert_eq!(
        value(&samples, requests, &of("/v1/locations", "200")),
        Some(3.0)
    );
    assert_eq!(
        value(&samples, requests, &of("/v1/sessions/{id}", "404")),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, requests, &of("/v1/api-keys", "401")),
        Some(1.0)
    );
    let post = [
        ("method", "POST"),
        ("route", "/v1/sessions"),
        ("status", "201"),
    ];
    assert_eq!(value(&samples, requests, &post), Some(1.0));
    assert!(
        !scrape.text.contains(&unknown.to_string()),
        "labels are route templates, never paths"
    );

    // A histogram per route and status: cumulative buckets ending in +Inf = count.
    let latency = "prolo_http_request_duration_seconds";
    let located = of("/v1/locations", "200");
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| {
            s["name"] == format!("{latency}_bucket")
                && located.iter().all(|(l, v)| s["labels"][l] == *v)
        })
        .map(|s| {
            let le = s["labels"]["le"].as_str().unwrap();
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (le, s["value"].as_f64().unwrap())
        })
        .collect();
    assert!(buckets.len() > 5, "{buckets:?}");
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
    );
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 3.0));
    let count = value(&samples, &format!("{latency}_count"), &located);
    assert_eq!(count, Some(3.0));
    let sum = value(&samples, &format!("{latency}_sum"), &located).unwrap();
    assert!(sum > 0.0 && sum < 3.0, "{sum}");

    // The pools: 6 for the background workers, 3 + 3 for the two HTTP workers.
    assert_eq!(
        value(&samples, "prolo_db_pool_max_connections", &[]),
        Some(12.0)
    );
    let idle = value(&samples, "prolo_db_pool_connections", &[("state", "idle")]).unwrap();
    let in_use = value(
        &samples,
        "prolo_db_pool_connections",
        &[("state", "in_use")],
    )
    .unwrap();
    assert!(idle + in_use >= 1.0 && idle + in_use <= 12.0);
    assert_eq!(value(&samples, "prolo_db_pool_waiting", &[]), Some(0.0));
    let waits = value(&samples, "prolo_db_pool_wait_seconds_count", &[]).unwrap();
    assert!(
        waits >= 5.0,
        "every request that reached the database waited: {waits}"
    );

    // The queues: the confirmation is due; nothing else is.
    let depth = "prolo_worker_queue_depth";
    assert_eq!(
        value(&samples, depth, &[("kind", "notifications")]),
        Some(1.0)
    );
    assert_eq!(value(&samples, depth, &[("kind", "webhooks")]), Some(0.0));
    assert_eq!(value(&samples, depth, &[("kind", "offers")]), Some(0.0));
    let lag = value(
        &samples,
        "prolo_worker_queue_lag_seconds",
        &[("kind", "notifications")],
    );
    assert!(lag.is_some_and(|lag| lag >= 0.0), "{lag:?}");
    assert_eq!(value(&samples, "prolo_queues_scrape_ok", &[]), Some(1.0));
    // The consumers: the planner read the log here; the webhooks' and the waitlist's (both
    // off in the process) have the booking still to read.
    let behind = "prolo_event_consumer_behind_events";
    assert_eq!(
        value(&samples, behind, &[("consumer", "notifications")]),
        Some(0.0)
    );
    assert!(value(&samples, behind, &[("consumer", "webhooks")]).is_some_and(|n| n >= 1.0));
    assert!(value(&samples, behind, &[("consumer", "waitlist")]).is_some_and(|n| n >= 1.0));
    let consumer_lag = "prolo_event_consumer_lag_seconds";
    assert_eq!(
        value(&samples, consumer_lag, &[("consumer", "notifications")]),
        Some(0.0)
    );
    assert!(value(&samples, consumer_lag, &[("consumer", "webhooks")]).is_some_and(|s| s > 0.0));
    println!(
        "metrics: {} samples, {} bytes; /v1/locations p(sum/count) {:.2} ms",
        samples.len(),
        scrape.text.len(),
        sum / 3.0 * 1000.0
    );
}
