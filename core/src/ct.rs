//! Constant-time comparison: the one place tags are compared.

/// Returns whether `a == b`, in time that depends only on the lengths.
///
/// The bytes are folded into one accumulator with no early exit; `black_box`
/// keeps the optimiser from turning the fold back into a short-circuit compare.
#[must_use]
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= core::hint::black_box(x ^ y);
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares() {
        assert!(super::eq(b"", b""));
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"xbc", b"abc"));
        assert!(!super::eq(b"ab", b"abc"));
    }
}
