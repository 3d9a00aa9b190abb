use std::path::Path;

use serde_json::Value;

/// The committed document equals what the code generates; `UPDATE_OPENAPI=1` rewrites it.
#[test]
fn committed_openapi_document_matches_the_code() {
    let generated =
        serde_json::to_string_pretty(&prolo_scheduler::openapi_document()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the code; run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
    );
}

#[test]
fn every_operation_is_documented_with_its_errors() {
    let document: Value = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: operationId"));
            assert!(
                operation_ids.insert(id.to_owned()),
                "{name}: duplicate operationId {id}"
            );
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tag"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|code| code.starts_with('2')),
                "{name}: success response"
            );
            if path != "/healthz" {
                assert!(
                    responses
                        .keys()
                        .any(|code| code.starts_with('4') || code.starts_with('5')),
                    "{name}: error responses"
                );
            }
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                assert!(schema.is_object(), "{name}: request schema");
            }
            // Input that is validated may also break a rule beyond the schema (422).
            if responses.contains_key("400") {
                let rules = &responses["422"];
                let named = rules["$ref"] == "#/components/responses/UnprocessableValues"
                    || rules["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("unprocessable-values"));
                assert!(named, "{name}: 422 unprocessable-values");
            }
        }
    }
    // Every error response a path names is defined, with an example.
    let responses = document["components"]["responses"].as_object().unwrap();
    for (name, response) in responses {
        assert!(
            response["content"]["application/problem+json"]["example"].is_object(),
            "{name}: problem example"
        );
    }
}

#[test]
fn contract_paths_of_the_catalog_exist() {
    let document: Value = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    let paths = &document["paths"];
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/locations", "post"),
        ("/v1/treatment-areas", "post"),
        ("/v1/providers", "post"),
        ("/v1/providers/{id}/working-hours", "put"),
        ("/v1/providers/{id}/time-off", "post"),
        ("/v1/settings", "patch"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is missing"
        );
    }
}
