//! Providers' calendar feeds, read by a real iCalendar parser (the `icalendar` crate): their
//! sessions in UTC with stable UIDs and growing SEQUENCEs, cancelled ones kept 30 days,
//! initials unless full names are allowed, ETags, and URLs that die when replaced or revoked.

use actix_web::http::Method;
use chrono::{DateTime, Duration, Utc};
use icalendar::Component;
use prolo_scheduler::domain::access::Role;
use serde_json::json;

use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic};

async fn book(app: &TestApp, c: &Clinic, starts_at: &str) -> String {
    app.post("/v1/sessions", c.booking("assessment", starts_at))
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Issues the provider's feed; the path of its URL.
async fn issue(app: &TestApp, provider: &str) -> String {
    let created = app
        .post(
            &format!("/v1/providers/{provider}/calendar-feed"),
            json!({}),
        )
        .await
        .expect(201)
        .body;
    let url = created["url"].as_str().unwrap();
    let path = url
        .strip_prefix("http://127.0.0.1:8080")
        .expect(url)
        .to_owned();
    assert!(
        path.starts_with("/calendar/") && path.ends_with(".ics"),
        "{path}"
    );
    assert!(
        path.len() >= "/calendar/".len() + 32 + 4,
        "at least 128 bits: {path}"
    );
    path
}

/// The feed at `path`, fetched without a key: the reply and the parsed calendar.
async fn fetch(app: &TestApp, path: &str) -> (crate::support::Reply, icalendar::Calendar) {
    let reply = app
        .send_as(None, Method::GET, path, None, &[])
        .await
        .expect(200);
    let calendar = text_of(&reply).parse().expect("a valid iCalendar feed");
    (reply, calendar)
}

fn text_of(reply: &crate::support::Reply) -> &str {
    reply.body.as_str().expect("a text body")
}

fn start(event: &icalendar::Event) -> DateTime<Utc> {
    match event.get_start() {
        Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(at))) => at,
        other => panic!("DTSTART is not in UTC: {other:?}"),
    }
}

fn find<'a>(calendar: &'a icalendar::Calendar, session: &str) -> Option<&'a icalendar::Event> {
    calendar
        .events()
        .find(|e| e.get_uid().is_some_and(|uid| uid.contains(session)))
}

#[actix_web::test]
async fn a_feed_shows_the_providers_sessions_in_utc_and_follows_their_changes() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let kept = book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    let cancelled = book(&app, &c, "2027-01-06T10:00:00-07:00").await;
    app.post(
        &format!("/v1/sessions/{cancelled}/cancel"),
        json!({"reason_code": "illness"}),
    )
    .await
    .expect(200);
    // Another provider's session is not in this feed.
    let other = app.provider(&[&c.area], &[&c.location]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&other, &c.location, &days, ("08:00", "17:00"))
        .await;
    let mut elsewhere = c.booking("assessment", "2027-01-07T10:00:00-07:00");
    elsewhere["provider_id"] = json!(other);
    app.post("/v1/sessions", elsewhere).await.expect(201);

    let path = issue(&app, &c.provider).await;
    let (reply, calendar) = fetch(&app, &path).await;
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/calendar"),
        "{:?}",
        reply.header("content-type")
    );
    for property in [
        "X-WR-CALNAME",
        "REFRESH-INTERVAL",
        "X-PUBLISHED-TTL",
        "METHOD",
    ] {
        assert!(calendar.property_value(property).is_some(), "{property}");
    }
    assert_eq!(calendar.property_value("X-PUBLISHED-TTL"), Some("PT1H"));
    assert_eq!(calendar.events().count(), 2, "{}", text_of(&reply));
    let booked = find(&calendar, &kept).expect("the booked session");
    assert_eq!(
        start(booked),
        "2027-01-05T17:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(booked.get_summary(), Some("knee — assessment · J. R."));
    assert_eq!(booked.property_value("SEQUENCE"), Some("0"));
    assert_eq!(booked.property_value("STATUS"), Some("TENTATIVE"));
    let gone = find(&calendar, &cancelled).expect("the cancelled session, kept");
    assert_eq!(gone.property_value("STATUS"), Some("CANCELLED"));
    assert!(!text_of(&reply).contains("Jordan") && !text_of(&reply).contains("Reyes"));

    // Unchanged: 304 to its ETag. A move: a new ETag, the same UID, a higher SEQUENCE.
    let etag = reply.header("etag").unwrap().to_owned();
    let again = app
        .send_as(
            None,
            Method::GET,
            &path,
            None,
            &[("If-None-Match", etag.as_str())],
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    app.post(
        &format!("/v1/sessions/{kept}/reschedule"),
        json!({"starts_at": "2027-01-12T10:00:00-07:00"}),
    )
    .await
    .expect(200);
    let (moved, calendar) = fetch(&app, &path).await;
    assert_ne!(moved.header("etag").unwrap(), etag);
    let booked = find(&calendar, &kept).unwrap();
    assert_eq!(
        start(booked),
        "2027-01-12T17:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(booked.property_value("SEQUENCE"), Some("1"));

    // Full names only when the clinic allows them.
    app.patch("/v1/settings", "*", json!({"feed_full_names": true}))
        .await
        .expect(200);
    let (_, calendar) = fetch(&app, &path).await;
    assert_eq!(
        find(&calendar, &kept).unwrap().get_summary(),
        Some("knee — assessment · Jordan Reyes")
    );
    // A month after its cancellation, the cancelled session has left the feed.
    app.clock.set(app.now() + Duration::days(31));
    let (_, calendar) = fetch(&app, &path).await;
    assert!(find(&calendar, &cancelled).is_none());
    assert!(find(&calendar, &kept).is_some());
}

#[actix_web::test]
async fn a_feed_url_dies_when_replaced_or_revoked_and_a_guess_is_a_404() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let first = issue(&app, &c.provider).await;
    let second = issue(&app, &c.provider).await;
    assert_ne!(first, second);
    let get = |path: String| {
        let app = &app;
        async move { app.send_as(None, Method::GET, &path, None, &[]).await }
    };
    get(first.clone()).await.problem(404, "not-found");
    get(second.clone()).await.expect(200);
    let guess = format!("/calendar/{}.ics", "ab".repeat(32));
    get(guess).await.problem(404, "not-found");
    let path = format!("/v1/providers/{}/calendar-feed", c.provider);
    app.delete(&path).await.expect(204);
    get(second).await.problem(404, "not-found");
    app.delete(&path).await.problem(404, "not-found");

    // A provider issues their own feed, not a colleague's.
    let colleague = app.provider(&[&c.area], &[&c.location]).await;
    let own = app.key(Role::Provider, Some(&c.provider)).await;
    app.send_as(Some(&own), Method::POST, &path, Some(json!({})), &[])
        .await
        .expect(201);
    let theirs = format!("/v1/providers/{colleague}/calendar-feed");
    app.send_as(Some(&own), Method::POST, &theirs, Some(json!({})), &[])
        .await
        .problem(404, "not-found");
    let integration = app.key(Role::Integration, None).await;
    app.send_as(
        Some(&integration),
        Method::POST,
        &path,
        Some(json!({})),
        &[],
    )
    .await
    .problem(403, "forbidden");
}
