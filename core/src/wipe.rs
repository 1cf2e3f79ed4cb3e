//! Bulk erasure of key-dependent scratch buffers.
//!
//! `zeroize` writes slices one volatile element at a time, which for byte
//! buffers costs one store per byte; batch scratch space is kilobytes per
//! call. Here the buffer is overwritten with ordinary (vectorised) stores and
//! then observed by `zeroize::optimization_barrier`, which keeps the compiler
//! from removing the writes as dead.

/// Overwrites `buf` with zeros.
pub(crate) fn wipe<T: Copy + Default>(buf: &mut [T]) {
    buf.fill(T::default());
    zeroize::optimization_barrier(buf);
}
