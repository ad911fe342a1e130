//! Who may do what on a stack: OpsWorks' permission levels (`deny`, `show`, `deploy`, `manage`),
//! a server-wide admin, and personal tokens scoped to at most their user's levels.

use std::fmt;
use std::str::FromStr;

/// A user's permission level on one stack, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The stack does not exist for this user: it is in no listing and every request answers 404.
    Deny,
    /// Reads, with secrets always redacted.
    Show,
    /// Show, plus deploy, rollback, restart, start, stop, exec and Configure.
    Deploy,
    /// Deploy, plus changes to the stack, its layers, instances, apps and Custom JSON.
    Manage,
}

impl Level {
    /// Every level, weakest first.
    pub const ALL: [Level; 4] = [Level::Deny, Level::Show, Level::Deploy, Level::Manage];

    /// The level's name, as users type it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Show => "show",
            Self::Deploy => "deploy",
            Self::Manage => "manage",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level name that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a permission level; use deny, show, deploy or manage")]
pub struct LevelError(pub String);

impl FromStr for Level {
    type Err = LevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| LevelError(s.to_owned()))
    }
}

/// What a personal token may do: its stack (none: every stack its user may reach) and its level
/// (none: its user's own level on each stack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenScope {
    /// The one stack the token reaches.
    pub stack_id: Option<i64>,
    /// The most the token may do.
    pub level: Option<Level>,
}

/// A caller's level on a stack: an admin manages every stack; a user has what was granted
/// (nothing granted is `deny`), cut down to the token's scope.
pub fn level_on_stack(is_admin: bool, granted: Option<Level>, token: TokenScope, stack_id: i64) -> Level {
    if token.stack_id.is_some_and(|s| s != stack_id) {
        return Level::Deny;
    }
    let own = if is_admin { Level::Manage } else { granted.unwrap_or(Level::Deny) };
    token.level.map_or(own, |cap| own.min(cap))
}

/// The answer to a request that needs `need` from a caller who has `have`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Answer as if the stack did not exist (404): a denied user sees no trace of it.
    Hidden,
    /// Answer 403, naming the level needed.
    Forbidden,
}

/// Whether a caller with level `have` on a stack may do what needs `need`.
pub fn decide(have: Level, need: Level) -> Decision {
    if have == Level::Deny {
        Decision::Hidden
    } else if have >= need {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// Why a user may not make a token with the scope asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The level asked for is above the user's own on that stack.
    #[error("the token would have level {asked} on this stack, above its user's own level ({own})")]
    AboveOwnLevel {
        /// What was asked for.
        asked: Level,
        /// What the user has.
        own: Level,
    },
    /// `deny` makes a token that can do nothing.
    #[error("a token with level deny could do nothing; ask for show, deploy or manage")]
    Useless,
}

/// Whether a user with level `own` on the token's stack (or admin) may make a token of level
/// `asked` there. A token without a level carries its user's own levels, so it is always allowed.
pub fn may_issue(is_admin: bool, own: Option<Level>, asked: Option<Level>) -> Result<(), IssueError> {
    let Some(asked) = asked else { return Ok(()) };
    if asked == Level::Deny {
        return Err(IssueError::Useless);
    }
    let own = if is_admin { Level::Manage } else { own.unwrap_or(Level::Deny) };
    if asked > own { Err(IssueError::AboveOwnLevel { asked, own }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;

    #[test]
    fn levels_parse_and_order() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        }
        assert!("admin".parse::<Level>().unwrap_err().to_string().contains("deny, show, deploy or manage"));
        assert!(Deny < Show && Show < Deploy && Deploy < Manage);
    }

    #[test]
    fn level_on_stack_table() {
        let any = TokenScope::default();
        let only = |stack_id, level| TokenScope { stack_id: Some(stack_id), level };
        let capped = |level| TokenScope { stack_id: None, level: Some(level) };
        let cases = [
            // (admin, granted, token, stack, expected)
            (true, None, any, 1, Manage),
            (false, None, any, 1, Deny),
            (false, Some(Deploy), any, 1, Deploy),
            (false, Some(Deny), any, 1, Deny),
            (false, Some(Manage), capped(Show), 1, Show),
            (false, Some(Show), capped(Manage), 1, Show),
            (false, Some(Manage), only(2, None), 1, Deny),
            (false, Some(Manage), only(1, None), 1, Manage),
            (true, None, only(1, Some(Deploy)), 1, Deploy),
            (true, None, only(1, Some(Deploy)), 2, Deny),
        ];
        for (admin, granted, token, stack, expected) in cases {
            assert_eq!(level_on_stack(admin, granted, token, stack), expected, "{admin} {granted:?} {token:?} {stack}");
        }
    }

    #[test]
    fn decide_table() {
        let cases = [
            (Deny, Show, Decision::Hidden),
            (Deny, Manage, Decision::Hidden),
            (Show, Show, Decision::Allow),
            (Show, Deploy, Decision::Forbidden),
            (Deploy, Deploy, Decision::Allow),
            (Deploy, Manage, Decision::Forbidden),
            (Manage, Deploy, Decision::Allow),
            (Manage, Manage, Decision::Allow),
        ];
        for (have, need, expected) in cases {
            assert_eq!(decide(have, need), expected, "{have} needs {need}");
        }
    }

    #[test]
    fn may_issue_table() {
        assert_eq!(may_issue(false, Some(Deploy), None), Ok(()));
        assert_eq!(may_issue(false, Some(Deploy), Some(Show)), Ok(()));
        assert_eq!(may_issue(false, Some(Deploy), Some(Deploy)), Ok(()));
        assert_eq!(
            may_issue(false, Some(Deploy), Some(Manage)),
            Err(IssueError::AboveOwnLevel { asked: Manage, own: Deploy })
        );
        assert_eq!(may_issue(false, None, Some(Show)), Err(IssueError::AboveOwnLevel { asked: Show, own: Deny }));
        assert_eq!(may_issue(true, None, Some(Manage)), Ok(()));
        assert_eq!(may_issue(true, None, Some(Deny)), Err(IssueError::Useless));
    }
}
