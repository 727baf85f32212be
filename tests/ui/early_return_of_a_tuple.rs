use ad_runtime::reverse;

// An early `return` of a tuple from a function returning a float: an error on the `return`
// (found by fuzzing mutated programs: it was an internal error).
#[reverse]
fn f(x: f64, n: usize) -> f64 {
    for i in 0..n {
        if i == 2 {
            return x;
        }
    }
    let (a, b) = return x.sin_cos();
    a + b
}

fn main() {}
