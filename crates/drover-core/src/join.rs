//! Join tokens: whether a token may enroll an agent the way the agent asks, and if not, why not
//! and what to do. The server reads the token and the instance, asks [`admit`], and carries out
//! the answer in one transaction.

use std::fmt;

/// What a join token allows, as the store holds it.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    /// The stack it enrolls into.
    pub stack: &'a str,
    /// The layers a new host may register into; empty: any layer of its stack.
    pub layers: &'a [String],
    /// The instance it is made for (a pre-created one, or the hostname a new host takes).
    pub instance: Option<&'a str>,
    /// When it stops working (Unix ms); none: never.
    pub expires_at_ms: Option<i64>,
    /// Enrollments it still allows; none: any number.
    pub uses_left: Option<i64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// What an agent asks for.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The stack it names.
    pub stack: &'a str,
    /// The hostname it names (none: a new host with the next free hostname).
    pub instance: Option<&'a str>,
    /// The layers it asks for, for a new host.
    pub layers: &'a [String],
    /// The instance of that hostname in the token's stack, if there is one.
    pub existing: Option<Existing>,
}

/// An instance that exists before the agent enrolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    /// Whether an agent already enrolled as it.
    pub enrolled: bool,
}

/// What the enrollment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The agent takes over the existing instance.
    Claim,
    /// The host registers a new instance.
    Register,
}

/// Where a token stands, for listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// It can enroll agents.
    Active,
    /// It was revoked.
    Revoked,
    /// Its time is up.
    Expired,
    /// It has no uses left.
    UsedUp,
}

impl TokenState {
    /// The name shown in lists.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::UsedUp => "used_up",
        }
    }
}

/// Where a token stands at `now_ms`.
pub fn state(grant: &Grant<'_>, now_ms: i64) -> TokenState {
    if grant.revoked {
        TokenState::Revoked
    } else if grant.expires_at_ms.is_some_and(|at| at <= now_ms) {
        TokenState::Expired
    } else if grant.uses_left.is_some_and(|n| n <= 0) {
        TokenState::UsedUp
    } else {
        TokenState::Active
    }
}

/// How a refusal is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The token no longer opens anything (401).
    Unusable,
    /// The token does not open this (403).
    OutOfScope,
    /// The instance is taken (409).
    Taken,
    /// The request lacks something (422).
    Incomplete,
}

/// Why a token may not enroll an agent this way. `stack` is always the token's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It was revoked.
    Revoked {
        /// The token's stack.
        stack: String,
    },
    /// Its time is up.
    Expired {
        /// The token's stack.
        stack: String,
    },
    /// It has no uses left.
    UsedUp {
        /// The token's stack.
        stack: String,
    },
    /// It is for another stack.
    OtherStack {
        /// The token's stack.
        token: String,
        /// The stack the agent named.
        wanted: String,
    },
    /// It is made for another instance.
    OtherInstance {
        /// The token's stack.
        stack: String,
        /// The instance the token is made for.
        made_for: String,
        /// The instance the agent named.
        wanted: String,
    },
    /// The instance exists and the token is not made for it.
    NotMadeFor {
        /// The token's stack.
        stack: String,
        /// The existing instance.
        host: String,
    },
    /// It does not allow a layer the new host asks for.
    Layer {
        /// The token's stack.
        stack: String,
        /// Where the layer is in the request's list.
        index: usize,
        /// The layer.
        layer: String,
        /// The layers the token allows.
        allowed: Vec<String>,
    },
    /// A new host named no layer.
    NoLayers,
    /// The instance already has an enrolled agent.
    AlreadyEnrolled {
        /// The instance.
        host: String,
    },
}

impl Refusal {
    /// How the refusal is answered.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::Revoked { .. } | Self::Expired { .. } | Self::UsedUp { .. } => RefusalKind::Unusable,
            Self::OtherStack { .. } | Self::OtherInstance { .. } | Self::NotMadeFor { .. } | Self::Layer { .. } => {
                RefusalKind::OutOfScope
            }
            Self::AlreadyEnrolled { .. } => RefusalKind::Taken,
            Self::NoLayers => RefusalKind::Incomplete,
        }
    }

    /// The request field at fault, if one is.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Revoked { .. } | Self::Expired { .. } | Self::UsedUp { .. } => None,
            Self::OtherStack { .. } => Some("stack".into()),
            Self::OtherInstance { .. } | Self::NotMadeFor { .. } | Self::AlreadyEnrolled { .. } => {
                Some("instance".into())
            }
            Self::Layer { index, .. } => Some(format!("layers[{index}]")),
            Self::NoLayers => Some("layers".into()),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let create = |stack: &str| format!("`drover token create --join --stack {stack}`");
        match self {
            Self::Revoked { stack } => write!(f, "this join token was revoked; create another with {}", create(stack)),
            Self::Expired { stack } => write!(f, "this join token has expired; create another with {}", create(stack)),
            Self::UsedUp { stack } => write!(
                f,
                "this join token has been used as many times as it allowed (--uses); create another with {}",
                create(stack)
            ),
            Self::OtherStack { token, wanted } => write!(
                f,
                "this join token is for stack {token}, not {wanted}; create one for stack {wanted} with {}",
                create(wanted)
            ),
            Self::OtherInstance { stack, made_for, wanted } => write!(
                f,
                "this join token is made for instance {made_for}, not {wanted}; create one for {wanted} with \
                 `drover token create --join --stack {stack} --instance {wanted}`"
            ),
            Self::NotMadeFor { stack, host } => write!(
                f,
                "instance {host} already exists in stack {stack}, and only a join token made for it can claim it; \
                 create one with `drover token create --join --stack {stack} --instance {host}`"
            ),
            Self::Layer { stack, layer, allowed, .. } => write!(
                f,
                "this join token does not allow layer {layer} (it allows: {}); create one that does with {} \
                 --layer {layer}`",
                allowed.join(", "),
                create(stack).trim_end_matches('`')
            ),
            Self::NoLayers => write!(f, "a new host needs at least one layer; pass --layer NAME to the agent"),
            Self::AlreadyEnrolled { host } => write!(
                f,
                "instance {host} already has an enrolled agent; delete the instance and create it again to re-enroll"
            ),
        }
    }
}

/// Whether `grant` lets the agent enroll as `attempt` asks at `now_ms`: the token must be usable
/// (not revoked, expired or used up), for the stack named, made for the instance named if it is
/// made for one; an existing instance can only be claimed with a token made for it, and a new host
/// only registers into layers the token allows.
pub fn admit(grant: &Grant<'_>, attempt: &Attempt<'_>, now_ms: i64) -> Result<Admission, Refusal> {
    let stack = grant.stack.to_owned();
    match state(grant, now_ms) {
        TokenState::Active => {}
        TokenState::Revoked => return Err(Refusal::Revoked { stack }),
        TokenState::Expired => return Err(Refusal::Expired { stack }),
        TokenState::UsedUp => return Err(Refusal::UsedUp { stack }),
    }
    if attempt.stack != grant.stack {
        return Err(Refusal::OtherStack { token: stack, wanted: attempt.stack.to_owned() });
    }
    if let (Some(made_for), Some(wanted)) = (grant.instance, attempt.instance)
        && made_for != wanted
    {
        return Err(Refusal::OtherInstance { stack, made_for: made_for.to_owned(), wanted: wanted.to_owned() });
    }
    if let Some(existing) = attempt.existing {
        let host = attempt.instance.unwrap_or_default().to_owned();
        if grant.instance.is_none() {
            return Err(Refusal::NotMadeFor { stack, host });
        }
        if existing.enrolled {
            return Err(Refusal::AlreadyEnrolled { host });
        }
        return Ok(Admission::Claim);
    }
    if attempt.layers.is_empty() {
        return Err(Refusal::NoLayers);
    }
    if !grant.layers.is_empty()
        && let Some((index, layer)) = attempt.layers.iter().enumerate().find(|(_, l)| !grant.layers.contains(l))
    {
        return Err(Refusal::Layer { stack, index, layer: layer.clone(), allowed: grant.layers.to_vec() });
    }
    Ok(Admission::Register)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn decides_each_case() {
        let web = strings(&["web"]);
        let db = strings(&["db"]);
        let none: Vec<String> = Vec::new();
        let any =
            Grant { stack: "a", layers: &none, instance: None, expires_at_ms: None, uses_left: None, revoked: false };
        let web_only = Grant { layers: &web, ..any };
        let for_edge = Grant { instance: Some("edge1"), ..any };
        let new_web = Attempt { stack: "a", instance: None, layers: &web, existing: None };
        let fresh = Some(Existing { enrolled: false });
        let enrolled = Some(Existing { enrolled: true });
        let claim_edge = Attempt { stack: "a", instance: Some("edge1"), layers: &none, existing: fresh };
        type Want = Result<Admission, &'static str>;
        let cases: Vec<(&str, Grant<'_>, Attempt<'_>, Want)> = vec![
            ("a stack-wide token registers a new host", any, new_web, Ok(Admission::Register)),
            ("into a layer it allows", web_only, new_web, Ok(Admission::Register)),
            ("not into another", web_only, Attempt { layers: &db, ..new_web }, Err("does not allow layer db")),
            ("nor into another stack", any, Attempt { stack: "b", ..new_web }, Err("for stack a, not b")),
            ("a new host needs layers", any, Attempt { layers: &none, ..new_web }, Err("at least one layer")),
            ("revoked", Grant { revoked: true, ..any }, new_web, Err("revoked")),
            ("expired", Grant { expires_at_ms: Some(NOW), ..any }, new_web, Err("expired")),
            ("not yet expired", Grant { expires_at_ms: Some(NOW + 1), ..any }, new_web, Ok(Admission::Register)),
            ("used up", Grant { uses_left: Some(0), ..any }, new_web, Err("used as many times")),
            ("one use left", Grant { uses_left: Some(1), ..any }, new_web, Ok(Admission::Register)),
            ("a pre-created instance needs its own token", any, claim_edge, Err("only a join token made for it")),
            ("even one allowing its layers", web_only, claim_edge, Err("only a join token made for it")),
            ("its own token claims it", for_edge, claim_edge, Ok(Admission::Claim)),
            (
                "a token for another instance does not",
                Grant { instance: Some("edge2"), ..any },
                claim_edge,
                Err("made for instance edge2, not edge1"),
            ),
            (
                "an enrolled instance is taken",
                for_edge,
                Attempt { existing: enrolled, ..claim_edge },
                Err("already has"),
            ),
            (
                "a token for a hostname registers it",
                for_edge,
                Attempt { instance: Some("edge1"), ..new_web },
                Ok(Admission::Register),
            ),
            (
                "the revocation is checked before the scope",
                Grant { revoked: true, ..any },
                Attempt { stack: "b", ..new_web },
                Err("revoked"),
            ),
        ];
        for (name, grant, attempt, want) in cases {
            let got = admit(&grant, &attempt, NOW);
            match (got, want) {
                (Ok(a), Ok(w)) => assert_eq!(a, w, "{name}"),
                (Err(r), Err(w)) => assert!(r.to_string().contains(w), "{name}: {r}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn refusals_say_what_to_do_and_where() {
        let r = Refusal::OtherStack { token: "a".into(), wanted: "b".into() };
        assert_eq!(
            r.to_string(),
            "this join token is for stack a, not b; create one for stack b with `drover token create --join --stack b`"
        );
        assert_eq!(r.field().as_deref(), Some("stack"));
        assert_eq!(r.kind(), RefusalKind::OutOfScope);
        let r = Refusal::Layer { stack: "a".into(), index: 1, layer: "db".into(), allowed: vec!["web".into()] };
        assert!(r.to_string().ends_with("`drover token create --join --stack a --layer db`"), "{r}");
        assert_eq!(r.field().as_deref(), Some("layers[1]"));
        assert_eq!(Refusal::Expired { stack: "a".into() }.kind(), RefusalKind::Unusable);
        assert_eq!(Refusal::AlreadyEnrolled { host: "h".into() }.kind(), RefusalKind::Taken);
    }

    #[test]
    fn states() {
        let none: Vec<String> = Vec::new();
        let g =
            Grant { stack: "a", layers: &none, instance: None, expires_at_ms: None, uses_left: None, revoked: false };
        assert_eq!(state(&g, NOW), TokenState::Active);
        assert_eq!(state(&Grant { uses_left: Some(0), ..g }, NOW), TokenState::UsedUp);
        assert_eq!(state(&Grant { expires_at_ms: Some(NOW - 1), uses_left: Some(0), ..g }, NOW), TokenState::Expired);
        assert_eq!(state(&Grant { revoked: true, expires_at_ms: Some(0), ..g }, NOW), TokenState::Revoked);
    }
}
