//! The cap on a command's output: where a log is cut to keep its tail, and the marker lines
//! that stand in for what is gone.

/// How far past the minimum a cut may move to end on a line break, so the kept tail starts
/// with a whole line.
pub const LINE_SLACK: usize = 4096;

/// Where to cut `text` to drop at least `at_least` bytes from its front: just after a line
/// break if one follows within [`LINE_SLACK`] bytes, else the next character boundary; the
/// whole text when it is shorter.
pub fn cut_point(text: &str, at_least: usize) -> usize {
    if at_least >= text.len() {
        return text.len();
    }
    let mut at = at_least;
    while !text.is_char_boundary(at) {
        at += 1;
    }
    let window = &text.as_bytes()[at..text.len().min(at + LINE_SLACK)];
    // At a line start already (or the break is the byte before): nothing to move.
    if at == 0 || text.as_bytes()[at - 1] == b'\n' {
        return at;
    }
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => at + i + 1,
        None => at,
    }
}

/// Whether a buffer of `len` bytes should be cut back to `cap`: only once it is an eighth over,
/// so a flood costs one cut per `cap / 8` bytes rather than one per write.
pub fn over_cap(len: usize, cap: usize) -> bool {
    len > cap.saturating_add(cap / 8)
}

/// The line that stands for `bytes` cut to keep the log under its cap.
pub fn cut_marker(bytes: u64) -> String {
    format!("[drover: {bytes} bytes of output cut here]\n")
}

/// The line that stands for `bytes` the server had acknowledged but no longer holds.
pub fn lost_marker(bytes: u64) -> String {
    format!("[drover: {bytes} bytes of output lost here: the server no longer had them (was its database restored?)]\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_line_breaks_and_character_boundaries() {
        let long_line = "x".repeat(LINE_SLACK + 10);
        let cases: &[(&str, usize, usize)] = &[
            ("abc\ndef\n", 0, 0),
            ("abc\ndef\n", 1, 4),
            ("abc\ndef\n", 4, 4),
            ("abc\ndef\n", 5, 8),
            ("abc\ndef\n", 100, 8),
            ("é\nz", 1, 3),
            ("éé", 1, 2),
            (&long_line, 1, 1),
        ];
        for (text, at_least, want) in cases {
            assert_eq!(cut_point(text, *at_least), *want, "{text:?} {at_least}");
        }
    }

    #[test]
    fn cuts_once_an_eighth_over() {
        let cases = [(0, 800, false), (800, 800, false), (900, 800, false), (901, 800, true), (usize::MAX, 8, true)];
        for (len, cap, want) in cases {
            assert_eq!(over_cap(len, cap), want, "{len} {cap}");
        }
    }

    #[test]
    fn markers_are_one_line() {
        assert_eq!(cut_marker(123), "[drover: 123 bytes of output cut here]\n");
        assert!(lost_marker(5).starts_with("[drover: 5 bytes of output lost here"));
        assert_eq!(lost_marker(5).lines().count(), 1);
    }
}
