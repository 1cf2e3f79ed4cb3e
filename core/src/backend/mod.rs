//! THE dispatch point: which kernel computes AES, GHASH and SHA-256, on x86-64
//! (`x86/`), ARMv8 (`aarch64/`) or anywhere (`portable/`).
//!
//! CPU features are detected once; the result is a [`Backend`] value holding, for
//! each primitive, an implementation tag. Tags of SIMD tiers carry a zero-sized
//! proof token that only the detection code can create (ring's approach), so a
//! `#[target_feature]` kernel is unreachable unless detection said yes.
//! Keys capture the backend they were made with; every MAC call dispatches on it
//! with one `match` per primitive.
//!
//! # Layers
//!
//! Bottom to top; a module imports only from its own layer's modules or
//! below, never from above (`README.md` beside this file lists the files):
//!
//! 1. **Layouts, tiers, tokens, tuning.** `layout.rs` (round keys, the
//!    named and wide GHASH key powers, lane keys, 64-byte alignment),
//!    `tier.rs` ([`Tier`]), `tuning.rs` (every measured threshold and vendor
//!    rule, one constant each: `docs/tuning.md` has their figures), and the
//!    feature tokens in `x86/mod.rs` and `aarch64/mod.rs`.
//! 2. **Kernels.** `portable/*.rs`, `x86/*.rs`, `aarch64/*.rs` (all but
//!    `select.rs`): one file per ISA tier or primitive, taking a token as
//!    proof of the features they are compiled with.
//! 3. **Dispatch.** `dispatch.rs`: [`Backend`] and its tags, one `match` per
//!    primitive; thresholds travel inside the tags, so no number lives here.
//! 4. **Per-architecture selection.** `x86/select.rs`, `aarch64/select.rs`:
//!    the [`Backend`] for a tier on this CPU, with the vendor rules of
//!    `tuning.rs`. A new CPU quirk is a row there and a line here.
//! 5. **Tier selection.** `select.rs`: [`Backend::detect`],
//!    [`Backend::with_tier`], the variants for tests and benchmarks.
//! 6. **The active backend.** `active.rs`: `SMBSIGN_BACKEND`, [`active()`],
//!    [`BackendInfo`].
//!
//! This file only declares the modules and re-exports what the rest of the
//! crate uses.

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;
mod active;
pub(crate) mod cipher;
mod dispatch;
pub(crate) mod layout;
pub(crate) mod portable;
mod select;
mod tier;
pub(crate) mod tuning;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

pub(crate) use active::info;
pub use active::{active, BackendInfo};
pub(crate) use cipher::CcmLaneTask;
pub use dispatch::Backend;
pub(crate) use dispatch::{AesLaneTask, ShaLaneTask};
// The stack-erasure table (`scrub`) sizes x86 frames by kernel.
#[cfg(target_arch = "x86_64")]
pub(crate) use dispatch::{Aes, Ghash, Sha256, ShortGmac};
pub(crate) use layout::{CcmLanes, CipherLaneKeys, HPowers, LaneKeys, RoundKeys};
pub use tier::Tier;
