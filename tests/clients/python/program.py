"""What an integrator writes with the generated client: the booking page's public calls (open
slots, the contact form) and the front desk's booking. `mypy --strict` checks it, with the
generated package, in tests/clients/run; it reads fields without casts."""

import datetime
from uuid import UUID

from prolo_client import AuthenticatedClient, Client
from prolo_client.api.courses import get_course
from prolo_client.api.events import list_events
from prolo_client.api.inquiries import submit_inquiry
from prolo_client.api.sessions import book_session, find_availability, list_sessions
from prolo_client.models import (
    Availability,
    BookSession,
    Course,
    EventPage,
    InquiryKind,
    InquiryReceived,
    PageSession,
    Problem,
    Progress,
    Session,
    SessionBookedEvent,
    SessionCancelledEvent,
    SessionKind,
    SubmitInquiry,
)

BASE_URL = "http://127.0.0.1:8080"


def first_open_slot(area: UUID, day: datetime.date) -> tuple[UUID, UUID, datetime.datetime] | None:
    """The first open assessment slot of `area` on `day`, with no key at all."""
    public = Client(base_url=BASE_URL)
    answer = find_availability.sync(
        client=public, treatment_area_id=area, kind=SessionKind.ASSESSMENT, from_=day, to=day
    )
    if not isinstance(answer, Availability) or not answer.slots:
        return None
    slot = answer.slots[0]
    return slot.provider_id, slot.location_id, slot.starts_at


def ask_a_question() -> UUID | str:
    """The contact form: an inquiry with a phone number and no email."""
    form = SubmitInquiry(
        name="Sam Ortiz",
        phone="+1 303 555 0142",
        kind=InquiryKind.QUESTION,
        message="Can prolotherapy help with tennis elbow?",
        consent=True,
    )
    answer = submit_inquiry.sync(client=Client(base_url=BASE_URL), body=form)
    if isinstance(answer, InquiryReceived):
        return answer.id
    if isinstance(answer, Problem):
        return f"{answer.status} {answer.type_}: {answer.detail}"
    return "no answer"


def book(key: str, patient: UUID, area: UUID, day: datetime.date) -> str:
    """The front desk books the first open slot for a patient."""
    slot = first_open_slot(area, day)
    if slot is None:
        return "no open slot"
    provider, location, starts_at = slot
    staff = AuthenticatedClient(base_url=BASE_URL, token=key)
    booking = BookSession(
        patient_id=patient,
        provider_id=provider,
        location_id=location,
        treatment_area_id=area,
        kind=SessionKind.ASSESSMENT,
        starts_at=starts_at,
    )
    answer = book_session.sync(client=staff, body=booking, idempotency_key="booking-1")
    if isinstance(answer, Session):
        course = answer.course_id.hex if answer.course_id is not None else "no course"
        record = answer.clinical_record
        pain = record.pain_after if record is not None else None
        return f"{answer.id} {answer.status.value} {answer.starts_at.isoformat()} {course} {pain}"
    if isinstance(answer, Problem):
        fields = [error.field for error in answer.errors] if answer.errors else []
        return f"{answer.status} {answer.type_} {fields}"
    return "no answer"


def describe(session: Session) -> str:
    """One line for a session, from the one `Session` type every answer uses."""
    return f"{session.starts_at.isoformat()} {session.kind.value} {session.status.value}"


def the_patients_sessions(key: str, patient: UUID) -> list[str]:
    """A page of a patient's sessions: its items are `Session`s like any other."""
    staff = AuthenticatedClient(base_url=BASE_URL, token=key)
    page = list_sessions.sync(client=staff, patient_id=patient, limit=50)
    if not isinstance(page, PageSession):
        return []
    lines = [describe(session) for session in page.items]
    if page.next_cursor is not None:
        lines.append(f"more after {page.next_cursor}")
    return lines


def where_the_course_stands(key: str, course: UUID) -> list[str]:
    """A course's warnings and its next session, each field typed."""
    staff = AuthenticatedClient(base_url=BASE_URL, token=key)
    answer = get_course.sync(client=staff, id=course)
    if not isinstance(answer, Course):
        return []
    lines = [f"{warning.at.isoformat()}: {warning.message}" for warning in answer.warnings]
    if isinstance(answer.progress, Progress) and answer.progress.next_session is not None:
        lines.append(f"next: {answer.progress.next_session.starts_at.isoformat()}")
    return lines


def new_bookings(key: str, after: str) -> tuple[list[str], str]:
    """An integrator's poll of the event log: each event is the class of its own type."""
    integration = AuthenticatedClient(base_url=BASE_URL, token=key)
    page = list_events.sync(client=integration, after=after, types="session.booked,session.cancelled")
    if not isinstance(page, EventPage):
        return [], after
    lines = []
    for event in page.items:
        if isinstance(event, SessionBookedEvent):
            lines.append(f"{event.position} booked {event.subject.id} at {event.data.starts_at.isoformat()}")
        elif isinstance(event, SessionCancelledEvent):
            reason = event.data.reason_code.value if event.data.reason_code else "?"
            lines.append(f"{event.position} cancelled {event.subject.id}: {reason}")
    return lines, page.next_cursor
