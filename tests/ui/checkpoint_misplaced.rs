//! `#[checkpoint]` marks a loop: on any other statement, or with arguments it does not take,
//! it is an error at the attribute.
use ad_runtime::reverse;

#[reverse]
fn not_a_loop(x: f64) -> f64 {
    #[checkpoint]
    let y = x * x;
    y
}

#[reverse]
fn unknown_argument(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint(slots = 4)]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

#[reverse]
fn no_snapshots(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint(snapshots = 0)]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

#[reverse]
fn not_a_number(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint(snapshots = n)]
    while s < 10.0 {
        s = s * 2.0;
    }
    s
}

#[reverse]
fn twice(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint]
    #[checkpoint(snapshots = 4)]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

#[reverse]
fn negative(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint(snapshots = -1)]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

#[reverse]
fn bare_number(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint(3)]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

#[reverse]
fn inside_the_body(x: f64, n: usize) -> f64 {
    let mut s = x;
    for _ in 0..n {
        #![checkpoint]
        s = s.sin();
    }
    s
}

#[reverse]
fn on_a_macro(x: f64) -> f64 {
    #[checkpoint]
    println!("{x}");
    x
}

fn main() {}
