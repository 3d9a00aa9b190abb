"""Gives schemathesis records to work on: on top of the demo clinic (locations, areas,
providers), patients, booked sessions, a booked course, inquiries, time off and an API key,
all made through the API itself. Writes one libFuzzer-style dictionary per kind of record
(`<kind>.dict`, one quoted id a line) into the given folder, which the run's configuration
binds to the path and body fields that name such records.

    seed.py BASE_URL ADMIN_KEY TODAY OUT_DIR

TODAY is the service's date (the runner fixes its clock), so the slots it books are open.
"""

import json
import sys
import urllib.request
from datetime import date, timedelta
from pathlib import Path

base, admin_key, today, out = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), Path(sys.argv[4])


def call(method: str, path: str, body: dict | None = None, key: str | None = admin_key) -> dict:
    request = urllib.request.Request(base + path, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        sys.exit(f"seed: {method} {path} answered {error.code}: {error.read().decode()}")


def items(path: str) -> list[dict]:
    return call("GET", f"{path}?limit=100")["items"]


records: dict[str, list[str]] = {
    "locations": [r["id"] for r in items("/v1/locations")],
    "treatment-areas": [r["id"] for r in items("/v1/treatment-areas")],
    "providers": [r["id"] for r in items("/v1/providers")],
}
knee = next(r for r in items("/v1/treatment-areas") if r["slug"] == "knee")["id"]

patients = [
    call("POST", "/v1/patients", {"given_name": given, "family_name": "Seed",
                                  "date_of_birth": f"19{60 + n}-0{n + 1}-1{n}"})["id"]
    for n, given in enumerate(["Ada", "Ben", "Cleo", "Dev"])
]
records["patients"] = patients

# Sessions in the first open slots of the coming fortnight, one patient each.
window = f"from={today + timedelta(days=1)}&to={today + timedelta(days=14)}"
slots = call("GET", f"/v1/availability?treatment_area_id={knee}&kind=assessment&{window}")["slots"]
if len(slots) < 12:
    sys.exit(f"seed: only {len(slots)} open slots for a knee assessment")
sessions = []
for patient, slot in zip(patients[:3], slots[::4]):
    booked = call("POST", "/v1/sessions", {
        "patient_id": patient, "provider_id": slot["provider_id"],
        "location_id": slot["location_id"], "treatment_area_id": knee,
        "kind": "assessment", "starts_at": slot["starts_at"],
    })
    sessions.append(booked["id"])

course = call("POST", "/v1/courses", {
    "patient_id": patients[3], "treatment_area_id": knee, "location_id": slots[0]["location_id"],
    "sessions": 3, "side": "left", "book": True,
})
records["courses"] = [course["id"]]
records["sessions"] = sessions + [session["id"] for session in course["sessions"]]

inquiries = [
    call("POST", "/v1/inquiries", {
        "name": name, "email": f"{name.lower()}@example.com", "kind": "appointment_request",
        "message": "My knee hurts on stairs.", "consent": True, "treatment_area": "knee",
    }, key=None)["id"]
    for name in ["Eve", "Finn"]
]
records["inquiries"] = inquiries

provider = records["providers"][0]
time_off = call("POST", f"/v1/providers/{provider}/time-off", {
    "starts_at": f"{today + timedelta(days=40)}T00:00:00Z",
    "ends_at": f"{today + timedelta(days=42)}T00:00:00Z", "reason": "Course",
})
records["time-off"] = [time_off["id"]]
records["api-keys"] = [call("POST", "/v1/api-keys", {"label": "seeded", "role": "staff"})["id"]]

out.mkdir(parents=True, exist_ok=True)
for kind, ids in records.items():
    (out / f"{kind}.dict").write_text("".join(f'"{value}"\n' for value in ids))
print("seed: " + ", ".join(f"{len(ids)} {kind}" for kind, ids in records.items()))
