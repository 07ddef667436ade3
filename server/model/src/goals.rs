//! Writing goals (`goals:` in `showrunner.yaml`) and the calendar arithmetic they need: a
//! project goal with an optional deadline, a daily goal (or the quota the deadline implies) and
//! a goal per writing session. The progress itself (words written today and in the session) is
//! counted from the saved history by `showrunner_store::progress`; the numbers an editor shows
//! come from `showrunner_context::goals`.

/// `goals: { project_words, deadline, daily_words, session_words }`; every key optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoalsConfig {
    /// Words the finished project should have.
    pub project_words: Option<u64>,
    /// The day the project goal is due (the writer's local calendar).
    pub deadline: Option<Date>,
    /// Words per day; when absent and there is a project goal and a deadline, the daily quota
    /// is derived from them.
    pub daily_words: Option<u64>,
    /// Words per writing session.
    pub session_words: Option<u64>,
}

/// A calendar day (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a day that exists (2027-02-29 does not).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let (year, month, day) = (num(0..4)? as i32, num(5..7)?, num(8..10)?);
        (1..=12).contains(&month).then_some(())?;
        (1..=days_in_month(year, month)).contains(&day).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The local calendar day of `ms` (Unix milliseconds) at a UTC offset, and the Unix time at
/// which that day began.
pub fn local_day(ms: i64, offset_ms: i64) -> (Date, i64) {
    let local = ms + offset_ms;
    let days = local.div_euclid(DAY_MS);
    (Date::from_days(days), days * DAY_MS - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_refuse_impossible_days() {
        for s in ["1970-01-01", "2000-02-29", "2027-03-01", "1969-12-31", "2400-12-31"] {
            let d = Date::parse(s).unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(Date::from_days(d.days()), d);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days(), 1);
        assert_eq!(Date::parse("2027-03-01").unwrap().days() - Date::parse("2027-02-26").unwrap().days(), 3);
        for bad in ["2027-02-29", "2027-13-01", "2027-1-01", "27-01-01", "2027/01/01", "tomorrow", "2027-04-31"] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_days_follow_the_offset() {
        // 2027-02-26T23:30Z is the 27th an hour east of Greenwich.
        let ms = Date::parse("2027-02-26").unwrap().days() * DAY_MS + 23 * 3_600_000 + 1_800_000;
        assert_eq!(local_day(ms, 0).0.to_string(), "2027-02-26");
        let (day, start) = local_day(ms, 3_600_000);
        assert_eq!(day.to_string(), "2027-02-27");
        assert_eq!(start, Date::parse("2027-02-27").unwrap().days() * DAY_MS - 3_600_000);
    }
}
