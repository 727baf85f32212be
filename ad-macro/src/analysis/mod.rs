//! Analyses of a lowered function.

pub mod activity;
