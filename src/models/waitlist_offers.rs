//! Freed times (openings) and the offers made of them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::waitlist::OfferStatus;
use crate::schema::{waitlist_offers, waitlist_openings};

/// The stored names of an opening's statuses.
pub mod opening_status {
    pub const PENDING: &str = "pending";
    pub const OFFERED: &str = "offered";
    pub const FILLED: &str = "filled";
    pub const DONE: &str = "done";
}

/// A row of `waitlist_openings`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = waitlist_openings)]
pub struct Opening {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub event_id: Uuid,
    pub freed_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub status: String,
    pub rounds: i32,
}

/// Records a freed time, once per event that freed it.
pub async fn add_opening(conn: &mut AsyncPgConnection, opening: Opening) -> QueryResult<usize> {
    diesel::insert_into(waitlist_openings::table)
        .values(opening)
        .on_conflict(waitlist_openings::event_id)
        .do_nothing()
        .execute(conn)
        .await
}

/// The next due opening, locked until the transaction ends; one another replica is offering
/// is skipped.
pub async fn next_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Option<Opening>> {
    waitlist_openings::table
        .filter(waitlist_openings::status.eq(opening_status::PENDING))
        .filter(waitlist_openings::due_at.le(now))
        .order(waitlist_openings::due_at)
        .select(Opening::as_select())
        .limit(1)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

pub async fn opening_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Opening>> {
    waitlist_openings::table
        .find(id)
        .select(Opening::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Sets an opening's status, counting a round of offers when it goes out.
pub async fn set_opening(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    due_at: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    let offered = i32::from(status == opening_status::OFFERED);
    diesel::update(waitlist_openings::table.find(id))
        .set((
            waitlist_openings::status.eq(status),
            waitlist_openings::rounds.eq(waitlist_openings::rounds + offered),
            due_at.map(|at| waitlist_openings::due_at.eq(at)),
        ))
        .execute(conn)
        .await
}

/// Openings offered, whose offers have all been answered or have expired without one being
/// accepted: their time may go to the next in line.
pub async fn unanswered(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Uuid>> {
    let open_offer = diesel::dsl::exists(
        waitlist_offers::table
            .filter(waitlist_offers::opening_id.eq(waitlist_openings::id))
            .filter(waitlist_offers::status.eq_any([OfferStatus::Open, OfferStatus::Accepted])),
    );
    waitlist_openings::table
        .filter(waitlist_openings::status.eq(opening_status::OFFERED))
        .filter(diesel::dsl::not(open_offer))
        .select(waitlist_openings::id)
        .limit(200)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Pending or offered openings of `provider_id` overlapping `[start, end)`.
pub async fn live_overlapping(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    waitlist_openings::table
        .filter(waitlist_openings::provider_id.eq(provider_id))
        .filter(
            waitlist_openings::status.eq_any([opening_status::PENDING, opening_status::OFFERED]),
        )
        .filter(waitlist_openings::starts_at.lt(end))
        .filter(waitlist_openings::ends_at.gt(start))
        .select(waitlist_openings::id)
        .load(conn)
        .await
}

/// A row of `waitlist_offers`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_offers)]
pub struct Offer {
    pub id: Uuid,
    pub opening_id: Uuid,
    pub entry_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub session_id: Option<Uuid>,
}

impl Offer {
    /// Whether it may still be accepted at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == OfferStatus::Open && now < self.expires_at
    }
}

/// A new offer, open.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = waitlist_offers)]
pub struct NewOffer {
    pub id: Uuid,
    pub opening_id: Uuid,
    pub entry_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, rows: Vec<NewOffer>) -> QueryResult<Vec<Offer>> {
    diesel::insert_into(waitlist_offers::table)
        .values(rows)
        .returning(Offer::as_returning())
        .get_results(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Offer>> {
    waitlist_offers::table
        .find(id)
        .select(Offer::as_select())
        .first(conn)
        .await
        .optional()
}

/// The offer a link's token belongs to, locked when `for_update`.
pub async fn by_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
    for_update: bool,
) -> QueryResult<Option<Offer>> {
    let query = waitlist_offers::table
        .filter(waitlist_offers::token_hash.eq(hash))
        .select(Offer::as_select());
    match for_update {
        true => query.for_update().first(conn).await.optional(),
        false => query.first(conn).await.optional(),
    }
}

/// Gives the offer a new link: only the token's hash is kept.
pub async fn set_token(conn: &mut AsyncPgConnection, id: Uuid, hash: &[u8]) -> QueryResult<usize> {
    diesel::update(waitlist_offers::table.find(id))
        .set(waitlist_offers::token_hash.eq(hash))
        .execute(conn)
        .await
}

/// The offers of an entry, newest first.
pub async fn of_entry(conn: &mut AsyncPgConnection, entry_id: Uuid) -> QueryResult<Vec<Offer>> {
    waitlist_offers::table
        .filter(waitlist_offers::entry_id.eq(entry_id))
        .order(waitlist_offers::created_at.desc())
        .select(Offer::as_select())
        .load(conn)
        .await
}

/// The entries that have had an offer of the opening.
pub async fn entries_offered(
    conn: &mut AsyncPgConnection,
    opening_id: Uuid,
) -> QueryResult<Vec<Uuid>> {
    waitlist_offers::table
        .filter(waitlist_offers::opening_id.eq(opening_id))
        .select(waitlist_offers::entry_id)
        .load(conn)
        .await
}

/// The entries among `entry_ids` holding an open offer at `now`.
pub async fn holding_offers(
    conn: &mut AsyncPgConnection,
    entry_ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    waitlist_offers::table
        .filter(waitlist_offers::entry_id.eq_any(entry_ids))
        .filter(waitlist_offers::status.eq(OfferStatus::Open))
        .filter(waitlist_offers::expires_at.gt(now))
        .select(waitlist_offers::entry_id)
        .load(conn)
        .await
}

/// Which offers a change applies to.
type Picks = Box<
    dyn diesel::BoxableExpression<
            waitlist_offers::table,
            diesel::pg::Pg,
            SqlType = diesel::sql_types::Bool,
        >,
>;

/// Resolves the open offers that `filter` picks with `status`, returning them.
async fn resolve(
    conn: &mut AsyncPgConnection,
    filter: Picks,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Offer>> {
    diesel::update(
        waitlist_offers::table
            .filter(waitlist_offers::status.eq(OfferStatus::Open))
            .filter(filter),
    )
    .set((
        waitlist_offers::status.eq(status),
        waitlist_offers::resolved_at.eq(now),
    ))
    .returning(Offer::as_returning())
    .get_results(conn)
    .await
}

/// Closes the open offers of the openings with `status` (`taken` or `closed`).
pub async fn close_of_openings(
    conn: &mut AsyncPgConnection,
    opening_ids: &[Uuid],
    status: OfferStatus,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Offer>> {
    let filter = Box::new(waitlist_offers::opening_id.eq_any(opening_ids.to_vec()));
    resolve(conn, filter, status, now).await
}

/// Closes the open offers of `opening_ids` overlapping `[start, end)`: the time was booked.
pub async fn close_overlapping(
    conn: &mut AsyncPgConnection,
    opening_ids: &[Uuid],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Offer>> {
    let filter = Box::new(
        waitlist_offers::opening_id
            .eq_any(opening_ids.to_vec())
            .and(waitlist_offers::starts_at.lt(end))
            .and(waitlist_offers::ends_at.gt(start)),
    );
    resolve(conn, filter, OfferStatus::Closed, now).await
}

/// Closes the open offers of an entry that ended.
pub async fn close_of_entry(
    conn: &mut AsyncPgConnection,
    entry_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Offer>> {
    let filter = Box::new(waitlist_offers::entry_id.eq(entry_id));
    resolve(conn, filter, OfferStatus::Closed, now).await
}

/// Expires the open offers whose time to answer is over.
pub async fn expire_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Offer>> {
    let filter = Box::new(waitlist_offers::expires_at.le(now));
    resolve(conn, filter, OfferStatus::Expired, now).await
}

/// Marks the offer accepted, naming the session it booked or moved.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Offer> {
    diesel::update(waitlist_offers::table.find(id))
        .set((
            waitlist_offers::status.eq(OfferStatus::Accepted),
            waitlist_offers::resolved_at.eq(now),
            waitlist_offers::session_id.eq(session_id),
        ))
        .returning(Offer::as_returning())
        .get_result(conn)
        .await
}
