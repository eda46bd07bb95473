//! Usage levels and the per-type usage figures built on them.

use entity::LicenseType;

/// Level of a limited license type's usage (NAMED or CONCURRENT) relative to what the slice owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum UsageLevel {
    /// Below the alert threshold.
    Within,
    /// At or above the alert threshold, below what is owned.
    Approaching,
    /// Exactly what is owned.
    AtLimit,
    /// More than what is owned.
    Over,
}

/// Classifies `in_use` against `owned` and the slice's alert threshold.
///
/// The comparison is in whole numbers (`in_use × 100 >= threshold × owned`),
/// so no rounding of the threshold's share of `owned` moves a boundary: with
/// 7 owned and an 80 % threshold, 6 in use approaches the limit and 5 does not.
/// With nothing owned, 0 in use is WITHIN and any use is OVER.
pub fn level(in_use: u64, owned: u64, threshold_percent: u32) -> UsageLevel {
    if in_use > owned {
        UsageLevel::Over
    } else if owned == 0 {
        UsageLevel::Within
    } else if in_use == owned {
        UsageLevel::AtLimit
    } else if u128::from(in_use) * 100 >= u128::from(threshold_percent) * u128::from(owned) {
        UsageLevel::Approaching
    } else {
        UsageLevel::Within
    }
}

/// Usage of one license type in a slice.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LicenseUsage {
    pub license_type: LicenseType,
    /// Licenses the slice owns; `None` for the unlimited types.
    pub owned: Option<u64>,
    pub in_use: u64,
    /// `owned - in_use`, never below 0; `None` for the unlimited types.
    pub available: Option<u64>,
    /// `in_use - owned`, never below 0; always 0 for the unlimited types.
    pub over_by: u64,
    /// `in_use × 100 / owned`; `None` for the unlimited types and when nothing is owned.
    pub percent_used: Option<f64>,
    pub level: UsageLevel,
}

impl LicenseUsage {
    /// Builds the usage of a type the slice owns a number of (NAMED or CONCURRENT).
    pub fn limited(license_type: LicenseType, in_use: u64, owned: u64, threshold_percent: u32) -> Self {
        let percent_used = (owned > 0).then(|| in_use as f64 * 100.0 / owned as f64);
        Self {
            license_type,
            owned: Some(owned),
            in_use,
            available: Some(owned.saturating_sub(in_use)),
            over_by: in_use.saturating_sub(owned),
            percent_used,
            level: level(in_use, owned, threshold_percent),
        }
    }

    /// Builds the usage of a type that is reported only and has no limit
    /// (SELF_SERVICE and WEB_SERVICES): always WITHIN.
    pub fn unlimited(license_type: LicenseType, in_use: u64) -> Self {
        Self {
            license_type,
            owned: None,
            in_use,
            available: None,
            over_by: 0,
            percent_used: None,
            level: UsageLevel::Within,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UsageLevel::{Approaching, AtLimit, Over, Within};

    #[test]
    fn level_at_the_boundaries() {
        // (in_use, owned, threshold, expected)
        let cases = [
            // 80 % of 10 is a whole number.
            (0, 10, 80, Within),
            (7, 10, 80, Within),
            (8, 10, 80, Approaching),
            (9, 10, 80, Approaching),
            (10, 10, 80, AtLimit),
            (11, 10, 80, Over),
            // 80 % of 7 is 5.6: truncating to 5 or rounding to 6 would both be wrong at one end.
            (5, 7, 80, Within),
            (6, 7, 80, Approaching),
            (7, 7, 80, AtLimit),
            // 67 % of 3 is 2.01, so 2 is still within; 66 % of 3 is 1.98, so 2 approaches.
            (2, 3, 67, Within),
            (2, 3, 66, Approaching),
            // 50 % of 2 is exactly 1.
            (0, 2, 50, Within),
            (1, 2, 50, Approaching),
            (2, 2, 50, AtLimit),
            // A threshold of 100 % never approaches: the next step is the limit itself.
            (9, 10, 100, Within),
            (10, 10, 100, AtLimit),
            (11, 10, 100, Over),
            // A threshold of 1 %.
            (0, 100, 1, Within),
            (1, 100, 1, Approaching),
            (9, 1000, 1, Within),
            (10, 1000, 1, Approaching),
            // One license owned.
            (0, 1, 80, Within),
            (1, 1, 80, AtLimit),
            (2, 1, 80, Over),
            (0, 1, 1, Within),
        ];
        for (in_use, owned, threshold, expected) in cases {
            assert_eq!(level(in_use, owned, threshold), expected, "in_use {in_use}, owned {owned}, threshold {threshold}%");
        }
    }

    #[test]
    fn level_with_nothing_owned() {
        for threshold in [1, 50, 80, 100] {
            assert_eq!(level(0, 0, threshold), Within, "threshold {threshold}%");
            assert_eq!(level(1, 0, threshold), Over, "threshold {threshold}%");
            assert_eq!(level(1000, 0, threshold), Over, "threshold {threshold}%");
        }
    }

    #[test]
    fn level_does_not_overflow() {
        assert_eq!(level(u64::MAX, u64::MAX, 100), AtLimit);
        assert_eq!(level(u64::MAX - 1, u64::MAX, 100), Within);
        assert_eq!(level(u64::MAX - 1, u64::MAX, 99), Approaching);
        assert_eq!(level(u64::MAX, u64::MAX - 1, 80), Over);
    }

    /// Compares `level` on a grid with a second formulation: the first count
    /// that approaches the limit is ceil(threshold × owned / 100).
    #[test]
    fn level_matches_ceiling_formulation() {
        for owned in 0..=60u64 {
            for threshold in 1..=100u32 {
                let first_approaching = (u64::from(threshold) * owned).div_ceil(100);
                for in_use in 0..=owned + 2 {
                    let expected = if in_use > owned {
                        Over
                    } else if owned == 0 {
                        Within
                    } else if in_use == owned {
                        AtLimit
                    } else if in_use >= first_approaching {
                        Approaching
                    } else {
                        Within
                    };
                    assert_eq!(level(in_use, owned, threshold), expected, "in_use {in_use}, owned {owned}, threshold {threshold}%");
                }
            }
        }
    }

    #[test]
    fn limited_usage_below_the_limit() {
        let usage = LicenseUsage::limited(LicenseType::Named, 3, 4, 80);
        assert_eq!(usage.owned, Some(4));
        assert_eq!(usage.in_use, 3);
        assert_eq!(usage.available, Some(1));
        assert_eq!(usage.over_by, 0);
        assert_eq!(usage.percent_used, Some(75.0));
        assert_eq!(usage.level, Within);
    }

    #[test]
    fn limited_usage_over_the_limit() {
        let usage = LicenseUsage::limited(LicenseType::Concurrent, 5, 3, 80);
        assert_eq!(usage.available, Some(0));
        assert_eq!(usage.over_by, 2);
        assert_eq!(usage.percent_used, Some(500.0 / 3.0));
        assert_eq!(usage.level, Over);
    }

    #[test]
    fn limited_usage_with_nothing_owned() {
        let idle = LicenseUsage::limited(LicenseType::Concurrent, 0, 0, 80);
        assert_eq!(idle.available, Some(0));
        assert_eq!(idle.over_by, 0);
        assert_eq!(idle.percent_used, None);
        assert_eq!(idle.level, Within);

        let used = LicenseUsage::limited(LicenseType::Concurrent, 2, 0, 80);
        assert_eq!(used.available, Some(0));
        assert_eq!(used.over_by, 2);
        assert_eq!(used.percent_used, None);
        assert_eq!(used.level, Over);
    }

    #[test]
    fn unlimited_usage_is_always_within() {
        let usage = LicenseUsage::unlimited(LicenseType::SelfService, 1_000_000);
        assert_eq!(usage.owned, None);
        assert_eq!(usage.in_use, 1_000_000);
        assert_eq!(usage.available, None);
        assert_eq!(usage.over_by, 0);
        assert_eq!(usage.percent_used, None);
        assert_eq!(usage.level, Within);
    }
}
