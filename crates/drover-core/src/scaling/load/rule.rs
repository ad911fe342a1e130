//! A layer's load-based rule, with OpsWorks' parameters (reference.md section 7): up- and
//! down-scaling thresholds on CPU, memory and load, how many instances to start or stop, how
//! long a threshold must hold (`thresholds_wait`) and how long metrics are ignored after acting
//! (`ignore_metrics`).
//!
//! OpsWorks has a wait and an ignore time for each direction; Drover has one of each per layer,
//! as `drover layer scaling --thresholds-wait 5m --ignore-metrics 10m` sets them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// One wrong value of a rule, named by its field (`up.cpu`, `thresholds_wait`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleProblem {
    /// The field: `cpu`, `up.memory`, `down.load`, `up_instances`, `thresholds_wait`, ….
    pub field: String,
    /// What is wrong with it and what is accepted.
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> RuleProblem {
    RuleProblem { field: field.into(), message: message.into() }
}

/// The thresholds of one direction. `None` disables a metric; OpsWorks writes that as -1, which
/// is accepted wherever a threshold is read.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Average CPU use of the layer's online instances, in percent (0-100).
    #[serde(default, deserialize_with = "minus_one_is_none")]
    pub cpu: Option<f64>,
    /// Average memory use, in percent (0-100).
    #[serde(default, deserialize_with = "minus_one_is_none")]
    pub memory: Option<f64>,
    /// Average 1-minute load average (0 or more).
    #[serde(default, deserialize_with = "minus_one_is_none")]
    pub load: Option<f64>,
}

fn minus_one_is_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.filter(|v| *v != -1.0))
}

/// The metrics a threshold can watch, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// CPU use in percent.
    Cpu,
    /// Memory use in percent.
    Memory,
    /// 1-minute load average.
    Load,
}

impl Metric {
    /// Every metric, in the order they are written.
    pub const ALL: [Metric; 3] = [Metric::Cpu, Metric::Memory, Metric::Load];

    /// The name in specs and reasons: `cpu`, `memory`, `load`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
            Metric::Load => "load",
        }
    }

    /// Whether the metric is a percentage (shown with `%`, at most 100).
    pub fn is_percent(self) -> bool {
        !matches!(self, Metric::Load)
    }
}

impl Thresholds {
    /// No metric watched.
    pub const OFF: Thresholds = Thresholds { cpu: None, memory: None, load: None };

    /// The threshold of `metric`, if it is watched.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Cpu => self.cpu,
            Metric::Memory => self.memory,
            Metric::Load => self.load,
        }
    }

    fn slot(&mut self, metric: Metric) -> &mut Option<f64> {
        match metric {
            Metric::Cpu => &mut self.cpu,
            Metric::Memory => &mut self.memory,
            Metric::Load => &mut self.load,
        }
    }

    /// Whether no metric is watched.
    pub fn is_off(&self) -> bool {
        Metric::ALL.iter().all(|m| self.get(*m).is_none())
    }

    /// Reads the CLI's form, `cpu=80,memory=85,load=4`. A metric left out, or given as `-1` or
    /// `off`, is not watched. The problem names the metric (`cpu`), or `thresholds` for the form.
    pub fn parse(text: &str) -> Result<Thresholds, RuleProblem> {
        let form =
            "write metric=value pairs separated by commas, e.g. cpu=80,memory=85,load=4 (-1 or off disables one)";
        if text.trim().is_empty() {
            return Err(problem("thresholds", format!("nothing given; {form}")));
        }
        let mut thresholds = Thresholds::OFF;
        let mut seen = Vec::new();
        for pair in text.split(',').map(str::trim) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(problem("thresholds", format!("{pair:?} is not metric=value; {form}")));
            };
            let name = name.trim();
            let Some(metric) = Metric::ALL.into_iter().find(|m| m.as_str() == name) else {
                return Err(problem(name, format!("{name:?} is not a metric; the metrics are cpu, memory and load")));
            };
            if seen.contains(&metric) {
                return Err(problem(name, "given twice"));
            }
            seen.push(metric);
            let value = value.trim();
            *thresholds.slot(metric) = match value {
                "off" | "-1" => None,
                _ => Some(value.parse::<f64>().map_err(|_| problem(name, format!("{value:?} is not a number")))?),
            };
        }
        match thresholds.problems("").into_iter().next() {
            Some(first) => Err(first),
            None => Ok(thresholds),
        }
    }

    /// Every threshold out of its range, fields prefixed with `prefix` (`up.`).
    fn problems(&self, prefix: &str) -> Vec<RuleProblem> {
        let mut problems = Vec::new();
        for metric in Metric::ALL {
            let Some(value) = self.get(metric) else { continue };
            let field = format!("{prefix}{}", metric.as_str());
            let message = match metric.is_percent() {
                true if !(0.0..=100.0).contains(&value) => "is not a percentage from 0 to 100",
                false if !(value.is_finite() && value >= 0.0) => "is not a load average of 0 or more",
                _ => continue,
            };
            problems.push(problem(field, format!("{value} {message} (-1 disables it)")));
        }
        problems
    }
}

impl fmt::Display for Thresholds {
    /// The CLI's form (`cpu=80,load=4`), or `off` when no metric is watched.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        let pairs: Vec<String> = Metric::ALL
            .into_iter()
            .filter_map(|m| self.get(m).map(|v| format!("{}={}", m.as_str(), super::super::words::number(v))))
            .collect();
        f.write_str(&pairs.join(","))
    }
}

/// The shortest and the longest `thresholds_wait` and `ignore_metrics`: 1 to 100 minutes, as
/// OpsWorks allows.
pub const WAIT_RANGE_SECS: std::ops::RangeInclusive<u64> = 60..=6000;

/// A layer's load-based scaling rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRule {
    /// Start instances when any of these is exceeded for `thresholds_wait_secs`.
    pub up: Thresholds,
    /// Stop instances when every one of these is undershot for `thresholds_wait_secs`.
    pub down: Thresholds,
    /// How many instances to start at once (OpsWorks' up-scaling `InstanceCount`).
    pub up_instances: u32,
    /// How many instances to stop at once (OpsWorks' down-scaling `InstanceCount`).
    pub down_instances: u32,
    /// How long a threshold must hold before acting (OpsWorks' `ThresholdsWaitTime`), 60-6000 s.
    pub thresholds_wait_secs: u64,
    /// How long metrics are ignored after acting (OpsWorks' `IgnoreMetricsTime`), 60-6000 s.
    pub ignore_metrics_secs: u64,
}

impl Default for LoadRule {
    /// No thresholds; one instance at a time, a 5-minute wait, metrics ignored for 10 minutes.
    fn default() -> Self {
        LoadRule {
            up: Thresholds::OFF,
            down: Thresholds::OFF,
            up_instances: 1,
            down_instances: 1,
            thresholds_wait_secs: 300,
            ignore_metrics_secs: 600,
        }
    }
}

impl LoadRule {
    /// Every problem of the rule at once: thresholds out of range, counts below 1, waits
    /// outside 1-100 minutes, and a down-scaling threshold not below its up-scaling one (the
    /// layer would start and stop instances in turn).
    pub fn validate(&self) -> Result<(), Vec<RuleProblem>> {
        let mut problems = self.up.problems("up.");
        problems.extend(self.down.problems("down."));
        for metric in Metric::ALL {
            if let (Some(up), Some(down)) = (self.up.get(metric), self.down.get(metric))
                && down >= up
            {
                let name = metric.as_str();
                problems.push(problem(
                    format!("down.{name}"),
                    format!("{down} is not below up.{name} {up}: the layer would start and stop instances in turn"),
                ));
            }
        }
        for (field, count) in [("up_instances", self.up_instances), ("down_instances", self.down_instances)] {
            if count < 1 {
                problems.push(problem(field, "must be at least 1"));
            }
        }
        for (field, secs) in
            [("thresholds_wait", self.thresholds_wait_secs), ("ignore_metrics", self.ignore_metrics_secs)]
        {
            if !WAIT_RANGE_SECS.contains(&secs) {
                problems.push(problem(field, format!("{secs} s is not from 1 to 100 minutes")));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn t(cpu: Option<f64>, memory: Option<f64>, load: Option<f64>) -> Thresholds {
        Thresholds { cpu, memory, load }
    }

    #[test]
    fn parses_the_cli_form() {
        // (input, expected)
        let cases = [
            ("cpu=80,memory=85,load=4", t(Some(80.0), Some(85.0), Some(4.0))),
            ("cpu=30", t(Some(30.0), None, None)),
            (" load = 0.5 , cpu=-1", t(None, None, Some(0.5))),
            ("memory=off", Thresholds::OFF),
            ("cpu=0,memory=100", t(Some(0.0), Some(100.0), None)),
        ];
        for (text, want) in cases {
            assert_eq!(Thresholds::parse(text), Ok(want), "{text}");
        }
        assert_eq!(t(Some(80.0), None, Some(4.5)).to_string(), "cpu=80,load=4.5");
        assert_eq!(Thresholds::OFF.to_string(), "off");
    }

    #[test]
    fn cli_form_refusals_name_the_field() {
        // (input, expected field, expected part of the message)
        let cases = [
            ("", "thresholds", "nothing given"),
            ("cpu", "thresholds", "\"cpu\" is not metric=value"),
            ("disk=80", "disk", "the metrics are cpu, memory and load"),
            ("cpu=80,cpu=90", "cpu", "given twice"),
            ("cpu=lots", "cpu", "\"lots\" is not a number"),
            ("cpu=101", "cpu", "not a percentage from 0 to 100"),
            ("memory=-5", "memory", "not a percentage"),
            ("load=-2", "load", "not a load average of 0 or more"),
            ("load=inf", "load", "not a load average"),
            ("cpu=NaN", "cpu", "not a percentage"),
        ];
        for (text, field, want) in cases {
            let err = Thresholds::parse(text).unwrap_err();
            assert_eq!(err.field, field, "{text}");
            assert!(err.message.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn json_takes_minus_one_as_off() {
        let json = r#"{"up": {"cpu": 80, "memory": -1}, "down": {"cpu": 30.5, "load": null},
            "up_instances": 1, "down_instances": 2, "thresholds_wait_secs": 300, "ignore_metrics_secs": 600}"#;
        let rule: LoadRule = serde_json::from_str(json).unwrap();
        assert_eq!(rule.up, t(Some(80.0), None, None));
        assert_eq!(rule.down, t(Some(30.5), None, None));
        assert_eq!(rule.validate(), Ok(()));
        assert!(serde_json::from_str::<Thresholds>(r#"{"disk": 1}"#).is_err());
    }

    #[test]
    fn validation_names_every_wrong_field() {
        let rule = LoadRule {
            up: t(Some(120.0), Some(50.0), None),
            down: t(None, Some(60.0), Some(-3.0)),
            up_instances: 0,
            down_instances: 1,
            thresholds_wait_secs: 30,
            ignore_metrics_secs: 6001,
        };
        let fields: Vec<String> = rule.validate().unwrap_err().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["up.cpu", "down.load", "down.memory", "up_instances", "thresholds_wait", "ignore_metrics"]);
        // (input: wait and ignore seconds, expected valid)
        let cases = [(60, 6000, true), (59, 600, false), (300, 6001, false)];
        for (wait, ignore, valid) in cases {
            let rule = LoadRule { thresholds_wait_secs: wait, ignore_metrics_secs: ignore, ..LoadRule::default() };
            assert_eq!(rule.validate().is_ok(), valid, "{wait} {ignore}");
        }
    }
}
