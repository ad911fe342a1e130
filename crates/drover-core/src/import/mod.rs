//! Bringing stacks over from other tools: pure conversions from their exported descriptions to
//! the objects of a Drover stack file.
//!
//! - [`opsworks`]: what `aws opsworks describe-*` wrote, or a CloudFormation template with
//!   `AWS::OpsWorks::*` resources.

pub mod opsworks;
