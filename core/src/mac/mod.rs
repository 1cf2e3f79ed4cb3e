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
