//! A small clinic to book into, shared by the suites.

use serde_json::{Value, json};

use super::TestApp;

/// A clinic in Denver: a knee provider working weekdays 08:00–17:00, and one patient.
pub struct Clinic {
    pub location: String,
    pub area: String,
    pub provider: String,
    pub patient: String,
}

pub async fn clinic(app: &TestApp) -> Clinic {
    let location = app.location("Denver", "America/Denver").await;
    let area = app.treatment_area("knee").await;
    let provider = app.provider(&[&area], &[&location]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&provider, &location, &days, ("08:00", "17:00"))
        .await;
    let patient = new_patient(app, "jordan@example.com").await;
    Clinic {
        location,
        area,
        provider,
        patient,
    }
}

pub async fn new_patient(app: &TestApp, email: &str) -> String {
    let body = json!({"given_name": "Jordan", "family_name": "Reyes", "date_of_birth": "1968-04-12", "email": email});
    app.post("/v1/patients", body).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl Clinic {
    pub fn booking(&self, kind: &str, starts_at: &str) -> Value {
        json!({"patient_id": self.patient, "provider_id": self.provider, "location_id": self.location,
               "treatment_area_id": self.area, "kind": kind, "starts_at": starts_at})
    }
}
