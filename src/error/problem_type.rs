//! The stable problem types: each error's `type` URI, status, title and meaning.

/// A stable problem `type`: its URI is `/problems/{slug}`, documented in the README and OpenAPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    ValidationFailed,
    UnprocessableValues,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    SlugTaken,
    Duplicate,
    InUse,
    ScheduleConflict,
    OutsideWorkingHours,
    ProviderOnTimeOff,
    ProviderNotEligible,
    TooShortNotice,
    BeyondHorizon,
    TimeWithoutOffset,
    InactiveRecord,
    TooEarly,
    OutsideVisitWindow,
    IdempotencyKeyReused,
    CourseNotPlannable,
    CourseWindowBroken,
    SlotTaken,
    ResourceUnavailable,
    PatientDoubleBooked,
    InvalidTransition,
    AlreadyConverted,
    InquiryErased,
    TooManyHolds,
    HoldExpired,
    WrongCode,
    BookingRequestClosed,
    OfferTaken,
    OfferExpired,
    TooLateToChange,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    RateLimited,
    ServiceUnavailable,
    Internal,
}

impl ProblemType {
    /// Every problem type, for documentation.
    pub const ALL: [ProblemType; 43] = [
        Self::ValidationFailed,
        Self::UnprocessableValues,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::SlugTaken,
        Self::Duplicate,
        Self::InUse,
        Self::ScheduleConflict,
        Self::OutsideWorkingHours,
        Self::ProviderOnTimeOff,
        Self::ProviderNotEligible,
        Self::TooShortNotice,
        Self::BeyondHorizon,
        Self::TimeWithoutOffset,
        Self::InactiveRecord,
        Self::TooEarly,
        Self::OutsideVisitWindow,
        Self::IdempotencyKeyReused,
        Self::CourseNotPlannable,
        Self::CourseWindowBroken,
        Self::SlotTaken,
        Self::ResourceUnavailable,
        Self::PatientDoubleBooked,
        Self::InvalidTransition,
        Self::AlreadyConverted,
        Self::InquiryErased,
        Self::TooManyHolds,
        Self::HoldExpired,
        Self::WrongCode,
        Self::BookingRequestClosed,
        Self::OfferTaken,
        Self::OfferExpired,
        Self::TooLateToChange,
        Self::PreconditionFailed,
        Self::PreconditionRequired,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::Internal,
    ];

    /// The last segment of the type URI.
    pub fn slug(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation-failed",
            Self::UnprocessableValues => "unprocessable-values",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate-limited",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::SlugTaken => "slug-taken",
            Self::Duplicate => "duplicate",
            Self::InUse => "in-use",
            Self::ScheduleConflict => "schedule-conflict",
            Self::OutsideWorkingHours => "outside-working-hours",
            Self::ProviderOnTimeOff => "provider-on-time-off",
            Self::ProviderNotEligible => "provider-not-eligible",
            Self::TooShortNotice => "too-short-notice",
            Self::BeyondHorizon => "beyond-horizon",
            Self::TimeWithoutOffset => "time-without-offset",
            Self::InactiveRecord => "inactive-record",
            Self::TooEarly => "too-early",
            Self::OutsideVisitWindow => "outside-visit-window",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::CourseNotPlannable => "course-not-plannable",
            Self::CourseWindowBroken => "course-window-broken",
            Self::SlotTaken => "slot-taken",
            Self::ResourceUnavailable => "resource-unavailable",
            Self::PatientDoubleBooked => "patient-double-booked",
            Self::InvalidTransition => "invalid-transition",
            Self::AlreadyConverted => "already-converted",
            Self::InquiryErased => "inquiry-erased",
            Self::TooManyHolds => "too-many-holds",
            Self::HoldExpired => "hold-expired",
            Self::WrongCode => "wrong-code",
            Self::BookingRequestClosed => "booking-request-closed",
            Self::OfferTaken => "offer-taken",
            Self::OfferExpired => "offer-expired",
            Self::TooLateToChange => "too-late-to-change",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge => "payload-too-large",
            Self::RequestTimeout => "request-timeout",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::ServiceUnavailable => "service-unavailable",
            Self::Internal => "internal-error",
        }
    }

    /// The problem's `type` member.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }

    /// The HTTP status a problem of this type carries.
    pub fn status(self) -> u16 {
        match self {
            Self::ValidationFailed => 400,
            Self::UnprocessableValues => 422,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::RateLimited => 429,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::SlugTaken | Self::Duplicate | Self::InUse | Self::ScheduleConflict => 409,
            Self::OutsideWorkingHours => 422,
            Self::ProviderOnTimeOff => 422,
            Self::ProviderNotEligible => 422,
            Self::TooShortNotice => 422,
            Self::BeyondHorizon => 422,
            Self::TimeWithoutOffset => 422,
            Self::InactiveRecord => 422,
            Self::TooEarly | Self::OutsideVisitWindow => 422,
            Self::IdempotencyKeyReused => 422,
            Self::CourseNotPlannable | Self::CourseWindowBroken => 422,
            Self::SlotTaken | Self::ResourceUnavailable => 409,
            Self::PatientDoubleBooked => 409,
            Self::InvalidTransition | Self::AlreadyConverted | Self::InquiryErased => 409,
            Self::TooManyHolds => 429,
            Self::HoldExpired
            | Self::BookingRequestClosed
            | Self::OfferTaken
            | Self::OfferExpired => 409,
            Self::WrongCode | Self::TooLateToChange => 422,
            Self::PreconditionFailed => 412,
            Self::PreconditionRequired => 428,
            Self::PayloadTooLarge => 413,
            Self::RequestTimeout => 408,
            Self::UnsupportedMediaType => 415,
            Self::ServiceUnavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The problem's `title`: the same for every occurrence of the type.
    pub fn title(self) -> &'static str {
        match self {
            Self::ValidationFailed => "The request is not valid",
            Self::UnprocessableValues => "A value breaks a rule",
            Self::Unauthorized => "A valid API key is required",
            Self::Forbidden => "The API key's role does not allow this",
            Self::RateLimited => "Too many requests",
            Self::NotFound => "The resource does not exist",
            Self::MethodNotAllowed => "The method is not allowed on this resource",
            Self::SlugTaken => "The slug is already taken",
            Self::Duplicate => "The record already exists",
            Self::InUse => "The resource is still in use",
            Self::ScheduleConflict => "The schedule change conflicts with existing entries",
            Self::OutsideWorkingHours => "The time is outside the provider's working hours",
            Self::ProviderOnTimeOff => "The provider is on time off",
            Self::ProviderNotEligible => "The provider cannot take this session",
            Self::TooShortNotice => "The start is too soon",
            Self::BeyondHorizon => "The start is too far ahead",
            Self::TimeWithoutOffset => "The time has no UTC offset",
            Self::InactiveRecord => "A record the request names is archived",
            Self::TooEarly => "Not possible before the session starts",
            Self::OutsideVisitWindow => "Not possible at this moment of the visit",
            Self::IdempotencyKeyReused => "The Idempotency-Key was used with another request",
            Self::CourseNotPlannable => "Not every session of the course can be placed",
            Self::CourseWindowBroken => "The move breaks the course's interval window",
            Self::SlotTaken => "The provider is already booked then",
            Self::ResourceUnavailable => "No room or device the session needs is free then",
            Self::PatientDoubleBooked => "The patient is already booked then",
            Self::InvalidTransition => "The resource cannot change this way",
            Self::AlreadyConverted => "The inquiry was converted already",
            Self::InquiryErased => "The inquiry's personal data was erased",
            Self::TooManyHolds => "This client holds too many slots already",
            Self::HoldExpired => "The hold has expired or was released",
            Self::WrongCode => "The code is not the one mailed",
            Self::BookingRequestClosed => "The booking request can no longer be verified",
            Self::OfferTaken => "Someone else took this time first",
            Self::OfferExpired => "The offer is no longer open",
            Self::TooLateToChange => "Too close to the session to change it online",
            Self::PreconditionFailed => "The resource has changed since it was read",
            Self::PreconditionRequired => "The request must be conditional",
            Self::PayloadTooLarge => "The request body is too large",
            Self::RequestTimeout => "The request body arrived too slowly",
            Self::UnsupportedMediaType => "The request body must be JSON",
            Self::ServiceUnavailable => "The service is temporarily unavailable",
            Self::Internal => "Internal server error",
        }
    }

    /// What it means and what a client should do, for the docs.
    pub fn description(self) -> &'static str {
        match self {
            Self::ValidationFailed => {
                "A field is missing, malformed or out of range; `errors` names each failing field."
            }
            Self::UnprocessableValues => {
                "The request fits the schema, but a value breaks a rule the schema cannot state: \
                 a record it names does not exist, an end comes before its start, a date lies in \
                 the future, a time zone is unknown. `errors` names each field."
            }
            Self::Unauthorized => {
                "No API key, or one that is unknown, revoked or expired: send `Authorization: Bearer <key>`."
            }
            Self::Forbidden => "The key is valid but its role may not perform this operation.",
            Self::RateLimited => "Slow down: retry after `Retry-After` seconds.",
            Self::NotFound => "No resource (or route) exists at this URL.",
            Self::MethodNotAllowed => "The URL exists but not with this method; see `Allow`.",
            Self::SlugTaken => "Another treatment area already uses this slug.",
            Self::Duplicate => "The same record exists already; `existing_id` names it.",
            Self::InUse => {
                "Other records still refer to this one; change those first. When sessions rely on it, `session_ids` lists them."
            }
            Self::ScheduleConflict => "The change would overlap an existing schedule entry.",
            Self::OutsideWorkingHours => {
                "The provider does not work at that location at that local time."
            }
            Self::ProviderOnTimeOff => "The provider has time off overlapping the session.",
            Self::ProviderNotEligible => {
                "The provider does not treat the area, does not work at the location, or is archived."
            }
            Self::TooShortNotice => "The start is earlier than the clinic's minimum notice allows.",
            Self::BeyondHorizon => "The start is later than the clinic's booking horizon allows.",
            Self::TimeWithoutOffset => {
                "Instants must carry an offset, e.g. 2027-03-15T09:00:00-06:00."
            }
            Self::InactiveRecord => {
                "An archived patient, location or treatment area cannot be booked."
            }
            Self::TooEarly => "A no-show can be recorded only once the start has passed.",
            Self::OutsideVisitWindow => {
                "A check-in is accepted from the clinic's check-in lead before the start until the end of the session's local day, a completion only once the start has passed; `allowed_from` and `allowed_until` name the window."
            }
            Self::IdempotencyKeyReused => "Send a new key for a different request.",
            Self::CourseWindowBroken => {
                "The neighbouring session (named in `detail`) would fall outside the window; send `force: true` to move anyway."
            }
            Self::CourseNotPlannable => {
                "Some sessions fit no window; `detail` names them. Plan with POST /v1/courses/plan to see why."
            }
            Self::SlotTaken => {
                "Another active session of the provider (with its buffer) overlaps this time, or someone booking online holds it."
            }
            Self::ResourceUnavailable => {
                "The treatment area needs a room or device with the tag named in `tag` for this kind of session, and every one at the location is taken, held or down then. Pick another time (availability offers only times with every tag free)."
            }
            Self::PatientDoubleBooked => {
                "The patient has another active session overlapping this time."
            }
            Self::InvalidTransition => {
                "Its current status (named in `detail`) does not allow the change."
            }
            Self::AlreadyConverted => {
                "The inquiry became a patient before; `patient_id` and `session_id` name what it became."
            }
            Self::InquiryErased => {
                "Past its retention period the inquiry keeps only what statistics count; it can no longer change."
            }
            Self::TooManyHolds => {
                "A client may hold three slots at once: book one, or let one expire (`Retry-After`)."
            }
            Self::HoldExpired => {
                "The slot was held for `hold_minutes` (as long as its code lives once a booking is requested) and is free again, or taken: hold a slot again."
            }
            Self::WrongCode => {
                "The six-digit code does not match; `detail` says how many tries are left. The fifth wrong code voids the request."
            }
            Self::BookingRequestClosed => {
                "The request was verified already, voided by wrong codes, or its code expired (15 minutes): send the booking again."
            }
            Self::OfferTaken => {
                "Another patient accepted an offer of the same time first, or it was booked otherwise; the waitlist entry stays waiting for the next time that frees."
            }
            Self::OfferExpired => {
                "The offer was not accepted within `waitlist_offer_minutes`, or the waitlist entry ended (booked, cancelled, or past its dates)."
            }
            Self::TooLateToChange => {
                "The session starts within the clinic's late-change window; call the clinic (the number is in `detail`)."
            }
            Self::PreconditionFailed => {
                "`If-Match` does not match the current `ETag`: re-read and retry."
            }
            Self::PreconditionRequired => "Send the resource's current `ETag` in `If-Match`.",
            Self::PayloadTooLarge => "JSON bodies are limited to 64 KiB.",
            Self::RequestTimeout => {
                "A request body must arrive whole within 10 s; send it at once, then retry."
            }
            Self::UnsupportedMediaType => "Send `Content-Type: application/json`.",
            Self::ServiceUnavailable => {
                "The database cannot be reached right now; retry after `Retry-After` seconds."
            }
            Self::Internal => {
                "An unexpected error; it has been logged. The body reveals nothing more."
            }
        }
    }
}
