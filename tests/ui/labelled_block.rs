use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let y = 'block: {
        if x > 1.0 {
            break 'block x;
        }
        x * x
    };
    y
}

fn main() {
    let _ = f_grad(1.0);
}
