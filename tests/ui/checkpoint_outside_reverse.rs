//! `#[checkpoint]` means something only inside a `#[reverse]` function; elsewhere rustc
//! rejects it.
fn f(x: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint]
    for _ in 0..n {
        s = s.sin();
    }
    s
}

fn main() {
    let _ = f(1.0, 2);
}
