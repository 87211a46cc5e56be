//! What the timing benchmarks share (bench/README.md): the order in which
//! interleaved kinds take their turns, medians, the noise floor of an A/A
//! comparison and the two-sample Kolmogorov–Smirnov statistic. They report;
//! nothing here asserts a timing.

use std::time::Duration;

/// c(α) of the two-sample Kolmogorov–Smirnov test at α = 0.05.
pub const KS_C_ALPHA: f64 = 1.358;

/// The order in which `kinds` kinds take their turns in round `round`:
/// rotated every round, so that no kind always runs first and drift (a
/// growing table, a warming cache, the machine's other load) hits every
/// kind alike.
pub fn turns(round: usize, kinds: usize) -> impl Iterator<Item = usize> {
    (0..kinds).map(move |k| (k + round) % kinds)
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The `p`th percentile of `v` (unsorted), by the nearest rank below.
pub fn percentile(v: &[Duration], p: usize) -> Duration {
    let mut sorted = v.to_vec();
    sorted.sort();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

pub fn median(v: &[Duration]) -> Duration {
    percentile(v, 50)
}

/// The two-sample Kolmogorov–Smirnov statistic D: the largest gap between
/// the empirical distribution functions of `a` and `b`. Both are sorted
/// and walked in their merged order; tied values are stepped over
/// together, so a tie never opens a gap.
pub fn ks_statistic(a: &[Duration], b: &[Duration]) -> f64 {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    // Past the end of either sample the gap only narrows.
    d
}

/// The critical value of D at α = 0.05 for samples of `n` and `m`:
/// c(α)·sqrt((n+m)/(n·m)). A larger D says the two samples come from
/// different distributions.
pub fn ks_critical(n: usize, m: usize) -> f64 {
    KS_C_ALPHA * ((n + m) as f64 / (n * m) as f64).sqrt()
}

/// The A/A comparison of one kind's samples: two halves of them, each
/// made of alternate blocks of `kinds` consecutive rounds. The turn order
/// rotates with a period of `kinds` rounds, so each half saw the kind at
/// every position of the order equally often, and both halves span the
/// whole run: neither drift nor going first separates them, only noise.
/// (Even against odd rounds would not do: with two kinds that is "went
/// first" against "went second", which differ by more than noise.)
pub struct Noise {
    /// The gap between the halves' medians (µs): the noise floor.
    pub floor_us: f64,
    /// D between the halves, and its critical value.
    pub d: f64,
    pub critical: f64,
}

impl Noise {
    pub fn of(v: &[Duration], kinds: usize) -> Noise {
        let half = |which: usize| -> Vec<Duration> {
            v.iter()
                .enumerate()
                .filter(|(i, _)| i / kinds % 2 == which)
                .map(|(_, d)| *d)
                .collect()
        };
        let (a, b) = (half(0), half(1));
        Noise {
            floor_us: (micros(median(&a)) - micros(median(&b))).abs(),
            d: ks_statistic(&a, &b),
            critical: ks_critical(a.len(), b.len()),
        }
    }
}

/// One kind's samples against the reference kind's.
pub struct Comparison {
    pub median_us: f64,
    /// This kind's median minus the reference's (µs).
    pub delta_us: f64,
    /// `delta_us` over the reference's noise floor (its A/A gap).
    pub ratio: f64,
    pub d: f64,
    pub critical: f64,
}

impl Comparison {
    pub fn of(reference: &[Duration], other: &[Duration], noise: &Noise) -> Comparison {
        let median_us = micros(median(other));
        let delta_us = median_us - micros(median(reference));
        Comparison {
            median_us,
            delta_us,
            ratio: if noise.floor_us > 0.0 {
                delta_us / noise.floor_us
            } else {
                f64::INFINITY.copysign(delta_us)
            },
            d: ks_statistic(reference, other),
            critical: ks_critical(reference.len(), other.len()),
        }
    }

    /// D, starred when it exceeds the critical value.
    pub fn d_marked(&self) -> String {
        marked(self.d, self.critical)
    }
}

/// `d` with three decimals, starred when it exceeds `critical`.
pub fn marked(d: f64, critical: f64) -> String {
    format!("{d:.3}{}", if d > critical { "*" } else { " " })
}
