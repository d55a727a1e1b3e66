//! A day of the calendar, as cards carry their start and due dates: `YYYY-MM-DD` on the wire
//! (ISO 8601, what `<input type="date">` gives), a day number for arithmetic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A day of the proleptic Gregorian calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    /// Days since 1970-01-01 (negative before).
    days: i64,
}

/// A text that is not a `YYYY-MM-DD` date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: write it YYYY-MM-DD, e.g. 2026-12-15")]
pub struct NotADate(pub String);

impl CalendarDate {
    /// The day `year-month-day`, if there is one.
    pub fn new(year: i64, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self {
            days: days_from_civil(year, month, day),
        })
    }

    /// The day `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Self {
        Self { days }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        self.days
    }

    /// The day `count` days later (earlier when negative).
    pub fn plus_days(self, count: i64) -> Self {
        Self {
            days: self.days + count,
        }
    }

    /// Parses `YYYY-MM-DD` (a four-digit year).
    pub fn parse(text: &str) -> Result<Self, NotADate> {
        let not_a_date = || NotADate(text.chars().take(40).collect());
        let bytes = text.as_bytes();
        if !text.is_ascii() || bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(not_a_date());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, NotADate> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_date());
            }
            part.parse().map_err(|_| not_a_date())
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        Self::new(i64::from(year), month, day).ok_or_else(not_a_date)
    }

    /// Year, month (1–12) and day (1–31).
    pub fn civil(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for CalendarDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .description(Some("A day, YYYY-MM-DD."))
            .into()
    }
}

impl utoipa::ToSchema for CalendarDate {}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day number (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (day 1–31, month 1–12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_write_and_count_days() {
        let date = CalendarDate::parse("2026-12-15").unwrap();
        assert_eq!(date.to_string(), "2026-12-15");
        assert_eq!(CalendarDate::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(
            CalendarDate::parse("2024-03-01").unwrap().days()
                - CalendarDate::parse("2024-02-28").unwrap().days(),
            2,
            "2024 is a leap year"
        );
        assert_eq!(date.plus_days(17).to_string(), "2027-01-01");
        // Every day from year 0 to 9999 writes and reads back as itself.
        for days in [-719_528, -1, 0, 59, 10_957, 20_000, 2_932_896] {
            let date = CalendarDate::from_days(days);
            assert_eq!(CalendarDate::parse(&date.to_string()).unwrap().days(), days);
        }
    }

    #[test]
    fn what_is_not_a_date_is_refused_by_name() {
        for text in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-5",
            "15/12/2026",
            "２０２６-12-15",
            "2026-12-15T10:00",
            "éé-12-15",
            "2026-+1-15",
        ] {
            assert!(CalendarDate::parse(text).is_err(), "{text}");
        }
        assert_eq!(
            CalendarDate::parse("demain").unwrap_err().to_string(),
            "`demain` is not a date: write it YYYY-MM-DD, e.g. 2026-12-15"
        );
        let json = serde_json::json!("2026-12-15");
        let date: CalendarDate = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(date).unwrap(), json);
        assert!(serde_json::from_value::<CalendarDate>(serde_json::json!("2026-12-32")).is_err());
    }
}
