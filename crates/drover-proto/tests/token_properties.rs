//! Arbitrary text as a token: parsing never panics, a refusal says which part is wrong, and an
//! accepted token reads back as itself.

use std::str::FromStr;

use drover_proto::token::Token;
use proptest::prelude::*;

fn token_like() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec!["admin", "join", "agent", "", "ADMIN"]);
    let fingerprint = prop_oneof!["[0-9a-fA-F]{64}", "[0-9a-g]{0,70}"];
    let secret = prop_oneof!["[A-Za-z0-9]{32,128}", "(?s).{0,40}"];
    let url = prop_oneof!["https://127\\.0\\.0\\.1:[0-9]{1,5}", "(?s).{0,30}"];
    let built = (prop::sample::select(vec!["drv1", "drv2", ""]), kind, fingerprint, secret, url)
        .prop_map(|(v, k, f, s, u)| format!("{v}:{k}:{f}:{s}:{u}"));
    prop_oneof![3 => built, 1 => "(?s).{0,120}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_text_is_a_token_or_a_refusal_naming_what_is_wrong(text in token_like()) {
        match Token::from_str(&text) {
            Ok(token) => {
                let again = Token::from_str(&token.to_string());
                prop_assert_eq!(again.as_ref().ok(), Some(&token));
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.contains("the token is not a drover token ("), "{message}");
                prop_assert!(!message.contains("()"), "{message}");
            }
        }
    }
}
