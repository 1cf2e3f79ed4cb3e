//! Whether the drop-in computes at all on this CPU, and what the stats line
//! says about the kernels.
//!
//! Where smbsign has only its portable tier (no AES/PMULL-class instructions:
//! a Raspberry Pi 4's Cortex-A72, old x86), its constant-time bitsliced AES is
//! slower than GnuTLS's table-based software AES (docs/benchmarks-log.md, "The
//! portable tier against GnuTLS's software path"), so
//! preloading would make such a server slower. There the default is to step
//! aside (`"mode":"passthrough"`, with the reason in the stats line), and
//! `SMBSIGN_GNUTLS_PORTABLE=1` keeps smbsign's constant-time code instead
//! (SECURITY.md, "No AES instructions"). On the aesni tier (no VPCLMULQDQ)
//! the drop-in computes signing and CCM but leaves AES-GCM encryption handles
//! to GnuTLS, which is faster there ([`gcm_to_gnutls`]; docs/tuning.md). A tier
//! forced with `SMBSIGN_BACKEND` (honoured by the core) is an explicit choice
//! and always computes.

use smbsign::{backend_info, BackendInfo, Tier};

/// The mode value (next to lib.rs's) for "stepped aside: only the portable tier".
pub const MODE_PASSTHROUGH: u8 = 4;

const REASON: &str = "only the portable constant-time tier exists on this CPU and it is \
    slower than GnuTLS's software AES; SMBSIGN_GNUTLS_PORTABLE=1 keeps it";

/// Why new handles should go to GnuTLS although the drop-in is enabled, if so.
pub fn passthrough_reason() -> Option<&'static str> {
    let info = backend_info();
    let forced = forced(&info);
    let opted_in = std::env::var_os("SMBSIGN_GNUTLS_PORTABLE").is_some_and(|v| v == "1");
    (info.tier == Tier::Portable && !forced && !opted_in).then_some(REASON)
}

const GCM_REASON: &str = "AES-GCM encryption goes to GnuTLS on the aesni tier: smbsign's xmm \
    GCM is no faster than GnuTLS's there (0.55-0.74x on AMD Zen 3, 0.99-1.06x on an Intel \
    Xeon); SMBSIGN_BACKEND=aesni keeps it";

/// Whether AES-GCM encryption (`gnutls_aead_cipher_*` with a plaintext) goes
/// to GnuTLS although the drop-in computes: on the aesni tier (no VPCLMULQDQ),
/// unless that tier was asked for (docs/tuning.md: "GCM through the preload
/// on the aesni tier"). GMAC signing and CCM are computed on every tier.
pub fn gcm_to_gnutls() -> bool {
    let info = backend_info();
    gcm_rule(info.tier, forced(&info))
}

/// Whether `SMBSIGN_BACKEND` asked for the tier in use (an explicit choice
/// the policies leave alone).
fn forced(info: &BackendInfo) -> bool {
    info.requested.is_some() && info.fallback.is_none()
}

/// [`gcm_to_gnutls`] for a tier, detected or forced.
fn gcm_rule(tier: Tier, forced: bool) -> bool {
    tier == Tier::AesNi && !forced
}

/// The tier and kernels, appended to the stats line (JSON members, each
/// preceded by a comma); the reason when stepped aside.
pub fn stats_fields(mode: &str) -> String {
    let info = backend_info();
    let mut out = format!(
        ",\"tier\":\"{}\",\"kernels\":{{\"hmac-sha256\":\"{}\",\"aes-cmac-128\":\"{}\",\"aes-gmac\":\"{}\"}}",
        info.tier.name(),
        info.hmac_sha256,
        info.aes_cmac,
        info.aes_gmac
    );
    if mode == "passthrough" {
        out += &format!(",\"reason\":\"{REASON}\"");
    } else if gcm_to_gnutls() {
        out += &format!(",\"gcm\":\"gnutls\",\"gcm_reason\":\"{GCM_REASON}\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_goes_to_gnutls_only_on_an_unforced_aesni_tier() {
        assert!(gcm_rule(Tier::AesNi, false));
        assert!(!gcm_rule(Tier::AesNi, true));
        for t in [Tier::Avx2, Tier::Avx512, Tier::Armv8, Tier::Portable] {
            assert!(!gcm_rule(t, false), "{t:?}");
            assert!(!gcm_rule(t, true), "{t:?}");
        }
    }
}
