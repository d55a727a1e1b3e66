//! Positions of cards in a column: fractional indexes, keys that sort as strings (byte order),
//! so that moving a card writes that card only and never renumbers its siblings.
//!
//! The keys are those of the `fractional-indexing` npm package (rocicorp, 4.x, default
//! alphabets), which the web app uses: the same key between the same two neighbours on both
//! sides, checked against that package's own test vectors. A key is an *integer part* — a head
//! letter telling its length (`a`–`z`: 2 to 27 characters, `Z`–`A`: the negative ones), then
//! base-62 digits — and an optional *fraction* of base-62 digits without a trailing `0`.

/// The base-62 digits, in byte order.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The heads of integer parts, in byte order: `A`–`Z` negative, `a`–`z` positive.
const HEADS: &[u8; 52] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The smallest digit.
const ZERO: u8 = b'0';
/// The largest digit.
const LAST: u8 = b'z';

/// Why no position could be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// A neighbour is not a position this scheme makes.
    #[error("invalid order key: {0}")]
    InvalidKey(String),
    /// A neighbour starts with a character that is no head.
    #[error("invalid order key head: {0}")]
    InvalidHead(char),
    /// The two neighbours are the same position: nothing sorts between them.
    #[error("{0} >= {1}")]
    NotOrdered(String, String),
    /// Past the smallest or largest integer part (after ~10⁴⁸ moves to one end).
    #[error("no position is left beyond {0}")]
    Exhausted(String),
}

fn digit_value(digit: u8) -> usize {
    DIGITS.iter().position(|d| *d == digit).unwrap_or(0)
}

fn is_digit(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// The length of the integer part a head starts.
fn integer_length(head: u8) -> Result<usize, PositionError> {
    let index = HEADS
        .iter()
        .position(|h| *h == head)
        .ok_or(PositionError::InvalidHead(char::from(head)))?;
    let half = HEADS.len() / 2;
    Ok(if index < half {
        half - index + 1
    } else {
        index - half + 2
    })
}

/// The integer part of a key.
fn integer_part(key: &str) -> Result<&str, PositionError> {
    let head = *key
        .as_bytes()
        .first()
        .ok_or_else(|| PositionError::InvalidKey(key.to_owned()))?;
    let length = integer_length(head)?;
    key.get(..length)
        .ok_or_else(|| PositionError::InvalidKey(key.to_owned()))
}

/// `A` followed by 26 zeros: no key may be that integer with no fraction (nothing would sort
/// before it).
fn is_smallest_integer(key: &str) -> bool {
    key.len() == 27 && key.starts_with('A') && key.bytes().skip(1).all(|b| b == ZERO)
}

/// Checks a key: a known head, an integer part of its length, digits only, no trailing zero.
pub fn validate(key: &str) -> Result<(), PositionError> {
    let invalid = || PositionError::InvalidKey(key.to_owned());
    if is_smallest_integer(key) {
        return Err(invalid());
    }
    let integer = integer_part(key)?;
    if !key.bytes().skip(1).all(is_digit) {
        return Err(invalid());
    }
    if key.len() > integer.len() && key.ends_with('0') {
        return Err(invalid());
    }
    Ok(())
}

/// A fraction between `low` and `high` (`None`: 1), neither with a trailing zero.
fn midpoint(low: &[u8], high: Option<&[u8]>) -> Result<Vec<u8>, PositionError> {
    if let Some(high) = high
        && low >= high
    {
        return Err(PositionError::NotOrdered(
            String::from_utf8_lossy(low).into_owned(),
            String::from_utf8_lossy(high).into_owned(),
        ));
    }
    if let Some(high) = high {
        // The common prefix, `low` read with zeros past its end.
        let common = high
            .iter()
            .enumerate()
            .take_while(|(at, digit)| low.get(*at).copied().unwrap_or(ZERO) == **digit)
            .count();
        if common > 0 {
            let mut key = high[..common].to_vec();
            key.extend(midpoint(
                low.get(common..).unwrap_or_default(),
                Some(&high[common..]),
            )?);
            return Ok(key);
        }
    }
    let digit_low = low.first().map_or(0, |digit| digit_value(*digit));
    let digit_high = high.map_or(DIGITS.len(), |high| {
        high.first().map_or(0, |digit| digit_value(*digit))
    });
    if digit_high - digit_low > 1 {
        // Halfway, rounding half up as the reference implementation does.
        return Ok(vec![DIGITS[(digit_low + digit_high).div_ceil(2)]]);
    }
    match high {
        Some(high) if high.len() > 1 => Ok(high[..1].to_vec()),
        // The first digits are consecutive: keep the lower one and go halfway above the rest.
        _ => {
            let mut key = vec![DIGITS[digit_low]];
            key.extend(midpoint(low.get(1..).unwrap_or_default(), None)?);
            Ok(key)
        }
    }
}

/// The next integer part, or `None` past the largest.
fn increment_integer(integer: &str) -> Result<Option<String>, PositionError> {
    step_integer(integer, 1)
}

/// The previous integer part, or `None` before the smallest.
fn decrement_integer(integer: &str) -> Result<Option<String>, PositionError> {
    step_integer(integer, -1)
}

fn step_integer(integer: &str, step: isize) -> Result<Option<String>, PositionError> {
    let bytes = integer.as_bytes();
    let head = bytes[0];
    if integer_length(head)? != bytes.len() {
        return Err(PositionError::InvalidKey(integer.to_owned()));
    }
    let (wrap_from, wrap_to) = if step > 0 { (LAST, ZERO) } else { (ZERO, LAST) };
    let mut digits = bytes[1..].to_vec();
    for at in (0..digits.len()).rev() {
        if digits[at] == wrap_from {
            digits[at] = wrap_to;
        } else {
            let value = digit_value(digits[at]).saturating_add_signed(step);
            digits[at] = DIGITS[value];
            let mut key = vec![head];
            key.extend(digits);
            return Ok(Some(String::from_utf8_lossy(&key).into_owned()));
        }
    }
    // Every digit wrapped: the head moves one step, and the digits grow or shrink to its length.
    let head_index = HEADS.iter().position(|h| *h == head).unwrap_or(0);
    let Some(next_head) = head_index
        .checked_add_signed(step)
        .and_then(|index| HEADS.get(index))
    else {
        return Ok(None);
    };
    let length = integer_length(*next_head)?;
    digits.resize(length - 1, wrap_to);
    let mut key = vec![*next_head];
    key.extend(digits);
    Ok(Some(String::from_utf8_lossy(&key).into_owned()))
}

/// A position that sorts between `low` and `high` (either may be absent: the start or the end
/// of the column; given both, in either order).
pub fn key_between(low: Option<&str>, high: Option<&str>) -> Result<String, PositionError> {
    for key in [low, high].into_iter().flatten() {
        validate(key)?;
    }
    let (low, high) = match (low, high) {
        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
        (Some(a), Some(b)) if a == b => {
            return Err(PositionError::NotOrdered(a.to_owned(), b.to_owned()));
        }
        pair => pair,
    };
    let fraction = |key: &str, integer: &str| key.as_bytes()[integer.len()..].to_vec();
    let joined = |integer: &str, fraction: Vec<u8>| {
        format!("{integer}{}", String::from_utf8_lossy(&fraction))
    };
    match (low, high) {
        (None, None) => Ok("a0".to_owned()),
        (None, Some(high)) => {
            let integer = integer_part(high)?;
            if is_smallest_integer(integer) {
                let between = midpoint(b"", Some(&fraction(high, integer)))?;
                return Ok(joined(integer, between));
            }
            if integer.len() < high.len() {
                return Ok(integer.to_owned());
            }
            decrement_integer(integer)?.ok_or_else(|| PositionError::Exhausted(high.to_owned()))
        }
        (Some(low), None) => {
            let integer = integer_part(low)?;
            match increment_integer(integer)? {
                Some(next) => Ok(next),
                None => Ok(joined(integer, midpoint(&fraction(low, integer), None)?)),
            }
        }
        (Some(low), Some(high)) => {
            let low_integer = integer_part(low)?;
            let high_integer = integer_part(high)?;
            if low_integer == high_integer {
                let between = midpoint(
                    &fraction(low, low_integer),
                    Some(&fraction(high, high_integer)),
                )?;
                return Ok(joined(low_integer, between));
            }
            let next = increment_integer(low_integer)?
                .ok_or_else(|| PositionError::Exhausted(low.to_owned()))?;
            if next.as_str() < high {
                return Ok(next);
            }
            Ok(joined(
                low_integer,
                midpoint(&fraction(low, low_integer), None)?,
            ))
        }
    }
}

/// `count` positions in order between `low` and `high`: consecutive integers at an open end,
/// short keys spread evenly between two neighbours.
pub fn keys_between(
    low: Option<&str>,
    high: Option<&str>,
    count: usize,
) -> Result<Vec<String>, PositionError> {
    match (count, low, high) {
        (0, _, _) => Ok(Vec::new()),
        (1, _, _) => Ok(vec![key_between(low, high)?]),
        (_, _, None) => {
            let mut keys: Vec<String> = Vec::with_capacity(count);
            for _ in 0..count {
                let key = key_between(keys.last().map(String::as_str).or(low), None)?;
                keys.push(key);
            }
            Ok(keys)
        }
        (_, None, _) => {
            let mut keys: Vec<String> = Vec::with_capacity(count);
            for _ in 0..count {
                let key = key_between(None, keys.last().map(String::as_str).or(high))?;
                keys.push(key);
            }
            keys.reverse();
            Ok(keys)
        }
        (_, Some(_), Some(_)) => {
            let middle = key_between(low, high)?;
            let before = count / 2;
            let mut keys = keys_between(low, Some(&middle), before)?;
            keys.push(middle.clone());
            keys.extend(keys_between(Some(&middle), high, count - before - 1)?);
            Ok(keys)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The vectors the web app's test checks too (`widgets/test/position.test.ts`), written by
    /// the npm package (`widgets/test/position-vectors.mjs`): the package's own test vectors for
    /// its default alphabets (`src/test.js` of rocicorp/fractional-indexing 4.0.0), then 400
    /// cards dropped at pseudo-random places of a column.
    #[test]
    fn the_keys_the_web_app_computes() {
        #[derive(serde::Deserialize)]
        struct Vector {
            low: Option<String>,
            high: Option<String>,
            key: Option<String>,
            error: Option<String>,
        }
        let vectors: Vec<Vector> =
            serde_json::from_str(include_str!("position-vectors.json")).unwrap();
        assert!(vectors.len() > 400);
        for vector in vectors {
            let got = key_between(vector.low.as_deref(), vector.high.as_deref());
            match (&vector.key, &vector.error) {
                (Some(key), _) => assert_eq!(
                    got.as_ref(),
                    Ok(key),
                    "between {:?} and {:?}",
                    vector.low,
                    vector.high
                ),
                (None, Some(error)) => assert_eq!(&got.unwrap_err().to_string(), error),
                (None, None) => panic!("a vector with neither key nor error"),
            }
        }
    }

    #[test]
    fn keys_between_are_distinct_and_sorted() {
        for (low, high) in [
            (None, None),
            (Some("a5"), None),
            (None, Some("a0")),
            (Some("a0"), Some("a1")),
        ] {
            let keys = keys_between(low, high, 50).unwrap();
            assert_eq!(keys.len(), 50);
            for pair in keys.windows(2) {
                assert!(pair[0] < pair[1], "{pair:?}");
            }
            for key in &keys {
                validate(key).unwrap();
                assert!(low.is_none_or(|low| low < key.as_str()));
                assert!(high.is_none_or(|high| key.as_str() < high));
            }
        }
        assert_eq!(keys_between(None, None, 3).unwrap(), ["a0", "a1", "a2"]);
        assert_eq!(keys_between(None, Some("a0"), 2).unwrap(), ["Zy", "Zz"]);
    }

    /// A card moved between the same two neighbours again and again: keys grow slowly (about
    /// one character per six moves) and always sort between.
    #[test]
    fn repeated_moves_between_two_neighbours_stay_between() {
        let (low, mut high) = ("a0".to_owned(), "a1".to_owned());
        for _ in 0..200 {
            let key = key_between(Some(&low), Some(&high)).unwrap();
            assert!(low < key && key < high);
            high = key;
        }
        assert!(high.len() < 50, "{}", high.len());
    }

    #[test]
    fn equal_neighbours_and_bad_keys_are_named() {
        assert_eq!(
            key_between(Some("a1"), Some("a1")).unwrap_err().to_string(),
            "a1 >= a1"
        );
        assert!(validate("a1é").is_err());
        assert!(validate("").is_err());
        assert!(
            validate("b1").is_err(),
            "a `b` integer part has three characters"
        );
        validate("b10").unwrap();
    }
}
