//! Reads on a real streaming standby: a primary and a standby made by `pg_basebackup -R` from
//! the local server binaries, a `serve` process writing to one and reading from the other.
//! A key's reads never miss its own writes; the public page reads the standby until it lags
//! too far; with replay paused or the standby stopped, reads go to the primary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel_async::SimpleAsyncConnection;
use prolo_scheduler::db::{self, embedded::LocalCluster};
use serde_json::{Value, json};

use crate::metrics::{metrics_addr, parse, value};
use crate::replica::Replica;
use crate::serially;
use crate::support::clinic::{Clinic, clinic};
use crate::support::http::request;
use crate::support::{TestApp, TestDatabase, on_a_runtime_of_its_own};

/// A primary with the service's database migrated, and its standby; both stopped and their
/// directories removed when dropped.
struct Pair {
    primary: Option<LocalCluster>,
    standby: Option<LocalCluster>,
    root: PathBuf,
}

const DATABASE: &str = "prolo";

impl Pair {
    async fn start() -> Self {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("prolo-standby-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let primary = LocalCluster::start(&root.join("primary")).await.unwrap();
        primary.ensure_database(DATABASE).await.unwrap();
        db::migrate(&primary.url(DATABASE)).await.unwrap();
        let standby = primary.start_standby(&root.join("standby")).await.unwrap();
        Self {
            primary: Some(primary),
            standby: Some(standby),
            root,
        }
    }

    fn primary_url(&self) -> String {
        self.primary.as_ref().unwrap().url(DATABASE)
    }

    fn standby_url(&self) -> String {
        self.standby.as_ref().unwrap().url(DATABASE)
    }

    /// Runs `sql` on the standby as its superuser.
    async fn on_standby(&self, sql: &str) {
        let mut conn = db::establish(&self.standby_url()).await.unwrap();
        conn.batch_execute(sql).await.unwrap();
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let clusters: Vec<LocalCluster> = [self.standby.take(), self.primary.take()]
            .into_iter()
            .flatten()
            .collect();
        let root = self.root.clone();
        on_a_runtime_of_its_own(async move {
            for cluster in clusters {
                let _ = cluster.stop().await;
            }
            let _ = std::fs::remove_dir_all(root);
        });
    }
}

/// Starts of the slots `reply` offers.
fn starts(reply: &Value) -> Vec<String> {
    reply["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .map(|slot| slot["starts_at"].as_str().unwrap().to_owned())
        .collect()
}

/// The injection slots of Tuesday 5 January 2027 in the Denver clinic, as `key` (or the public
/// page, without one) sees them.
async fn tuesday(replica: &Replica, c: &Clinic, key: Option<&str>) -> Vec<String> {
    let path = format!(
        "/v1/availability?treatment_area_id={}&kind=injection&from=2027-01-05&to=2027-01-05",
        c.area
    );
    let reply = replica.send("GET", &path, None, key, &[]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    starts(&reply.body)
}

/// Books the first injection slot offered on Tuesday (with `key`); its start.
async fn book_the_first(replica: &Replica, c: &Clinic, key: &str) -> String {
    let starts_at = tuesday(replica, c, Some(key)).await[0].clone();
    let body = c.booking("injection", &starts_at);
    let booked = replica
        .send("POST", "/v1/sessions", Some(&body), Some(key), &[])
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    starts_at
}

/// Reads counted by `database` so far.
async fn reads_on(replica: &Replica, database: &str) -> f64 {
    let scrape = request(metrics_addr(replica), "GET", "/metrics", None, &[]).await;
    value(
        &parse(&scrape.text),
        "prolo_reads_total",
        &[("database", database)],
    )
    .unwrap_or(0.0)
}

/// The standby gauges now: (usable, lag in seconds).
async fn standby_gauges(replica: &Replica) -> (f64, f64) {
    let scrape = request(metrics_addr(replica), "GET", "/metrics", None, &[]).await;
    let samples = parse(&scrape.text);
    (
        value(&samples, "prolo_standby_usable", &[]).unwrap(),
        value(&samples, "prolo_standby_lag_seconds", &[]).unwrap(),
    )
}

/// Waits up to ten seconds for the standby's usability to read `usable`.
async fn until_usable(replica: &Replica, usable: bool) {
    let started = Instant::now();
    while standby_gauges(replica).await.0 != f64::from(u8::from(usable)) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the standby never became usable={usable}: {:?}",
            replica.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn reads_go_to_a_real_standby_and_never_miss_a_keys_own_writes() {
    let _serial = serially().await;
    let pair = Pair::start().await;
    let app = TestApp::over(TestDatabase {
        name: TestDatabase::unused_name(),
        url: pair.primary_url(),
    })
    .await;
    let c = clinic(&app).await;
    let key = app.admin_key.clone();
    let standby_url = pair.standby_url();
    let replica = Replica::start(
        &pair.primary_url(),
        &[
            ("PROLO_READ_DATABASE_URL", standby_url.as_str()),
            ("PROLO_READ_MAX_LAG_MS", "1000"),
            ("PROLO_METRICS_BIND", "127.0.0.1:0"),
        ],
    )
    .await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    until_usable(&replica, true).await;

    // Made long before it is read (the feed is read as the public page reads).
    let feed = replica
        .send(
            "POST",
            &format!("/v1/providers/{}/calendar-feed", c.provider),
            Some(&json!({})),
            Some(&key),
            &[],
        )
        .await;
    assert_eq!(feed.status, 201, "{:?}", feed.body);
    let feed_path = feed.body["url"]
        .as_str()
        .unwrap()
        .split_once("/calendar/")
        .unwrap()
        .1;

    // Booked on the primary and read at once with the same key, ten times: never stale.
    let reads_before = reads_on(&replica, "standby").await + reads_on(&replica, "primary").await;
    let standby_before = reads_on(&replica, "standby").await;
    for _ in 0..10 {
        let starts_at = book_the_first(&replica, &c, &key).await;
        let after = tuesday(&replica, &c, Some(&key)).await;
        assert!(
            !after.contains(&starts_at),
            "{starts_at} was booked and is still offered: a stale read"
        );
    }
    let reads = reads_on(&replica, "standby").await + reads_on(&replica, "primary").await;
    assert_eq!(reads - reads_before, 20.0);
    let on_standby = reads_on(&replica, "standby").await - standby_before;
    let (usable, lag) = standby_gauges(&replica).await;
    println!("standby: {on_standby} of 20 reads (10 straight after a write), lag {lag:.3} s");
    assert!(
        on_standby >= 10.0,
        "reads on the standby: {on_standby} of 20"
    );
    assert_eq!(usable, 1.0);

    // Every read routed there answers from it (a write in one would fail: it is read-only).
    let routed = [
        (
            "GET",
            format!(
                "/v1/availability/days?treatment_area_id={}&kind=injection&from=2027-01-04&to=2027-02-03",
                c.area
            ),
            None,
        ),
        (
            "GET",
            format!(
                "/v1/availability/next?treatment_area_id={}&kind=injection&after=2027-01-05T09:00:00-07:00",
                c.area
            ),
            None,
        ),
        ("GET", "/v1/providers".to_owned(), None),
        ("GET", "/v1/locations".to_owned(), None),
        ("GET", "/v1/treatment-areas".to_owned(), None),
        ("GET", "/v1/resources".to_owned(), None),
        (
            "GET",
            format!("/v1/providers/{}/time-off", c.provider),
            None,
        ),
        ("GET", format!("/calendar/{feed_path}"), None),
        (
            "POST",
            "/v1/courses/plan".to_owned(),
            Some(json!({
            "patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
            "sessions": 3, "interval_days": {"min": 5, "target": 7, "max": 10},
            "first_starts_at": "2027-01-12T09:00:00-07:00"})),
        ),
    ];
    let standby_before = reads_on(&replica, "standby").await;
    let primary_before = reads_on(&replica, "primary").await;
    for (method, path, body) in &routed {
        let reply = replica
            .send(method, path, body.as_ref(), Some(&key), &[])
            .await;
        assert_eq!(reply.status, 200, "{method} {path}: {:?}", reply.body);
    }
    assert_eq!(
        reads_on(&replica, "standby").await - standby_before,
        routed.len() as f64
    );
    assert_eq!(reads_on(&replica, "primary").await, primary_before);

    // Replay paused: the public page still reads the standby, a moment behind; a key's read
    // waits for it, then goes to the primary.
    pair.on_standby("SELECT pg_wal_replay_pause()").await;
    let paused_at = book_the_first(&replica, &c, &key).await;
    assert!(
        tuesday(&replica, &c, None).await.contains(&paused_at),
        "the public read was not served by the paused standby"
    );
    let primary_before = reads_on(&replica, "primary").await;
    let asked = Instant::now();
    assert!(!tuesday(&replica, &c, Some(&key)).await.contains(&paused_at));
    let fenced = asked.elapsed();
    assert_eq!(reads_on(&replica, "primary").await - primary_before, 1.0);
    assert!(fenced >= db::standby::FENCE_WAIT, "{fenced:?}");

    // Past the allowed lag, the public page reads the primary too.
    until_usable(&replica, false).await;
    assert!(!tuesday(&replica, &c, None).await.contains(&paused_at));
    assert!(standby_gauges(&replica).await.1 >= 1.0);
    assert!(
        replica
            .log()
            .iter()
            .any(|line| line.contains("too far behind")),
        "{:?}",
        replica.log()
    );

    // Resumed, it catches up and serves again.
    pair.on_standby("SELECT pg_wal_replay_resume()").await;
    until_usable(&replica, true).await;
    let standby_before = reads_on(&replica, "standby").await;
    assert!(!tuesday(&replica, &c, None).await.contains(&paused_at));
    assert_eq!(reads_on(&replica, "standby").await - standby_before, 1.0);

    // Stopped, it is missed by no one: the reads go to the primary.
    pair.standby.as_ref().unwrap().stop().await.unwrap();
    until_usable(&replica, false).await;
    let primary_before = reads_on(&replica, "primary").await;
    assert!(!tuesday(&replica, &c, Some(&key)).await.contains(&paused_at));
    assert!(!tuesday(&replica, &c, None).await.contains(&paused_at));
    assert_eq!(reads_on(&replica, "primary").await - primary_before, 2.0);
    assert!(
        replica
            .log()
            .iter()
            .any(|line| line.contains("does not answer")),
        "{:?}",
        replica.log()
    );
}
