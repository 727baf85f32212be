use ad_runtime::reverse;

#[derive(Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
}

fn norm(p: Point) -> f64 {
    (p.x * p.x + p.y * p.y).sqrt()
}

// A struct made by a literal is its fields: passed whole, it is refused.
#[reverse]
fn passed_whole(a: f64) -> f64 {
    let p = Point { x: a, y: 2.0 };
    norm(p)
}

#[reverse]
fn with_base(a: f64) -> f64 {
    let p = Point { x: a, y: 2.0 };
    let q = Point { x: 1.0, ..p };
    q.x
}

fn main() {}
