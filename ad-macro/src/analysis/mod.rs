//! Analyses of a lowered function.

pub mod activity;
pub mod nonfinite;
pub mod references;
pub mod stable;
