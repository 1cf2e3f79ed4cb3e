//! Whether this library computes or steps aside: decided once per process,
//! on first use.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::{policy, real};

const MODE_UNKNOWN: u8 = 0;
const MODE_ACTIVE: u8 = 1;
const MODE_OFF: u8 = 2;
const MODE_FIPS: u8 = 3;
static MODE: AtomicU8 = AtomicU8::new(MODE_UNKNOWN);

/// Whether new handles are smbsign's. Decided on first use, not at load: GnuTLS
/// sets its FIPS flag in its own constructor, which may run after ours.
pub fn active() -> bool {
    match MODE.load(Ordering::Relaxed) {
        MODE_ACTIVE => true,
        MODE_UNKNOWN => {
            let mode = if std::env::var_os("SMBSIGN_GNUTLS").is_some_and(|v| v == "off") {
                MODE_OFF
            } else {
                // SAFETY: gnutls_fips140_mode_enabled takes no arguments.
                match real::fips140_mode_enabled().map(|f| unsafe { f() }) {
                    Some(0) if policy::passthrough_reason().is_some() => policy::MODE_PASSTHROUGH,
                    Some(0) => MODE_ACTIVE,
                    _ => MODE_FIPS,
                }
            };
            MODE.store(mode, Ordering::Relaxed);
            mode == MODE_ACTIVE
        }
        _ => false,
    }
}

/// The mode as the stats line names it.
pub fn name() -> &'static str {
    match MODE.load(Ordering::Relaxed) {
        MODE_ACTIVE => "active",
        MODE_OFF => "off",
        MODE_FIPS => "fips",
        policy::MODE_PASSTHROUGH => "passthrough",
        _ => "unused",
    }
}
