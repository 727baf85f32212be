//! Collecting every error of a function, so that a user fixes them in one round.
//!
//! Stages push spanned errors into [`Errors`] and keep going; [`Errors::finish`] combines them
//! into one `syn::Error` (one `compile_error!` per message, each at its own span). Like serde's
//! `Ctxt`, dropping an `Errors` that was never finished is a bug, caught in debug builds, so a
//! stage cannot lose an error by forgetting to check.

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Marks a construct whose error is already recorded in [`Errors`]: lowering returns
/// `Err(Reported)` to unwind to the next statement without reporting anything twice.
#[derive(Clone, Copy, Debug)]
pub struct Reported;

pub struct Errors {
    errors: Vec<syn::Error>,
    finished: bool,
}

impl Errors {
    pub fn new() -> Errors {
        Errors {
            errors: Vec::new(),
            finished: false,
        }
    }

    /// Records an error spanning `tokens`.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) -> Reported {
        self.push(syn::Error::new_spanned(tokens, message))
    }

    pub fn push(&mut self, error: syn::Error) -> Reported {
        self.errors.push(error);
        Reported
    }

    pub fn count(&self) -> usize {
        self.errors.len()
    }

    /// All recorded errors in source order, combined; `Ok` if there were none.
    pub fn finish(mut self) -> syn::Result<()> {
        self.finished = true;
        let mut errors = std::mem::take(&mut self.errors);
        // Stages find errors in their own order; the user reads them top to bottom.
        errors.sort_by_key(|e| position(e.span()));
        let mut errors = errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(errors);
                Err(first)
            }
        }
    }
}

/// Where `span` starts, as (line, column): the compiler's own position inside a macro call
/// (`proc_macro::Span::line`, stable since Rust 1.88, so that the macro does not need
/// proc-macro2's `span-locations`, a cost for every user's build); proc-macro2's in the unit
/// tests, which run the macro outside the compiler and enable `span-locations` as a
/// dev-dependency. The sort is stable, so equal positions keep the order they were found in.
fn position(span: Span) -> (usize, usize) {
    if proc_macro::is_available() {
        let span = span.unwrap();
        return (span.line(), span.column());
    }
    #[cfg(test)]
    {
        let start = span.start();
        (start.line, start.column)
    }
    #[cfg(not(test))]
    (0, 0)
}

impl Drop for Errors {
    fn drop(&mut self) {
        debug_assert!(
            self.finished || std::thread::panicking(),
            "ad-macro bug: errors were collected but never reported"
        );
    }
}
