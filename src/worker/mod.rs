//! Background delivery inside `serve`, over the event log: each worker reads events from its
//! cursor and acts on them, never called by a handler. Safe with any number of replicas: the
//! cursor and the rows to deliver are claimed in the database.

pub mod notifications;
pub mod waitlist;
pub mod webhooks;
