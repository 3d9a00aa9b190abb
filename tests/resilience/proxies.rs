//! Rate limits behind a reverse proxy: from a trusted proxy the client is the right-most
//! untrusted hop of `X-Forwarded-For` (or `Forwarded`), an IPv6 client counts per /64, and
//! from anyone else those headers are ignored.

use std::time::Duration;

use crate::replica::Replica;
use crate::serially;
use crate::support::TestApp;

/// Statuses of `GET /v1/locations` sent through `replica` with each of `forwarded_for`.
async fn statuses(replica: &Replica, forwarded_for: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for hop in forwarded_for {
        let headers = [("X-Forwarded-For", *hop)];
        let reply = replica
            .send("GET", "/v1/locations", None, None, &headers)
            .await;
        statuses.push(reply.status);
    }
    statuses
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let limits = [("PROLO_RATE_LIMIT_PUBLIC", "3")];
    let trusting = Replica::start(
        &app.db.url,
        &[
            limits[0],
            ("PROLO_TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1/32"),
        ],
    )
    .await;
    assert!(trusting.until_ready(Duration::from_secs(30)).await);
    // The client forged the left-most hop; the proxy appended what it saw.
    let one = "6.6.6.6, 203.0.113.1";
    assert_eq!(
        statuses(&trusting, &[one, one, one, one]).await,
        [200, 200, 200, 429]
    );
    assert_eq!(
        statuses(&trusting, &["6.6.6.6, 203.0.113.2"]).await,
        [200],
        "another client, its own bucket"
    );
    // A chain of trusted proxies is walked through to the client.
    assert_eq!(statuses(&trusting, &["203.0.113.1, 10.1.2.3"]).await, [429]);
    // IPv6 clients of one /64 share a bucket; the next /64 does not.
    let same_64 = [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff::9",
        "2001:db8:1:2::3",
        "2001:db8:1:3::1",
    ];
    assert_eq!(
        statuses(&trusting, &same_64).await,
        [200, 200, 200, 429, 200]
    );

    let untrusting = Replica::start(&app.db.url, &limits).await;
    assert!(untrusting.until_ready(Duration::from_secs(30)).await);
    let forged = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    assert_eq!(
        statuses(&untrusting, &forged).await,
        [200, 200, 200, 429],
        "without trust every forwarded client is the socket's peer"
    );
    println!(
        "proxies: behind a trusted proxy, forwarded clients are limited apart (3/min each), \
         an IPv6 /64 shares one bucket; without trust X-Forwarded-For is ignored"
    );
}
