// The booking page (examples/booking.html, served at /book) in headless Chromium against a real
// instance: the service binary with its embedded PostgreSQL and the demo clinic, sending mail
// to the tests' real SMTP server (tests/smtp/server.py), whose spool the test reads for the code
// and the confirmation. Started by tests/browser/run (CI), which installs what this needs.
//
// The service and the page share one fixed clock (PROLO_CLOCK_START and Playwright's clock), so
// nothing depends on today; the browser sits in another time zone than the clinic, so the times
// shown must be the clinic's.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";
import { simpleParser } from "mailparser";
import ICAL from "ical.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SERVICE = process.env.PROLO_SERVICE || join(ROOT, "target/debug/prolo-scheduler");
// A Tuesday, 09:00 in Denver: the demo clinic's 12 hours' notice puts the first time on Wednesday
// at 08:00; the patient books 13:00, outside the 24-hour late-change window, to cancel it online.
const CLOCK = "2027-03-09T16:00:00Z";
const BOOKED_AT = "2027-03-10T13:00:00-07:00";
const EMAIL = "sam.ortiz@example.com";
const ADMIN_KEY = randomBytes(24).toString("hex");
// The service's log (JSON lines), kept for a failed run.
const LOG = join(ROOT, "target/browser-test-service.log");

let work, smtp, service, api, browser, spool;

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Polls `probe` until it returns something, for at most `seconds`.
async function eventually(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(200);
  }
}

async function staff(method, path, body) {
  const response = await fetch(api + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

// The messages the SMTP server accepted for `to`, parsed, oldest first.
async function mailTo(to) {
  const names = (await readdir(spool)).filter((name) => name.endsWith(".json")).sort();
  const messages = [];
  for (const name of names) {
    const envelope = JSON.parse(await readFile(join(spool, name), "utf8"));
    if (!envelope.rcpt_tos.includes(to)) continue;
    messages.push(await simpleParser(await readFile(join(spool, name.replace(".json", ".eml")))));
  }
  return messages;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "prolo-browser-"));
  // Run as root, the service runs PostgreSQL as `postgres`, which must reach the data directory.
  await chmod(work, 0o711);
  spool = join(work, "spool");
  await mkdir(spool);

  smtp = spawn(join(ROOT, "target/smtp-venv/bin/python"), [join(ROOT, "tests/smtp/server.py"), "--spool", spool], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const smtpPort = await new Promise((done, fail) => {
    smtp.stdout.once("data", (line) => done(Number(String(line).trim())));
    smtp.once("exit", (code) => fail(new Error(`the SMTP server exited (${code})`)));
  });

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  service = spawn(SERVICE, ["serve"], {
    env: {
      PATH: process.env.PATH,
      PROLO_DATA_DIR: join(work, "data"),
      PROLO_BIND: `127.0.0.1:${port}`,
      PROLO_PUBLIC_URL: api,
      PROLO_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PROLO_MAIL_FROM: "scheduling@clinic.example",
      PROLO_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
      PROLO_CLOCK_START: CLOCK,
      PROLO_NOTIFICATIONS_POLL_MS: "200",
      PROLO_WAITLIST_POLL_MS: "200",
      PROLO_SHUTDOWN_DRAIN_SECS: "0",
      PROLO_LOG_FORMAT: "json",
    },
    stdio: ["ignore", "ignore", openSync(LOG, "w")],
  });
  service.once("exit", (code) => {
    if (code !== null && code !== 0) console.error(`the service exited (${code}); its log: ${LOG}`);
  });
  await eventually("the service to be ready", 120, async () => {
    if (service.exitCode !== null) throw new Error(`the service exited (${service.exitCode})`);
    const reply = await fetch(`${api}/readyz`).catch(() => null);
    return reply && reply.status === 200;
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  if (service && service.exitCode === null) {
    const stopped = new Promise((done) => service.once("exit", done));
    service.kill("SIGTERM");
    await stopped;
  }
  smtp?.stdin.end();
  smtp?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

// A page on the clinic's clock, from a browser in Tokyo.
async function bookingPage(path = "/book") {
  const context = await browser.newContext({ timezoneId: "Asia/Tokyo", locale: "en-GB" });
  const page = await context.newPage();
  await page.clock.install({ time: new Date(CLOCK) });
  const failures = [];
  page.on("pageerror", (error) => failures.push(error));
  await page.goto(api + path);
  return { page, failures };
}

// Picks the knee and the first day with times; answers that day's times as the API lists them.
async function firstKneeDay(page) {
  await page.locator("#area").selectOption({ label: "Knee" });
  const day = page.locator("#month button:not([disabled])").first();
  await day.waitFor();
  const date = await day.getAttribute("data-date");
  await day.click();
  await page.locator("#times button").first().waitFor();
  const areas = await staff("GET", "/v1/treatment-areas?limit=100");
  const knee = areas.body.items.find((area) => area.name === "Knee");
  const day_slots = await fetch(`${api}/v1/availability?treatment_area_id=${knee.id}&kind=assessment&from=${date}&to=${date}`);
  return { date, knee, slots: (await day_slots.json()).slots };
}

let booked; // { sessionId, manageUrl, startsAt }

test("a time taken meanwhile is explained, and the day's times are shown afresh", async () => {
  const { page, failures } = await bookingPage();
  const { date, knee, slots } = await firstKneeDay(page);
  assert.equal(date, "2027-03-10", "the first day with times is the Wednesday after the notice");
  const first = slots[0];
  // The buttons show the clinic's wall time, though the browser is in Tokyo.
  assert.equal(await page.locator("#times button").first().getAttribute("data-start"), first.starts_at);
  assert.match(await page.locator("#times button").first().innerText(), new RegExp(`^${first.starts_at.slice(11, 16)} · `));

  // Someone else holds it first.
  const taken = await fetch(`${api}/v1/holds`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ provider_id: first.provider_id, location_id: first.location_id, treatment_area_id: knee.id, kind: "assessment", starts_at: first.starts_at }),
  });
  assert.equal(taken.status, 201);

  await page.locator("#times button").first().click();
  await page.locator("#status", { hasText: "Someone has just taken that time" }).waitFor();
  assert.equal(await page.locator("#details").isHidden(), true);
  // The message comes first, the day's times a request later.
  await page.locator(`#times button[data-start="${first.starts_at}"]`).waitFor({ state: "detached" });
  // The 45-minute times overlapping the held 08:00–08:45 are gone: the day now opens at 08:45.
  const shown = await page.locator("#times button").evaluateAll((buttons) => buttons.map((b) => b.dataset.start));
  assert.equal(shown[0], "2027-03-10T08:45:00-07:00");
  assert.equal(shown.length, slots.length - 3);
  assert.deepEqual(failures, []);
  await page.context().close();
});

test("a hold that runs out on the page is explained, and the patient picks again", async () => {
  const { page, failures } = await bookingPage();
  await firstKneeDay(page);
  await page.locator("#times button").first().click();
  await page.locator("#details").waitFor();
  const countdown = page.locator("#countdown");
  assert.match(await countdown.innerText(), /^(10:00|9:5\d)$/);
  await page.clock.fastForward("05:00");
  assert.match(await countdown.innerText(), /^(5:00|4:5\d)$/);
  await page.clock.fastForward("05:01");
  await page.locator("#status", { hasText: "has run out" }).waitFor();
  assert.equal(await page.locator("#details").isHidden(), true);
  assert.equal(await page.locator("#pick").isVisible(), true);
  assert.deepEqual(failures, []);
  await page.context().close();
});

test("a patient books a knee assessment: errors beside the fields, the mailed code, the manage link", async () => {
  const { page, failures } = await bookingPage();
  const { slots } = await firstKneeDay(page);
  const startsAt = BOOKED_AT;
  const slot = slots.find((s) => s.starts_at === startsAt);
  assert.ok(slot, `${startsAt} is open`);
  await page.locator(`#times button[data-start="${startsAt}"]`).click();
  await page.locator("#details").waitFor();
  assert.equal(await page.locator("#held-what").innerText(), "Wednesday 10 March at 13:00 with Dr. Maya Chen");

  // Wrong details first: the service's errors appear beside their fields.
  await page.fill("#given_name", "Sam");
  await page.fill("#family_name", "Ortiz");
  await page.fill("#date_of_birth", "1971-06-02");
  await page.fill("#email", "sam.ortiz-at-example.com");
  await page.click("#send");
  await page.locator('.error[data-for="patient.email"]').filter({ hasText: /\S/ }).waitFor();
  assert.equal(await page.locator("#email").getAttribute("aria-invalid"), "true");
  assert.notEqual((await page.locator('.error[data-for="consent"]').innerText()).trim(), "");
  assert.deepEqual(await mailTo(EMAIL), [], "nothing is mailed for a refused request");

  await page.fill("#email", EMAIL);
  await page.check("#consent");
  await page.fill("#message", "Left knee, worse on stairs since spring.");
  await page.click("#send");
  await page.locator("#verify").waitFor();
  assert.equal(await page.locator("#sent-to").innerText(), EMAIL);
  assert.equal(await page.locator('.error[data-for="patient.email"]').innerText(), "");

  const [codeMail] = await eventually("the code's email", 20, async () => {
    const mail = await mailTo(EMAIL);
    return mail.length ? mail : null;
  });
  const code = codeMail.subject.match(/\b(\d{6})\b/)[1];
  assert.ok(codeMail.text.includes(code), "the code is in the message's text");

  const wrong = String((Number(code) + 1) % 1000000).padStart(6, "0");
  await page.fill("#code", wrong);
  await page.click("#confirm");
  await page.locator('.error[data-for="code"]', { hasText: "4 tries left" }).waitFor();

  await page.fill("#code", code);
  await page.click("#confirm");
  await page.locator("#done").waitFor();
  const manageUrl = await page.locator("#manage-link").getAttribute("href");
  assert.match(manageUrl, new RegExp(`^${api}/book#manage=[A-Za-z0-9_-]{43,}$`));
  assert.match(await page.locator("#done-what").innerText(), new RegExp(`at ${startsAt.slice(11, 16)}\\.$`));

  // The front desk sees the session, the new patient (registered online), the message.
  const sessions = await staff("GET", `/v1/sessions?provider_id=${slot.provider_id}&from=${encodeURIComponent("2027-03-10T00:00:00-07:00")}&to=${encodeURIComponent("2027-03-11T00:00:00-07:00")}`);
  assert.equal(sessions.status, 200);
  const session = sessions.body.items.find((s) => s.starts_at === startsAt);
  assert.ok(session, "the session is in the provider's day");
  assert.equal(session.status, "scheduled");
  assert.equal(session.kind, "assessment");
  const patient = await staff("GET", `/v1/patients/${session.patient_id}`);
  assert.equal(patient.body.email, EMAIL);
  assert.equal(patient.body.source, "online");
  const inquiries = await staff("GET", "/v1/inquiries");
  assert.ok(inquiries.body.items.some((i) => i.session_id === session.id && i.status === "scheduled"));

  // The confirmation arrives with an invite for that very time.
  const confirmation = await eventually("the confirmation", 30, async () => {
    const mail = await mailTo(EMAIL);
    return mail.find((m) => m.attachments.some((a) => a.contentType.startsWith("text/calendar")));
  });
  const invite = confirmation.attachments.find((a) => a.contentType.startsWith("text/calendar"));
  const calendar = new ICAL.Component(ICAL.parse(invite.content.toString("utf8")));
  assert.equal(calendar.getFirstPropertyValue("method"), "REQUEST");
  const event = new ICAL.Event(calendar.getFirstSubcomponent("vevent"));
  assert.equal(event.startDate.toJSDate().getTime(), new Date(startsAt).getTime());
  // It brings its own manage link, which works beside the page's.
  const mailed = confirmation.text.match(/(http\S+\/book#manage=[A-Za-z0-9_-]+)/)[1];
  assert.notEqual(mailed, manageUrl);
  assert.equal((await fetch(`${api}/v1/manage/${mailed.split("#manage=")[1]}`)).status, 200);
  assert.deepEqual(failures, []);
  booked = { sessionId: session.id, manageUrl, startsAt };
  await page.context().close();
});

test("from the manage link the patient asks for an earlier time, and takes the one offered by email", async () => {
  assert.ok(booked, "needs the booking of the test before");
  // Freed times are offered at once here (the clinic's default lets one settle two minutes).
  const current = await fetch(`${api}/v1/settings`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  const settings = await fetch(`${api}/v1/settings`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json", "If-Match": current.headers.get("etag") },
    body: JSON.stringify({ waitlist_debounce_minutes: 0 }),
  });
  assert.equal(settings.status, 200);

  const { page, failures } = await bookingPage(booked.manageUrl.slice(api.length));
  await page.locator("#manage").waitFor();
  await page.click("#earlier");
  await page.locator("#status", { hasText: "You are on the waiting list" }).waitFor();
  await page.click("#earlier");
  await page.locator("#status", { hasText: "on the waiting list already" }).waitFor();
  const entries = await staff("GET", "/v1/waitlist?status=waiting");
  const entry = entries.body.items.find((e) => e.session_id === booked.sessionId);
  assert.ok(entry, "the session is on the waitlist");
  assert.equal(entry.source, "patient");
  await page.context().close();

  // Someone else's 10:00 that morning is cancelled: the worker offers it by email.
  const session = (await staff("GET", `/v1/sessions/${booked.sessionId}`)).body;
  const other = await staff("POST", "/v1/patients", { given_name: "Ana", family_name: "Lopez", date_of_birth: "1980-02-03", email: "ana.lopez@example.com" });
  assert.equal(other.status, 201);
  const earlier = "2027-03-10T10:00:00-07:00";
  const theirs = await staff("POST", "/v1/sessions", {
    patient_id: other.body.id, provider_id: session.provider_id, location_id: session.location_id,
    treatment_area_id: session.treatment_area_id, kind: "assessment", starts_at: earlier,
  });
  assert.equal(theirs.status, 201);
  assert.equal((await staff("POST", `/v1/sessions/${theirs.body.id}/cancel`, { reason_code: "patient_request" })).status, 200);
  const offerMail = await eventually("the offer's email", 30, async () => (await mailTo(EMAIL)).find((m) => m.subject.startsWith("An earlier")));
  assert.match(offerMail.subject, /Wednesday 10 March 2027, 10:00/);
  const offerUrl = offerMail.text.match(/(http\S+\/book#offer=[0-9a-f]{64})/)[1];

  const offered = await bookingPage(offerUrl.slice(api.length));
  await offered.page.locator("#offer").waitFor();
  assert.match(await offered.page.locator("#offer-what").innerText(), /^Wednesday 10 March at 10:00 \(America\/Denver\) instead of Wednesday 10 March at 13:00: Knee with /);
  assert.match(await offered.page.locator("#offer-until").innerText(), /The first to take it gets it/);
  assert.equal((await staff("GET", `/v1/sessions/${booked.sessionId}`)).body.starts_at, booked.startsAt, "opening the offer changes nothing");
  await offered.page.click("#take");
  await offered.page.locator("#status", { hasText: "The time is yours" }).waitFor();
  assert.match(await offered.page.locator("#manage-what").innerText(), /^Wednesday 10 March at 10:00 \(America\/Denver\)/);
  const moved = await staff("GET", `/v1/sessions/${booked.sessionId}`);
  assert.equal(moved.body.starts_at, earlier, "the same session, moved earlier");
  assert.equal((await staff("GET", `/v1/waitlist/${entry.id}`)).body.status, "booked");
  // The page now holds the session's new link; the offer's link is spent.
  const manageUrl = api + "/book" + new URL(offered.page.url()).hash;
  await offered.page.reload();
  await offered.page.locator("#manage").waitFor();
  assert.deepEqual([...failures, ...offered.failures], []);
  await offered.page.context().close();
  booked = { ...booked, manageUrl, startsAt: earlier };
});

test("the manage link shows the appointment without changing it, moves it, then cancels it", async () => {
  assert.ok(booked, "needs the booking of the test before");
  const { page, failures } = await bookingPage(booked.manageUrl.slice(api.length));
  await page.locator("#manage").waitFor();
  const what = await page.locator("#manage-what").innerText();
  assert.match(what, new RegExp(`Wednesday 10 March at ${booked.startsAt.slice(11, 16)} \\(America/Denver\\), Knee with .+ at Prolo Clinic Denver`));
  assert.match(what, /Status: scheduled\.$/);
  assert.equal(await page.locator("#manage-until").innerText(), `Changes online are possible until Tuesday 9 March at ${booked.startsAt.slice(11, 16)}.`);
  assert.equal((await staff("GET", `/v1/sessions/${booked.sessionId}`)).body.status, "scheduled", "opening the link changes nothing");

  // Moved to Thursday 13:00: a hold, then the move; the page keeps the new link, the old dies.
  await page.click("#move");
  await page.locator('#month button[data-date="2027-03-11"]:not([disabled])').click();
  const moved_to = "2027-03-11T13:00:00-07:00";
  await page.locator(`#times button[data-start="${moved_to}"]`).click();
  await page.locator("#status", { hasText: "Your appointment has moved" }).waitFor();
  assert.match(await page.locator("#manage-what").innerText(), /^Thursday 11 March at 13:00 \(America\/Denver\)/);
  const newToken = new URL(page.url()).hash.replace("#manage=", "");
  const oldToken = booked.manageUrl.split("#manage=")[1];
  assert.notEqual(newToken, oldToken);
  assert.equal((await fetch(`${api}/v1/manage/${oldToken}`)).status, 404, "the old link is dead");
  const moved = await staff("GET", `/v1/sessions/${booked.sessionId}`);
  assert.equal(moved.body.starts_at, moved_to, "the same session, moved");

  await page.locator("#reason").selectOption("feeling_better");
  await page.click("#cancel");
  await page.locator("#status", { hasText: "Your appointment is cancelled" }).waitFor();
  assert.match(await page.locator("#manage-what").innerText(), /Status: cancelled\.$/);
  assert.equal(await page.locator("#manage-actions").isHidden(), true);
  const session = await staff("GET", `/v1/sessions/${booked.sessionId}`);
  assert.equal(session.body.status, "cancelled");
  assert.equal(session.body.cancel_reason, "feeling_better");

  // The link is dead now, and the page says so.
  await page.reload();
  await page.locator("#status", { hasText: "This link no longer works" }).waitFor();
  assert.deepEqual(failures, []);
  await page.context().close();
});
