//! Which command logs to drop: the last `keep` finished commands of an instance keep theirs.

/// Given an instance's finished command ids, oldest first, the ids whose logs to drop.
pub fn logs_to_prune(finished_oldest_first: &[i64], keep: usize) -> &[i64] {
    let excess = finished_oldest_first.len().saturating_sub(keep);
    &finished_oldest_first[..excess]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest() {
        let cases: &[(&[i64], usize, &[i64])] = &[
            (&[], 30, &[]),
            (&[1, 2, 3], 30, &[]),
            (&[1, 2, 3], 3, &[]),
            (&[1, 2, 3, 4], 3, &[1]),
            (&[1, 2, 3, 4], 1, &[1, 2, 3]),
            (&[1, 2], 0, &[1, 2]),
        ];
        for (ids, keep, want) in cases {
            assert_eq!(logs_to_prune(ids, *keep), *want, "{ids:?} keep {keep}");
        }
    }
}
