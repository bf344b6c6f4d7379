//! Helpers shared by the integration tests.
pub mod conditional;
pub mod linalg;
