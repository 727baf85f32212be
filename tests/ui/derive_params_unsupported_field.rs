// The fields of a parameter struct hold parameters; a size or a name must be marked
// `#[params(skip)]`, and other types are errors on the field.
use ad_runtime::Params;

#[derive(Params)]
struct Layer {
    weights: Vec<f64>,
    width: usize,
    label: &'static str,
    pair: (f64, f64),
    counts: Vec<u32>,
}

#[derive(Params)]
enum NotAStruct {
    A(f64),
}

#[derive(Params)]
struct NothingToDifferentiate {
    #[params(skip)]
    width: usize,
}

fn main() {}
