//! The process-wide backend: `SMBSIGN_BACKEND` if set and available, else
//! the fastest detected, decided once; and [`BackendInfo`], what
//! [`crate::backend_info`] reports about it.

use std::sync::OnceLock;

use super::dispatch::Backend;
use super::tier::Tier;
use crate::error::Error;

/// Why the active backend is what it is.
struct Active {
    backend: Backend,
    /// In words.
    reason: &'static str,
    /// `SMBSIGN_BACKEND` as given, if set.
    requested: Option<String>,
    /// Set when the request could not be honoured and detection was used instead.
    fallback: Option<Error>,
}

fn active_state() -> &'static Active {
    static ACTIVE: OnceLock<Active> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        let requested = std::env::var("SMBSIGN_BACKEND")
            .ok()
            .filter(|s| !s.is_empty());
        match requested
            .as_deref()
            .map(|r| Tier::from_name(r).and_then(Backend::with_tier))
        {
            None => {
                let backend = Backend::detect();
                Active {
                    backend,
                    reason: backend.tier().reason(),
                    requested,
                    fallback: None,
                }
            }
            Some(Ok(backend)) => Active {
                backend,
                reason: "forced by SMBSIGN_BACKEND",
                requested,
                fallback: None,
            },
            Some(Err(e)) => {
                // A forced tier the CPU lacks must never run; say so once and detect.
                eprintln!(
                    "smbsign: SMBSIGN_BACKEND={}: {e}; using detected backend",
                    requested.as_deref().unwrap_or_default()
                );
                let backend = Backend::detect();
                Active {
                    backend,
                    reason: backend.tier().reason(),
                    requested,
                    fallback: Some(e),
                }
            }
        }
    })
}

/// The process-wide backend: `SMBSIGN_BACKEND` if set and available, else the
/// fastest detected. Decided on first use, then fixed.
#[must_use]
pub fn active() -> Backend {
    active_state().backend
}

/// What [`crate::backend_info`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// The active tier.
    pub tier: Tier,
    /// Kernel computing HMAC-SHA256.
    pub hmac_sha256: &'static str,
    /// Kernel computing AES-CMAC.
    pub aes_cmac: &'static str,
    /// Kernels computing AES-GMAC.
    pub aes_gmac: &'static str,
    /// Kernel computing batches of AES-CMAC.
    pub aes_batch: &'static str,
    /// Kernel computing batches of HMAC-SHA256.
    pub sha256_batch: &'static str,
    /// Kernel computing batches of short AES-GMAC messages.
    pub gmac_batch: &'static str,
    /// Why this tier: forced by `SMBSIGN_BACKEND`, or what detection found.
    pub reason: &'static str,
    /// `SMBSIGN_BACKEND` as given, if set.
    pub requested: Option<String>,
    /// Why the request was not honoured, if it was not.
    pub fallback: Option<Error>,
}

pub(crate) fn info() -> BackendInfo {
    let a = active_state();
    BackendInfo {
        tier: a.backend.tier(),
        hmac_sha256: a.backend.hmac_sha256_name(),
        aes_cmac: a.backend.aes_cmac_name(),
        aes_gmac: a.backend.aes_gmac_name(),
        aes_batch: a.backend.aes_batch_name(),
        sha256_batch: a.backend.sha256_batch_name(),
        gmac_batch: a.backend.gmac_batch_name(),
        reason: a.reason,
        requested: a.requested.clone(),
        fallback: a.fallback,
    }
}
