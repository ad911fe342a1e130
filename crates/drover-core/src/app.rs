//! Checks of an app's source settings: git URL, revision, environment variable names, deploy key.

/// Why a setting was refused; the message says what to use instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppSettingError(pub String);

fn refuse(msg: impl Into<String>) -> Result<(), AppSettingError> {
    Err(AppSettingError(msg.into()))
}

/// A git repository location the `git` CLI can clone: `https://`, `http://`, `ssh://`, `git://`,
/// `file://`, scp-like `user@host:path`, or an absolute path.
pub fn check_repository(url: &str) -> Result<(), AppSettingError> {
    if url.is_empty() || url.len() > 2048 {
        return refuse("give the app's git repository URL (https://..., ssh://..., git@host:path or /path)");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return refuse("a repository URL cannot contain spaces or control characters");
    }
    if url.starts_with('-') {
        return refuse("a repository URL cannot start with '-'");
    }
    let schemes = ["https://", "http://", "ssh://", "git://", "file://"];
    let scp_like = url.split_once(':').is_some_and(|(host, path)| {
        !host.is_empty() && !host.contains('/') && !path.is_empty() && !path.starts_with("//")
    });
    if schemes.iter().any(|s| url.starts_with(s) && url.len() > s.len()) || url.starts_with('/') || scp_like {
        Ok(())
    } else {
        refuse(format!(
            "{url:?} is not a git URL; use https://..., ssh://..., git@host:path, file:// or an absolute path"
        ))
    }
}

/// A branch, tag or commit SHA, by git's rules for ref names (roughly: no spaces, `..`, `~^:?*[\`,
/// no leading `-` or `/`, no trailing `.lock`).
pub fn check_revision(rev: &str) -> Result<(), AppSettingError> {
    let bad = rev.is_empty()
        || rev.len() > 255
        || rev.starts_with('-')
        || rev.starts_with('/')
        || rev.ends_with('/')
        || rev.ends_with('.')
        || rev.ends_with(".lock")
        || rev.contains("..")
        || rev.contains("@{")
        || rev.contains("//")
        || rev.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    if bad { refuse(format!("{rev:?} is not a branch, tag or commit SHA git accepts")) } else { Ok(()) }
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters.
pub fn check_env_name(name: &str) -> Result<(), AppSettingError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128;
    if ok {
        Ok(())
    } else {
        refuse(format!("{name:?} is not a variable name; use letters, digits and '_', not starting with a digit"))
    }
}

/// An SSH private key in PEM or OpenSSH format.
pub fn check_deploy_key(key: &str) -> Result<(), AppSettingError> {
    let key = key.trim();
    let framed = key.starts_with("-----BEGIN ") && key.ends_with("-----") && key.contains("PRIVATE KEY-----");
    if !framed {
        return refuse("the deploy key is not an SSH private key (expected -----BEGIN ... PRIVATE KEY-----)");
    }
    if key.contains("ENCRYPTED") {
        return refuse("the deploy key is protected by a passphrase; deploys cannot type it, so use a key without one");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        for (url, ok) in [
            ("https://github.com/org/site.git", true),
            ("ssh://git@example.org/site.git", true),
            ("git@github.com:org/site.git", true),
            ("file:///srv/git/site.git", true),
            ("/srv/git/site.git", true),
            ("", false),
            ("site.git", false),
            ("https://", false),
            ("-uupload-pack=evil", false),
            ("https://x/ y", false),
            ("ftp//x", false),
        ] {
            assert_eq!(check_repository(url).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn revisions() {
        for (rev, ok) in [
            ("main", true),
            ("release/6.1", true),
            ("v1.2.3", true),
            ("0123456789abcdef0123456789abcdef01234567", true),
            ("", false),
            ("-x", false),
            ("a..b", false),
            ("a b", false),
            ("a~1", false),
            ("HEAD^", false),
            ("a:b", false),
            ("x.lock", false),
            ("@{-1}", false),
        ] {
            assert_eq!(check_revision(rev).is_ok(), ok, "{rev}");
        }
    }

    #[test]
    fn env_names() {
        for (name, ok) in [("PATH", true), ("_x1", true), ("1X", false), ("A-B", false), ("", false), ("É", false)] {
            assert_eq!(check_env_name(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn deploy_keys() {
        let ok = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
        assert!(check_deploy_key(ok).is_ok());
        assert!(check_deploy_key("ssh-ed25519 AAAA... user@host").is_err());
        let enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n-----END RSA PRIVATE KEY-----";
        assert!(check_deploy_key(enc).unwrap_err().0.contains("passphrase"));
    }
}
