//! The SMB 3.1.1 preauth integrity hash (MS-SMB2 3.2.5.2, 3.3.5.4):
//! `H = SHA-512(H || message)` over each NEGOTIATE and SESSION_SETUP message,
//! starting from 64 zero bytes.

use sha2::{Digest, Sha512};
use zeroize::Zeroize;

/// Length of the hash value.
pub const HASH_LEN: usize = 64;

/// A running preauth integrity hash value.
#[derive(Clone)]
pub struct PreauthHash {
    value: [u8; HASH_LEN],
}

impl Default for PreauthHash {
    fn default() -> Self {
        PreauthHash::new()
    }
}

impl PreauthHash {
    /// The initial value: 64 zero bytes.
    #[must_use]
    pub fn new() -> PreauthHash {
        PreauthHash {
            value: [0; HASH_LEN],
        }
    }

    /// Resumes from a saved value (for example the connection's, when a session forks it).
    #[must_use]
    pub fn from_value(value: [u8; HASH_LEN]) -> PreauthHash {
        PreauthHash { value }
    }

    /// Chains one whole message: `H = SHA-512(H || message)`.
    pub fn update(&mut self, message: &[u8]) {
        self.update_vectored(&[message]);
    }

    /// Chains one message given as pieces.
    pub fn update_vectored<B: core::ops::Deref<Target = [u8]>>(&mut self, pieces: &[B]) {
        let mut h = Sha512::new();
        h.update(self.value);
        for p in pieces {
            h.update(&**p);
        }
        self.value.copy_from_slice(&h.finalize());
    }

    /// The current value.
    #[must_use]
    pub fn value(&self) -> &[u8; HASH_LEN] {
        &self.value
    }
}

impl Drop for PreauthHash {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl core::fmt::Debug for PreauthHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreauthHash").finish_non_exhaustive()
    }
}
