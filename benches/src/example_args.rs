//! What the timing examples (`benches/examples`) read from the environment.

use smbsign::{Backend, Tier};

/// Message lengths from the environment variable `var` (else `default`): a
/// comma list whose items are `N` or `A..=B:STEP` (`STEP` 1 if left out).
/// Panics, naming `var`, on anything else.
pub fn lengths(var: &str, default: &str) -> Vec<usize> {
    let spec = std::env::var(var).unwrap_or_else(|_| default.into());
    let num = |s: &str| -> usize { s.trim().parse().unwrap_or_else(|_| panic!("{var}: {s:?}")) };
    let mut out = Vec::new();
    for item in spec.split(',') {
        match item.split_once("..=") {
            Some((a, rest)) => {
                let (b, step) = rest.split_once(':').unwrap_or((rest, "1"));
                out.extend((num(a)..=num(b)).step_by(num(step)));
            }
            None => out.push(num(item)),
        }
    }
    out
}

/// Every SIMD tier this CPU has, or only those named in the comma list in
/// the environment variable `var` when it is set.
pub fn simd_tiers(var: &str) -> Vec<Backend> {
    let wanted = std::env::var(var).ok();
    Backend::available()
        .into_iter()
        .filter(|b| b.tier() != Tier::Portable)
        .filter(|b| {
            wanted
                .as_deref()
                .is_none_or(|w| w.split(',').any(|n| n.trim() == b.tier().name()))
        })
        .collect()
}

/// [`simd_tiers`], each followed by its variants with the other long-message
/// GHASH loops this CPU has (`Backend::ghash_variants`).
pub fn gmac_tiers(var: &str) -> Vec<Backend> {
    simd_tiers(var)
        .iter()
        .flat_map(Backend::ghash_variants)
        .collect()
}

/// A GMAC timing column's name: the tier, and on the zmm tier which
/// long-message GHASH loop (`avx512/gfni`, `avx512/vbmi`).
pub fn gmac_label(b: &Backend) -> String {
    match b.tier() {
        Tier::Avx512 if b.aes_gmac_name().contains("gfni") => "avx512/gfni".into(),
        Tier::Avx512 => "avx512/vbmi".into(),
        t => t.name().into(),
    }
}
