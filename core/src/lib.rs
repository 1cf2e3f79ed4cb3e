//! # smbsign
//!
//! SMB2/SMB3 message signing: HMAC-SHA256 (SMB 2.0.2, 2.1), AES-128-CMAC
//! (SMB 3.0, 3.0.2, 3.1.1 default) and AES-128-GMAC (SMB 3.1.1 with
//! SIGNING_CAPABILITIES), in-place PDU signing and verification over contiguous
//! or scatter-gather buffers and compound chains, the SP 800-108 key derivations
//! and the 3.1.1 preauth integrity hash.
//!
//! Kernels are chosen once at run time ([`backend`]): x86-64 AES-NI, PCLMULQDQ,
//! VPCLMULQDQ (ymm and zmm) and SHA-NI; ARMv8 AES, PMULL and SHA2; or a
//! portable constant-time fallback.
//!
//! ```
//! use smbsign::smb2::{self, Algorithm, SigningKey};
//!
//! let alg = Algorithm::for_dialect(smb2::dialect::SMB3_1_1, Some(2))?; // AES-GMAC
//! let key = SigningKey::new(alg, &[0x42; 16])?;
//! let mut pdu = vec![0u8; 100];
//! pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
//! smb2::sign_pdu(&key, &mut pdu)?;
//! smb2::verify_pdu(&key, &pdu)?;
//! pdu[80] ^= 1;
//! assert!(smb2::verify_pdu(&key, &pdu).is_err());
//! # Ok::<(), smbsign::Error>(())
//! ```

#![warn(missing_docs)]
#![cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    forbid(unsafe_code)
)]

pub mod backend;
pub mod batch;
pub mod cipher;
pub mod ct;
mod error;
pub mod kdf;
pub mod mac;
pub mod preauth;
mod scrub;
pub mod smb2;
mod wipe;

pub use backend::{Backend, BackendInfo, Tier};
pub use error::{Error, Result};
pub use mac::{cmac, gmac, hmac};
pub use preauth::PreauthHash;
pub use smb2::{sign_pdu, verify_pdu, Algorithm, SigningKey};

/// What the process-wide backend is, per algorithm, and why.
#[must_use]
pub fn backend_info() -> BackendInfo {
    backend::info()
}
