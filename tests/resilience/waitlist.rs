//! Two real replicas run the waitlist over one database: every freed time is offered once, to
//! one patient each (one open offer per patient), and each offer is mailed once to a real SMTP
//! server, however the openings fall between them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};
use crate::support::smtp::SmtpServer;
use crate::{number, serially};

#[actix_web::test]
async fn two_replicas_offer_every_freed_time_once() {
    let _serial = serially().await;
    const FREED: usize = 24;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    app.patch(
        "/v1/settings",
        "*",
        json!({"waitlist_debounce_minutes": 0, "waitlist_offer_count": 1, "quiet_hours": null}),
    )
    .await
    .expect(200);
    // Injections on the hour, Tuesday to Thursday, all cancelled; as many patients waiting.
    let mut taken = Vec::new();
    for day in ["05", "06", "07"] {
        for hour in ["08", "09", "10", "11", "13", "14", "15", "16"] {
            let starts_at = format!("2027-01-{day}T{hour}:00:00-07:00");
            let booked = app
                .post("/v1/sessions", c.booking("injection", &starts_at))
                .await
                .expect(201);
            taken.push(booked.body["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(taken.len(), FREED);
    for n in 0..FREED {
        let patient = new_patient(&app, &format!("waiting{n}@example.com")).await;
        app.post(
            "/v1/waitlist",
            json!({"patient_id": patient, "treatment_area_id": c.area, "kind": "injection"}),
        )
        .await
        .expect(201);
    }
    for id in &taken {
        app.post(
            &format!("/v1/sessions/{id}/cancel"),
            json!({"reason_code": "patient_request"}),
        )
        .await
        .expect(200);
    }
    let smtp = SmtpServer::start().await;
    let data = std::env::temp_dir().join(format!("prolo-waitlist-mail-{}", std::process::id()));
    let url = smtp.url();
    let env = [
        ("PROLO_NO_NOTIFICATIONS", "false"),
        ("PROLO_NO_WAITLIST", "false"),
        ("PROLO_SMTP_URL", url.as_str()),
        ("PROLO_MAIL_FROM", "desk@clinic.example"),
        ("PROLO_NOTIFICATIONS_POLL_MS", "50"),
        ("PROLO_WAITLIST_POLL_MS", "50"),
        ("PROLO_DATA_DIR", data.to_str().unwrap()),
    ];
    let started = Instant::now();
    let replicas = [
        Replica::start(&app.db.url, &env).await,
        Replica::start(&app.db.url, &env).await,
    ];
    let offers = |smtp: &SmtpServer| {
        smtp.received()
            .into_iter()
            .filter(|m| m.subject().starts_with("An earlier"))
            .collect::<Vec<_>>()
    };
    let deadline = started + Duration::from_secs(120);
    while offers(&smtp).len() < FREED && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    // A little longer, for a second offer or copy to show up if a replica were to make one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mailed = offers(&smtp);
    assert_eq!(
        mailed.len(),
        FREED,
        "every freed time offered and mailed once"
    );
    let recipients: HashSet<&String> = mailed.iter().flat_map(|m| &m.rcpt_tos).collect();
    assert_eq!(recipients.len(), FREED, "one offer per waiting patient");
    let links: HashSet<String> = mailed
        .iter()
        .map(|m| m.text().split_once("#offer=").unwrap().1[..64].to_owned())
        .collect();
    assert_eq!(links.len(), FREED);
    let made = number(&app.db.url, "SELECT count(*) AS n FROM waitlist_offers").await;
    assert_eq!(made, FREED as i64, "one offer per opening");
    let openings = number(
        &app.db.url,
        "SELECT count(DISTINCT opening_id) AS n FROM waitlist_offers",
    )
    .await;
    assert_eq!(openings, FREED as i64);
    let busy = replicas
        .iter()
        .filter(|r| r.log().iter().any(|l| l.contains("waitlist offered")))
        .count();
    let _ = std::fs::remove_dir_all(&data);
    println!(
        "waitlist: {FREED} freed times offered by 2 replicas in {:.1} s from their start, \
         {busy} of 2 replicas offering, none twice",
        elapsed.as_secs_f64(),
    );
}
