//! The workspace's root package. It owns the integration tests (`tests/`), the examples and
//! the benches, and compiles every Rust example of the Markdown documentation as a doc test,
//! so the README and `docs/` cannot drift from the code.
//!
//! Its library holds what those share: the benchmark [`problems`] and the [`gradbench`] tool.

pub mod gradbench;
pub mod problems;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct Readme;

#[cfg(doctest)]
#[doc = include_str!("../docs/supported.md")]
pub struct Supported;

#[cfg(doctest)]
#[doc = include_str!("../docs/semantics.md")]
pub struct Semantics;

#[cfg(doctest)]
#[doc = include_str!("../docs/design.md")]
pub struct Design;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct Guide;
