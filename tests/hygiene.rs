//! Generated code must not be captured by, or capture, the user's names.

#![allow(dead_code, reason = "the shadowing items exist only to be in scope")]

mod common;

use ad_runtime::reverse;

/// Every name generated code could reach for without an absolute path, shadowed.
mod shadowed {
    use ad_runtime::reverse;

    struct Result;
    struct Option;
    struct Vec;
    struct Some;
    struct None;
    struct Ok;
    struct Box;
    struct String;
    mod core {}
    mod std {}
    mod num_traits {}
    /// A trait with the methods of `Float`, implemented for f64: inherent methods must win.
    trait Float {
        fn sin(self) -> Self;
        fn one() -> Self;
    }
    impl Float for f64 {
        fn sin(self) -> f64 {
            0.0
        }
        fn one() -> f64 {
            0.0
        }
    }

    #[reverse]
    pub fn f(x: f64, y: f64) -> f64 {
        let r = x.sin() * y;
        r.exp() + x
    }
}

#[test]
fn shadowed_prelude_names_do_not_matter() {
    let (v, (dx, dy)) = shadowed::f_grad(0.3, 1.2);
    assert_eq!(v, 0.3f64.sin().mul_add(1.2, 0.0).exp() + 0.3);
    let e = (0.3f64.sin() * 1.2).exp();
    common::assert_close("dx", dx, e * 0.3f64.cos() * 1.2 + 1.0);
    common::assert_close("dy", dy, e * 0.3f64.sin());
}

/// A user's locals named like generated ones, and a parameter named `seed`.
#[reverse]
#[allow(clippy::let_and_return, reason = "the test needs the named binding")]
fn user_names(x: f64, seed: f64) -> f64 {
    let __ad_s_1 = x * seed;
    let __ad_2 = __ad_s_1 + 1.0;
    let __ad_seed = __ad_2 * x;
    __ad_seed
}

#[test]
fn user_names_like_generated_ones() {
    let (v, (dx, dseed)) = user_names_grad(2.0, 3.0);
    assert_eq!(v, user_names(2.0, 3.0));
    assert_eq!((dx, dseed), (2.0 * 2.0 * 3.0 + 1.0, 4.0));
    let (_, (dx, dseed)) = user_names_vjp(2.0, 3.0, 0.5);
    assert_eq!((dx, dseed), (6.5, 2.0));
}

/// The runtime can be renamed and reached through another path.
mod renamed {
    pub use ad_runtime as rt;
}

#[reverse(crate = "crate::renamed::rt")]
fn through_another_path(x: f64) -> f64 {
    x.sin()
}

#[test]
fn crate_option() {
    assert_eq!(through_another_path_grad(0.0), (0.0, 1.0));
}
