//! nalgebra's and ndarray's containers as active parameters (features `nalgebra`, `ndarray`):
//! each function here has a twin on flat slices, written the way the library lays its
//! elements out, and the two must agree (values bit for bit where they compute the same
//! operations in the same order; the library's own products may sum in another order), with
//! the gradients also checked against central differences. Values of `f_grad` are `f`'s,
//! bit for bit.
#![allow(
    clippy::needless_range_loop,
    reason = "the flat twins index as the library-typed functions do"
)]

use ad_runtime::reverse;

/// Central differences of `f` at `x`, for gradients checked by `close`.
fn central(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    ad_runtime::check::central_differences(f, x)
}

fn close(a: &[f64], b: &[f64], tolerance: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "{a:?}\n!=\n{b:?}"
        );
    }
}

#[cfg(feature = "nalgebra")]
mod nalgebra_containers {
    use nalgebra::{DMatrix, DVector, SVector};

    use super::*;

    #[reverse]
    fn weighted_squares(x: &DVector<f64>, w: f64) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += w * x[i] * x[i] + x[i].sin();
        }
        s
    }

    #[reverse]
    fn weighted_squares_flat(x: &[f64], w: f64) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += w * x[i] * x[i] + x[i].sin();
        }
        s
    }

    /// `Σ_ij c_ij m_ij²` read by `m[(i, j)]`; the flat twin reads column-major, as nalgebra
    /// stores a matrix.
    #[reverse]
    fn matrix_entries(m: &DMatrix<f64>) -> f64 {
        let mut s = 0.0;
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                s += (i + 2 * j + 1) as f64 * m[(i, j)] * m[(i, j)];
            }
        }
        s
    }

    #[reverse]
    fn matrix_entries_flat(m: &[f64], rows: usize) -> f64 {
        let mut s = 0.0;
        for i in 0..rows {
            for j in 0..m.len() / rows {
                s += (i + 2 * j + 1) as f64 * m[i + j * rows] * m[i + j * rows];
            }
        }
        s
    }

    /// Products: `|M v|² + (Mᵀ v) · v + <A B, A>` (the last nalgebra's Frobenius `dot`).
    #[reverse]
    fn products(m: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
        let mv = m * v;
        let mtv = m.transpose() * v;
        let mm = m * m;
        mv.dot(&mv) + mtv.dot(v) + mm.dot(m)
    }

    /// The same by element, `m` column-major and square.
    #[reverse]
    fn products_flat(m: &[f64], v: &[f64]) -> f64 {
        let n = v.len();
        let mut s = 0.0;
        for i in 0..n {
            let (mut mv, mut mtv) = (0.0, 0.0);
            for k in 0..n {
                mv += m[i + k * n] * v[k];
                mtv += m[k + i * n] * v[k];
            }
            s += mv * mv + mtv * v[i];
            for j in 0..n {
                let mut mm = 0.0;
                for k in 0..n {
                    mm += m[i + k * n] * m[k + j * n];
                }
                s += mm * m[i + j * n];
            }
        }
        s
    }

    #[reverse]
    fn fixed(x: SVector<f64, 3>) -> f64 {
        x[0] * x[1] - x[2].exp() + x.dot(&x)
    }

    /// A product in a loop, its adjoint buffer made again each iteration.
    #[reverse]
    fn iterated(m: &DMatrix<f64>, v: &DVector<f64>, steps: usize) -> f64 {
        let mut s = 0.0;
        for k in 0..steps {
            let r = m * v;
            s += r[k % r.len()].tanh();
        }
        s
    }

    /// A call passing a vector to another `#[reverse]` function.
    #[reverse]
    fn calls(x: &DVector<f64>) -> f64 {
        weighted_squares(x, 0.5) * 2.0
    }

    fn a_vector() -> DVector<f64> {
        DVector::from_vec(vec![0.3, -1.2, 2.0, 0.7])
    }

    fn a_matrix() -> DMatrix<f64> {
        DMatrix::from_row_slice(3, 3, &[0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -2.0, 1.0, 0.8])
    }

    #[test]
    fn elements_of_a_vector_are_those_of_a_slice() {
        let x = a_vector();
        let (value, (dx, dw)) = weighted_squares_grad(&x, 1.5);
        let (flat, (fx, fw)) = weighted_squares_flat_grad(x.as_slice(), 1.5);
        assert_eq!(value.to_bits(), weighted_squares(&x, 1.5).to_bits());
        assert_eq!(value.to_bits(), flat.to_bits());
        assert_eq!(dx.as_slice(), fx.as_slice());
        assert_eq!(dw, fw);
        // The gradient is a `DVector` of the parameter's length.
        let _: &DVector<f64> = &dx;
        let (_, vjp) = weighted_squares_vjp(&x, 1.5, 2.0);
        assert_eq!(vjp.0, dx * 2.0);
    }

    #[test]
    fn elements_of_a_matrix_are_those_of_its_columns() {
        let m = DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 3.0, 0.25, -1.5]);
        let (value, dm) = matrix_entries_grad(&m);
        let (flat, fm) = matrix_entries_flat_grad(m.as_slice(), 2);
        assert_eq!(value.to_bits(), flat.to_bits());
        assert_eq!((dm.nrows(), dm.ncols()), (2, 3));
        assert_eq!(dm.as_slice(), fm.as_slice());
        // ∂/∂m_ij = 2 (i + 2j + 1) m_ij.
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(dm[(i, j)], 2.0 * (i + 2 * j + 1) as f64 * m[(i, j)]);
            }
        }
    }

    #[test]
    fn products_and_the_transpose_match_the_flat_loops_and_central_differences() {
        let (m, v) = (a_matrix(), DVector::from_vec(vec![1.0, -0.5, 2.0]));
        let (value, (dm, dv)) = products_grad(&m, &v);
        assert_eq!(value.to_bits(), products(&m, &v).to_bits());
        let (flat, (fm, fv)) = products_flat_grad(m.as_slice(), v.as_slice());
        approx::assert_relative_eq!(value, flat, max_relative = 1e-13);
        close(dm.as_slice(), &fm, 1e-13);
        close(dv.as_slice(), &fv, 1e-13);
        let with_m = |m: &[f64]| products(&DMatrix::from_column_slice(3, 3, m), &v);
        close(dm.as_slice(), &central(with_m, m.as_slice()), 1e-6);
        let with_v = |v: &[f64]| products(&m, &DVector::from_column_slice(v));
        close(dv.as_slice(), &central(with_v, v.as_slice()), 1e-6);
    }

    #[test]
    fn fixed_size_vectors_loops_and_calls() {
        let x = SVector::<f64, 3>::new(0.5, -1.0, 0.25);
        let (value, dx) = fixed_grad(x);
        assert_eq!(value.to_bits(), fixed(x).to_bits());
        let expected = [
            x[1] + 2.0 * x[0],
            x[0] + 2.0 * x[1],
            -x[2].exp() + 2.0 * x[2],
        ];
        close(dx.as_slice(), &expected, 1e-15);

        let (m, v) = (a_matrix(), DVector::from_vec(vec![0.2, 0.1, -0.3]));
        let (value, (dm, dv)) = iterated_grad(&m, &v, 5);
        assert_eq!(value.to_bits(), iterated(&m, &v, 5).to_bits());
        let with_m = |m: &[f64]| iterated(&DMatrix::from_column_slice(3, 3, m), &v, 5);
        close(dm.as_slice(), &central(with_m, m.as_slice()), 1e-7);
        let with_v = |v: &[f64]| iterated(&m, &DVector::from_column_slice(v), 5);
        close(dv.as_slice(), &central(with_v, v.as_slice()), 1e-7);

        let x = a_vector();
        let (_, dx) = calls_grad(&x);
        let (_, (direct, _)) = weighted_squares_grad(&x, 0.5);
        assert_eq!(dx, direct * 2.0);
    }

    #[test]
    fn gradients_into_the_callers_buffers() {
        let x = a_vector();
        let mut dx = DVector::from_element(4, 7.0);
        let (value, dw) = weighted_squares_grad_into(&x, 1.5, &mut dx);
        let (expected, (ex, ew)) = weighted_squares_grad(&x, 1.5);
        assert_eq!((value, dw), (expected, ew));
        assert_eq!(dx, ex);
    }

    /// `m[(row, 0)]`: a row past the end is not another column's element.
    #[reverse]
    fn entry(m: &DMatrix<f64>, row: usize) -> f64 {
        m[(row, 0)] * 2.0
    }

    #[test]
    fn a_row_past_the_end_panics_as_in_nalgebra() {
        let m = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(entry_grad(&m, 1).0, 8.0);
        // Linear index 2 is (0, 1): in range, but not the element `(2, 0)` names.
        assert!(std::panic::catch_unwind(|| entry(&m, 2)).is_err());
        assert!(std::panic::catch_unwind(|| entry_grad(&m, 2)).is_err());
    }

    #[test]
    #[should_panic(expected = "`dx` has shape (3, 1) but its parameter has (4, 1)")]
    fn a_buffer_of_another_shape_is_refused() {
        let mut dx = DVector::zeros(3);
        let _ = weighted_squares_grad_into(&a_vector(), 1.5, &mut dx);
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_containers {
    use ndarray::{Array1, Array2, ArrayView1, ArrayView2, array};

    use super::*;

    #[reverse]
    fn weighted(x: &Array1<f64>, y: ArrayView1<f64>) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += x[i] * y[i] + (x[i] * x[i]).ln_1p();
        }
        s
    }

    #[reverse]
    fn weighted_flat(x: &[f64], y: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += x[i] * y[i] + (x[i] * x[i]).ln_1p();
        }
        s
    }

    /// `a[[i, j]]` and `a[(i, j)]`; the flat twin reads row-major, as ndarray stores it.
    #[reverse]
    fn entries(a: &Array2<f64>, b: ArrayView2<f64>) -> f64 {
        let mut s = 0.0;
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                s += a[[i, j]] * b[(i, j)].cos();
            }
        }
        s
    }

    #[reverse]
    fn entries_flat(a: &[f64], b: &[f64], cols: usize) -> f64 {
        let mut s = 0.0;
        for i in 0..a.len() / cols {
            for j in 0..cols {
                s += a[i * cols + j] * b[i * cols + j].cos();
            }
        }
        s
    }

    /// `|A x|² + (Aᵀ x) · x + Σ (A Aᵀ)_ij`.
    #[reverse]
    fn products(a: &Array2<f64>, x: &Array1<f64>) -> f64 {
        let ax = a.dot(x);
        let atx = a.t().dot(x);
        let aat = a.dot(&a.t());
        let mut s = ax.dot(&ax) + atx.dot(x);
        for i in 0..aat.nrows() {
            for j in 0..aat.ncols() {
                s += aat[[i, j]];
            }
        }
        s
    }

    #[reverse]
    fn products_flat(a: &[f64], x: &[f64]) -> f64 {
        let n = x.len();
        let mut s = 0.0;
        for i in 0..n {
            let (mut ax, mut atx) = (0.0, 0.0);
            for k in 0..n {
                ax += a[i * n + k] * x[k];
                atx += a[k * n + i] * x[k];
            }
            s += ax * ax + atx * x[i];
            for j in 0..n {
                for k in 0..n {
                    s += a[i * n + k] * a[j * n + k];
                }
            }
        }
        s
    }

    #[test]
    fn elements_of_arrays_and_views_are_those_of_slices() {
        let (x, y) = (array![0.5, -1.5, 2.0], array![1.0, 0.25, -0.5]);
        let (value, (dx, dy)) = weighted_grad(&x, y.view());
        assert_eq!(value.to_bits(), weighted(&x, y.view()).to_bits());
        let (flat, (fx, fy)) = weighted_flat_grad(x.as_slice().unwrap(), y.as_slice().unwrap());
        assert_eq!(value.to_bits(), flat.to_bits());
        // A view's gradient is an owned array.
        let _: (&Array1<f64>, &Array1<f64>) = (&dx, &dy);
        assert_eq!(dx.to_vec(), fx);
        assert_eq!(dy.to_vec(), fy);

        let a = array![[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]];
        let b = array![[0.1, 0.2, 0.3], [-0.4, 0.5, 1.6]];
        let (value, (da, db)) = entries_grad(&a, b.view());
        let (flat, (fa, fb)) = entries_flat_grad(a.as_slice().unwrap(), b.as_slice().unwrap(), 3);
        assert_eq!(value.to_bits(), flat.to_bits());
        assert_eq!(da.dim(), (2, 3));
        assert_eq!(da.as_slice().unwrap(), fa.as_slice());
        assert_eq!(db.as_slice().unwrap(), fb.as_slice());
    }

    #[test]
    fn products_and_the_transpose_match_the_flat_loops_and_central_differences() {
        let a = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.8]];
        let x = array![1.0, -0.5, 2.0];
        let (value, (da, dx)) = products_grad(&a, &x);
        assert_eq!(value.to_bits(), products(&a, &x).to_bits());
        let (flat, (fa, fx)) = products_flat_grad(a.as_slice().unwrap(), x.as_slice().unwrap());
        approx::assert_relative_eq!(value, flat, max_relative = 1e-13);
        close(da.as_slice().unwrap(), &fa, 1e-13);
        close(dx.as_slice().unwrap(), &fx, 1e-13);
        let with_a = |a: &[f64]| products(&Array2::from_shape_vec((3, 3), a.to_vec()).unwrap(), &x);
        close(
            da.as_slice().unwrap(),
            &central(with_a, a.as_slice().unwrap()),
            1e-6,
        );
        let with_x = |x: &[f64]| products(&a, &Array1::from_vec(x.to_vec()));
        close(
            dx.as_slice().unwrap(),
            &central(with_x, x.as_slice().unwrap()),
            1e-6,
        );
    }
}
