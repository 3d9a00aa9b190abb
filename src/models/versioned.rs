//! Records kept with a version (their `ETag`) and archived rather than deleted: patients,
//! locations, treatment areas and providers. One definition of how such a record is locked,
//! changed and archived, stamped onto each table by [`versioned!`].

use std::future::Future;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::events::EventType;

/// A record with a version and an archive date.
pub trait Versioned: Sized + Send {
    /// The fields a change may set (`None` leaves one as it is).
    type Changes: Send;
    /// What the record is called in a 404.
    const NAME: &'static str;
    /// The event of a change, and of archiving.
    const UPDATED: EventType;
    const ARCHIVED: EventType;

    fn id(&self) -> Uuid;
    fn version(&self) -> i32;
    fn is_archived(&self) -> bool;

    /// The row, locked until the transaction ends.
    fn find_for_update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send;

    /// Applies `changes` and bumps the version.
    fn update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: Self::Changes,
    ) -> impl Future<Output = QueryResult<Self>> + Send;

    /// Marks the record archived (kept for history) and bumps the version.
    fn archive(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> impl Future<Output = QueryResult<Self>> + Send;
}

/// Implements [`Versioned`] for `$row` of table `$table` changed by `$changes`.
macro_rules! versioned {
    ($row:ty, $changes:ty, $table:ident, $name:literal, $updated:ident, $archived:ident) => {
        impl $crate::models::versioned::Versioned for $row {
            type Changes = $changes;
            const NAME: &'static str = $name;
            const UPDATED: $crate::domain::events::EventType =
                $crate::domain::events::EventType::$updated;
            const ARCHIVED: $crate::domain::events::EventType =
                $crate::domain::events::EventType::$archived;

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn version(&self) -> i32 {
                self.version
            }

            fn is_archived(&self) -> bool {
                self.archived_at.is_some()
            }

            async fn find_for_update(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
            ) -> diesel::QueryResult<Option<Self>> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                $crate::schema::$table::table
                    .find(id)
                    .select(<$row>::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()
            }

            async fn update(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
                changes: $changes,
            ) -> diesel::QueryResult<Self> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use $crate::schema::$table;
                diesel::update($table::table.find(id))
                    .set((
                        changes,
                        $table::version.eq($table::version + 1),
                        $table::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(<$row>::as_returning())
                    .get_result(conn)
                    .await
            }

            async fn archive(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
            ) -> diesel::QueryResult<Self> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use $crate::schema::$table;
                diesel::update($table::table.find(id))
                    .set((
                        $table::archived_at.eq(diesel::dsl::now
                            .into_sql::<diesel::sql_types::Timestamptz>()
                            .nullable()),
                        $table::version.eq($table::version + 1),
                        $table::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(<$row>::as_returning())
                    .get_result(conn)
                    .await
            }
        }
    };
}

pub(crate) use versioned;
