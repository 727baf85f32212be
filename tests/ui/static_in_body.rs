use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    struct Scale(f64);
    impl Scale {
        fn get(&self) -> f64 {
            self.0
        }
    }
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    x * (n as f64 + Scale(1.0).get())
}

fn main() {
    let _ = f_grad(1.0);
}
