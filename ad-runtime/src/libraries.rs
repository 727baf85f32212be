//! nalgebra and ndarray containers as active parameters (features `nalgebra`, `ndarray`).
//!
//! A `#[reverse]` function may take `&DVector<F>`, `SVector<F, N>`, `&DMatrix<F>`,
//! `&Array1<F>`, `ArrayView2<F>`, ... where it takes `&[F]`: its body indexes them as the
//! library does (`x[i]`, `m[(i, j)]`, `a[[i, j]]`), and the generated code does the same on
//! the gradient, which is zeros of the library's type and the parameter's shape (an owned
//! `Array1`/`Array2` for a view). These impls are what the generated code needs of them.

/// A library container's shape, and zeroing a gradient buffer of one: for `f_grad_into`,
/// whose buffers are the caller's.
pub trait Dims {
    /// Rows and columns (a vector has one column).
    fn __ad_dims(&self) -> (usize, usize);
    /// Every element zero.
    fn __ad_fill_zero(&mut self);
}

/// The caller's gradient buffer `buffer` for `param`, zeroed, after checking its shape.
#[track_caller]
pub fn into_library<'b, B: Dims, P: Dims + ?Sized>(
    buffer: &'b mut B,
    param: &P,
    name: &str,
) -> &'b mut B {
    let (want, have) = (param.__ad_dims(), buffer.__ad_dims());
    assert!(
        want == have,
        "f_grad_into: `{name}` has shape {have:?} but its parameter has {want:?}",
    );
    buffer.__ad_fill_zero();
    buffer
}

impl<T: Dims + ?Sized> Dims for &T {
    fn __ad_dims(&self) -> (usize, usize) {
        (**self).__ad_dims()
    }
    fn __ad_fill_zero(&mut self) {
        unreachable!("a shared reference is never a gradient buffer")
    }
}

#[cfg(feature = "nalgebra")]
mod nalgebra_containers {
    use nalgebra::{DMatrix, DVector, SVector, Scalar};
    use num_traits::Zero;

    use super::Dims;
    use crate::stash::{AdjointBuffer, AsSlice};

    /// nalgebra's matrices and vectors (of any storage) have one shape query and `fill`.
    impl<F: Scalar + Zero, R: nalgebra::Dim, C: nalgebra::Dim, S> Dims for nalgebra::Matrix<F, R, C, S>
    where
        S: nalgebra::RawStorageMut<F, R, C>,
    {
        fn __ad_dims(&self) -> (usize, usize) {
            self.shape()
        }
        fn __ad_fill_zero(&mut self) {
            self.fill(F::zero());
        }
    }

    impl<F: Scalar + Zero> AdjointBuffer for DVector<F> {
        type Buffer = DVector<F>;
        fn __ad_zeros(&self) -> DVector<F> {
            DVector::zeros(self.len())
        }
    }

    impl<F: Scalar + Zero, const N: usize> AdjointBuffer for SVector<F, N> {
        type Buffer = SVector<F, N>;
        fn __ad_zeros(&self) -> SVector<F, N> {
            SVector::zeros()
        }
    }

    impl<F: Scalar + Zero> AdjointBuffer for DMatrix<F> {
        type Buffer = DMatrix<F>;
        fn __ad_zeros(&self) -> DMatrix<F> {
            DMatrix::zeros(self.nrows(), self.ncols())
        }
    }

    // The elements in the library's order (columns one after another), for the runtime's
    // rules of `linalg`.

    impl<F: Scalar> AsSlice<F> for DVector<F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            self.as_slice()
        }
    }

    impl<F: Scalar, const N: usize> AsSlice<F> for SVector<F, N> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            self.as_slice()
        }
    }

    impl<F: Scalar> AsSlice<F> for DMatrix<F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            self.as_slice()
        }
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_containers {
    use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
    use num_traits::Zero;

    use super::Dims;
    use crate::stash::{AdjointBuffer, AsSlice};

    impl<F: Clone + Zero> Dims for Array1<F> {
        fn __ad_dims(&self) -> (usize, usize) {
            (self.len(), 1)
        }
        fn __ad_fill_zero(&mut self) {
            self.fill(F::zero());
        }
    }

    impl<F: Clone + Zero> Dims for ArrayView1<'_, F> {
        fn __ad_dims(&self) -> (usize, usize) {
            (self.len(), 1)
        }
        fn __ad_fill_zero(&mut self) {
            unreachable!("a view is never a gradient buffer")
        }
    }

    impl<F: Clone + Zero> Dims for Array2<F> {
        fn __ad_dims(&self) -> (usize, usize) {
            self.dim()
        }
        fn __ad_fill_zero(&mut self) {
            self.fill(F::zero());
        }
    }

    impl<F: Clone + Zero> Dims for ArrayView2<'_, F> {
        fn __ad_dims(&self) -> (usize, usize) {
            self.dim()
        }
        fn __ad_fill_zero(&mut self) {
            unreachable!("a view is never a gradient buffer")
        }
    }

    impl<F: Clone + Zero> AdjointBuffer for Array1<F> {
        type Buffer = Array1<F>;
        fn __ad_zeros(&self) -> Array1<F> {
            Array1::zeros(self.len())
        }
    }

    impl<F: Clone + Zero> AdjointBuffer for ArrayView1<'_, F> {
        type Buffer = Array1<F>;
        fn __ad_zeros(&self) -> Array1<F> {
            Array1::zeros(self.len())
        }
    }

    impl<F: Clone + Zero> AdjointBuffer for Array2<F> {
        type Buffer = Array2<F>;
        fn __ad_zeros(&self) -> Array2<F> {
            Array2::zeros(self.dim())
        }
    }

    impl<F: Clone + Zero> AdjointBuffer for ArrayView2<'_, F> {
        type Buffer = Array2<F>;
        fn __ad_zeros(&self) -> Array2<F> {
            Array2::zeros(self.dim())
        }
    }

    /// The elements of an array in standard (row-major, contiguous) layout.
    fn standard<F>(elements: Option<&[F]>) -> &[F] {
        elements.expect(
            "a `linalg` function reads an ndarray array in standard layout (row-major, \
             contiguous): pass `x.as_standard_layout()` for a transposed or strided one",
        )
    }

    impl<F> AsSlice<F> for Array1<F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            standard(self.as_slice())
        }
    }

    impl<F> AsSlice<F> for ArrayView1<'_, F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            standard(self.to_slice())
        }
    }

    impl<F> AsSlice<F> for Array2<F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            standard(self.as_slice())
        }
    }

    impl<F> AsSlice<F> for ArrayView2<'_, F> {
        #[inline]
        fn __ad_slice(&self) -> &[F] {
            standard(self.to_slice())
        }
    }
}
