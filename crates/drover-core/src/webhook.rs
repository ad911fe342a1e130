//! What a signed deploy webhook asks for: the commit in its payload (GitHub's push event
//! `{"ref", "after"}`, or `{"revision"}`), whether it is fresh, and whether it is for the app's
//! branch. The signature itself is checked by the server.

use serde_json::Value;

/// How far a webhook's timestamp may be from the server's clock, either way.
pub const FRESH_SECS: i64 = 300;

/// What a good webhook asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Deploy this commit.
    Deploy {
        /// 40 lowercase hex digits.
        sha: String,
    },
    /// Nothing to do, and why (a push to another branch, a branch deleted).
    Ignore(String),
}

/// Why a webhook is refused, with the JSON path or header at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refusal {
    /// The JSON path or header.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> Refusal {
    Refusal { field: field.to_owned(), message: message.into() }
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A payload's timestamp and where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Its JSON path.
    pub field: &'static str,
    /// Unix seconds.
    pub secs: i64,
}

/// The payload's timestamp in Unix seconds: `timestamp` (drover's own form), or GitHub's
/// `repository.pushed_at`.
pub fn timestamp(payload: &Value) -> Result<Stamp, Refusal> {
    let (field, raw) = if let Some(t) = payload.get("timestamp") {
        ("timestamp", t)
    } else if let Some(t) = payload.pointer("/repository/pushed_at") {
        ("repository.pushed_at", t)
    } else {
        return Err(refuse(
            "timestamp",
            "the payload carries no timestamp (`timestamp` in Unix seconds, or GitHub's repository.pushed_at); \
             without one a replay cannot be told from a new push",
        ));
    };
    let secs = raw.as_i64().ok_or_else(|| refuse(field, "the timestamp must be a whole number of Unix seconds"))?;
    Ok(Stamp { field, secs })
}

/// Whether a timestamp is within [`FRESH_SECS`] of `now`.
pub fn check_fresh(at: Stamp, now: i64) -> Result<(), Refusal> {
    if (now - at.secs).abs() <= FRESH_SECS {
        Ok(())
    } else {
        Err(refuse(
            at.field,
            format!(
                "the payload's timestamp is {}s from the server's clock (at most {FRESH_SECS}s); a stale \
                 delivery is refused: send a new one",
                now - at.secs
            ),
        ))
    }
}

/// What the payload asks for. `branch` is the app's revision when it names a branch: a push to
/// another branch is ignored.
pub fn ask(payload: &Value, branch: Option<&str>) -> Result<Ask, Refusal> {
    if !payload.is_object() {
        return Err(refuse("body", "the payload must be a JSON object"));
    }
    if let Some(rev) = payload.get("revision") {
        let rev = rev.as_str().ok_or_else(|| refuse("revision", "must be a string"))?;
        return if is_sha(rev) {
            Ok(Ask::Deploy { sha: rev.to_ascii_lowercase() })
        } else {
            Err(refuse("revision", format!("{rev:?} is not a full commit SHA (40 hex digits)")))
        };
    }
    let after = payload.get("after").ok_or_else(|| {
        refuse("after", "the payload has neither `revision` nor GitHub's `ref` and `after`; send the commit to deploy")
    })?;
    let after = after.as_str().ok_or_else(|| refuse("after", "must be a string"))?;
    if !is_sha(after) {
        return Err(refuse("after", format!("{after:?} is not a full commit SHA (40 hex digits)")));
    }
    let git_ref =
        payload.get("ref").and_then(Value::as_str).ok_or_else(|| refuse("ref", "GitHub's push event names its ref"))?;
    if payload.get("deleted").and_then(Value::as_bool) == Some(true) || after.bytes().all(|b| b == b'0') {
        return Ok(Ask::Ignore(format!("{git_ref} was deleted")));
    }
    if let Some(branch) = branch
        && git_ref.starts_with("refs/heads/")
        && git_ref != format!("refs/heads/{branch}")
    {
        return Ok(Ask::Ignore(format!("a push to {git_ref}; the app deploys branch {branch}")));
    }
    if git_ref.starts_with("refs/tags/") && branch.is_some() {
        return Ok(Ask::Ignore(format!("a push of {git_ref}; the app deploys branch {}", branch.unwrap_or_default())));
    }
    Ok(Ask::Deploy { sha: after.to_ascii_lowercase() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn asks() {
        let deleted = "0".repeat(40);
        let cases: Vec<(Value, Option<&str>, Result<Ask, &str>)> = vec![
            (json!({"revision": A}), Some("main"), Ok(Ask::Deploy { sha: A.into() })),
            (json!({"revision": A.to_uppercase()}), None, Ok(Ask::Deploy { sha: A.into() })),
            (json!({"revision": "main"}), None, Err("revision")),
            (json!({"revision": 7}), None, Err("revision")),
            (json!({"ref": "refs/heads/main", "after": A}), Some("main"), Ok(Ask::Deploy { sha: A.into() })),
            (json!({"ref": "refs/heads/main", "after": A}), None, Ok(Ask::Deploy { sha: A.into() })),
            (
                json!({"ref": "refs/heads/feature", "after": A}),
                Some("main"),
                Ok(Ask::Ignore("a push to refs/heads/feature; the app deploys branch main".into())),
            ),
            (
                json!({"ref": "refs/tags/v1", "after": A}),
                Some("main"),
                Ok(Ask::Ignore("a push of refs/tags/v1; the app deploys branch main".into())),
            ),
            (
                json!({"ref": "refs/heads/main", "after": deleted, "deleted": true}),
                Some("main"),
                Ok(Ask::Ignore("refs/heads/main was deleted".into())),
            ),
            (json!({"ref": "refs/heads/main", "after": "abc"}), None, Err("after")),
            (json!({"after": A}), None, Err("ref")),
            (json!({"zen": "hi"}), None, Err("after")),
            (json!([1]), None, Err("body")),
        ];
        for (payload, branch, want) in cases {
            let got = ask(&payload, branch);
            match want {
                Ok(w) => assert_eq!(got, Ok(w), "{payload}"),
                Err(field) => assert_eq!(got.map_err(|e| e.field), Err(field.to_owned()), "{payload}"),
            }
        }
    }

    #[test]
    fn timestamps_and_freshness() {
        assert_eq!(timestamp(&json!({"timestamp": 100})), Ok(Stamp { field: "timestamp", secs: 100 }));
        assert_eq!(
            timestamp(&json!({"repository": {"pushed_at": 200}})),
            Ok(Stamp { field: "repository.pushed_at", secs: 200 })
        );
        assert_eq!(timestamp(&json!({"timestamp": "100"})).unwrap_err().field, "timestamp");
        assert_eq!(timestamp(&json!({"repository": {"pushed_at": 1.5}})).unwrap_err().field, "repository.pushed_at");
        assert_eq!(timestamp(&json!({})).unwrap_err().field, "timestamp");
        let at = |secs| Stamp { field: "repository.pushed_at", secs };
        assert!(check_fresh(at(1000), 1000).is_ok());
        assert!(check_fresh(at(1000 - FRESH_SECS), 1000).is_ok());
        assert!(check_fresh(at(1000 + FRESH_SECS), 1000).is_ok());
        assert!(check_fresh(at(1000 + FRESH_SECS + 1), 1000).is_err());
        assert_eq!(check_fresh(at(1000 - FRESH_SECS - 1), 1000).unwrap_err().field, "repository.pushed_at");
    }
}
