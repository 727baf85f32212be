//! The GradBench tool: speaks the benchmark's protocol on stdin and stdout (one JSON object
//! per line; see `ad_suite::gradbench` for the evals it implements). Diagnostics go to
//! stderr, as the protocol requires.
//!
//! Run under GradBench: `gradbench run --eval "gradbench eval gmm" --tool "cargo run
//! --release --example gradbench"`; by hand: `echo '{"id":0,"kind":"start"}' | cargo run
//! --release --example gradbench`.

fn main() -> std::io::Result<()> {
    ad_suite::gradbench::serve(std::io::stdin().lock(), std::io::stdout().lock())
}
