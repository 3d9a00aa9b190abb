// What an integrator writes with a client generated from the document (openapi-typescript
// types, openapi-fetch calls): the booking page's public calls (open slots, the contact form)
// and the front desk's booking. `tsc --strict` checks it in tests/clients/run; it reads fields
// without casts.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Session = components["schemas"]["Session"];

const baseUrl = "http://127.0.0.1:8080";

/** The first open assessment slot of `area` on `day`, with no key at all. */
export async function firstOpenSlot(area: string, day: string) {
  const publicApi = createClient<paths>({ baseUrl });
  const { data, error } = await publicApi.GET("/v1/availability", {
    params: { query: { treatment_area_id: area, kind: "assessment", from: day, to: day } },
  });
  if (error !== undefined) {
    return `${error.status} ${error.type}: ${error.detail}`;
  }
  const slot = data.slots[0];
  return slot === undefined ? null : slot;
}

/** The contact form: an inquiry with a phone number and no email. */
export async function askAQuestion(): Promise<string> {
  const publicApi = createClient<paths>({ baseUrl });
  const { data, error } = await publicApi.POST("/v1/inquiries", {
    body: {
      name: "Sam Ortiz",
      phone: "+1 303 555 0142",
      kind: "question",
      message: "Can prolotherapy help with tennis elbow?",
      consent: true,
    },
  });
  if (error !== undefined) {
    const fields = (error.errors ?? []).map((e) => e.field).join(", ");
    return `${error.status} ${error.type}: ${fields}`;
  }
  return `${data.id} ${data.status}`;
}

/** One line for a session, from the one `Session` type every answer uses. */
export function describe(session: Session): string {
  const course = session.course_id ?? "no course";
  const pain = session.clinical_record?.pain_after ?? "no record";
  return `${session.starts_at} ${session.kind} ${session.status} ${course} ${pain}`;
}

/** The front desk books the first open slot for a patient, then lists the patient's sessions. */
export async function book(key: string, patient: string, area: string, day: string) {
  const slot = await firstOpenSlot(area, day);
  if (slot === null || typeof slot === "string") {
    return [];
  }
  const staff = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
  const booked = await staff.POST("/v1/sessions", {
    params: { header: { "Idempotency-Key": "booking-1" } },
    body: {
      patient_id: patient,
      provider_id: slot.provider_id,
      location_id: slot.location_id,
      treatment_area_id: area,
      kind: "assessment",
      starts_at: slot.starts_at,
    },
  });
  if (booked.data === undefined) {
    return [`${booked.error.status} ${booked.error.type}`];
  }
  const page = await staff.GET("/v1/sessions", { params: { query: { patient_id: patient } } });
  const lines = [describe(booked.data)];
  if (page.data !== undefined) {
    lines.push(...page.data.items.map(describe));
    if (page.data.next_cursor !== null) {
      lines.push(`more after ${page.data.next_cursor}`);
    }
  }
  return lines;
}

/** A course's warnings and its next session, each field typed. */
export async function whereTheCourseStands(key: string, course: string) {
  const staff = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
  const { data } = await staff.GET("/v1/courses/{id}", { params: { path: { id: course } } });
  if (data === undefined) {
    return [];
  }
  const lines = data.warnings.map((w) => `${w.at}: ${w.message}`);
  const next = data.progress?.next_session;
  if (next) {
    lines.push(`next: ${next.starts_at}`);
  }
  return lines;
}

/** An integrator's poll of the event log: `type` narrows each event to its own `data`. */
export async function newBookings(key: string, after: string) {
  const integration = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
  const { data } = await integration.GET("/v1/events", {
    params: { query: { after, types: "session.booked,session.cancelled" } },
  });
  if (data === undefined) {
    return { lines: [], next: after };
  }
  const lines = data.items.map((event) => {
    switch (event.type) {
      case "session.booked":
        return `${event.position} booked ${event.subject.id} at ${event.data.starts_at}`;
      case "session.cancelled":
        return `${event.position} cancelled ${event.subject.id}: ${event.data.reason_code ?? "?"}`;
      default:
        return `${event.position} ${event.type}`;
    }
  });
  return { lines, next: data.next_cursor };
}
