#!/usr/bin/env python3
"""What `#[reverse]` adds to a user's build time, per annotated function.

Generates a throwaway crate in a temporary directory, depending on this repository's
`ad-runtime` by path, with N functions of a realistic size (a loop over a slice with a branch,
transcendental calls, about 50 IR ops each), once annotated with `#[reverse]` and once plain.
For each N and each build mode (`cargo check`, `cargo build`, `cargo build --release`) it times
a rebuild of that crate alone (its dependencies are built once, up front) and reports the time
`#[reverse]` adds per function: (annotated - plain) / N at the largest N.

The crate is its own workspace, so it builds as a user's crate does: without this repository's
`[profile.dev.package.ad-macro] opt-level = 2`, that is, with the macro compiled unoptimized
(cargo's default for proc macros) unless `--optimized-macro` is given.

Offline (`cargo --offline`): the dependencies must be in the local cargo registry already, as
they are after building this repository. The temporary directory is removed at the end.

Usage: scripts/compile_cost.py [--counts 0,10,100] [--repeats 3] [--optimized-macro]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One function: a loop with a branch and a carried product, then a few closing terms. `{k}`
# makes each function (and its constants) distinct so that nothing is deduplicated.
FUNCTION = """
{attr}pub fn f{k}(x: &[f64], a: f64, b: f64) -> f64 {{
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {{
        let t = x[i] * a + b * {c};
        let u = t.sin() * t.cos() + (t * t + 1.0).ln();
        if u > 0.0 {{
            s += u * p;
        }} else {{
            s -= u.tanh();
        }}
        p = p * 0.9 + (t * t + 1.0).recip() * 0.1;
    }}
    let r = (s * s + p * p + 1.0).sqrt();
    r * a.exp() / (1.0 + b * b) + s.atan2(p) - (r * {c}).cos()
}}
"""


def source(count, annotated, attr="#[reverse]\n"):
    """The crate's lib.rs: `count` functions, annotated or not."""
    header = ""
    if annotated and count:
        header += "use ad_runtime::reverse;\n"
    body = "".join(
        FUNCTION.format(attr=attr if annotated else "", k=k, c=f"{0.5 + 0.01 * k:.2f}")
        for k in range(count)
    )
    return header + body


def manifest(optimized_macro):
    runtime = os.path.join(REPO, "ad-runtime")
    text = f"""[package]
name = "ad_compile_cost_probe"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
ad-runtime = {{ path = "{runtime}" }}

[workspace]
"""
    if optimized_macro:
        text += """
[profile.dev.package.ad-macro]
opt-level = 2
[profile.dev.package.syn]
opt-level = 2
[profile.dev.package.proc-macro2]
opt-level = 2
[profile.release.build-override]
opt-level = 2
"""
    return text


MODES = {
    "check": ["check"],
    "dev": ["build"],
    "release": ["build", "--release"],
}


def cargo(crate, args, capture=False):
    env = dict(os.environ, CARGO_INCREMENTAL="0", CARGO_TERM_COLOR="never")
    result = subprocess.run(
        ["cargo", *args, "--offline", "--quiet"],
        cwd=crate,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} failed:\n{result.stderr}")
    return result.stderr if capture else None


def timed_build(crate, mode, repeats):
    """Median wall time of a rebuild of the probe crate alone (dependencies are fresh)."""
    lib = os.path.join(crate, "src", "lib.rs")
    times = []
    for _ in range(repeats):
        os.utime(lib)  # a newer lib.rs: cargo rebuilds the crate, not its dependencies
        start = time.perf_counter()
        cargo(crate, MODES[mode])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ir_ops(crate):
    """The ops of one function's IR, as `#[reverse(dump)]` prints it: lines defining a value
    or storing, not block delimiters or yields."""
    with open(os.path.join(crate, "src", "lib.rs"), "w") as f:
        f.write(source(1, True, attr="#[reverse(dump)]\n"))
    dump = cargo(crate, ["check"], capture=True)
    ir = dump.split("// IR", 1)[1].split("// adjoint IR", 1)[0]
    ops = 0
    for line in ir.splitlines():
        line = line.strip()
        if not line or line.startswith(("fn ", "}", "yield", "//")):
            continue
        ops += 1
    return ops


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="0,10,100", help="numbers of functions")
    parser.add_argument("--repeats", type=int, default=3, help="builds per measurement")
    parser.add_argument("--modes", default="check,dev,release")
    parser.add_argument(
        "--optimized-macro",
        action="store_true",
        help="build the macro at opt-level 2, as this repository's own profile does",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    modes = args.modes.split(",")

    crate = tempfile.mkdtemp(prefix="ad-compile-cost-")
    try:
        os.makedirs(os.path.join(crate, "src"))
        with open(os.path.join(crate, "Cargo.toml"), "w") as f:
            f.write(manifest(args.optimized_macro))
        shutil.copy(os.path.join(REPO, "Cargo.lock"), os.path.join(crate, "Cargo.lock"))
        ops = ir_ops(crate)
        print(f"one function: {ops} IR ops; {os.cpu_count()} CPUs; load {os.getloadavg()}")
        print(subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip())
        for mode in modes:
            cargo(crate, MODES[mode])  # the dependencies, once

        results = {}
        for count in counts:
            for annotated in [False, True] if count else [False]:
                with open(os.path.join(crate, "src", "lib.rs"), "w") as f:
                    f.write(source(count, annotated))
                for mode in modes:
                    seconds = timed_build(crate, mode, args.repeats)
                    results[(count, annotated, mode)] = seconds
                    label = "annotated" if annotated else "plain"
                    print(f"  {mode:8} {count:4} {label:9} {seconds:7.2f} s", flush=True)

        print()
        print("| functions | mode | plain (s) | annotated (s) | added per function (ms) |")
        print("|---|---|---|---|---|")
        for count in counts:
            if not count:
                continue
            for mode in modes:
                plain = results[(count, False, mode)]
                annotated = results[(count, True, mode)]
                per = (annotated - plain) / count * 1e3
                print(f"| {count} | {mode} | {plain:.2f} | {annotated:.2f} | {per:.0f} |")
        print(f"\nload after: {os.getloadavg()}")
    finally:
        shutil.rmtree(crate, ignore_errors=True)


if __name__ == "__main__":
    main()
