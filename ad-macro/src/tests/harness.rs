//! What the macro's tests share (tests only): the pipeline run on source text, its stages'
//! results printed, the errors `expand` reports, a panic's message.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::TokenStream;

use crate::expand;
use crate::pipeline::Pipeline;

/// The pipeline run on `source` with the default options; `Err` says why it stopped (the
/// user's errors, or one line for a bug the verifier found).
pub fn pipeline(source: &str) -> Result<Pipeline, String> {
    let item: syn::ItemFn = syn::parse_str(source).map_err(|e| format!("parse: {e}"))?;
    Pipeline::run(TokenStream::new(), item).map_err(|failed| failed.reason.to_string())
}

/// [`pipeline`], turning a panic of the macro into an error.
pub fn pipeline_caught(source: &str) -> Result<Pipeline, String> {
    catch_unwind(AssertUnwindSafe(|| pipeline(source)))
        .unwrap_or_else(|panic| Err(format!("the macro panicked: {}", panic_message(&*panic))))
}

/// The pipeline run on `source`, which it must accept, with every IR verified.
pub fn accepted(source: &str) -> Pipeline {
    accepted_with("", source)
}

/// [`accepted`] with the attribute's arguments `args` (`wrt(x)`).
pub fn accepted_with(args: &str, source: &str) -> Pipeline {
    let item: syn::ItemFn = syn::parse_str(source).expect("test source parses");
    let args: TokenStream = args.parse().expect("arguments parse");
    match Pipeline::run(args, item) {
        Ok(pipeline) => pipeline,
        Err(failed) => panic!("unexpected error: {}", failed.reason.into_error()),
    }
}

/// The printed primal and adjoint IR of `source`.
pub fn ir(source: &str) -> (String, String) {
    let pipeline = accepted(source);
    let activity = &pipeline.activity;
    let primal = pipeline.primal.as_ref().expect("the body is lowered");
    (
        primal.marked(activity).to_string(),
        pipeline.adjoint.marked(activity).to_string(),
    )
}

/// The printed adjoint IR of `source`, and that of its loops fused (`None`: nothing fused).
pub fn fused(source: &str) -> (String, Option<String>) {
    fused_with("", source)
}

/// [`fused`] with the attribute's arguments `args` (`wrt(x)`).
pub fn fused_with(args: &str, source: &str) -> (String, Option<String>) {
    let pipeline = accepted_with(args, source);
    let activity = &pipeline.activity;
    (
        pipeline.adjoint.marked(activity).to_string(),
        pipeline
            .fused
            .as_ref()
            .map(|f| f.marked(activity).to_string()),
    )
}

/// The text of every error `expand` reports for `source`.
pub fn errors(source: &str) -> Vec<String> {
    let output = expand(TokenStream::new(), source.parse().expect("tokens"));
    let text = output.to_string();
    text.split("compile_error !")
        .skip(1)
        .map(|s| s.split('"').nth(1).unwrap_or_default().to_string())
        .collect()
}

/// The message a panic was raised with.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_default()
}
