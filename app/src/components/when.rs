//! Times as people read them: relative ("3 min ago"), with the exact UTC time on hover and in
//! the `datetime` attribute. The server writes times as `2026-11-28 21:12:19 UTC`.

use leptos::prelude::*;

/// Seconds since the Unix epoch of `YYYY-MM-DD HH:MM:SS UTC`.
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.strip_suffix(" UTC")?;
    let (date, clock) = text.split_once(' ')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (c.next()??, c.next()??, c.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + h * 3_600 + min * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `then` as seen from `now` (both epoch seconds).
pub fn relative(then: i64, now: i64) -> String {
    let ago = now - then;
    let (n, unit) = match ago.abs() {
        0..=9 => return "just now".into(),
        s @ 10..=59 => (s, "s"),
        s @ 60..=3_599 => (s / 60, "min"),
        s @ 3_600..=86_399 => (s / 3_600, "h"),
        s @ 86_400..=2_591_999 => (s / 86_400, if s < 172_800 { "day" } else { "days" }),
        _ => return format!("on {}", date_of(then)),
    };
    if ago > 0 {
        format!("{n} {unit} ago")
    } else {
        format!("in {n} {unit}")
    }
}

fn date_of(epoch: i64) -> String {
    // civil_from_days, the inverse of days_from_civil.
    let z = epoch.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(target_arch = "wasm32")]
fn now() -> i64 {
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Date, js_name = now)]
        fn date_now() -> f64;
    }
    (date_now() / 1000.0) as i64
}

#[cfg(not(target_arch = "wasm32"))]
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A time the server wrote (`2026-11-28 21:12:19 UTC`), relative, exact on hover; text that is
/// not such a time is shown as it is.
#[component]
pub fn When(#[prop(into)] at: String) -> impl IntoView {
    match parse_utc(&at) {
        Some(t) => {
            let iso = format!("{}Z", at.trim_end_matches(" UTC").replace(' ', "T"));
            view! { <time datetime=iso title=at.clone()>{relative(t, now())}</time> }.into_any()
        }
        None => view! { <span>{at}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_times_are_read_and_told_relative_to_now() {
        let t = parse_utc("2026-11-28 21:12:19 UTC").unwrap();
        assert_eq!(t, 1_795_900_339);
        assert_eq!(date_of(t), "2026-11-28");
        assert_eq!(parse_utc("1970-01-01 00:00:00 UTC"), Some(0));
        assert_eq!(
            parse_utc("2024-02-29 12:00:00 UTC").map(date_of).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-11-28 21:12:19",
            "2026-13-01 00:00:00 UTC",
            "yesterday UTC",
            "",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
        assert_eq!(relative(t, t + 3), "just now");
        assert_eq!(relative(t, t + 42), "42 s ago");
        assert_eq!(relative(t, t + 180), "3 min ago");
        assert_eq!(relative(t, t + 5 * 3_600 + 10), "5 h ago");
        assert_eq!(relative(t, t + 86_400 + 5), "1 day ago");
        assert_eq!(relative(t, t + 4 * 86_400), "4 days ago");
        assert_eq!(relative(t, t + 90 * 86_400), "on 2026-11-28");
        assert_eq!(relative(t + 120, t), "in 2 min");
    }
}
