//! What the library is and which kernels it runs (core's `backend_info`):
//! NUL-terminated strings that live as long as the process.

use core::ffi::c_char;
use std::ffi::CString;
use std::sync::OnceLock;

/// The library version, e.g. "0.1.0". Static; do not free.
#[no_mangle]
pub extern "C" fn smbsign_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The kernel the process-wide backend uses for `algorithm` (a SigningAlgorithmId),
/// e.g. "x86_64/vpclmulqdq-ymm+aes-ni", or NULL for an unknown algorithm. Static.
#[no_mangle]
pub extern "C" fn smbsign_backend_name(algorithm: u16) -> *const c_char {
    std::panic::catch_unwind(|| {
        active_info()
            .kernel
            .get(usize::from(algorithm))
            .map_or(core::ptr::null(), |s| s.as_ptr())
    })
    .unwrap_or(core::ptr::null())
}

/// What the `smbsign_backend_*` functions return, built on
/// first use: the process-wide backend is fixed from then on, so the strings
/// live as long as the process.
struct ActiveInfo {
    tier: CString,
    reason: CString,
    /// Per SigningAlgorithmId: the one-message kernel, the batch kernel.
    kernel: [CString; 3],
    batch: [CString; 3],
}

fn active_info() -> &'static ActiveInfo {
    static INFO: OnceLock<ActiveInfo> = OnceLock::new();
    INFO.get_or_init(|| {
        let i = smbsign::backend_info();
        // None of these strings holds a NUL (environment values cannot).
        let c = |s: &str| CString::new(s).unwrap_or_default();
        let reason = match (&i.fallback, &i.requested) {
            (Some(e), Some(r)) => {
                format!(
                    "SMBSIGN_BACKEND={r} not honoured ({e}); detected: {}",
                    i.reason
                )
            }
            _ => i.reason.to_owned(),
        };
        ActiveInfo {
            tier: c(i.tier.name()),
            reason: c(&reason),
            kernel: [c(i.hmac_sha256), c(i.aes_cmac), c(i.aes_gmac)],
            batch: [c(i.sha256_batch), c(i.aes_batch), c(i.gmac_batch)],
        }
    })
}

/// The process-wide backend's tier: "portable", "aesni", "avx2", "avx512" or
/// "armv8". Static; do not free. NULL only if the library failed internally.
#[no_mangle]
pub extern "C" fn smbsign_backend_tier() -> *const c_char {
    std::panic::catch_unwind(|| active_info().tier.as_ptr()).unwrap_or(core::ptr::null())
}

/// Why the process-wide backend is the one it is: what detection found on
/// this CPU, "forced by SMBSIGN_BACKEND", or why a forced tier was not
/// honoured. Static; do not free. NULL only if the library failed internally.
#[no_mangle]
pub extern "C" fn smbsign_backend_reason() -> *const c_char {
    std::panic::catch_unwind(|| active_info().reason.as_ptr()).unwrap_or(core::ptr::null())
}

/// The multi-buffer kernel the batch calls use for `algorithm` (a
/// SigningAlgorithmId), e.g. "x86_64/vaes-zmm-x32 (ymm-x16 below 1 KiB mean)",
/// or NULL for an unknown algorithm. Static; do not free.
#[no_mangle]
pub extern "C" fn smbsign_backend_batch_name(algorithm: u16) -> *const c_char {
    std::panic::catch_unwind(|| {
        active_info()
            .batch
            .get(usize::from(algorithm))
            .map_or(core::ptr::null(), |s| s.as_ptr())
    })
    .unwrap_or(core::ptr::null())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    /// The C face says what core's `backend_info` says, string for string.
    #[test]
    fn backend_strings_equal_core_backend_info() {
        let i = smbsign::backend_info();
        // SAFETY: each function returns NULL or a pointer to a NUL-terminated
        // string that lives as long as the process.
        let s = |p: *const core::ffi::c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap();
        assert_eq!(s(super::smbsign_backend_tier()), i.tier.name());
        assert!(s(super::smbsign_backend_reason()).ends_with(i.reason));
        let kernel = [i.hmac_sha256, i.aes_cmac, i.aes_gmac];
        let batch = [i.sha256_batch, i.aes_batch, i.gmac_batch];
        for (alg, (k, b)) in (0u16..).zip(kernel.into_iter().zip(batch)) {
            assert_eq!(s(super::smbsign_backend_name(alg)), k);
            assert_eq!(s(super::smbsign_backend_batch_name(alg)), b);
        }
        for alg in [3u16, 0x100, u16::MAX] {
            assert!(super::smbsign_backend_name(alg).is_null());
            assert!(super::smbsign_backend_batch_name(alg).is_null());
        }
    }
}
