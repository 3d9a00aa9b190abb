//! The demo clinic seeded into an empty embedded database, so availability can be queried at once.

use chrono::NaiveTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::locations::{self, NewLocation};
use crate::models::providers::{self, NewProvider};
use crate::models::settings::{self, SettingsChanges};
use crate::models::treatment_areas::{self, NewTreatmentArea};
use crate::models::working_hours::{self, WorkingHours};
use crate::schema;

/// slug, name, minutes (assessment, injection, follow-up), sessions (min, max), interval days (min, target, max).
type AreaSpec = (&'static str, &'static str, [i32; 3], [i32; 2], [i32; 3]);

const AREAS: [AreaSpec; 10] = [
    ("knee", "Knee", [45, 30, 20], [3, 6], [21, 28, 42]),
    (
        "lumbar-spine",
        "Lower back (lumbar spine)",
        [60, 45, 20],
        [4, 6],
        [21, 28, 42],
    ),
    (
        "cervical-spine",
        "Neck (cervical spine)",
        [60, 40, 20],
        [3, 6],
        [21, 28, 42],
    ),
    ("shoulder", "Shoulder", [45, 30, 20], [3, 6], [21, 28, 42]),
    (
        "elbow",
        "Elbow (tennis/golfer's elbow)",
        [45, 25, 15],
        [3, 5],
        [21, 28, 35],
    ),
    ("hip", "Hip", [45, 35, 20], [3, 6], [21, 28, 42]),
    ("ankle", "Ankle", [45, 30, 20], [3, 5], [21, 28, 35]),
    (
        "sacroiliac",
        "Sacroiliac joint",
        [60, 40, 20],
        [3, 6],
        [21, 28, 42],
    ),
    (
        "wrist-hand",
        "Wrist and hand",
        [45, 25, 15],
        [3, 5],
        [21, 28, 35],
    ),
    (
        "thoracic-spine",
        "Upper back (thoracic spine)",
        [60, 40, 20],
        [3, 6],
        [21, 28, 42],
    ),
];

/// name, credentials, treatment areas, weekly hours as (ISO weekday, start hour, end hour).
type TeamMember<'a> = (&'a str, &'a str, &'a [Uuid], &'a [(i16, u32, u32)]);

const PRE_CARE: &str = "Stop NSAIDs (ibuprofen, naproxen) 3 days before; eat a light meal; \
wear clothing that gives access to the area.";
const POST_CARE: &str = "Expect soreness for 2-3 days; use acetaminophen, not NSAIDs; \
keep moving gently, avoid strenuous loading for a week; call the clinic for fever or spreading redness.";

/// Seeds the demo clinic when the database has no location yet; whether it did.
pub async fn seed_if_empty(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    conn.transaction(async |conn| {
        // Serialise concurrent starts: only one replica seeds.
        diesel::sql_query("LOCK TABLE locations IN EXCLUSIVE MODE")
            .execute(conn)
            .await?;
        let existing: i64 = schema::locations::table.count().get_result(conn).await?;
        if existing > 0 {
            return Ok(false);
        }
        seed(conn).await?;
        Ok(true)
    })
    .await
}

async fn seed(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    let location = locations::insert(
        conn,
        NewLocation {
            id: Uuid::now_v7(),
            name: "Prolo Clinic Denver".into(),
            address: Some("1200 Pearl St, Denver, CO 80203".into()),
            time_zone: "America/Denver".into(),
        },
    )
    .await?;
    let mut area_ids = Vec::new();
    for (
        slug,
        name,
        [assessment, injection, follow_up],
        [sessions_min, sessions_max],
        [min, target, max],
    ) in AREAS
    {
        let area = treatment_areas::insert(
            conn,
            NewTreatmentArea {
                id: Uuid::now_v7(),
                slug: slug.into(),
                name: name.into(),
                description: None,
                assessment_minutes: assessment,
                injection_minutes: injection,
                follow_up_minutes: follow_up,
                sessions_min,
                sessions_max,
                interval_min_days: min,
                interval_target_days: Some(target),
                interval_max_days: max,
                pre_care: Some(PRE_CARE.into()),
                post_care: Some(POST_CARE.into()),
                assessment_gap_days: 1,
                requirements: serde_json::json!({}),
            },
        )
        .await?;
        area_ids.push((slug, area.id));
    }
    let all_areas: Vec<Uuid> = area_ids.iter().map(|(_, id)| *id).collect();
    let spine_areas: Vec<Uuid> = area_ids
        .iter()
        .filter(|(slug, _)| {
            [
                "lumbar-spine",
                "cervical-spine",
                "thoracic-spine",
                "sacroiliac",
                "hip",
            ]
            .contains(slug)
        })
        .map(|(_, id)| *id)
        .collect();
    // Weekday (ISO), start, end.
    let chen_hours = [
        (1, 8, 12),
        (1, 13, 17),
        (2, 8, 12),
        (2, 13, 17),
        (3, 8, 12),
        (3, 13, 17),
        (4, 8, 12),
        (4, 13, 17),
    ];
    let ortega_hours = [(2, 9, 17), (3, 9, 17), (4, 9, 17), (5, 9, 17), (6, 9, 13)];
    let team: [TeamMember; 2] = [
        ("Dr. Maya Chen", "MD", &all_areas, &chen_hours),
        ("Dr. Luis Ortega", "DO", &spine_areas, &ortega_hours),
    ];
    for (name, credentials, areas, hours) in team {
        let provider = providers::insert(
            conn,
            NewProvider {
                id: Uuid::now_v7(),
                name: name.into(),
                credentials: Some(credentials.into()),
                bio: Some("Treats chronic musculoskeletal pain with prolotherapy.".into()),
            },
            areas,
            &[location.id],
        )
        .await?;
        let rows = hours
            .iter()
            .map(|&(weekday, start, end)| WorkingHours {
                id: Uuid::now_v7(),
                provider_id: provider.row.id,
                location_id: location.id,
                weekday,
                start_time: NaiveTime::from_hms_opt(start, 0, 0).unwrap_or_default(),
                end_time: NaiveTime::from_hms_opt(end, 0, 0).unwrap_or_default(),
                effective_from: None,
                effective_until: None,
            })
            .collect();
        working_hours::replace(conn, provider.row.id, rows).await?;
    }
    // The clinic's name and phone on its messages, and no quiet hours: the demo's messages appear in
    // `.data/mail/` at whatever hour it is tried (a real clinic keeps the default 21:00–08:00).
    let changes = SettingsChanges {
        sender_name: Some(Some(location.name.clone())),
        reply_to: Some(Some("frontdesk@prolo-clinic.example".into())),
        phone: Some(Some("+1 303 555 0100".into())),
        quiet_hours_start: Some(None),
        quiet_hours_end: Some(None),
        ..SettingsChanges::default()
    };
    settings::update(conn, changes).await?;
    Ok(())
}
