//! # smbsign-wire
//!
//! The SMB2 wire layer that `smbsign-check` (reading captures) and
//! `smbsign-probe` (talking to servers) share: SMB2 message fields and
//! negotiate contexts ([`smb`]), and NTLMSSP with the NTLMv2 session key
//! ([`ntlm`]). Parsing and building messages lives here; every signing rule
//! (which key, which messages must be signed, nonces) stays in `smbsign`'s core.
//! Everything is bounds-checked: a short or inconsistent message yields
//! `None`, never a panic.

pub mod msg;
pub mod ntlm;
pub mod ntlm_client;
pub mod smb;
