//! A provider's weekly pattern: intervals of wall-clock time per weekday and location.

use chrono::NaiveDate;
use uuid::Uuid;

use super::time::{WallTime, Weekday};

/// One weekly interval of work at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyInterval {
    pub location_id: Uuid,
    pub weekday: Weekday,
    pub start: WallTime,
    pub end: WallTime,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
}

impl WeeklyInterval {
    fn effective_overlaps(&self, other: &Self) -> bool {
        let starts_before_other_ends = match (self.effective_from, other.effective_until) {
            (Some(from), Some(until)) => from <= until,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.effective_from, self.effective_until) {
            (Some(from), Some(until)) => from <= until,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }

    fn overlaps(&self, other: &Self) -> bool {
        self.weekday == other.weekday
            && self.start < other.end
            && other.start < self.end
            && self.effective_overlaps(other)
    }
}

/// What is wrong with one interval of a pattern, by its index in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalProblem {
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

/// Checks a whole weekly pattern against the provider's locations; empty when it is valid.
pub fn check_pattern(
    intervals: &[WeeklyInterval],
    served_locations: &[Uuid],
) -> Vec<IntervalProblem> {
    let mut problems = Vec::new();
    for (index, interval) in intervals.iter().enumerate() {
        if interval.end <= interval.start {
            problems.push(IntervalProblem {
                index,
                field: "end",
                message: "must be later than start".into(),
            });
        }
        if let (Some(from), Some(until)) = (interval.effective_from, interval.effective_until)
            && until < from
        {
            problems.push(IntervalProblem {
                index,
                field: "effective_until",
                message: "must not be before effective_from".into(),
            });
        }
        if !served_locations.contains(&interval.location_id) {
            problems.push(IntervalProblem {
                index,
                field: "location_id",
                message: "is not a location this provider works at".into(),
            });
        }
        if let Some(earlier) = intervals[..index]
            .iter()
            .position(|other| interval.overlaps(other))
        {
            problems.push(IntervalProblem {
                index,
                field: "start",
                message: format!("overlaps interval {earlier} on the same weekday"),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(weekday: Weekday, start: &str, end: &str, location_id: Uuid) -> WeeklyInterval {
        WeeklyInterval {
            location_id,
            weekday,
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            effective_from: None,
            effective_until: None,
        }
    }

    #[test]
    fn a_split_day_is_valid() {
        let here = Uuid::now_v7();
        let pattern = [
            interval(Weekday::Monday, "08:00", "12:00", here),
            interval(Weekday::Monday, "12:00", "17:00", here),
            interval(Weekday::Tuesday, "08:00", "17:00", here),
        ];
        assert_eq!(check_pattern(&pattern, &[here]), vec![]);
    }

    #[test]
    fn overlaps_inverted_times_and_foreign_locations_are_named() {
        let here = Uuid::now_v7();
        let elsewhere = Uuid::now_v7();
        let pattern = [
            interval(Weekday::Monday, "08:00", "12:00", here),
            interval(Weekday::Monday, "11:00", "13:00", elsewhere),
            interval(Weekday::Friday, "17:00", "09:00", here),
        ];
        let problems = check_pattern(&pattern, &[here]);
        let named: Vec<(usize, &str)> = problems.iter().map(|p| (p.index, p.field)).collect();
        assert_eq!(named, vec![(1, "location_id"), (1, "start"), (2, "end")]);
    }

    #[test]
    fn disjoint_effective_ranges_do_not_overlap() {
        let here = Uuid::now_v7();
        let mut winter = interval(Weekday::Monday, "08:00", "12:00", here);
        winter.effective_until = NaiveDate::from_ymd_opt(2027, 3, 31);
        let mut summer = interval(Weekday::Monday, "09:00", "13:00", here);
        summer.effective_from = NaiveDate::from_ymd_opt(2027, 4, 1);
        assert_eq!(
            check_pattern(&[winter.clone(), summer.clone()], &[here]),
            vec![]
        );
        summer.effective_from = NaiveDate::from_ymd_opt(2027, 3, 31);
        assert_eq!(check_pattern(&[winter, summer], &[here]).len(), 1);
    }
}
