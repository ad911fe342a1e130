//! Redaction of secrets in buildout configuration text (a release's `deploy.cfg`), so what the
//! API shows of a release carries no password.
//!
//! Redacted: the value of every option whose name looks secret (and its continuation lines);
//! in any value, a continuation line whose first word looks secret (`environment-vars` holds
//! `NAME value` lines); `password=…` pairs (libpq DSNs) and the password of a URL
//! (`scheme://user:password@host`).

use super::REDACTED;

/// Whether an option or variable name looks like it holds a secret.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    ["password", "passwd", "secret", "token", "private_key", "ssh_key", "credential", "api_key", "access_key"]
        .iter()
        .any(|s| n.contains(s))
        || n.ends_with("_key")
}

/// `deploy.cfg` text with its secrets replaced by [`REDACTED`].
pub fn redact_cfg_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Inside the continuation lines of an option whose whole value is secret.
    let mut secret_value = false;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let indented = body.starts_with([' ', '\t']);
        let trimmed = body.trim_start();
        let redacted = if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            body.to_owned()
        } else if indented {
            if secret_value {
                format!("{}{REDACTED}", &body[..body.len() - trimmed.len()])
            } else {
                redact_variable_line(body, trimmed)
            }
        } else if trimmed.starts_with('[') {
            secret_value = false;
            body.to_owned()
        } else if let Some((name, value)) = option(body) {
            secret_value = looks_secret(name);
            if secret_value {
                let prefix = &body[..body.len() - value.len()];
                if value.trim().is_empty() { body.to_owned() } else { format!("{prefix}{REDACTED}") }
            } else {
                format!("{}{}", &body[..body.len() - value.len()], redact_inline(value))
            }
        } else {
            redact_inline(body)
        };
        out.push_str(&redacted);
        out.push_str(end);
    }
    out
}

/// `name = value` (also `+=`, `-=`): the name and the value after the operator and its spaces.
fn option(line: &str) -> Option<(&str, &str)> {
    let eq = line.find('=')?;
    let name = line[..eq].trim_end_matches(['+', '-']).trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let value = line[eq + 1..].trim_start();
    Some((name, value))
}

/// A continuation line: `NAME value` or `NAME=value` with a secret-looking name loses its value.
fn redact_variable_line(body: &str, trimmed: &str) -> String {
    let indent = &body[..body.len() - trimmed.len()];
    let split = trimmed.find(|c: char| c.is_whitespace() || c == '=');
    if let Some(at) = split {
        let (name, rest) = trimmed.split_at(at);
        if looks_secret(name) {
            let sep_len = rest.len() - rest.trim_start_matches(|c: char| c.is_whitespace() || c == '=').len();
            if rest.len() > sep_len {
                return format!("{indent}{name}{}{REDACTED}", &rest[..sep_len]);
            }
        }
    }
    format!("{indent}{}", redact_inline(trimmed))
}

/// Passwords inside a value: `password=…` pairs and URL userinfo.
fn redact_inline(value: &str) -> String {
    redact_url_passwords(&redact_password_pairs(value))
}

/// `password=secret` / `password='sec ret'` (libpq key/value DSNs), any case.
fn redact_password_pairs(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find("password") {
        let key_end = at + found + "password".len();
        let after = &value[key_end..];
        let spaces = after.len() - after.trim_start().len();
        let Some(rest) = after.trim_start().strip_prefix('=') else {
            out.push_str(&value[at..key_end]);
            at = key_end;
            continue;
        };
        let rest_trimmed = rest.trim_start();
        let value_start = key_end + spaces + 1 + (rest.len() - rest_trimmed.len());
        let value_len = if let Some(quoted) = rest_trimmed.strip_prefix('\'') {
            quoted.find('\'').map_or(rest_trimmed.len(), |q| q + 2)
        } else {
            rest_trimmed.find(char::is_whitespace).unwrap_or(rest_trimmed.len())
        };
        out.push_str(&value[at..value_start]);
        if value_len > 0 {
            out.push_str(REDACTED);
        }
        at = value_start + value_len;
    }
    out.push_str(&value[at..]);
    out
}

/// `scheme://user:password@host` → `scheme://user:<redacted>@host`.
fn redact_url_passwords(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    while let Some(found) = value[at..].find("://") {
        let start = at + found + 3;
        out.push_str(&value[at..start]);
        let authority_end =
            value[start..].find(|c: char| c == '/' || c.is_whitespace()).map_or(value.len(), |e| start + e);
        let authority = &value[start..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(atsign), Some(colon)) if colon < atsign => {
                out.push_str(&authority[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&authority[atsign..]);
            }
            _ => out.push_str(authority),
        }
        at = authority_end;
    }
    out.push_str(&value[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_and_keeps_the_rest() {
        let cases = [
            // Plain options keep their values.
            ("[buildout]\nparts =\n    instance\n", "[buildout]\nparts =\n    instance\n"),
            ("[zeo-host]\naddress = 10.0.0.1:8100", "[zeo-host]\naddress = 10.0.0.1:8100"),
            // A secret-looking option name.
            ("[relstorage]\nuser = plone\npassword = hunter2\n", "[relstorage]\nuser = plone\npassword = <redacted>\n"),
            ("secret-key=abc\n", "secret-key=<redacted>\n"),
            ("api_token += abc\n", "api_token += <redacted>\n"),
            ("aws-access-key = AKIA\n", "aws-access-key = <redacted>\n"),
            // An empty secret stays empty (nothing to hide, and it shows it is unset).
            ("password = \n", "password = \n"),
            // Continuation lines of a secret option.
            ("password =\n    one\n    two\nhost = h\n", "password =\n    <redacted>\n    <redacted>\nhost = h\n"),
            // libpq DSNs.
            (
                "dsn = dbname=plone user=z password=s3cret host=db\n",
                "dsn = dbname=plone user=z password=<redacted> host=db\n",
            ),
            ("dsn = password = 'a b' host=db", "dsn = password = <redacted> host=db"),
            ("dsn = PASSWORD=x", "dsn = PASSWORD=<redacted>"),
            // URLs with a password.
            ("dsn = postgresql://plone:pw@db:5432/plone\n", "dsn = postgresql://plone:<redacted>@db:5432/plone\n"),
            ("find-links = https://user@host/simple\n", "find-links = https://user@host/simple\n"),
            ("find-links =\n    https://u:p@host/x\n", "find-links =\n    https://u:<redacted>@host/x\n"),
            // Environment variables in continuation lines.
            (
                "environment-vars =\n    TZ UTC\n    SECRET_KEY abc def\n    DB_PASSWORD=x\n",
                "environment-vars =\n    TZ UTC\n    SECRET_KEY <redacted>\n    DB_PASSWORD=<redacted>\n",
            ),
            // Comments and section headers are left alone.
            ("# password = x\n[password]\n", "# password = x\n[password]\n"),
            // A secret option's continuation stops at the next option or section.
            ("token = a\n[s]\nx =\n    y\n", "token = <redacted>\n[s]\nx =\n    y\n"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_cfg_text(input), want, "{input:?}");
        }
    }

    #[test]
    fn never_leaves_the_secret_in_a_rendered_relstorage_section() {
        let text = "[relstorage]\ndbname = plone\nhost = db\nport = 5432\nuser = z\npassword = Zz9-secret\n";
        let out = redact_cfg_text(text);
        assert!(!out.contains("Zz9-secret"), "{out}");
        assert!(out.contains("host = db"), "{out}");
    }
}
