//! The domain's enums as the `text` columns (each with its `CHECK`) that store them: one
//! mapping each, so rows carry the enum and no status or kind is compared as a string.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::access::Role;
use crate::domain::contact::ContactMethod;
use crate::domain::courses::{CourseStatus, Side};
use crate::domain::inquiries::{InquiryKind, InquiryStatus, SymptomDuration};
use crate::domain::notifications::{Channel, NotificationKind, NotificationStatus, SkipReason};
use crate::domain::online::RequestStatus;
use crate::domain::patients::PatientSource;
use crate::domain::resources::ResourceKind;
use crate::domain::sessions::{CancelReason, SessionKind, SessionStatus};
use crate::domain::waitlist::{Actor, EntrySource, EntryStatus, HistoryAction, OfferStatus};

macro_rules! text_enums {
    ($($ty:ident => $proxy:ident),+ $(,)?) => {$(
        /// Carries diesel's derives onto the domain's type (`foreign_derive`).
        #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(foreign_derive, sql_type = Text)]
        #[expect(dead_code, reason = "only the derives are used")]
        struct $proxy($ty);

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                $ty::parse(&text)
                    .ok_or_else(|| format!("unknown {} `{text}`", stringify!($ty)).into())
            }
        }
    )+};
}

text_enums! {
    Role => RoleColumn,
    SessionKind => SessionKindColumn,
    SessionStatus => SessionStatusColumn,
    CancelReason => CancelReasonColumn,
    CourseStatus => CourseStatusColumn,
    Side => SideColumn,
    InquiryKind => InquiryKindColumn,
    InquiryStatus => InquiryStatusColumn,
    SymptomDuration => SymptomDurationColumn,
    ContactMethod => ContactMethodColumn,
    NotificationKind => NotificationKindColumn,
    NotificationStatus => NotificationStatusColumn,
    SkipReason => SkipReasonColumn,
    Channel => ChannelColumn,
    RequestStatus => RequestStatusColumn,
    PatientSource => PatientSourceColumn,
    ResourceKind => ResourceKindColumn,
    EntryStatus => EntryStatusColumn,
    OfferStatus => OfferStatusColumn,
    EntrySource => EntrySourceColumn,
    HistoryAction => HistoryActionColumn,
    Actor => ActorColumn,
}
