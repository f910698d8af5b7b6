//! Value parsers of `load`: durations, rates and segments, each a plain `Result<_, String>`
//! function so clap and the profile loader report the same errors.

use std::time::Duration;

/// `10s`, `500ms`, `2m`, `1h`, `1m30s`, or a bare number of seconds (`2.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration: expected a time such as 10s, 500ms or 2m".into());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(seconds, text);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("invalid duration {text:?}: the last number has no unit (ms, s, m, h)"))?;
        if split == 0 {
            return Err(format!("invalid duration {text:?}: expected a number before each unit"));
        }
        let number: f64 = rest[..split]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {:?} is not a number", &rest[..split]))?;
        let unit_len = rest[split..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - split);
        let unit = &rest[split..split + unit_len];
        let factor = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {unit:?} (ms, s, m, h)"
                ));
            }
        };
        total += number * factor;
        rest = &rest[split + unit_len..];
    }
    seconds_to_duration(total, text)
}

fn seconds_to_duration(seconds: f64, text: &str) -> Result<Duration, String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("invalid duration {text:?}: must be 0 or more"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `200/s`, `200`, `30/m` (per minute): requests per second, above 0.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, per) = if let Some(n) = text.strip_suffix("/s") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("/m") {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid rate {text:?}: expected requests per second, such as 200/s"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("invalid rate {text:?}: must be more than 0"));
    }
    Ok(value / per)
}

/// One share of a workload split across `count` machines: `index` counts from 0, as a
/// Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Default for Segment {
    fn default() -> Self {
        Segment { index: 0, count: 1 }
    }
}

impl Segment {
    /// This segment's share of `total` whole units: `total / count`, plus one for the
    /// first `total % count` segments, so the shares add up to `total`.
    pub fn share(self, total: u64) -> u64 {
        let count = u64::from(self.count);
        total / count + u64::from(u64::from(self.index) < total % count)
    }

    /// This segment's share of a rate: whole rates split as whole units, others evenly.
    pub fn share_rate(self, rate: f64) -> f64 {
        if rate.fract() == 0.0 && rate <= u64::MAX as f64 {
            self.share(rate as u64) as f64
        } else {
            rate / f64::from(self.count)
        }
    }
}

/// `i/N` with `0 <= i < N`.
pub fn parse_segment(text: &str) -> Result<Segment, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("invalid segment {text:?}: expected i/N, such as 0/4"))?;
    let index: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("invalid segment {text:?}: {i:?} is not a whole number"))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("invalid segment {text:?}: {n:?} is not a whole number"))?;
    if count == 0 {
        return Err(format!("invalid segment {text:?}: N must be at least 1"));
    }
    if index >= count {
        return Err(format!(
            "invalid segment {text:?}: i counts from 0 and must be below N ({count})"
        ));
    }
    Ok(Segment { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        for bad in ["", "s", "10x", "10", "-1", "1m30"] {
            if bad == "10" {
                continue;
            }
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("200/s"), Ok(200.0));
        assert_eq!(parse_rate("200"), Ok(200.0));
        assert_eq!(parse_rate("30/m"), Ok(0.5));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn segments_share_with_the_remainder_first() {
        assert_eq!(parse_segment("0/4"), Ok(Segment { index: 0, count: 4 }));
        assert!(parse_segment("4/4").is_err());
        assert!(parse_segment("1/0").is_err());
        assert!(parse_segment("1").is_err());
        let shares: Vec<u64> = (0..4).map(|i| Segment { index: i, count: 4 }.share(10)).collect();
        assert_eq!(shares, [3, 3, 2, 2]);
        assert_eq!(shares.iter().sum::<u64>(), 10);
        assert_eq!(Segment { index: 1, count: 2 }.share_rate(101.0), 50.0);
        assert_eq!(Segment { index: 0, count: 2 }.share_rate(101.0), 51.0);
        assert_eq!(Segment { index: 1, count: 2 }.share_rate(2.5), 1.25);
    }
}
