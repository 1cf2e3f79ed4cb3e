//! The measuring engine behind `smbsign-bench`: SMB-shaped workloads, timing,
//! thread scaling, SMB3 encryption next to signing, and the table, JSON and
//! plot outputs.

pub mod cipher_batch;
pub mod encryption;
pub mod example_args;
pub mod host;
pub mod measure;
#[cfg(feature = "peers")]
pub mod peers;
pub mod plot;
pub mod report;
pub mod workload;
