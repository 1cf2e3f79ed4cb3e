//! # smbsign-probe
//!
//! Asks an SMB server what a client that requires signing (Windows 11 24H2,
//! Windows Server 2025) will meet: the dialects and 3.1.1 algorithms it
//! accepts, whether its signatures verify (with core), whether it refuses
//! forged and unsigned requests, and whether it only grants guest sessions;
//! and draws a verdict from them. Benign requests only: NEGOTIATE,
//! SESSION_SETUP, TREE_CONNECT to IPC$, ECHO, LOGOFF.

pub mod conn;
pub mod probe;
pub mod report;
