//! Rows of the output and the statistics behind them: medians of alternated repetitions.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use serde_json::json;

// ---------------------------------------------------------------- rows and statistics

/// One line of the output.
pub(crate) struct Row {
    pub(crate) metric: String,
    pub(crate) unit: &'static str,
    pub(crate) ours: f64,
    pub(crate) reference: String,
    pub(crate) reference_value: f64,
    pub(crate) ratio: f64,
    /// `Some(max ratio)`, or `None` for an info row.
    pub(crate) goal: Option<f64>,
}

impl Row {
    pub(crate) fn new(
        metric: &str,
        unit: &'static str,
        ours: f64,
        reference: &str,
        reference_value: f64,
        goal: Option<f64>,
    ) -> Self {
        Self {
            metric: metric.to_owned(),
            unit,
            ours,
            reference: reference.to_owned(),
            reference_value,
            ratio: ours / reference_value,
            goal,
        }
    }

    pub(crate) fn goal_text(&self) -> String {
        match self.goal {
            Some(max) => format!("ratio <= {max}"),
            None => "info".to_owned(),
        }
    }

    pub(crate) fn verdict(&self) -> &'static str {
        match self.goal {
            Some(max) if self.ratio <= max => "met",
            Some(_) => "NOT MET",
            None => "-",
        }
    }

    pub(crate) fn print_json(&self) {
        let text = |s: &str| serde_json::to_string(s).expect("a JSON string");
        println!(
            "{{\"metric\":{},\"unit\":{},\"ours\":{},\"reference\":{},\"reference_value\":{},\"ratio\":{},\"goal\":{}}}",
            text(&self.metric),
            text(self.unit),
            json!(round3(self.ours)),
            text(&self.reference),
            json!(round3(self.reference_value)),
            json!(round3(self.ratio)),
            text(&self.goal_text()),
        );
        let _ = std::io::stdout().flush();
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        f64::midpoint(xs[mid - 1], xs[mid])
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Repetitions: the full count, or a small one for a smoke run.
pub(crate) fn reps(full: usize) -> usize {
    if std::env::var_os("COMPARE_QUICK").is_some() {
        full.min(2)
    } else {
        full
    }
}

/// Runs `ours` and `reference` `n` times each after one warm-up of both, alternating which
/// goes first, and returns the medians (in whatever unit the closures return).
pub(crate) async fn side_by_side<O, R, FO, FR>(
    n: usize,
    mut ours: O,
    mut reference: R,
) -> (f64, f64)
where
    O: FnMut() -> FO,
    R: FnMut() -> FR,
    FO: Future<Output = f64>,
    FR: Future<Output = f64>,
{
    ours().await;
    reference().await;
    let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        if i % 2 == 0 {
            a.push(ours().await);
            b.push(reference().await);
        } else {
            b.push(reference().await);
            a.push(ours().await);
        }
    }
    (median(a), median(b))
}
// ---------------------------------------------------------------- the table

pub(crate) fn print_table(rows: &[Row], scaling: &[(usize, f64, f64)], elapsed: Duration) {
    println!();
    println!(
        "{:<34} {:>12} {:>12} {:>7} {:>13} {:>8}  reference",
        "metric", "ours", "reference", "ratio", "goal", "verdict"
    );
    for r in rows {
        println!(
            "{:<34} {:>12} {:>12} {:>7.3} {:>13} {:>8}  {}",
            r.metric,
            format!("{:.3} {}", r.ours, short_unit(r.unit)),
            format!("{:.3} {}", r.reference_value, short_unit(r.unit)),
            r.ratio,
            r.goal_text(),
            r.verdict(),
            r.reference
        );
    }
    let sizes: Vec<String> = scaling
        .iter()
        .map(|(n, ours, tracker)| format!("{n}: {ours:.0} ns (TaskTracker {tracker:.0} ns)"))
        .collect();
    if !sizes.is_empty() {
        println!("cancel_scaling per task: {}", sizes.join(", "));
    }
    println!("whole run: {:.1} s", elapsed.as_secs_f64());
}

pub(crate) fn short_unit(unit: &str) -> &str {
    match unit {
        "ns/task" => "ns",
        "bytes" => "B",
        other => other,
    }
}
