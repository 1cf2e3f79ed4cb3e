//! The three SMB signing MACs. Each key type precomputes everything once, is
//! `Send + Sync + Clone`, zeroizes on drop, and offers one-shot, vectored
//! (scatter-gather) and incremental forms that agree however the bytes are split.

pub mod cmac;
pub mod gmac;
pub mod hmac;

/// The key an incremental state works with: borrowed, or owned in a box so
/// that a state stays a few words larger than its buffers either way (states
/// are moved by value; an inline GMAC key would make each move copy ~700 bytes).
#[derive(Clone)]
pub(crate) enum KeyRef<'k, K> {
    Borrowed(&'k K),
    Owned(Box<K>),
}

impl<K> core::ops::Deref for KeyRef<'_, K> {
    type Target = K;
    #[inline]
    fn deref(&self) -> &K {
        match self {
            KeyRef::Borrowed(k) => k,
            KeyRef::Owned(k) => k,
        }
    }
}

/// `src` into the front of `dst` (`src.len() <= dst.len()`): up to 64 bytes
/// by fixed-size, possibly overlapping 16-, 8-, 4-byte moves, longer by
/// `memcpy`. A `copy_from_slice` of a length known only at run time is a
/// call to `memcpy`, a third of an update's instructions for the 48 or 16
/// bytes a held update copies (`cmac::State`, `hmac::State` holding Samba's
/// header and signature). No loop: LLVM turns a copying loop back into
/// `memcpy`.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 64 {
        dst[..n].copy_from_slice(src);
    } else if n >= 32 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[16..32].copy_from_slice(&src[16..32]);
        dst[n - 32..n - 16].copy_from_slice(&src[n - 32..n - 16]);
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}
