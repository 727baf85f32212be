//! Differential testing of what the macro produces (tests only): random programs from the
//! shared generator go through the pipeline, and an interpreter of the IR compares the
//! adjoint program's gradient with forward mode (dual numbers) and central differences.

#[cfg(test)]
mod coverage;
pub mod differential;
pub mod eval;
pub use program_generator as generator;
pub mod math;
pub mod shrink;

#[test]
fn random_programs_differentiate_like_forward_mode() {
    let seed = differential::run_seed();
    let count = std::env::var("AD_DIFF_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let start = std::time::Instant::now();
    let (checked, skipped) = differential::check_many(seed, count, &generator::Config::default());
    eprintln!(
        "differential test: seed {seed}, {count} programs, {checked} functions checked, {skipped} skipped (value not finite or too large), {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(checked > skipped, "most functions must be checked");
}
