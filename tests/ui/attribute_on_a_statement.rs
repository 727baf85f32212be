use ad_runtime::reverse;

// `#[cfg]` would be ignored by the generated code: an error, not a silent difference.
#[reverse]
fn f(x: f64, n: usize) -> f64 {
    let y = x * x;
    #[cfg(any())]
    let y = x;
    #[allow(unused_variables)]
    let unused = 1.0;
    match n {
        #[cfg(any())]
        1 => x,
        _ => y,
    }
}

fn main() {
    let _ = f_grad(1.0, 1);
}
