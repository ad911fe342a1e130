//! What a value rendered into `haproxy.cfg`, `nginx.conf` or `deploy.cfg` may hold. Addresses
//! come from agents and scalars from Custom JSON: a newline in one starts a new directive (an
//! HAProxy `program` section runs commands), a `;`, `{`, `}` or `#` ends one early. The render
//! functions check their typed inputs by kind first and name the field of any refused value;
//! [`single_line_formatter`] refuses a line break in any templated scalar as a second line of
//! defence. Fields meant to hold config text are rendered with `| safe` and stay raw.

use crate::facts::shown;

/// What a rendered value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// One line: no line break, NUL or other control character (an INI value).
    Line,
    /// One word of one line, maybe empty: a [`ValueKind::Line`] without whitespace (a
    /// `deploy.cfg` list item; an empty attribute means "not set").
    Word,
    /// A bare token of HAProxy or nginx: a [`ValueKind::Word`] without `;` `{` `}` `#` `$`
    /// quotes or backslashes.
    Token,
    /// A host name or IP address, optionally `:port` or in brackets: letters, digits and
    /// `. - _ : [ ]`, not starting with `-`.
    Host,
    /// A section or part name: letters, digits and `_ . -`.
    Name,
}

impl ValueKind {
    /// Whether `s` is of this kind.
    pub fn accepts(self, s: &str) -> bool {
        let line = !s.chars().any(char::is_control);
        let word = line && !s.chars().any(char::is_whitespace);
        match self {
            Self::Line => line,
            Self::Word => word,
            Self::Token => word && !s.is_empty() && !s.contains([';', '{', '}', '#', '$', '"', '\'', '`', '\\']),
            Self::Host => {
                !s.is_empty()
                    && !s.starts_with('-')
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
            }
            Self::Name => !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')),
        }
    }

    /// What a value of this kind must be, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Line => "one line of text (no line break or control character)",
            Self::Word => "one word (no whitespace, line break or control character)",
            Self::Token => "one bare word (no whitespace, line break, control character or any of ; { } # $ \" ' ` \\)",
            Self::Host => "a host name or IP address, optionally with :port (letters, digits and . - _ : [ ])",
            Self::Name => "a name of letters, digits, '_', '.' and '-'",
        }
    }
}

/// A value a config must not get.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} holds {found}, which is not {expected}")]
pub struct Unsafe {
    /// Where it came from, e.g. `haproxy.stats_user` or `servers.web1-client1.address`.
    pub path: String,
    /// What it must be.
    pub expected: &'static str,
    /// What it is (quoted, escaped, shortened).
    pub found: String,
}

/// Collects every unsafe value of one render's inputs.
#[derive(Debug, Default)]
pub struct Checker {
    /// What was refused.
    pub errors: Vec<Unsafe>,
}

impl Checker {
    /// Checks one value.
    pub fn check(&mut self, kind: ValueKind, path: impl Into<String>, value: &str) -> &mut Self {
        if !kind.accepts(value) {
            self.errors.push(Unsafe { path: path.into(), expected: kind.describe(), found: shown(value) });
        }
        self
    }

    /// Checks a value that may be absent.
    pub fn check_opt(&mut self, kind: ValueKind, path: impl Into<String>, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.check(kind, path, v);
        }
        self
    }

    /// Every refusal, or nothing.
    pub fn finish(self) -> Result<(), Vec<Unsafe>> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

/// The message of a render refused for unsafe inputs: every one of them, and what to do.
pub fn refusal_message(file: &str, errors: &[Unsafe]) -> String {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    format!(
        "refused to render {file}: {} value(s) would break its syntax; the file was not changed. Fix the Custom JSON \
         attribute or the instance's address named here:\n{}",
        errors.len(),
        lines.join("\n")
    )
}

/// A minijinja formatter that refuses a line break, CR or NUL in any value a template prints,
/// unless the template marked it raw with `| safe`; otherwise it prints as the default does.
pub fn single_line_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if !value.is_safe() {
        let text = value.to_string();
        if text.contains(['\n', '\r', '\0']) {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("the value {} holds a line break, which would start a new directive", shown(&text)),
            ));
        }
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueKind::*;

    #[test]
    fn kinds() {
        let cases = [
            (Line, "postgres://u@h/db?x=1 y", true),
            (Line, "", true),
            (Line, "a\nb", false),
            (Line, "a\rb", false),
            (Line, "a\0", false),
            (Line, "tab\there", false),
            (Word, "cfg/base.cfg", true),
            (Word, "https://dist.plone.org/versions.cfg", true),
            (Word, "a b", false),
            (Word, "", true),
            (Token, "leastconn", true),
            (Token, "/balancer/stats", true),
            (Token, "s3cr3t:pass", true),
            (Token, "a;b", false),
            (Token, "a{", false),
            (Token, "}", false),
            (Token, "#x", false),
            (Token, "\"x\"", false),
            (Token, "it's", false),
            (Token, "${HOME}", false),
            (Token, "a\\b", false),
            (Host, "127.0.0.5:8001", true),
            (Host, "db_1.internal", true),
            (Host, "[::1]:8080", true),
            (Host, "10.0.0.1\nprogram x", false),
            (Host, "a b", false),
            (Host, "-x", false),
            (Host, "", false),
            (Name, "client1", true),
            (Name, "zodbpack-prepack", true),
            (Name, "part]\n[evil", false),
            (Name, "a:b", false),
        ];
        for (kind, s, want) in cases {
            assert_eq!(kind.accepts(s), want, "{kind:?} {s:?}");
        }
    }

    #[test]
    fn every_refusal_names_its_path() {
        let mut c = Checker::default();
        c.check(Host, "servers.web1-client1.address", "10.0.0.1\n")
            .check(Token, "haproxy.balance", "leastconn")
            .check_opt(Line, "relstorage.password", Some("a\nb"))
            .check_opt(Line, "blob_dir", None);
        let errors = c.finish().unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["servers.web1-client1.address", "relstorage.password"]);
        let message = refusal_message("haproxy.cfg", &errors);
        assert!(message.contains(r#"servers.web1-client1.address holds "10.0.0.1\n""#), "{message}");
    }

    #[test]
    fn the_formatter_refuses_a_line_break_unless_marked_safe() {
        let mut env = minijinja::Environment::new();
        env.set_formatter(single_line_formatter);
        let render = |src: &str, v: &str| env.render_str(src, minijinja::context! { v => v });
        assert_eq!(render("x = {{ v }}", "1").unwrap(), "x = 1");
        let e = render("x = {{ v }}", "1\n[evil]").unwrap_err();
        assert!(e.to_string().contains("line break"), "{e}");
        assert_eq!(render("{{ v | safe }}", "a\nb").unwrap(), "a\nb");
        assert_eq!(render("{% for l in [1, 2] %}{{ l }}\n{% endfor %}", "").unwrap(), "1\n2\n");
    }
}
