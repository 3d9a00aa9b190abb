//! Bad query input is a 400 naming the parameter, for every operation of the document that
//! takes a query: unknown names, NUL characters, dates and instants outside years 1–9999, and
//! cursors that decode to impossible positions. Nothing reaches SQL to fail there.

use serde_json::Value;

use crate::support::TestApp;

/// A documented GET with query parameters: its path (ids filled in) and each parameter's name
/// and format.
type Operation = (String, Vec<(String, Option<String>)>);

/// Every documented GET with query parameters.
fn operations_with_queries() -> Vec<Operation> {
    let document = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let parameters: Vec<(String, Option<String>)> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    format_of(&p["schema"]),
                )
            })
            .collect();
        if parameters.is_empty() {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|segment| match segment.starts_with('{') {
                true => id.as_str(),
                false => segment,
            })
            .collect::<Vec<_>>()
            .join("/");
        operations.push((concrete, parameters));
    }
    operations
}

fn format_of(schema: &Value) -> Option<String> {
    schema["format"].as_str().map(str::to_owned).or_else(|| {
        schema["anyOf"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|branch| branch["format"].as_str().map(str::to_owned))
    })
}

#[actix_web::test]
async fn every_query_parameter_refuses_what_postgresql_cannot_take() {
    let app = TestApp::new().await;
    let operations = operations_with_queries();
    assert!(operations.len() >= 12, "the document lists its lists");
    let mut checked = 0;
    for (path, parameters) in &operations {
        let unknown = app.get(&format!("{path}?no_such_parameter=1")).await;
        assert_eq!(
            unknown.refused_fields(),
            ["no_such_parameter"],
            "GET {path} with an unknown parameter"
        );
        for (name, format) in parameters {
            let nul = app.get(&format!("{path}?{name}=%00x")).await;
            assert_eq!(nul.status, 400, "GET {path}?{name}=%00x: {:#}", nul.body);
            assert_eq!(
                nul.invalid_fields(),
                [name.as_str()],
                "GET {path} NUL in {name}"
            );
            let out_of_range = match format.as_deref() {
                Some("date-time") => Some("0000-12-31T23:00:00Z"),
                Some("date") => Some("0000-01-01"),
                _ => None,
            };
            if let Some(value) = out_of_range {
                let reply = app.get(&format!("{path}?{name}={value}")).await;
                assert_eq!(
                    reply.invalid_fields(),
                    [name.as_str()],
                    "GET {path}?{name}={value}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked} parameters checked");
}

#[actix_web::test]
async fn a_session_cursor_beyond_the_representable_range_is_refused() {
    let app = TestApp::new().await;
    let id = uuid::Uuid::now_v7().simple().to_string();
    for micros in [
        "-210866803200000001",
        "253402300800000000",
        "-62135596800000001",
    ] {
        let reply = app.get(&format!("/v1/sessions?cursor={micros}.{id}")).await;
        assert_eq!(reply.invalid_fields(), ["cursor"], "cursor {micros}");
    }
    app.get(&format!("/v1/sessions?cursor=1800000000000000.{id}"))
        .await
        .expect(200);
}

#[actix_web::test]
async fn an_empty_search_term_is_not_a_silent_list_of_everyone() {
    let app = TestApp::new().await;
    let reply = app.get("/v1/patients?q=").await;
    assert_eq!(reply.invalid_fields(), ["q"]);
}
