//! Instants and spans of time, in UTC microseconds, with no clock behind them.
//!
//! Guarantees:
//!
//! - A [`Timestamp`] is a count of microseconds since 1970-01-01T00:00:00Z. It has no time zone
//!   and no daylight-saving time: two timestamps compare, subtract and add exactly, so a
//!   deadline of `7 × 24 h` is exactly `604 800 000 000` microseconds after its start, whatever
//!   the local time zones of the people involved.
//! - The domain never reads a clock: every timestamp comes in with a command.
//! - Serialized (serde) as an RFC 3339 UTC string with exactly six fractional digits and `Z`,
//!   e.g. `2026-12-04T15:42:50.123456Z`. Parsing accepts RFC 3339 with `Z` (or `z`) or a numeric
//!   offset (`+01:00`, `-05:30`), a `T` or `t` separator and 0 to 9 fractional digits; digits
//!   past the sixth are truncated (towards the past). Leap seconds (`:60`) are refused.
//! - The RFC 3339 range is years 0000 to 9999 ([`Timestamp::MIN`] to [`Timestamp::MAX`]).
//!   Parsing never yields a timestamp outside it; [`Timestamp::from_micros`] accepts any `i64`,
//!   and serializing a timestamp outside that range fails instead of writing a string that
//!   could not be read back. [`Display`](std::fmt::Display) writes such a timestamp with an
//!   expanded, signed year (`+010000-01-01T00:00:00.000000Z`), for diagnostics only.
//! - Calendar conversion is the proleptic Gregorian calendar, done here with a days-from-civil
//!   computation (no table, no dependency), exact for every `i64` microsecond count.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_MILLI: i64 = 1_000;
const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_MIN: i64 = 60 * MICROS_PER_SEC;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MIN;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Days from 0000-03-01 (the start of the computation's shifted year) to 1970-01-01.
const DAYS_FROM_YEAR_0_MARCH_TO_EPOCH: i64 = 719_468;
/// Days in one 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;

/// Why a text is not a timestamp, or a calendar value not a valid instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text does not have the RFC 3339 shape; the message says which part is wrong.
    #[error("not an RFC 3339 timestamp: {0}")]
    Syntax(&'static str),
    /// The shape is right but a field is out of its range (month 13, February 30, 24:00...).
    #[error("invalid date or time: {0}")]
    InvalidField(&'static str),
    /// The instant falls outside years 0000 to 9999 in UTC.
    #[error("timestamp outside the RFC 3339 range (years 0000 to 9999 in UTC)")]
    OutOfRange,
}

/// A signed span of time in microseconds.
///
/// Constructors panic on `i64` overflow (about ±292 000 years), like integer arithmetic in a
/// debug build; the `checked_*` operations never panic. Serialized as the integer number of
/// microseconds. [`FromStr`] reads the configuration form `<integer><unit>` with the units
/// `us`, `ms`, `s`, `m`, `h`, `d`, `w` (for example `3s`, `10m`, `7d`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Duration(i64);

const fn scale(value: i64, unit: i64) -> i64 {
    match value.checked_mul(unit) {
        Some(micros) => micros,
        None => panic!("duration overflows i64 microseconds"),
    }
}

impl Duration {
    /// The empty span.
    pub const ZERO: Duration = Duration(0);

    /// A span of `micros` microseconds.
    pub const fn from_micros(micros: i64) -> Self {
        Duration(micros)
    }

    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: i64) -> Self {
        Duration(scale(millis, MICROS_PER_MILLI))
    }

    /// A span of `secs` seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Duration(scale(secs, MICROS_PER_SEC))
    }

    /// A span of `mins` minutes.
    pub const fn from_mins(mins: i64) -> Self {
        Duration(scale(mins, MICROS_PER_MIN))
    }

    /// A span of `hours` hours of 3 600 seconds.
    pub const fn from_hours(hours: i64) -> Self {
        Duration(scale(hours, MICROS_PER_HOUR))
    }

    /// A span of `days` days of exactly 24 hours (UTC has no daylight-saving time).
    pub const fn from_days(days: i64) -> Self {
        Duration(scale(days, MICROS_PER_DAY))
    }

    /// A span of `weeks` weeks of exactly 7 × 24 hours.
    pub const fn from_weeks(weeks: i64) -> Self {
        Duration(scale(weeks, 7 * MICROS_PER_DAY))
    }

    /// The span in microseconds.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The span in whole seconds, truncated towards zero.
    pub const fn as_secs(self) -> i64 {
        self.0 / MICROS_PER_SEC
    }

    /// Whether the span is shorter than zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The sum, or `None` on overflow.
    pub const fn checked_add(self, other: Duration) -> Option<Duration> {
        match self.0.checked_add(other.0) {
            Some(micros) => Some(Duration(micros)),
            None => None,
        }
    }

    /// The difference, or `None` on overflow.
    pub const fn checked_sub(self, other: Duration) -> Option<Duration> {
        match self.0.checked_sub(other.0) {
            Some(micros) => Some(Duration(micros)),
            None => None,
        }
    }
}

impl Add for Duration {
    type Output = Duration;

    fn add(self, other: Duration) -> Duration {
        self.checked_add(other).expect("duration overflow")
    }
}

impl Sub for Duration {
    type Output = Duration;

    fn sub(self, other: Duration) -> Duration {
        self.checked_sub(other).expect("duration overflow")
    }
}

impl Neg for Duration {
    type Output = Duration;

    fn neg(self) -> Duration {
        Duration(self.0.checked_neg().expect("duration overflow"))
    }
}

/// Why a text is not a [`Duration`] in the configuration form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a duration like `3s`, `10m` or `7d`: {0:?}")]
pub struct DurationParseError(String);

impl FromStr for Duration {
    type Err = DurationParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = || DurationParseError(text.to_owned());
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(fail)?;
        let (digits, unit) = text.split_at(split);
        if digits.is_empty() {
            return Err(fail());
        }

        let value: i64 = digits.parse().map_err(|_| fail())?;
        let unit_micros = match unit {
            "us" => 1,
            "ms" => MICROS_PER_MILLI,
            "s" => MICROS_PER_SEC,
            "m" => MICROS_PER_MIN,
            "h" => MICROS_PER_HOUR,
            "d" => MICROS_PER_DAY,
            "w" => 7 * MICROS_PER_DAY,
            _ => return Err(fail()),
        };
        value
            .checked_mul(unit_micros)
            .map(Duration)
            .ok_or_else(fail)
    }
}

/// A calendar date and time of day in UTC, broken into fields.
///
/// `year` is astronomical (year 0 exists, 1 BC); `microsecond` is below 1 000 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDateTime {
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the length of the month.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59 (no leap seconds).
    pub second: u8,
    /// 0 to 999 999.
    pub microsecond: u32,
}

/// An instant, in microseconds since the Unix epoch, UTC. `Debug` shows it in RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Timestamp {
    /// 1970-01-01T00:00:00.000000Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);
    /// 0000-01-01T00:00:00.000000Z, the earliest instant RFC 3339 can write.
    pub const MIN: Timestamp = Timestamp(-62_167_219_200 * MICROS_PER_SEC);
    /// 9999-12-31T23:59:59.999999Z, the latest instant RFC 3339 can write.
    pub const MAX: Timestamp = Timestamp(253_402_300_800 * MICROS_PER_SEC - 1);

    /// The instant `micros` microseconds after the epoch (before it when negative).
    ///
    /// Any value is accepted; see the module documentation for values outside
    /// [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The instant `secs` whole seconds after the epoch.
    pub const fn from_unix_secs(secs: i64) -> Self {
        Timestamp(scale(secs, MICROS_PER_SEC))
    }

    /// Whether RFC 3339 can write this instant (years 0000 to 9999).
    pub const fn is_rfc3339_range(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    /// The instant at the given UTC calendar date and time, checked field by field.
    pub fn from_utc(at: UtcDateTime) -> Result<Self, TimestampError> {
        check_date(i64::from(at.year), at.month, at.day)?;
        check_time(at.hour, at.minute, at.second)?;
        if at.microsecond >= 1_000_000 {
            return Err(TimestampError::InvalidField(
                "microsecond must be below 1 000 000",
            ));
        }

        let days = days_from_civil(i64::from(at.year), at.month, at.day);
        let secs_of_day =
            i64::from(at.hour) * 3_600 + i64::from(at.minute) * 60 + i64::from(at.second);
        days.checked_mul(MICROS_PER_DAY)
            .and_then(|micros| micros.checked_add(secs_of_day * MICROS_PER_SEC))
            .and_then(|micros| micros.checked_add(i64::from(at.microsecond)))
            .map(Timestamp)
            .ok_or(TimestampError::OutOfRange)
    }

    /// Midnight UTC at the start of the given date.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Result<Self, TimestampError> {
        Self::from_utc(UtcDateTime {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            microsecond: 0,
        })
    }

    /// The UTC calendar date and time of this instant.
    pub fn to_utc(self) -> UtcDateTime {
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let micros_of_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs_of_day = micros_of_day / MICROS_PER_SEC;

        UtcDateTime {
            // In range: |days| < 2^63 / 86 400 000 000 gives |year| < 300 000.
            year: year as i32,
            month,
            day,
            hour: (secs_of_day / 3_600) as u8,
            minute: (secs_of_day / 60 % 60) as u8,
            second: (secs_of_day % 60) as u8,
            microsecond: (micros_of_day % MICROS_PER_SEC) as u32,
        }
    }

    /// Parses RFC 3339 (see the module documentation for what is accepted).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        parse_rfc3339(text)
    }

    /// The canonical form `YYYY-MM-DDTHH:MM:SS.ffffffZ`, or an error outside years 0000–9999.
    pub fn to_rfc3339(self) -> Result<String, TimestampError> {
        if self.is_rfc3339_range() {
            Ok(self.to_string())
        } else {
            Err(TimestampError::OutOfRange)
        }
    }

    /// The instant `span` later, or `None` on `i64` overflow.
    pub const fn checked_add(self, span: Duration) -> Option<Timestamp> {
        match self.0.checked_add(span.0) {
            Some(micros) => Some(Timestamp(micros)),
            None => None,
        }
    }

    /// The instant `span` earlier, or `None` on `i64` overflow.
    pub const fn checked_sub(self, span: Duration) -> Option<Timestamp> {
        match self.0.checked_sub(span.0) {
            Some(micros) => Some(Timestamp(micros)),
            None => None,
        }
    }

    /// The span from `earlier` to `self` (negative when `earlier` is later).
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        self - earlier
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// Panics on `i64` overflow; use [`Timestamp::checked_add`] where that can happen.
    fn add(self, span: Duration) -> Timestamp {
        self.checked_add(span).expect("timestamp overflow")
    }
}

impl AddAssign<Duration> for Timestamp {
    fn add_assign(&mut self, span: Duration) {
        *self = *self + span;
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;

    /// Panics on `i64` overflow; use [`Timestamp::checked_sub`] where that can happen.
    fn sub(self, span: Duration) -> Timestamp {
        self.checked_sub(span).expect("timestamp overflow")
    }
}

impl SubAssign<Duration> for Timestamp {
    fn sub_assign(&mut self, span: Duration) {
        *self = *self - span;
    }
}

impl Sub for Timestamp {
    type Output = Duration;

    fn sub(self, earlier: Timestamp) -> Duration {
        Duration(self.0.checked_sub(earlier.0).expect("duration overflow"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.to_utc();
        if (0..=9_999).contains(&at.year) {
            write!(f, "{:04}", at.year)?;
        } else {
            write!(f, "{:+07}", at.year)?;
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            at.month, at.day, at.hour, at.minute, at.second, at.microsecond
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_rfc3339(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_rfc3339().map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp such as 2026-12-04T15:42:50.123456Z")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
        parse_rfc3339(text).map_err(E::custom)
    }
}

/// Whether `year` is a Gregorian leap year.
pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1 to 12) of `year`, or 0 for a month out of range.
pub const fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
///
/// The year is shifted to start on March 1st so that the leap day is the last day of the
/// shifted year; the shifted year is then split into 400-year eras of 146 097 days.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let month = i64::from(month);
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year.rem_euclid(400);

    // Months counted from March = 0; (153 m + 2) / 5 gives the days before month m.
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

    era * DAYS_PER_ERA + day_of_era - DAYS_FROM_YEAR_0_MARCH_TO_EPOCH
}

/// The proleptic Gregorian date `(year, month, day)` that is `days` days after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let days = days + DAYS_FROM_YEAR_0_MARCH_TO_EPOCH;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days.rem_euclid(DAYS_PER_ERA);

    // Remove the leap days seen so far in the era, then divide by the common year length.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);

    (year, month as u8, day as u8)
}

fn check_date(year: i64, month: u8, day: u8) -> Result<(), TimestampError> {
    if !(1..=12).contains(&month) {
        return Err(TimestampError::InvalidField("month must be 01 to 12"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(TimestampError::InvalidField(
            "day does not exist in that month",
        ));
    }
    Ok(())
}

fn check_time(hour: u8, minute: u8, second: u8) -> Result<(), TimestampError> {
    if hour > 23 {
        return Err(TimestampError::InvalidField("hour must be 00 to 23"));
    }
    if minute > 59 {
        return Err(TimestampError::InvalidField("minute must be 00 to 59"));
    }
    if second == 60 {
        return Err(TimestampError::InvalidField(
            "leap seconds are not supported",
        ));
    }
    if second > 59 {
        return Err(TimestampError::InvalidField("second must be 00 to 59"));
    }
    Ok(())
}

/// A cursor over the ASCII bytes of a timestamp text.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, wanted: &[u8], what: &'static str) -> Result<u8, TimestampError> {
        match self.peek() {
            Some(byte) if wanted.contains(&byte) => {
                self.at += 1;
                Ok(byte)
            }
            _ => Err(TimestampError::Syntax(what)),
        }
    }

    fn digits(&mut self, count: usize, what: &'static str) -> Result<u32, TimestampError> {
        let mut value = 0;
        for _ in 0..count {
            match self.peek() {
                Some(byte @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(byte - b'0');
                    self.at += 1;
                }
                _ => return Err(TimestampError::Syntax(what)),
            }
        }
        Ok(value)
    }
}

fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampError> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };

    let year = cursor.digits(4, "expected a four-digit year")?;
    cursor.expect(b"-", "expected '-' after the year")?;
    let month = cursor.digits(2, "expected a two-digit month")? as u8;
    cursor.expect(b"-", "expected '-' after the month")?;
    let day = cursor.digits(2, "expected a two-digit day")? as u8;
    cursor.expect(b"Tt", "expected 'T' between date and time")?;
    let hour = cursor.digits(2, "expected a two-digit hour")? as u8;
    cursor.expect(b":", "expected ':' after the hour")?;
    let minute = cursor.digits(2, "expected two-digit minutes")? as u8;
    cursor.expect(b":", "expected ':' after the minutes")?;
    let second = cursor.digits(2, "expected two-digit seconds")? as u8;

    let microsecond = parse_fraction(&mut cursor)?;
    let offset_secs = parse_offset(&mut cursor)?;
    if cursor.at != cursor.bytes.len() {
        return Err(TimestampError::Syntax("unexpected text after the offset"));
    }

    let local = Timestamp::from_utc(UtcDateTime {
        year: year as i32,
        month,
        day,
        hour,
        minute,
        second,
        microsecond,
    })?;
    let utc = local - Duration::from_secs(offset_secs);
    if utc.is_rfc3339_range() {
        Ok(utc)
    } else {
        Err(TimestampError::OutOfRange)
    }
}

/// Reads an optional `.digits` part (1 to 9 digits) and returns whole microseconds.
fn parse_fraction(cursor: &mut Cursor<'_>) -> Result<u32, TimestampError> {
    if cursor.peek() != Some(b'.') {
        return Ok(0);
    }
    cursor.at += 1;

    let mut micros = 0;
    let mut count = 0;
    while let Some(byte @ b'0'..=b'9') = cursor.peek() {
        count += 1;
        if count > 9 {
            return Err(TimestampError::Syntax("at most 9 fractional digits"));
        }
        if count <= 6 {
            micros = micros * 10 + u32::from(byte - b'0');
        }
        cursor.at += 1;
    }
    if count == 0 {
        return Err(TimestampError::Syntax("expected digits after '.'"));
    }

    for _ in count..6 {
        micros *= 10;
    }
    Ok(micros)
}

/// Reads `Z`, `z` or `±HH:MM` and returns the offset east of UTC in seconds.
fn parse_offset(cursor: &mut Cursor<'_>) -> Result<i64, TimestampError> {
    let sign = cursor.expect(b"Zz+-", "expected 'Z' or a numeric offset like +01:00")?;
    if sign == b'Z' || sign == b'z' {
        return Ok(0);
    }

    let hours = cursor.digits(2, "expected two-digit offset hours")?;
    cursor.expect(b":", "expected ':' inside the offset")?;
    let minutes = cursor.digits(2, "expected two-digit offset minutes")?;
    if hours > 23 || minutes > 59 {
        return Err(TimestampError::InvalidField("offset must be within ±23:59"));
    }

    let secs = i64::from(hours * 3_600 + minutes * 60);
    Ok(if sign == b'-' { -secs } else { secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse()
            .unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn the_epoch_is_day_zero() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(at("1970-01-01T00:00:00Z"), Timestamp::UNIX_EPOCH);
        assert_eq!(at("1969-12-31T23:59:59.999999Z").as_micros(), -1);
        assert_eq!(
            Timestamp::from_micros(-1).to_string(),
            "1969-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn known_dates_match_their_day_numbers() {
        // Day numbers computed independently (seconds since the epoch / 86 400).
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(2038, 1, 19), 24_855);
        assert_eq!(days_from_civil(1900, 1, 1), -25_567);
        assert_eq!(days_from_civil(1600, 1, 1), -135_140);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(
            at("2026-12-04T15:42:50.123456Z").as_micros(),
            1_796_398_970_123_456
        );
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2100));
        assert!(is_leap_year(2400));
        assert!(is_leap_year(0));
        assert!(is_leap_year(-4));

        assert!(Timestamp::from_ymd(2024, 2, 29).is_ok());
        assert!(Timestamp::from_ymd(2000, 2, 29).is_ok());
        assert_eq!(
            Timestamp::from_ymd(2100, 2, 29),
            Err(TimestampError::InvalidField(
                "day does not exist in that month"
            ))
        );
        assert!("2100-02-29T00:00:00Z".parse::<Timestamp>().is_err());
        assert!("2023-02-29T00:00:00Z".parse::<Timestamp>().is_err());
        assert_eq!(
            at("2100-02-28T23:59:59.999999Z") + Duration::from_micros(1),
            at("2100-03-01T00:00:00Z")
        );
        assert_eq!(
            at("2024-02-28T12:00:00Z") + Duration::from_days(1),
            at("2024-02-29T12:00:00Z")
        );
    }

    #[test]
    fn every_day_of_four_centuries_converts_both_ways() {
        // 1600-03-01 to 2400-03-01: two full eras, each day one after the other.
        let first = days_from_civil(1600, 3, 1);
        let mut expected = (1600, 3, 1);
        for days in first..first + 2 * DAYS_PER_ERA {
            assert_eq!(civil_from_days(days), expected, "day {days}");
            assert_eq!(days_from_civil(expected.0, expected.1, expected.2), days);

            let (year, month, day) = expected;
            expected = if day < days_in_month(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
        assert_eq!(expected, (2400, 3, 1));
    }

    #[test]
    fn formats_with_six_fractional_digits_and_z() {
        assert_eq!(
            at("2026-12-04T15:42:50Z").to_string(),
            "2026-12-04T15:42:50.000000Z"
        );
        assert_eq!(
            at("2026-12-04T15:42:50.1Z").to_string(),
            "2026-12-04T15:42:50.100000Z"
        );
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999999Z");
    }

    #[test]
    fn numeric_offsets_are_converted_to_utc() {
        assert_eq!(at("2026-03-29T03:30:00+02:00"), at("2026-03-29T01:30:00Z"));
        assert_eq!(at("2026-01-01T00:30:00+01:00"), at("2025-12-31T23:30:00Z"));
        assert_eq!(at("2025-12-31T20:00:00-05:00"), at("2026-01-01T01:00:00Z"));
        assert_eq!(at("2026-06-01T12:00:00-00:00"), at("2026-06-01T12:00:00Z"));
        assert_eq!(at("2026-06-01t12:00:00+05:45"), at("2026-06-01T06:15:00z"));
        assert_eq!(
            at("1970-01-01T00:00:00+01:00").as_micros(),
            -3_600 * MICROS_PER_SEC
        );
    }

    #[test]
    fn fractions_of_zero_to_nine_digits_are_read_and_truncated() {
        let base = at("2026-12-04T15:42:50Z").as_micros();
        let cases = [
            ("2026-12-04T15:42:50Z", 0),
            ("2026-12-04T15:42:50.5Z", 500_000),
            ("2026-12-04T15:42:50.123Z", 123_000),
            ("2026-12-04T15:42:50.123456Z", 123_456),
            ("2026-12-04T15:42:50.1234567Z", 123_456),
            ("2026-12-04T15:42:50.999999999Z", 999_999),
        ];
        for (text, micros) in cases {
            assert_eq!(at(text).as_micros() - base, micros, "{text}");
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        let refused = [
            "",
            "2026-12-04",
            "2026-12-04T15:42:50",
            "2026-12-04 15:42:50Z",
            "2026-12-04T15:42:50.Z",
            "2026-12-04T15:42:50.1234567890Z",
            "2026-12-04T15:42Z",
            "2026-12-04T15:42:50+0100",
            "2026-12-04T15:42:50+01",
            "2026-12-04T15:42:50Zjunk",
            "26-12-04T15:42:50Z",
            "+2026-12-04T15:42:50Z",
            "2026-13-04T15:42:50Z",
            "2026-00-04T15:42:50Z",
            "2026-04-31T15:42:50Z",
            "2026-12-04T24:00:00Z",
            "2026-12-04T23:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-12-04T15:42:50+24:00",
            "2026-12-04T15:42:50+01:60",
            "２026-12-04T15:42:50Z",
            "0000-01-01T00:00:00+00:01",
        ];
        for text in refused {
            assert!(text.parse::<Timestamp>().is_err(), "{text:?} was accepted");
        }
        assert_eq!(
            "0000-01-01T00:30:00+01:00".parse::<Timestamp>(),
            Err(TimestampError::OutOfRange)
        );
        assert_eq!(at("9999-12-31T23:59:59.999999Z"), Timestamp::MAX);
        assert_eq!(at("0000-01-01T00:30:00+00:30"), Timestamp::MIN);
    }

    #[test]
    fn days_are_exactly_24_hours_across_daylight_saving_changes() {
        // Europe moves its clocks on 2026-03-29 and 2026-10-25; UTC does not.
        let answer = at("2026-03-23T10:00:00+01:00");
        let due = answer + Duration::from_days(7);
        assert_eq!(due, at("2026-03-30T09:00:00Z"));
        assert_eq!(due, at("2026-03-30T11:00:00+02:00"));
        assert_eq!((due - answer).as_micros(), 7 * 24 * 3_600 * 1_000_000);
    }

    #[test]
    fn debug_shows_the_instant_readably() {
        assert_eq!(
            format!("{:?}", at("2026-12-04T15:42:50.123456Z")),
            "Timestamp(2026-12-04T15:42:50.123456Z)"
        );
    }

    #[test]
    fn timestamps_outside_rfc3339_do_not_serialize() {
        let late = Timestamp::MAX + Duration::from_micros(1);
        assert_eq!(late.to_rfc3339(), Err(TimestampError::OutOfRange));
        assert_eq!(late.to_string(), "+010000-01-01T00:00:00.000000Z");
        let early = Timestamp::MIN - Duration::from_days(365);
        assert_eq!(early.to_string(), "-000001-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::from_micros(i64::MIN).to_utc().year, -290_308);
        assert_eq!(Timestamp::from_micros(i64::MAX).to_utc().year, 294_247);
    }

    #[test]
    fn durations_read_the_configuration_form() {
        assert_eq!("7d".parse(), Ok(Duration::from_days(7)));
        assert_eq!("3s".parse(), Ok(Duration::from_secs(3)));
        assert_eq!("10m".parse(), Ok(Duration::from_mins(10)));
        assert_eq!("2h".parse(), Ok(Duration::from_hours(2)));
        assert_eq!("1w".parse(), Ok(Duration::from_days(7)));
        assert_eq!("250ms".parse(), Ok(Duration::from_millis(250)));
        assert_eq!("5us".parse(), Ok(Duration::from_micros(5)));
        for bad in ["", "d", "7", "7 d", "-7d", "7x", "99999999999999999d"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn duration_arithmetic_is_exact() {
        assert_eq!(Duration::from_days(7).as_micros(), 604_800_000_000);
        assert_eq!(Duration::from_weeks(1), Duration::from_hours(168));
        assert_eq!(Duration::from_secs(90).as_secs(), 90);
        assert_eq!(-Duration::from_secs(1), Duration::from_millis(-1_000));
        assert_eq!(
            Duration::from_micros(i64::MAX).checked_add(Duration::from_micros(1)),
            None
        );
        assert_eq!(
            Timestamp::from_micros(i64::MAX).checked_add(Duration::from_micros(1)),
            None
        );
        let a = at("2026-01-01T00:00:00Z");
        assert_eq!(
            a.duration_since(a + Duration::from_secs(5)),
            Duration::from_secs(-5)
        );
    }
}
