//! Online booking over three real replicas behind one trusted proxy: visitors from many
//! addresses and the front desk race for one slot, then the winner's code is tried on every
//! replica at once. The database decides: one hold, one booking, one session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic};
use crate::support::http::{WireReply, request};
use crate::support::smtp::SmtpServer;
use crate::{assert_problems, count, number, serially, statuses};

fn slot(c: &Clinic, starts_at: &str) -> Value {
    json!({"provider_id": c.provider, "location_id": c.location, "treatment_area_id": c.area,
           "kind": "assessment", "starts_at": starts_at})
}

/// Sends `method path body` to `replica` as the visitor at `ip` (forwarded by the proxy), or as
/// the front desk with `key`.
async fn send(
    replica: &Replica,
    path: &str,
    body: Value,
    ip: String,
    key: Option<String>,
) -> WireReply {
    let mut headers = vec![("X-Forwarded-For", ip.as_str())];
    let auth = key.map(|key| format!("Bearer {key}"));
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    request(replica.addr, "POST", path, Some(&body), &headers).await
}

/// 70 requests for `starts_at` at once, spread over the replicas, each from its own address:
/// holds, and with `front_desk` every seventh a staff booking. Answers (by staff?, reply).
async fn race(
    replicas: &Arc<Vec<Replica>>,
    app: &TestApp,
    c: &Clinic,
    starts_at: &str,
    front_desk: bool,
) -> Vec<(bool, WireReply)> {
    let mut tasks = Vec::new();
    for n in 0..70usize {
        let (replicas, held, key) = (replicas.clone(), slot(c, starts_at), app.admin_key.clone());
        let booked = c.booking("assessment", starts_at);
        let staff = front_desk && n % 7 == 3;
        tasks.push(tokio::spawn(async move {
            let (replica, ip) = (&replicas[n % 3], format!("203.0.113.{}", n + 1));
            let reply = if staff {
                send(replica, "/v1/sessions", booked, ip, Some(key)).await
            } else {
                send(replica, "/v1/holds", held, ip, None).await
            };
            (staff, reply)
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    let all: Vec<WireReply> = replies.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(count(&all, 201), 1, "{:?}", statuses(&all));
    assert_eq!(count(&all, 409), 69, "{:?}", statuses(&all));
    assert_problems(&all);
    replies
}

#[actix_web::test]
async fn visitors_and_the_front_desk_racing_over_three_replicas_make_one_session() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let env = [
        ("PROLO_POOL_TIMEOUT_SECS", "30"),
        ("PROLO_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("PROLO_SMTP_URL", url.as_str()),
        ("PROLO_MAIL_FROM", "desk@clinic.example"),
    ];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let replica = Replica::start(&app.db.url, &env).await;
        assert!(replica.until_ready(Duration::from_secs(30)).await);
        replicas.push(replica);
    }
    let replicas = Arc::new(replicas);

    // Visitors' holds and the front desk's bookings of one slot: one of them wins.
    let mixed = race(&replicas, &app, &c, "2027-01-05T10:00:00-07:00", true).await;
    let by_staff = mixed.iter().any(|(staff, r)| *staff && r.status == 201);
    let claims = "SELECT count(*) AS n FROM calendar_claims";
    assert_eq!(number(&app.db.url, claims).await, 1);
    println!(
        "replicas: 60 visitors' holds + 10 staff bookings of one slot over 3 replicas -> 1 x 201 (won by {}), 69 x 409",
        if by_staff {
            "the front desk"
        } else {
            "a visitor"
        }
    );

    // 70 visitors for another slot: one hold. Its visitor asks on one replica, and the code
    // mailed is tried on all three at once, 30 times.
    let holds = race(&replicas, &app, &c, "2027-01-05T14:00:00-07:00", false).await;
    let (_, winner) = holds.iter().find(|(_, r)| r.status == 201).unwrap();
    let booking = json!({
        "hold_id": winner.body["id"], "hold_token": winner.body["token"],
        "patient": {"given_name": "Sam", "family_name": "Ortiz", "date_of_birth": "1971-06-02",
                    "email": "sam.ortiz@example.com"},
        "consent": true, "website": ""
    });
    let ip = "203.0.113.250".to_owned();
    let asked = send(&replicas[1], "/v1/bookings", booking, ip, None).await;
    assert_eq!(asked.status, 202, "{asked:?}");
    let mail = smtp.received();
    let code = mail[0]
        .subject()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let path = format!("/v1/bookings/{}/verify", asked.body["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for n in 0..30usize {
        let (replicas, path, code) = (replicas.clone(), path.clone(), code.clone());
        let ip = format!("198.51.100.{}", n + 1);
        tasks.push(tokio::spawn(async move {
            send(&replicas[n % 3], &path, json!({"code": code}), ip, None).await
        }));
    }
    let mut verified = Vec::new();
    for task in tasks {
        verified.push(task.await.unwrap());
    }
    assert_eq!(count(&verified, 201), 1, "{:?}", statuses(&verified));
    assert_eq!(count(&verified, 409), 29, "{:?}", statuses(&verified));
    assert_problems(&verified);
    let at_two = "SELECT count(*) AS n FROM sessions WHERE starts_at = '2027-01-05T21:00:00Z'";
    assert_eq!(number(&app.db.url, at_two).await, 1);
    let online = "SELECT count(*) AS n FROM patients WHERE source = 'online'";
    assert_eq!(number(&app.db.url, online).await, 1);
    println!(
        "replicas: 70 visitors' holds of one slot -> 1 x 201; its code tried 30 times at once -> 1 x 201, 29 x 409, 1 session"
    );
}
