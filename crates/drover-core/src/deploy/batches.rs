//! Pacing: parallel (one batch of everything) or rolling (batches of N, in order).

/// Splits targets into batches of `size` (0 or `None` means all at once).
pub fn batches<T: Clone>(targets: &[T], size: Option<usize>) -> Vec<Vec<T>> {
    match size {
        Some(n) if n > 0 => targets.chunks(n).map(<[T]>::to_vec).collect(),
        _ if targets.is_empty() => Vec::new(),
        _ => vec![targets.to_vec()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let t = [1, 2, 3, 4, 5];
        assert_eq!(batches(&t, None), vec![vec![1, 2, 3, 4, 5]]);
        assert_eq!(batches(&t, Some(0)), vec![vec![1, 2, 3, 4, 5]]);
        assert_eq!(batches(&t, Some(1)), vec![vec![1], vec![2], vec![3], vec![4], vec![5]]);
        assert_eq!(batches(&t, Some(2)), vec![vec![1, 2], vec![3, 4], vec![5]]);
        assert_eq!(batches::<i32>(&[], Some(2)), Vec::<Vec<i32>>::new());
        assert_eq!(batches::<i32>(&[], None), Vec::<Vec<i32>>::new());
    }
}
