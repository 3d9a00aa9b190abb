//! Booking: book a session, move it, take it through its life (confirm, check in, complete,
//! no-show, cancel), and read sessions back.

pub mod book;
pub mod lifecycle;
pub mod read;
pub mod reschedule;
pub mod schedule;
