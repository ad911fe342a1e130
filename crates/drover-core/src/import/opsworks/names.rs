//! OpsWorks names as Drover names: lowercase letters, digits, `_` and `-`, at most 32
//! characters, starting with a letter or digit.

use crate::names::MAX_NAME_LEN;

/// `raw` made a valid Drover name (`My Plone Stack` → `my-plone-stack`).
pub fn drover_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '_');
    let mut out: String = out.chars().take(MAX_NAME_LEN).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "imported".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_valid() {
        for (raw, want) in [
            ("plone_instances", "plone_instances"),
            ("My Plone Stack", "my-plone-stack"),
            ("  web--1 ", "web-1"),
            ("***** YOUR APP NAME *****", "your-app-name"),
            ("***", "imported"),
            ("a-very-long-name-that-goes-on-and-on-and-on", "a-very-long-name-that-goes-on-an"),
        ] {
            let got = drover_name(raw);
            assert_eq!(got, want, "{raw}");
            crate::Shortname::parse(&got).unwrap();
        }
    }
}
