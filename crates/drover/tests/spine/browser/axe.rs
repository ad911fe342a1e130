//! The accessibility check: axe-core (vendored in tests/assets; its README names the version) run
//! in the page the browser shows. Every violation is printed with its impact, rule and elements;
//! those of impact "critical" fail the test once all its pages are checked.

use serde_json::Value;

use super::chrome::Chrome;

const AXE: &str = include_str!("../../assets/axe.min.js");

/// Runs axe on the page shown and answers its violations, each as a JSON object with `id`,
/// `impact`, `help` and `targets` (the CSS selectors of the elements).
const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] })
  .then((r) => done(r.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }))))
  .catch((e) => done({ error: String(e) }));
"#;

/// The violations found on each page checked so far.
#[derive(Default)]
pub struct Audit {
    pages: Vec<(String, Vec<Value>)>,
}

impl Audit {
    /// Checks the page shown now, which the report calls `page`.
    pub async fn check(&mut self, chrome: &Chrome, page: &str) {
        let loaded = chrome.js(&format!("{AXE}\nreturn typeof window.axe;"), vec![]).await;
        assert_eq!(loaded, "object", "axe-core did not load on {page}");
        let found = chrome.client.execute_async(RUN, vec![]).await.unwrap_or_else(|e| panic!("axe on {page}: {e}"));
        let Value::Array(violations) = found else { panic!("axe on {page} failed: {found}") };
        for v in &violations {
            eprintln!("axe: {page}: {} {}: {} (on {})", v["impact"], v["id"], v["help"], v["targets"]);
        }
        if violations.is_empty() {
            eprintln!("axe: {page}: no violations");
        }
        self.pages.push((page.to_owned(), violations));
    }

    /// Fails with every critical violation found, page by page.
    pub fn assert_no_critical(&self) {
        let critical: Vec<String> = self
            .pages
            .iter()
            .flat_map(|(page, violations)| {
                violations
                    .iter()
                    .filter(|v| v["impact"] == "critical")
                    .map(move |v| format!("{page}: {} ({}) on {}", v["id"], v["help"], v["targets"]))
            })
            .collect();
        assert!(critical.is_empty(), "critical accessibility violations:\n{}", critical.join("\n"));
    }
}
