//! Which commit a revision names, read from what `git ls-remote` lists. The server resolves a
//! deployment's revision once, so that every instance of the deployment builds the same commit.

use thiserror::Error;

/// Why a revision names no commit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RevisionError {
    /// Neither a branch, a tag nor a full commit SHA of the repository.
    #[error(
        "revision {0:?} is not a branch or tag of the app's repository; give a branch, a tag or a full 40-character commit SHA"
    )]
    Unknown(String),
    /// A short hex string that is no ref: `ls-remote` cannot see commits, only refs.
    #[error("revision {0:?} looks like an abbreviated commit SHA; give the full 40-character SHA")]
    Abbreviated(String),
    /// The repository lists no `HEAD`.
    #[error("the app's repository has no default branch (HEAD); give the app a revision")]
    NoHead,
}

/// Whether `rev` is a full commit SHA (SHA-1 or SHA-256 object names).
pub fn is_full_sha(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The refs a listing names, in the order git itself prefers them for a short name (a branch
/// before a tag; an annotated tag by the commit it points to).
fn candidates(rev: &str) -> Vec<String> {
    if rev == "HEAD" || rev.starts_with("refs/") {
        return vec![format!("{rev}^{{}}"), rev.to_owned()];
    }
    vec![
        format!("refs/heads/{rev}"),
        format!("refs/tags/{rev}^{{}}"),
        format!("refs/tags/{rev}"),
        format!("refs/remotes/{rev}"),
    ]
}

/// Picks the commit `rev` names from `git ls-remote` output (`<sha>\t<ref>` lines); `None`
/// names the default branch. A full SHA is taken as it is: the instances check that it exists.
pub fn pick_commit(listing: &str, rev: Option<&str>) -> Result<String, RevisionError> {
    let rev = rev.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = rev.filter(|r| is_full_sha(r)) {
        return Ok(r.to_owned());
    }
    let refs: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(sha, _)| is_full_sha(sha))
        .map(|(sha, name)| (sha, name.trim()))
        .collect();
    let wanted = rev.unwrap_or("HEAD");
    for candidate in candidates(wanted) {
        if let Some((sha, _)) = refs.iter().find(|(_, name)| *name == candidate) {
            return Ok((*sha).to_owned());
        }
    }
    match rev {
        None => Err(RevisionError::NoHead),
        Some(r) if (4..40).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Err(RevisionError::Abbreviated(r.to_owned()))
        }
        Some(r) => Err(RevisionError::Unknown(r.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const C: &str = "3333333333333333333333333333333333333333";
    const D: &str = "4444444444444444444444444444444444444444";

    fn listing() -> String {
        format!(
            "{A}\tHEAD\n{A}\trefs/heads/main\n{B}\trefs/heads/v1\n{C}\trefs/tags/v1\n\
             {C}\trefs/tags/release\n{D}\trefs/tags/release^{{}}\n{B}\trefs/heads/feature/x\n"
        )
    }

    #[test]
    fn revisions_to_commits() {
        let cases: &[(Option<&str>, Result<&str, RevisionError>)] = &[
            (None, Ok(A)),
            (Some("HEAD"), Ok(A)),
            (Some("main"), Ok(A)),
            (Some(" main "), Ok(A)),
            (Some("refs/heads/main"), Ok(A)),
            // A branch wins over a tag of the same name, as in git.
            (Some("v1"), Ok(B)),
            (Some("refs/tags/v1"), Ok(C)),
            // An annotated tag names the commit it points to, not the tag object.
            (Some("release"), Ok(D)),
            (Some("feature/x"), Ok(B)),
            (Some(D), Ok(D)),
            (Some("cafe1234"), Err(RevisionError::Abbreviated("cafe1234".into()))),
            (Some("nope"), Err(RevisionError::Unknown("nope".into()))),
            (Some("x"), Err(RevisionError::Unknown("x".into()))),
        ];
        for (rev, want) in cases {
            assert_eq!(pick_commit(&listing(), *rev), want.clone().map(str::to_owned), "{rev:?}");
        }
    }

    #[test]
    fn no_head() {
        assert_eq!(pick_commit("", None), Err(RevisionError::NoHead));
        assert_eq!(pick_commit("garbage\n", Some(A)), Ok(A.to_owned()));
    }

    #[test]
    fn full_shas() {
        assert!(is_full_sha(A));
        assert!(is_full_sha(&"a".repeat(64)));
        assert!(!is_full_sha(&"A".repeat(40)));
        assert!(!is_full_sha(&"g".repeat(40)));
        assert!(!is_full_sha("abc"));
    }
}
