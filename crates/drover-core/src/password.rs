//! What a user's console password must be, and how many wrong ones a name may take: a password
//! is checked here before it is hashed (the server keeps only its Argon2id hash).

use crate::rate_limit::Limit;

/// The shortest password taken, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest, in bytes (hashing a huge one would cost the server).
pub const MAX_BYTES: usize = 1024;

/// Wrong passwords one user name may take: five at once, then one a minute.
pub const WRONG_GUESSES: Limit = Limit { per_second: 1.0 / 60.0, burst: 5.0 };

/// Why a new password is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("a password has at least {MIN_CHARS} characters; this one has {0}")]
    TooShort(usize),
    /// Too long.
    #[error("a password has at most {MAX_BYTES} bytes")]
    TooLong,
    /// One character repeated, or the user's own name.
    #[error("a password that is one character repeated, or contains the user's name, is too easy to guess")]
    Guessable,
    /// Control characters (a pasted newline, say).
    #[error("a password cannot contain control characters (a newline pasted with it?)")]
    Control,
}

/// Checks a new password for `user`.
pub fn check_new(password: &str, user: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if password.len() > MAX_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::Control);
    }
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort(chars));
    }
    let mut distinct = password.chars().collect::<Vec<_>>();
    distinct.dedup();
    if distinct.len() == 1 || (!user.is_empty() && password.to_lowercase().contains(&user.to_lowercase())) {
        return Err(PasswordError::Guessable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords() {
        let long = "x".repeat(MAX_BYTES + 1);
        // (password, user, result)
        let cases: [(&str, &str, Result<(), PasswordError>); 8] = [
            ("correct horse battery", "dana", Ok(())),
            ("short", "dana", Err(PasswordError::TooShort(5))),
            ("ünïcödé-ünïc", "dana", Ok(())),
            ("ünïcödé", "dana", Err(PasswordError::TooShort(7))),
            ("aaaaaaaaaaaaaaaa", "dana", Err(PasswordError::Guessable)),
            ("my-name-is-DANA!", "dana", Err(PasswordError::Guessable)),
            ("correct horse\nbattery", "dana", Err(PasswordError::Control)),
            (&long, "dana", Err(PasswordError::TooLong)),
        ];
        for (password, user, result) in cases {
            assert_eq!(check_new(password, user), result, "{password:?}");
        }
    }
}
