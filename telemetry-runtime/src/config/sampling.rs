//! Sampling (SPEC S-20): a tool run many times a day keeps a share of its runs. The rate
//! is the application's ([`super::Telemetry::sample_rate`]), which the person running the
//! tool may lower with `<PREFIX>_TELEMETRY_SAMPLE_RATE`, never raise. Whether this run is
//! kept is drawn once per process, from the operating system's randomness (nothing of the
//! machine or the person), before anything is recorded: a run is kept whole or dropped
//! whole, and a dropped run costs what "off" costs.

use std::sync::OnceLock;

use super::env::{Env, Note};

/// The outcome of this process's draw, once drawn.
static KEPT: OnceLock<bool> = OnceLock::new();

/// The rate in force: the application's, or the lower one the environment asks for. An
/// unusable value is ignored, and one above the application's is clamped to it, each with
/// a note.
pub(crate) fn rate(app_rate: f64, var: &str, env: &dyn Env, notes: &mut Vec<Note>) -> f64 {
    let Some(value) = env.var_os(var) else {
        return app_rate;
    };
    let parsed = value
        .to_str()
        .map(str::trim)
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|r| (0.0..=1.0).contains(r));
    match parsed {
        None => {
            notes.push(Note::ignored(var, &value, "is not a rate between 0 and 1"));
            app_rate
        }
        Some(wanted) if wanted > app_rate => {
            notes.push(Note::warn(format!(
                "{var} is above the application's sample rate of {app_rate}; clamped (the rate can be lowered, not raised)"
            )));
            app_rate
        }
        Some(wanted) => wanted,
    }
}

/// Whether this run is kept at `rate`: drawn on the first call, the same answer after.
#[cfg(feature = "telemetry")]
pub(crate) fn keep(rate: f64) -> bool {
    *KEPT.get_or_init(|| draw(rate))
}

/// This process's draw, if [`keep`] was called (status shows it; it never draws).
pub(crate) fn drawn() -> Option<bool> {
    KEPT.get().copied()
}

#[cfg(feature = "telemetry")]
fn draw(rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 || rate.is_nan() {
        return false;
    }
    uniform() < rate
}

/// A uniform number in [0, 1) from 53 random bits.
#[cfg(feature = "telemetry")]
fn uniform() -> f64 {
    let bits = u64::from_le_bytes(crate::random::bytes::<8>()) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// An application's rate: clamped into [0, 1]; NaN counts as 1 (keep everything).
pub(crate) fn clamp(rate: f64) -> f64 {
    if rate.is_nan() {
        1.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_of(app: f64, value: &str) -> (f64, Vec<String>) {
        let mut notes = Vec::new();
        let r = rate(
            app,
            "T_TELEMETRY_SAMPLE_RATE",
            &[("T_TELEMETRY_SAMPLE_RATE", value)],
            &mut notes,
        );
        (r, notes.into_iter().map(|n| n.message).collect())
    }

    #[test]
    fn the_person_lowers_the_rate_never_raises_it() {
        assert_eq!(rate_of(1.0, "0.25"), (0.25, vec![]));
        assert_eq!(rate_of(0.5, " 0 "), (0.0, vec![]));
        let (r, notes) = rate_of(0.1, "1");
        assert_eq!(r, 0.1);
        assert!(notes[0].contains("clamped"), "{notes:?}");
        for garbage in ["abc", "", "-0.5", "1.5", "NaN", "inf", "0,5"] {
            let (r, notes) = rate_of(0.5, garbage);
            assert_eq!(r, 0.5, "{garbage}");
            assert!(
                notes[0].contains("not a rate between 0 and 1"),
                "{garbage}: {notes:?}"
            );
        }
        let mut notes = Vec::new();
        assert_eq!(rate(0.3, "T", &[("OTHER", "1")], &mut notes), 0.3);
        assert!(notes.is_empty());
    }

    #[cfg(feature = "telemetry")]
    #[test]
    fn the_draw_keeps_about_the_rate() {
        assert!(draw(1.0) && !draw(0.0) && !draw(f64::NAN));
        let kept = (0..4000).filter(|_| draw(0.25)).count();
        // Binomial(4000, 0.25): mean 1000, σ ≈ 27; ±8σ never fails by chance.
        assert!((780..1220).contains(&kept), "{kept}");
        assert_eq!(clamp(1.5), 1.0);
        assert_eq!(clamp(-1.0), 0.0);
        assert_eq!(clamp(f64::NAN), 1.0);
    }
}
