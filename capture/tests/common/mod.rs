//! Helpers shared by the capture suite's test files.
pub mod craft;
