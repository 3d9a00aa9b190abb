//! Notifications to patients: planned from the event log (`plan`), written (`compose`,
//! `render`) and delivered under leases by the worker (`deliver`), read and resent by the
//! front desk (`read`), turned off by the patient's one-click link (`unsubscribe`).

pub mod compose;
pub mod deliver;
pub mod plan;
pub mod read;
pub mod render;
pub mod unsubscribe;

/// Where messages come from and where their links point.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// The address messages are sent from (`PROLO_MAIL_FROM`).
    pub from_address: String,
    /// The service's public base URL, for the links in messages (`PROLO_PUBLIC_URL`).
    pub public_url: String,
}

impl Default for Outbox {
    /// What `serve` uses when nothing is configured.
    fn default() -> Self {
        Self {
            from_address: "scheduling@localhost".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

impl Outbox {
    /// The domain of the sending address: it makes `Message-ID`s and invite `UID`s unique.
    pub fn domain(&self) -> &str {
        self.from_address
            .rsplit_once('@')
            .map_or("localhost", |(_, domain)| domain)
    }
}
