use actix_web::http::Method;
use prolo_scheduler::config::RetentionArgs;
use serde_json::{Value, json};

use crate::inquiries::{question, received, triage};
use crate::sessions::{Clinic, clinic, new_patient};
use crate::support::TestApp;
use crate::support::http::{Server, request};

fn convert_path(id: &str) -> String {
    format!("/v1/inquiries/{id}/convert")
}

fn assessment(c: &Clinic, starts_at: &str) -> Value {
    json!({"provider_id": c.provider, "location_id": c.location, "treatment_area_id": c.area,
           "kind": "assessment", "starts_at": starts_at})
}

async fn count_patients(app: &TestApp) -> usize {
    let reply = app.get("/v1/patients?limit=100").await.expect(200);
    reply.body["items"].as_array().unwrap().len()
}

#[actix_web::test]
async fn an_inquiry_becomes_a_patient_with_a_booked_assessment_in_one_call() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let mut body = question("sam.ortiz@example.com");
    body["phone"] = json!("+1 303 555 0142");
    body["preferred_contact"] = json!("phone");
    let id = received(&app, body).await;

    let conversion = json!({
        "patient": {"date_of_birth": "1971-06-02"},
        "session": assessment(&c, "2027-01-05T09:00:00-07:00"),
    });
    let key = [("idempotency-key", "convert-sam-1")];
    let reply = app
        .send(
            Method::POST,
            &convert_path(&id),
            Some(conversion.clone()),
            &key,
        )
        .await
        .expect(200);
    let result = reply.body.clone();
    assert_eq!(result["patient_created"], true);
    assert_eq!(result["inquiry"]["status"], "scheduled");
    assert_eq!(result["inquiry"]["patient_id"], result["patient_id"]);
    assert_eq!(result["inquiry"]["session_id"], result["session_id"]);
    assert_eq!(
        result["inquiry"]["first_contacted_at"],
        "2027-01-04T15:00:00Z"
    );
    assert_eq!(result["session"]["status"], "scheduled");
    assert_eq!(result["session"]["kind"], "assessment");
    assert_eq!(result["session"]["starts_at"], "2027-01-05T09:00:00-07:00");

    let patient_id = result["patient_id"].as_str().unwrap();
    let patient = app
        .get(&format!("/v1/patients/{patient_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(patient["given_name"], "Sam");
    assert_eq!(patient["family_name"], "Ortiz");
    assert_eq!(patient["email"], "sam.ortiz@example.com");
    assert_eq!(patient["phone"], "+1 303 555 0142");
    assert_eq!(patient["preferred_contact"], "phone");
    assert_eq!(patient["source"], "inquiry");
    let session_id = result["session_id"].as_str().unwrap();
    let session = app
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .expect(200);
    assert_eq!(session.body["patient_id"], patient_id);

    // A retry with the same key replays the answer; without it, the second conversion is refused.
    let replay = app
        .send(
            Method::POST,
            &convert_path(&id),
            Some(conversion.clone()),
            &key,
        )
        .await
        .expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, result);
    let twice = app
        .post(&convert_path(&id), conversion)
        .await
        .problem(409, "already-converted");
    assert_eq!(twice["patient_id"], patient_id);
    assert_eq!(twice["session_id"], session_id);
    assert_eq!(
        count_patients(&app).await,
        2,
        "the clinic's patient and Sam"
    );

    // Every step is traced: the timeline, and the audit trail under the new patient.
    let timeline = app
        .get(&format!("/v1/inquiries/{id}/timeline"))
        .await
        .expect(200)
        .body["items"]
        .clone();
    let last = &timeline[timeline.as_array().unwrap().len() - 1];
    assert_eq!(last["action"], "converted");
    assert_eq!(last["from_status"], "new");
    assert_eq!(last["to_status"], "scheduled");
    assert_eq!(last["patient_id"], patient_id);
    assert_eq!(last["session_id"], session_id);
    let audit = app
        .get(&format!(
            "/v1/audit-events?patient_id={patient_id}&limit=100"
        ))
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["patient.create", "session.book", "inquiry.convert"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[actix_web::test]
async fn an_inquiry_can_join_an_existing_patient_without_a_booking() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let id = received(&app, question("jordan@example.com")).await;
    let reply = app
        .post(&convert_path(&id), json!({"patient_id": c.patient}))
        .await
        .expect(200);
    assert_eq!(reply.body["patient_created"], false);
    assert_eq!(reply.body["patient_id"], c.patient);
    assert_eq!(reply.body["session_id"], Value::Null);
    assert_eq!(
        reply.body["inquiry"]["status"], "contacted",
        "no booking yet"
    );
    // Booked later by phone: the front desk marks it scheduled; spam is no longer possible.
    triage(&app, &id, json!({"status": "spam"}))
        .await
        .problem(409, "invalid-transition");
    triage(&app, &id, json!({"status": "scheduled"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_refused_conversion_writes_nothing() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let id = received(&app, question("sam@example.com")).await;
    let before = count_patients(&app).await;

    // Outside working hours: the patient it would have created is not kept either.
    let late = json!({"patient": {"date_of_birth": "1971-06-02"},
                      "session": assessment(&c, "2027-01-05T20:00:00-07:00")});
    app.post(&convert_path(&id), late)
        .await
        .problem(422, "outside-working-hours");
    // A slot taken by another patient: 409, nothing written.
    app.post(
        "/v1/sessions",
        c.booking("assessment", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let taken = json!({"patient": {"date_of_birth": "1971-06-02"},
                       "session": assessment(&c, "2027-01-05T10:15:00-07:00")});
    app.post(&convert_path(&id), taken)
        .await
        .problem(409, "slot-taken");
    // The same email and birth date as a patient on file: use that patient.
    let existing = new_patient(&app, "sam@example.com").await;
    let duplicate = app
        .post(
            &convert_path(&id),
            json!({"patient": {"date_of_birth": "1968-04-12"}}),
        )
        .await
        .problem(409, "duplicate");
    assert_eq!(duplicate["existing_id"], existing);

    let fields = |body: Value| {
        let app = &app;
        let path = convert_path(&id);
        async move { app.post(&path, body).await.refused_fields() }
    };
    assert_eq!(fields(json!({})).await, ["patient_id"]);
    assert_eq!(
        fields(json!({"patient_id": c.patient, "patient": {"date_of_birth": "1971-06-02"}})).await,
        ["patient_id"]
    );
    assert_eq!(
        fields(json!({"patient": {"date_of_birth": "2030-01-01"}})).await,
        ["patient.date_of_birth"]
    );
    assert_eq!(
        fields(json!({"patient": {"date_of_birth": "1971-06-02", "email": "nope"}})).await,
        ["patient.email"]
    );
    assert_eq!(
        fields(json!({"patient_id": c.patient, "session": assessment(&c, "tomorrow")})).await,
        ["session.starts_at"]
    );
    assert_eq!(
        fields(json!({"patient_id": uuid::Uuid::now_v7()})).await,
        ["patient_id"]
    );

    assert_eq!(
        count_patients(&app).await,
        before + 1,
        "only the one made here"
    );
    let inquiry = app
        .get(&format!("/v1/inquiries/{id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(inquiry["status"], "new");
    assert_eq!(inquiry["version"], 1);
    assert_eq!(inquiry["patient_id"], Value::Null);

    // A one-word name needs the family name spelled out.
    let mut cher = question("cher@example.com");
    cher["name"] = json!("Cher");
    let cher = received(&app, cher).await;
    assert_eq!(
        app.post(
            &convert_path(&cher),
            json!({"patient": {"date_of_birth": "1946-05-20"}})
        )
        .await
        .broken_rules(),
        ["patient.family_name"]
    );
    let named = app
        .post(
            &convert_path(&cher),
            json!({"patient": {"date_of_birth": "1946-05-20", "family_name": "Sarkisian"}}),
        )
        .await
        .expect(200);
    assert_eq!(named.body["patient_created"], true);

    // Spam is not converted until a person says it was a person.
    let mut bot = question("bot@example.com");
    bot["website"] = json!("x");
    let bot = received(&app, bot).await;
    app.post(&convert_path(&bot), json!({"patient_id": c.patient}))
        .await
        .problem(409, "invalid-transition");
}

#[actix_web::test]
async fn a_conversion_racing_a_booking_for_the_same_slot_lets_exactly_one_win() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let auth = format!("Bearer {}", app.admin_key);
    for round in 0..8 {
        let id = received(&app, question(&format!("racer{round}@example.com"))).await;
        let starts_at = format!(
            "2027-01-{:02}T{:02}:00:00-07:00",
            5 + round / 4,
            9 + round % 4
        );
        let conversion = json!({"patient": {"date_of_birth": "1971-06-02"},
                                "session": assessment(&c, &starts_at)});
        let booking = c.booking("assessment", &starts_at);
        let (addr, auth_a, auth_b) = (server.addr, auth.clone(), auth.clone());
        let path = convert_path(&id);
        let converting = actix_web::rt::spawn(async move {
            let headers = [("Authorization", auth_a.as_str())];
            request(addr, "POST", &path, Some(&conversion), &headers).await
        });
        let booking = actix_web::rt::spawn(async move {
            let headers = [("Authorization", auth_b.as_str())];
            request(addr, "POST", "/v1/sessions", Some(&booking), &headers).await
        });
        let (converted, booked) = (converting.await.unwrap(), booking.await.unwrap());
        let winners = usize::from(converted.status == 200) + usize::from(booked.status == 201);
        assert_eq!(
            winners, 1,
            "round {round}: convert {} {}, book {} {}",
            converted.status, converted.body, booked.status, booked.body
        );
        let loser = if converted.status == 200 {
            &booked
        } else {
            &converted
        };
        assert_eq!(loser.status, 409, "{}", loser.body);
        let inquiry = app
            .get(&format!("/v1/inquiries/{id}"))
            .await
            .expect(200)
            .body;
        if converted.status == 200 {
            assert_eq!(inquiry["status"], "scheduled");
        } else {
            assert_eq!(
                inquiry["status"], "new",
                "a lost race leaves the inquiry as it was"
            );
            assert_eq!(inquiry["patient_id"], Value::Null);
        }
    }
    let sessions = app.get("/v1/sessions?limit=100").await.expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 8);
}

#[actix_web::test]
async fn closed_and_spam_inquiries_past_retention_lose_their_personal_data() {
    let app = TestApp::new().await;
    let closed = received(&app, question("closed@example.com")).await;
    triage(
        &app,
        &closed,
        json!({"status": "closed", "notes": "Answered by email."}),
    )
    .await
    .expect(200);
    let mut bot = question("bot@example.com");
    bot["website"] = json!("x");
    let spam = received(&app, bot).await;
    let open = received(&app, question("open@example.com")).await;
    app.clock.set("2027-06-01T00:00:00Z".parse().unwrap());
    let recent = received(&app, question("recent@example.com")).await;
    triage(&app, &recent, json!({"status": "closed"}))
        .await
        .expect(200);

    // A year and a day after the first ones were closed.
    let now = "2028-01-05T15:00:00Z".parse().unwrap();
    let retention = RetentionArgs {
        inquiry_retention_days: 365,
    };
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let erased = prolo_scheduler::app::inquiries::retention::erase_expired(
        &mut conn,
        retention.inquiry_retention_days,
        now,
    )
    .await
    .unwrap();
    assert_eq!(erased, 2);

    for id in [&closed, &spam] {
        let row = app
            .get(&format!("/v1/inquiries/{id}"))
            .await
            .expect(200)
            .body;
        for field in [
            "name",
            "email",
            "phone",
            "message",
            "notes",
            "preferred_times",
            "source_page",
        ] {
            assert_eq!(row[field], Value::Null, "{field} of {id}");
        }
        assert_eq!(row["erased_at"], "2028-01-05T15:00:00Z");
        assert!(row["kind"].is_string() && row["created_at"].is_string());
        let timeline = app
            .get(&format!("/v1/inquiries/{id}/timeline"))
            .await
            .expect(200)
            .body["items"]
            .clone();
        assert_eq!(
            timeline.as_array().unwrap().last().unwrap()["action"],
            "erased"
        );
        triage(&app, id, json!({"notes": "too late"}))
            .await
            .problem(409, "inquiry-erased");
    }
    for id in [&open, &recent] {
        let row = app
            .get(&format!("/v1/inquiries/{id}"))
            .await
            .expect(200)
            .body;
        assert!(row["email"].is_string(), "{id} keeps its data");
    }
    let stats = app.get("/v1/inquiries/stats").await.expect(200).body;
    assert_eq!(stats["total"], 4, "erased inquiries still count");
    assert_eq!(stats["by_status"]["spam"], 1);
    let audit = app
        .get(&format!("/v1/audit-events?resource_id={closed}&limit=100"))
        .await
        .expect(200);
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "inquiry.erase")
    );
    // Running again finds nothing more.
    let again = prolo_scheduler::app::inquiries::retention::erase_expired(
        &mut conn,
        retention.inquiry_retention_days,
        now,
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

#[actix_web::test]
async fn the_purge_inquiries_command_erases_what_has_expired() {
    let app = TestApp::new().await;
    // Closed long before any day this test could run on.
    app.clock.set("1999-01-04T15:00:00Z".parse().unwrap());
    let old = received(&app, question("old@example.com")).await;
    triage(&app, &old, json!({"status": "closed"}))
        .await
        .expect(200);
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_prolo-scheduler"))
        .args(["purge-inquiries", "--inquiry-retention-days", "30"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("erased the personal data of 1 inquiries"),
        "{stderr}"
    );
    let row = app
        .get(&format!("/v1/inquiries/{old}"))
        .await
        .expect(200)
        .body;
    assert_eq!(row["email"], Value::Null);
}

#[actix_web::test]
async fn two_front_desks_converting_one_inquiry_at_once_make_one_patient() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let id = received(&app, question("twice@example.com")).await;
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let auth = format!("Bearer {}", app.admin_key);
    let tasks: Vec<_> = ["10", "11"]
        .into_iter()
        .map(|hour| {
            let body = json!({"patient": {"date_of_birth": "1971-06-02"},
                              "session": assessment(&c, &format!("2027-01-05T{hour}:00:00-07:00"))});
            let (addr, auth, path) = (server.addr, auth.clone(), convert_path(&id));
            actix_web::rt::spawn(async move {
                request(addr, "POST", &path, Some(&body), &[("Authorization", auth.as_str())]).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut refusal = Value::Null;
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status == 409 {
            refusal = reply.body.clone();
        }
        statuses.push(reply.status);
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(refusal["type"], "/problems/already-converted");
    let inquiry = app
        .get(&format!("/v1/inquiries/{id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(refusal["patient_id"], inquiry["patient_id"]);
    assert_eq!(
        count_patients(&app).await,
        2,
        "the clinic's patient and one more"
    );
    let sessions = app.get("/v1/sessions").await.expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn serve_with_purge_inquiries_erases_expired_inquiries_on_its_own() {
    let app = TestApp::new().await;
    app.clock.set("1999-01-04T15:00:00Z".parse().unwrap());
    let old = received(&app, question("old@example.com")).await;
    triage(&app, &old, json!({"status": "closed"}))
        .await
        .expect(200);
    let mut serving = tokio::process::Command::new(env!("CARGO_BIN_EXE_prolo-scheduler"))
        .args(["serve", "--bind", "127.0.0.1:0", "--purge-inquiries"])
        .env("DATABASE_URL", &app.db.url)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The first purge runs at start-up; poll for it rather than guess how long it takes.
    let mut erased = Value::Null;
    for _ in 0..200 {
        erased = app
            .get(&format!("/v1/inquiries/{old}"))
            .await
            .expect(200)
            .body["erased_at"]
            .clone();
        if !erased.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    serving.kill().await.unwrap();
    assert!(erased.is_string(), "the serving process erased the inquiry");
}
