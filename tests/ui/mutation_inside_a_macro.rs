use ad_runtime::reverse;

#[reverse]
fn f(x: f64, n: usize) -> f64 {
    let mut s = x * x;
    let mut v = vec![x; 2];
    for i in 0..n {
        println!("{}", {
            s *= 3.0;
            s
        });
        assert!(v.pop().is_some());
        println!("{}", if i == 1 { break } else { i });
    }
    s + v[0]
}

fn main() {
    let _ = f_grad(1.0, 2);
}
