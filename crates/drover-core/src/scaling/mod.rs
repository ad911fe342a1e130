//! Scaling and auto-healing decisions (reference.md section 7, with OpsWorks' parameter names).
//!
//! Every function here is pure: the clock is passed in (`now`), nothing is read or written, and
//! every decision carries a human reason that the server records as an event.
//!
//! - [`kind`]: an instance's scaling type (`24/7`, `time`, `load`).
//! - [`schedule`]: the weekly UTC schedule of a time-based instance, from `--on` specs
//!   ([`on_spec`]) or OpsWorks' `TimeBasedAutoScaling` grid ([`grid`]).
//! - [`load`]: a layer's load-based rule and whether to start or stop load-based instances.
//! - [`healing`]: whether to restart a `connection_lost` instance, with backoff and a cap.

pub mod grid;
pub mod healing;
pub mod kind;
pub mod load;
pub mod on_spec;
pub mod schedule;
pub mod timed;
pub mod week;
mod words;

pub use healing::{HealDecision, HealInput, HealingPolicy, LayerHealing};
pub use kind::ScalingType;
pub use load::{LoadDecision, LoadInput, LoadRule, Member, Sample, Thresholds};
pub use schedule::WeeklySchedule;
pub use week::Weekday;
