//! The measuring engine behind `smbsign-bench`: SMB-shaped workloads, timing,
//! thread scaling, and the table, JSON and plot outputs.

pub mod host;
pub mod measure;
pub mod plot;
pub mod report;
pub mod workload;
