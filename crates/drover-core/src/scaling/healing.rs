//! Auto-healing: whether to restart an instance that lost its connection (reference.md
//! section 7).
//!
//! An instance that has been `connection_lost` for longer than the heartbeat timeout, when every
//! layer it belongs to has auto-healing on, is stopped and started again through its provider.
//! Attempts back off (30 s after the first, doubling, at most 10 minutes) and are capped per
//! rolling hour (5): with the cap reached, auto-healing gives up until the oldest of those
//! attempts is an hour old. A `registered` host cannot be restarted by Drover: the decision gives
//! up and names the host to start by hand. Times are Unix milliseconds.

use crate::scaling::words::{duration_ms, list};
use crate::status::{InstanceStatus, Provider};

/// One hour, the window of the attempt cap.
pub const HOUR_MS: i64 = 3_600_000;

/// How attempts are spaced and capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealingPolicy {
    /// The pause after the first attempt; it doubles after each further one.
    pub first_backoff_ms: i64,
    /// The longest pause between attempts.
    pub max_backoff_ms: i64,
    /// The most attempts in any hour.
    pub max_attempts_per_hour: usize,
}

impl Default for HealingPolicy {
    /// 30 s doubling to 10 min, at most 5 attempts an hour.
    fn default() -> Self {
        HealingPolicy { first_backoff_ms: 30_000, max_backoff_ms: 600_000, max_attempts_per_hour: 5 }
    }
}

impl HealingPolicy {
    /// The pause after `attempts` recent attempts (at least 1): 30 s, 60 s, 120 s, … up to the max.
    pub fn backoff_ms(&self, attempts: usize) -> i64 {
        let doublings = attempts.saturating_sub(1).min(32) as u32;
        self.first_backoff_ms.saturating_mul(1_i64 << doublings).min(self.max_backoff_ms)
    }
}

/// A layer the instance belongs to, with its auto-healing flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerHealing {
    /// The layer's shortname.
    pub name: String,
    /// Whether auto-healing is on.
    pub auto_healing: bool,
}

/// Everything [`decide`] looks at for one instance.
#[derive(Debug, Clone, Copy)]
pub struct HealInput<'a> {
    /// The instance's hostname, for the reason.
    pub hostname: &'a str,
    /// Its status now.
    pub status: InstanceStatus,
    /// Who starts and stops its host.
    pub provider: Provider,
    /// When it became `connection_lost` (Unix ms).
    pub lost_at_ms: i64,
    /// The heartbeat timeout: how long it must stay lost before a restart (ms).
    pub heartbeat_timeout_ms: i64,
    /// The layers it belongs to.
    pub layers: &'a [LayerHealing],
    /// When auto-healing restarted it before (Unix ms), in any order; older than an hour may be
    /// left out.
    pub attempts_ms: &'a [i64],
    /// Now (Unix ms).
    pub now_ms: i64,
    /// The backoff and the cap.
    pub policy: HealingPolicy,
}

/// What auto-healing does with an instance now. Every variant carries its reason, for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealDecision {
    /// Stop and start it again through its provider, then Configure the stack.
    Heal {
        /// Why, naming the attempt.
        reason: String,
    },
    /// Not yet: ask again at `until_ms`.
    Wait {
        /// When the next attempt may be made (Unix ms).
        until_ms: i64,
        /// Why it waits.
        why: String,
    },
    /// Auto-healing cannot help (a registered host) or stopped trying (the cap); someone must act.
    GiveUp {
        /// Why, and what to do by hand.
        reason: String,
    },
    /// Auto-healing does not apply: the instance is not lost, or a layer has auto-healing off.
    NotEligible {
        /// Why not.
        why: String,
    },
}

impl HealDecision {
    /// The reason or the why, whichever the decision carries.
    pub fn reason(&self) -> &str {
        match self {
            HealDecision::Heal { reason } | HealDecision::GiveUp { reason } => reason,
            HealDecision::Wait { why, .. } | HealDecision::NotEligible { why } => why,
        }
    }
}

/// The decision for one instance at `input.now_ms`.
pub fn decide(input: &HealInput<'_>) -> HealDecision {
    let HealInput {
        hostname: host, status, provider, lost_at_ms, heartbeat_timeout_ms, layers, now_ms, policy, ..
    } = *input;
    let not_eligible = |why: String| HealDecision::NotEligible { why };
    if status != InstanceStatus::ConnectionLost {
        return not_eligible(format!("{host} is {status}, not connection_lost"));
    }
    if layers.is_empty() {
        return not_eligible(format!("{host} belongs to no layer, so no layer's auto-healing covers it"));
    }
    let off: Vec<&str> = layers.iter().filter(|l| !l.auto_healing).map(|l| l.name.as_str()).collect();
    if !off.is_empty() {
        let (noun, verb) = if off.len() == 1 { ("layer", "has") } else { ("layers", "have") };
        return not_eligible(format!(
            "{host} stays connection_lost: {noun} {} {verb} auto-healing off (every layer of the instance needs it on)",
            list(&off)
        ));
    }
    let lost_for = now_ms - lost_at_ms;
    let timeout = duration_ms(heartbeat_timeout_ms);
    if lost_for < heartbeat_timeout_ms {
        return HealDecision::Wait {
            until_ms: lost_at_ms + heartbeat_timeout_ms,
            why: format!(
                "{host} has been connection_lost for {}; auto-healing restarts it once that reaches {timeout} (the heartbeat timeout)",
                duration_ms(lost_for)
            ),
        };
    }
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    let (noun, names) = (if names.len() == 1 { "layer" } else { "layers" }, list(&names));
    let lost = format!("{host} has been connection_lost for {} in auto-healing {noun} {names}", duration_ms(lost_for));
    if provider == Provider::Registered {
        return HealDecision::GiveUp {
            reason: format!(
                "{lost}, but it is a registered host, which Drover cannot restart: start {host} (or its agent) by hand"
            ),
        };
    }
    let mut recent: Vec<i64> = input.attempts_ms.iter().copied().filter(|at| *at > now_ms - HOUR_MS).collect();
    recent.sort_unstable();
    let max = policy.max_attempts_per_hour;
    if let Some(oldest) = recent.first().filter(|_| recent.len() >= max) {
        return HealDecision::GiveUp {
            reason: format!(
                "{lost}; auto-healing restarted it {} times in the last hour and gives up until {} from now: look at {host} by hand",
                recent.len(),
                duration_ms(oldest + HOUR_MS - now_ms)
            ),
        };
    }
    if let Some(last) = recent.last() {
        let pause = policy.backoff_ms(recent.len());
        if now_ms < last + pause {
            return HealDecision::Wait {
                until_ms: last + pause,
                why: format!(
                    "{host} is still connection_lost {} after auto-healing restarted it; the next attempt waits {} (backoff after {} this hour)",
                    duration_ms(now_ms - last),
                    duration_ms(pause),
                    attempts(recent.len())
                ),
            };
        }
    }
    HealDecision::Heal {
        reason: format!(
            "{lost} (heartbeat timeout {timeout}): restarting it through the {provider} provider (attempt {} of {max} this hour)",
            recent.len() + 1
        ),
    }
}

fn attempts(n: usize) -> String {
    if n == 1 { "1 attempt".to_owned() } else { format!("{n} attempts") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_704_067_200_000;
    const MIN: i64 = 60_000;

    enum Want {
        Heal(&'static str),
        Wait(i64, &'static str),
        GiveUp(&'static str),
        NotEligible(&'static str),
    }

    fn layer(name: &str, auto_healing: bool) -> LayerHealing {
        LayerHealing { name: name.to_owned(), auto_healing }
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let policy = HealingPolicy::default();
        // (input: recent attempts, expected pause in seconds)
        let cases = [(0, 30), (1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (40, 600)];
        for (n, secs) in cases {
            assert_eq!(policy.backoff_ms(n), secs * 1000, "{n}");
        }
    }

    #[test]
    fn healing_decisions() {
        let on = vec![layer("clients", true)];
        let both = vec![layer("clients", true), layer("zeo", true)];
        let one_off = vec![layer("clients", true), layer("zeo", false)];
        let ago = |minutes: &[i64]| minutes.iter().map(|m| NOW - m * MIN).collect::<Vec<_>>();
        use InstanceStatus::{ConnectionLost, Online};
        use Provider::{Ec2, Local, Registered};
        // (input: status, provider, lost minutes ago, layers, attempts minutes ago, expected)
        type Case<'a> = (InstanceStatus, Provider, i64, &'a [LayerHealing], Vec<i64>, Want);
        let cases: Vec<Case> = vec![
            (
                ConnectionLost,
                Local,
                7,
                &on,
                vec![],
                Want::Heal(
                    "clients3 has been connection_lost for 7 min in auto-healing layer clients (heartbeat timeout 5 min): restarting it through the local provider (attempt 1 of 5 this hour)",
                ),
            ),
            (ConnectionLost, Local, 5, &both, vec![], Want::Heal("in auto-healing layers clients, zeo")),
            (
                ConnectionLost,
                Local,
                4,
                &on,
                vec![],
                Want::Wait(NOW + MIN, "connection_lost for 4 min; auto-healing restarts it once that reaches 5 min"),
            ),
            (Online, Local, 7, &on, vec![], Want::NotEligible("clients3 is online, not connection_lost")),
            (ConnectionLost, Local, 7, &one_off, vec![], Want::NotEligible("layer zeo has auto-healing off")),
            (ConnectionLost, Local, 7, &[], vec![], Want::NotEligible("belongs to no layer")),
            (
                ConnectionLost,
                Registered,
                7,
                &on,
                vec![],
                Want::GiveUp(
                    "it is a registered host, which Drover cannot restart: start clients3 (or its agent) by hand",
                ),
            ),
            (ConnectionLost, Registered, 2, &on, vec![], Want::Wait(NOW + 3 * MIN, "")),
            (ConnectionLost, Ec2, 7, &on, vec![], Want::Heal("restarting it through the ec2 provider (attempt 1 of 5")),
            // backoff: 30 s after one attempt, 60 s after two, 120 s after three
            (
                ConnectionLost,
                Local,
                7,
                &on,
                ago(&[0]),
                Want::Wait(NOW + 30_000, "the next attempt waits 30 s (backoff after 1 attempt this hour)"),
            ),
            (ConnectionLost, Local, 7, &on, ago(&[1]), Want::Heal("attempt 2 of 5")),
            (ConnectionLost, Local, 7, &on, ago(&[1, 5]), Want::Heal("attempt 3 of 5")),
            (
                ConnectionLost,
                Local,
                7,
                &on,
                ago(&[9, 1, 5]),
                Want::Wait(NOW + MIN, "waits 2 min (backoff after 3 attempts"),
            ),
            (ConnectionLost, Local, 7, &on, ago(&[61, 62, 63, 64, 65]), Want::Heal("attempt 1 of 5")),
            // the cap: five in the last hour
            (
                ConnectionLost,
                Local,
                7,
                &on,
                ago(&[50, 40, 30, 20, 10]),
                Want::GiveUp(
                    "restarted it 5 times in the last hour and gives up until 10 min from now: look at clients3 by hand",
                ),
            ),
            (ConnectionLost, Local, 7, &on, ago(&[70, 40, 30, 20, 10]), Want::Heal("attempt 5 of 5")),
        ];
        for (i, (status, provider, lost, layers, attempts, want)) in cases.into_iter().enumerate() {
            let input = HealInput {
                hostname: "clients3",
                status,
                provider,
                lost_at_ms: NOW - lost * MIN,
                heartbeat_timeout_ms: 5 * MIN,
                layers,
                attempts_ms: &attempts,
                now_ms: NOW,
                policy: HealingPolicy::default(),
            };
            let got = decide(&input);
            let text = got.reason().to_owned();
            match (want, got) {
                (Want::Heal(want), HealDecision::Heal { .. })
                | (Want::GiveUp(want), HealDecision::GiveUp { .. })
                | (Want::NotEligible(want), HealDecision::NotEligible { .. }) => {
                    assert!(text.contains(want), "case {i}: {text}")
                }
                (Want::Wait(until, want), HealDecision::Wait { until_ms, .. }) => {
                    assert_eq!(until_ms, until, "case {i}: {text}");
                    assert!(text.contains(want), "case {i}: {text}");
                }
                (_, got) => panic!("case {i}: unexpected {got:?}"),
            }
        }
    }
}
