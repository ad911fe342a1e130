//! The deploy decisions of reference.md section 3: which case a deploy is, how releases are
//! named, which release a rollback goes to, which releases pruning removes, how many clients an
//! instance runs, and how instances are batched for rolling deploys.

pub mod batches;
pub mod case;
pub mod deploy_cfg;
pub mod follow_up;
pub mod history;
pub mod log_steps;
pub mod pin;
pub mod plan;
pub mod release_name;
pub mod restart_plan;
pub mod revision;
pub mod sizing;
