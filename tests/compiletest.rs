//! Compile-fail tests: each file in tests/ui/ is one mistake, named after it; its .stderr is the expected diagnostic. Regenerate with `TRYBUILD=overwrite cargo test --test compiletest` and review the diff.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // nalgebra's and ndarray's containers, with the features that bring them.
    if cfg!(all(feature = "nalgebra", feature = "ndarray")) {
        t.compile_fail("tests/ui/libraries/*.rs");
    }
}
