//! Rooms and devices: their kinds, the tags a treatment area needs per session kind, which
//! resources a session takes, and whether a time has every tag free (for slot search and
//! planning). The database keeps two live sessions off one resource; these rules choose.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::sessions::SessionKind;
use super::slots::{Span, is_free_at, merged};

/// What a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Room,
    Device,
}

impl ResourceKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Room => "room",
            Self::Device => "device",
        }
    }

    /// The kind of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "room" => Some(Self::Room),
            "device" => Some(Self::Device),
            _ => None,
        }
    }
}

/// The longest tag.
pub const MAX_TAG: usize = 40;
/// The most tags one session kind may need.
pub const MAX_NEEDS: usize = 5;

/// Whether `tag` is lower-case letters and digits in words joined by hyphens, at most
/// [`MAX_TAG`] long: `procedure-room`, `ultrasound`.
pub fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_TAG
        && tag.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The tags a treatment area's sessions need, by kind; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assessment: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub injection: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_up: Vec<String>,
}

impl Requirements {
    /// The tags a session of `kind` needs.
    pub fn of(&self, kind: SessionKind) -> &[String] {
        match kind {
            SessionKind::Assessment => &self.assessment,
            SessionKind::Injection => &self.injection,
            SessionKind::FollowUp => &self.follow_up,
        }
    }

    /// Every kind with its tags.
    pub fn by_kind(&self) -> [(SessionKind, &[String]); 3] {
        [
            (SessionKind::Assessment, &self.assessment),
            (SessionKind::Injection, &self.injection),
            (SessionKind::FollowUp, &self.follow_up),
        ]
    }

    /// The requirements as stored (`{}` for none).
    pub fn from_stored(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    /// The stored form.
    pub fn to_stored(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// A resource that could serve a session, as the booking reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: Uuid,
    pub name: String,
    pub kind: ResourceKind,
    pub tags: Vec<String>,
    /// Its live sessions that local day: the least used goes first.
    pub used: i64,
    /// Neither allocated nor down over the session's span.
    pub free: bool,
}

/// One distinct free candidate per tag of `needs`, as `(tag, resource)`: the scarcest tag is
/// served first, and within a tag the least used resource of the day, then by name, so load
/// spreads and the same facts always give the same answer. A tag that cannot be met is the
/// error.
pub fn choose(needs: &[String], candidates: &[Candidate]) -> Result<Vec<(String, Uuid)>, String> {
    let options: Vec<Vec<usize>> = needs
        .iter()
        .map(|tag| {
            let mut fitting: Vec<usize> = (0..candidates.len())
                .filter(|&n| candidates[n].free && candidates[n].tags.contains(tag))
                .collect();
            fitting.sort_by(|&a, &b| {
                let (a, b) = (&candidates[a], &candidates[b]);
                (a.used, &a.name, a.id).cmp(&(b.used, &b.name, b.id))
            });
            fitting
        })
        .collect();
    let picked = assign(&options, |_| true).map_err(|unmet| needs[unmet].clone())?;
    Ok(picked
        .into_iter()
        .enumerate()
        .map(|(need, n)| (needs[need].clone(), candidates[n].id))
        .collect())
}

/// A distinct option per need (`options[need]` in order of preference) for which `usable`
/// holds, found by backtracking with the scarcest need first; or the need that cannot be met.
/// Needs are few (at most [`MAX_NEEDS`]), so the search is tiny.
fn assign(options: &[Vec<usize>], usable: impl Fn(usize) -> bool) -> Result<Vec<usize>, usize> {
    let usable_options: Vec<Vec<usize>> = options
        .iter()
        .map(|list| list.iter().copied().filter(|&n| usable(n)).collect())
        .collect();
    let mut order: Vec<usize> = (0..options.len()).collect();
    order.sort_by_key(|&need| (usable_options[need].len(), need));
    if let Some(&empty) = order.iter().find(|&&need| usable_options[need].is_empty()) {
        return Err(empty);
    }
    let mut picked = vec![usize::MAX; options.len()];
    if search(&usable_options, &order, 0, &mut picked) {
        Ok(picked)
    } else {
        Err(order.last().copied().unwrap_or(0))
    }
}

fn search(options: &[Vec<usize>], order: &[usize], depth: usize, picked: &mut [usize]) -> bool {
    let Some(&need) = order.get(depth) else {
        return true;
    };
    for &option in &options[need] {
        if picked.contains(&option) {
            continue;
        }
        picked[need] = option;
        if search(options, order, depth + 1, picked) {
            return true;
        }
        picked[need] = usize::MAX;
    }
    false
}

/// A resource at a location with what keeps it busy, for search.
#[derive(Debug, Clone)]
pub struct Busy {
    pub id: Uuid,
    pub tags: Vec<String>,
    /// Live allocations and holds, and downtime; need not be sorted.
    pub busy: Vec<Span>,
}

/// The resources a kind of session needs at one location, ready to ask, for any span, whether
/// every tag has a distinct free resource. With no needs every span fits.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    tags: Vec<String>,
    /// Per tag, the resources (indices into `busy`) that carry it.
    options: Vec<Vec<usize>>,
    /// Per resource, its busy spans as sorted, disjoint whole seconds.
    busy: Vec<Vec<(i64, i64)>>,
    /// Whether no resource serves two of the tags: then a tag with any free resource is met
    /// whatever the others take, and a span fits without a search (the usual clinic).
    disjoint: bool,
}

impl Pools {
    /// The pools of `needs` among `resources`.
    pub fn new(needs: &[String], resources: &[Busy]) -> Self {
        let options: Vec<Vec<usize>> = needs
            .iter()
            .map(|tag| {
                (0..resources.len())
                    .filter(|&n| resources[n].tags.contains(tag))
                    .collect()
            })
            .collect();
        let mut served: Vec<usize> = options.iter().flatten().copied().collect();
        let all = served.len();
        served.sort_unstable();
        served.dedup();
        Self {
            tags: needs.to_vec(),
            disjoint: served.len() == all,
            options,
            busy: resources.iter().map(|r| merged(&r.busy)).collect(),
        }
    }

    /// Whether nothing is needed.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Whether every tag has a distinct resource free over `[start, end)` (Unix seconds).
    pub fn fits(&self, start: i64, end: i64) -> bool {
        self.is_empty() || self.unmet(start, end).is_none()
    }

    /// The tag that has no free resource over `span`, if one has none.
    pub fn unmet_over(&self, span: &Span) -> Option<&str> {
        if self.is_empty() {
            return None;
        }
        let end = span.end.timestamp() + i64::from(span.end.timestamp_subsec_nanos() > 0);
        self.unmet(span.start.timestamp(), end)
    }

    /// The stretches of `window` in which some tag has no free resource, merged and in order:
    /// the resources' busy spans cut the window into pieces over which nothing changes, and
    /// each piece is asked once.
    pub fn blocked(&self, window: Span) -> Vec<Span> {
        if self.is_empty() {
            return Vec::new();
        }
        let (from, to) = (window.start.timestamp(), window.end.timestamp());
        let mut cuts = vec![from, to];
        for &(start, end) in self.busy.iter().flatten() {
            if start < to && end > from {
                cuts.extend([start.max(from), end.min(to)]);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut blocked: Vec<(i64, i64)> = Vec::new();
        for piece in cuts.windows(2) {
            let (start, end) = (piece[0], piece[1]);
            if self.unmet(start, end).is_none() {
                continue;
            }
            match blocked.last_mut() {
                Some(last) if last.1 == start => last.1 = end,
                _ => blocked.push((start, end)),
            }
        }
        let instant =
            |seconds: i64| chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        blocked
            .into_iter()
            .map(|(start, end)| Span {
                start: instant(start),
                end: instant(end),
            })
            .collect()
    }

    fn unmet(&self, start: i64, end: i64) -> Option<&str> {
        let free = |n: usize| is_free_at(&self.busy[n], start, end);
        if self.disjoint {
            // Checked in a slot search's inner loop: no allocation on this path.
            return self
                .options
                .iter()
                .position(|resources| !resources.iter().any(|&n| free(n)))
                .map(|need| self.tags[need].as_str());
        }
        assign(&self.options, free)
            .err()
            .map(|need| self.tags[need].as_str())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn candidate(n: u128, name: &str, tags: &[&str], used: i64, free: bool) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            name: name.into(),
            kind: ResourceKind::Room,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            used,
            free,
        }
    }

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| (*t).to_owned()).collect()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn tags_are_hyphenated_lower_case_words() {
        assert!(is_tag("procedure-room"));
        assert!(is_tag("ultrasound2"));
        for bad in [
            "",
            "Ultrasound",
            "procedure room",
            "-room",
            "room-",
            "a--b",
            &"a".repeat(41),
        ] {
            assert!(!is_tag(bad), "{bad}");
        }
    }

    #[test]
    fn the_least_used_free_resource_goes_first_then_by_name() {
        let rooms = [
            candidate(1, "Room B", &["procedure-room"], 0, true),
            candidate(2, "Room A", &["procedure-room"], 1, true),
            candidate(3, "Room C", &["procedure-room"], 0, false),
        ];
        let chosen = choose(&tags(&["procedure-room"]), &rooms).unwrap();
        assert_eq!(chosen, vec![("procedure-room".into(), Uuid::from_u128(1))]);
        let even = [
            candidate(1, "Room B", &["procedure-room"], 2, true),
            candidate(2, "Room A", &["procedure-room"], 2, true),
        ];
        let chosen = choose(&tags(&["procedure-room"]), &even).unwrap();
        assert_eq!(chosen[0].1, Uuid::from_u128(2));
    }

    #[test]
    fn each_tag_takes_its_own_resource_and_the_scarce_tag_is_served_first() {
        // The room with a built-in ultrasound is the only ultrasound: the plain room must
        // serve the room tag, though the combined one is less used.
        let resources = [
            candidate(1, "Combined", &["procedure-room", "ultrasound"], 0, true),
            candidate(2, "Plain", &["procedure-room"], 3, true),
        ];
        let chosen = choose(&tags(&["procedure-room", "ultrasound"]), &resources).unwrap();
        assert_eq!(
            chosen,
            vec![
                ("procedure-room".into(), Uuid::from_u128(2)),
                ("ultrasound".into(), Uuid::from_u128(1)),
            ]
        );
        let one = [candidate(
            1,
            "Combined",
            &["procedure-room", "ultrasound"],
            0,
            true,
        )];
        let unmet = choose(&tags(&["procedure-room", "ultrasound"]), &one).unwrap_err();
        assert_eq!(unmet, "ultrasound");
    }

    #[test]
    fn a_tag_with_nothing_free_is_named() {
        let resources = [
            candidate(1, "Room", &["procedure-room"], 0, true),
            candidate(2, "Probe", &["ultrasound"], 0, false),
        ];
        let unmet = choose(&tags(&["procedure-room", "ultrasound"]), &resources).unwrap_err();
        assert_eq!(unmet, "ultrasound");
        assert_eq!(choose(&[], &resources).unwrap(), vec![]);
    }

    #[test]
    fn pools_fit_a_span_only_when_every_tag_has_a_free_resource() {
        let span = |start: &str, end: &str| Span {
            start: at(start),
            end: at(end),
        };
        let resources = [
            Busy {
                id: Uuid::from_u128(1),
                tags: tags(&["procedure-room"]),
                busy: vec![span("2027-01-05T16:00:00Z", "2027-01-05T17:00:00Z")],
            },
            Busy {
                id: Uuid::from_u128(2),
                tags: tags(&["procedure-room"]),
                busy: vec![span("2027-01-05T16:30:00Z", "2027-01-05T17:30:00Z")],
            },
            Busy {
                id: Uuid::from_u128(3),
                tags: tags(&["ultrasound"]),
                busy: vec![span("2027-01-05T18:00:00Z", "2027-01-05T19:00:00Z")],
            },
        ];
        let pools = Pools::new(&tags(&["procedure-room", "ultrasound"]), &resources);
        // One room is free at 16:00-16:30, none at 16:30-17:00, the ultrasound is away at 18:00.
        assert_eq!(
            pools.unmet_over(&span("2027-01-05T16:00:00Z", "2027-01-05T16:30:00Z")),
            None
        );
        assert_eq!(
            pools.unmet_over(&span("2027-01-05T16:30:00Z", "2027-01-05T17:00:00Z")),
            Some("procedure-room")
        );
        assert_eq!(
            pools.unmet_over(&span("2027-01-05T18:30:00Z", "2027-01-05T18:45:00Z")),
            Some("ultrasound")
        );
        assert!(Pools::default().fits(0, 1));
        // Blocked: no room 16:30-17:00, no ultrasound 18:00-19:00.
        let blocked = pools.blocked(span("2027-01-05T15:00:00Z", "2027-01-05T20:00:00Z"));
        assert_eq!(
            blocked,
            vec![
                span("2027-01-05T16:30:00Z", "2027-01-05T17:00:00Z"),
                span("2027-01-05T18:00:00Z", "2027-01-05T19:00:00Z"),
            ]
        );
        let missing = Pools::new(&tags(&["laser"]), &resources);
        assert_eq!(
            missing.unmet_over(&span("2027-01-05T20:00:00Z", "2027-01-05T21:00:00Z")),
            Some("laser")
        );
    }

    #[test]
    fn a_resource_serving_two_tags_serves_only_one_at_a_time() {
        let span = Span {
            start: at("2027-01-05T16:00:00Z"),
            end: at("2027-01-05T16:30:00Z"),
        };
        let combined = Busy {
            id: Uuid::from_u128(1),
            tags: tags(&["procedure-room", "ultrasound"]),
            busy: vec![],
        };
        let plain = |busy: Vec<Span>| Busy {
            id: Uuid::from_u128(2),
            tags: tags(&["procedure-room"]),
            busy,
        };
        let needs = tags(&["procedure-room", "ultrasound"]);
        let free = Pools::new(&needs, &[combined.clone(), plain(vec![])]);
        assert_eq!(free.unmet_over(&span), None);
        let taken = Pools::new(&needs, &[combined, plain(vec![span])]);
        assert!(taken.unmet_over(&span).is_some());
    }

    #[test]
    fn requirements_round_trip_their_stored_form() {
        let stored = serde_json::json!({"injection": ["procedure-room", "ultrasound"]});
        let requirements = Requirements::from_stored(&stored);
        assert_eq!(
            requirements.of(SessionKind::Injection),
            tags(&["procedure-room", "ultrasound"])
        );
        assert!(requirements.of(SessionKind::Assessment).is_empty());
        assert_eq!(requirements.to_stored(), stored);
        assert_eq!(
            Requirements::from_stored(&serde_json::json!({})),
            Requirements::default()
        );
    }
}
