//! Booking requests: a visitor's details and the hash of the code mailed to them, until the
//! code books the session (or the request is void).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::online::RequestStatus;
use crate::schema::booking_requests;

/// A row of `booking_requests`; the personal details are `None` once it is settled.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = booking_requests)]
pub struct BookingRequest {
    pub id: Uuid,
    pub hold_id: Uuid,
    pub status: RequestStatus,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub code_hash: Vec<u8>,
    pub attempts: i16,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub session_id: Option<Uuid>,
}

/// A request to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = booking_requests)]
pub struct NewBookingRequest {
    pub id: Uuid,
    pub hold_id: Uuid,
    pub status: RequestStatus,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub code_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewBookingRequest) -> QueryResult<()> {
    diesel::insert_into(booking_requests::table)
        .values(new)
        .execute(conn)
        .await?;
    Ok(())
}

/// The request, locked until the transaction ends.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<BookingRequest>> {
    booking_requests::table
        .find(id)
        .select(BookingRequest::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Counts a wrong code.
pub async fn count_attempt(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(booking_requests::table.find(id))
        .set(booking_requests::attempts.eq(booking_requests::attempts + 1))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every personal column of a request set to `NULL`: what settling a request leaves.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = booking_requests, treat_none_as_null = true)]
struct Erased {
    given_name: Option<String>,
    family_name: Option<String>,
    date_of_birth: Option<NaiveDate>,
    email: Option<String>,
    phone: Option<String>,
    message: Option<String>,
}

/// Settles the request (verified with its session, or void) and erases the visitor's details.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: RequestStatus,
    session_id: Option<Uuid>,
) -> QueryResult<()> {
    diesel::update(booking_requests::table.find(id))
        .set((
            booking_requests::status.eq(status),
            booking_requests::session_id.eq(session_id),
            Erased::default(),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Voids every request still waiting on `hold_id` (a new request for the same hold replaces
/// them), erasing their details.
pub async fn void_waiting_on(conn: &mut AsyncPgConnection, hold_id: Uuid) -> QueryResult<()> {
    let waiting: Vec<Uuid> = booking_requests::table
        .filter(booking_requests::hold_id.eq(hold_id))
        .filter(booking_requests::status.eq(RequestStatus::AwaitingVerification))
        .select(booking_requests::id)
        .load(conn)
        .await?;
    for id in waiting {
        settle(conn, id, RequestStatus::Void, None).await?;
    }
    Ok(())
}

/// Erases the details of requests whose code expired before `before` and that were never
/// verified: nobody can use them any more. Returns how many.
pub async fn erase_expired(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        booking_requests::table
            .filter(booking_requests::status.eq(RequestStatus::AwaitingVerification))
            .filter(booking_requests::expires_at.lt(before)),
    )
    .set((
        booking_requests::status.eq(RequestStatus::Void),
        Erased::default(),
    ))
    .execute(conn)
    .await
}
