//! What the database's errors mean to a client: a broken connection is a 503, a lost race may
//! be retried, and a violated constraint is the client's mistake, named by the constraint.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{AppError, ProblemType};

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => Self::NotFound("resource"),
            // The connection broke (the server went away mid-request): retry later.
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => Self::Unavailable(Box::new(error)),
            DieselError::DatabaseError(_, info) if server_going_away(info.message()) => {
                Self::Unavailable(Box::new(error))
            }
            // Concurrent transactions checking the same exclusion constraints can deadlock;
            // one is aborted and may simply run again.
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Contention(Box::new(error))
            }
            DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                Self::Contention(Box::new(error))
            }
            DieselError::DatabaseError(_, info) => info
                .constraint_name()
                .and_then(constraint_violation)
                .unwrap_or_else(|| Self::Internal(Box::new(error))),
            _ => Self::Internal(Box::new(error)),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(error: crate::db::PoolError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

/// Whether PostgreSQL ended the session because it is shutting down, restarting or full.
/// diesel keeps only the message of these errors (SQLSTATE 57P01-57P03, 53300), not their
/// code, so they are told by PostgreSQL's (English) text.
fn server_going_away(message: &str) -> bool {
    const MESSAGES: [&str; 7] = [
        "terminating connection due to administrator command",
        "terminating connection due to unexpected postmaster exit",
        "terminating connection because of crash of another server process",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "sorry, too many clients already",
    ];
    MESSAGES.iter().any(|known| message.starts_with(known))
}

/// Maps a violated constraint, by name, to what the client did wrong. The database's own
/// message is never forwarded.
fn constraint_violation(constraint: &str) -> Option<AppError> {
    let error = match constraint {
        "treatment_areas_slug_key" => AppError::Problem(
            ProblemType::SlugTaken,
            "a treatment area with this slug already exists".into(),
        ),
        "provider_treatment_areas_treatment_area_id_fkey" => AppError::rule(
            "treatment_area_ids",
            "names a treatment area that does not exist",
        ),
        "provider_locations_location_id_fkey" => {
            AppError::rule("location_ids", "names a location that does not exist")
        }
        "working_hours_provider_location_fkey" => AppError::Problem(
            ProblemType::InUse,
            "the provider has working hours at a location it would no longer serve; \
             change the working hours first"
                .into(),
        ),
        "working_hours_no_overlap" => AppError::Problem(
            ProblemType::ScheduleConflict,
            "working-hour intervals of one provider overlap".into(),
        ),
        "time_off_provider_id_fkey" => AppError::NotFound("provider"),
        "sessions_provider_overlap" => AppError::Problem(
            ProblemType::SlotTaken,
            "the provider has another session (with its buffer) at that time".into(),
        ),
        "calendar_claims_overlap" => AppError::Problem(
            ProblemType::SlotTaken,
            "the provider's time is taken by a session or held by someone booking it".into(),
        ),
        "sessions_patient_overlap" => AppError::Problem(
            ProblemType::PatientDoubleBooked,
            "the patient has another session at that time".into(),
        ),
        "sessions_course_number_key" => AppError::Problem(
            ProblemType::SlotTaken,
            "the course already has a session with this number".into(),
        ),
        "courses_assessment_session_id_fkey" => {
            AppError::rule("assessment_session_id", "no session has this id")
        }
        "sessions_patient_id_fkey" => {
            AppError::rule("patient_id", "names a patient that does not exist")
        }
        "sessions_provider_id_fkey" => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        "sessions_location_id_fkey" => {
            AppError::rule("location_id", "names a location that does not exist")
        }
        "sessions_treatment_area_id_fkey" => AppError::rule(
            "treatment_area_id",
            "names a treatment area that does not exist",
        ),
        "patients_identity_key" => AppError::Problem(
            ProblemType::Duplicate,
            "a patient with this email and date of birth exists already".into(),
        ),
        "waitlist_session_key" => AppError::Problem(
            ProblemType::Duplicate,
            "the session is on the waitlist already".into(),
        ),
        "waitlist_offers_one_open" => AppError::Problem(
            ProblemType::OfferTaken,
            "the patient holds another open offer".into(),
        ),
        "waitlist_offers_one_accepted" => AppError::Problem(
            ProblemType::OfferTaken,
            "another offer of this time was accepted first".into(),
        ),
        "resources_name_key" => AppError::Problem(
            ProblemType::Duplicate,
            "an active resource at this location has this name already".into(),
        ),
        "resources_location_id_fkey" => {
            AppError::rule("location_id", "names a location that does not exist")
        }
        "resource_downtime_resource_id_fkey" => AppError::NotFound("resource"),
        "api_keys_provider_id_fkey" => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        _ => return None,
    };
    Some(error)
}
