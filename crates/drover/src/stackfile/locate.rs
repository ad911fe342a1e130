//! Positions in a stack file: byte offsets to line and column, and to the TOML key path there
//! (the `toml` crate's errors carry a span but not the path of the key it is in).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Line and column (1-based, columns in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A TOML key as it is written in a path: bare when it can be, quoted otherwise.
pub fn key(k: &str) -> String {
    let bare = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_owned() } else { toml::Value::String(k.to_owned()).to_string() }
}

/// The path of the deepest key whose key or value covers `offset` (`stack.custom_json`,
/// `instances[1].layers[0]`); when none does (a syntax error), the nearest key before it.
pub fn key_path_at(text: &str, offset: usize) -> Option<String> {
    // A partial tree still locates a syntax error.
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut finder = Finder { offset, covering: None, before: None };
    finder.table(doc.get_ref(), "");
    finder.covering.map(|(_, _, path)| path).or(finder.before.map(|(_, path)| path))
}

struct Finder {
    offset: usize,
    /// The deepest (then the narrowest) covering entry: (depth, span width, path).
    covering: Option<(usize, usize, String)>,
    /// The entry whose key starts last before the offset: (start, path).
    before: Option<(usize, String)>,
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || (span.is_empty() && offset == span.start))
}

impl Finder {
    fn table(&mut self, table: &DeTable<'_>, prefix: &str) {
        for (k, v) in table {
            let path = if prefix.is_empty() { key(k.get_ref()) } else { format!("{prefix}.{}", key(k.get_ref())) };
            self.entry(k.span(), v, path);
        }
    }

    fn entry(&mut self, key_span: Range<usize>, value: &Spanned<DeValue<'_>>, path: String) {
        let depth = path.matches(['.', '[']).count() + 1;
        for span in [key_span.clone(), value.span()] {
            let better = match &self.covering {
                None => true,
                Some((d, w, _)) => depth > *d || (depth == *d && span.len() < *w),
            };
            if covers(&span, self.offset) && better {
                self.covering = Some((depth, span.len(), path.clone()));
            }
        }
        if key_span.start <= self.offset && self.before.as_ref().is_none_or(|(start, _)| key_span.start >= *start) {
            self.before = Some((key_span.start, path.clone()));
        }
        match value.get_ref() {
            DeValue::Table(t) => self.table(t, &path),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.entry(item.span(), item, format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[stack]\nname = \"demo\"\n\n[layers.clients]\ntype = \"x\"\nhooks = { configure = \"a\" }\n\n[[instances]]\nhostname = \"c1\"\nlayers = [\"a\", \"b\"]\n";

    fn at(needle: &str) -> usize {
        DOC.find(needle).unwrap()
    }

    #[test]
    fn offsets_become_key_paths() {
        let cases = [
            ("\"demo\"", "stack.name"),
            ("type", "layers.clients.type"),
            ("\"x\"", "layers.clients.type"),
            ("configure", "layers.clients.hooks.configure"),
            ("\"c1\"", "instances[0].hostname"),
            ("\"b\"", "instances[0].layers[1]"),
        ];
        for (needle, want) in cases {
            assert_eq!(key_path_at(DOC, at(needle)).as_deref(), Some(want), "{needle}");
        }
    }

    #[test]
    fn lines_and_columns() {
        assert_eq!(line_col(DOC, 0), (1, 1));
        assert_eq!(line_col(DOC, at("\"x\"")), (5, 8));
        assert_eq!(line_col("é\nab", 4), (2, 2));
    }

    #[test]
    fn keys_are_quoted_when_needed() {
        assert_eq!(key("site"), "site");
        assert_eq!(key("a.b"), "\"a.b\"");
    }
}
