//! The three SMB signing MACs. Each key type precomputes everything once, is
//! `Send + Sync + Clone`, zeroizes on drop, and offers one-shot, vectored
//! (scatter-gather) and incremental forms that agree however the bytes are split.

pub mod cmac;
pub mod gmac;
pub mod hmac;
