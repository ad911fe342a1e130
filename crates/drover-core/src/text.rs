//! Turning a child's output bytes into text without splitting characters.

/// Splits `buf` into the text that can be sent now and the bytes to keep for later.
///
/// A multi-byte character cut at the end of a read is kept back until the next read completes
/// it; bytes that can never be valid UTF-8 are replaced with U+FFFD.
pub fn take_utf8(buf: &[u8]) -> (String, &[u8]) {
    let mut out = String::new();
    let mut rest = buf;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return (out, &[]);
            }
            Err(e) => {
                let (good, tail) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                match e.error_len() {
                    Some(bad) => {
                        out.push('\u{FFFD}');
                        rest = &tail[bad..];
                    }
                    None => return (out, tail),
                }
            }
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn prefix_at_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_cut_characters_for_later() {
        let e_acute = "é".as_bytes(); // 2 bytes
        let cases: &[(&[u8], &str, &[u8])] = &[
            (b"plain", "plain", b""),
            (&[b'a', e_acute[0]], "a", &[e_acute[0]]),
            (&[b'a', 0xff, b'b'], "a\u{FFFD}b", b""),
            (b"", "", b""),
        ];
        for (input, text, rest) in cases {
            let (got, left) = take_utf8(input);
            assert_eq!((got.as_str(), left), (*text, *rest), "{input:?}");
        }
    }

    #[test]
    fn prefixes_end_on_boundaries() {
        assert_eq!(prefix_at_boundary("abc", 10), "abc");
        assert_eq!(prefix_at_boundary("abc", 2), "ab");
        assert_eq!(prefix_at_boundary("aé", 2), "a");
        assert_eq!(prefix_at_boundary("aé", 3), "aé");
    }
}
