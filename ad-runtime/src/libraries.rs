//! nalgebra and ndarray containers as active parameters (features `nalgebra`, `ndarray`).
//!
//! A `#[reverse]` function may take `&DVector<F>`, `SVector<F, N>`, `&DMatrix<F>`,
//! `&Array1<F>`, `ArrayView2<F>`, ... where it takes `&[F]`: its body indexes them as the
//! library does (`x[i]`, `m[(i, j)]`, `a[[i, j]]`), and the generated code does the same on
//! the gradient, which is zeros of the library's type and the parameter's shape (an owned
//! `Array1`/`Array2` for a view). These impls are what the generated code needs of them.

/// Zeroing a library container's gradient buffer (its shape is `Elements`'): the caller's
/// buffer of `f_grad_into`, a buffer reset in a loop.
pub trait FillZero {
    /// Every element zero.
    fn __ad_fill_zero(&mut self);
}

/// The caller's gradient buffer `buffer` for `param`, zeroed, after checking its shape.
#[track_caller]
pub fn into_library<'b, B: FillZero + Elements, P: Elements + ?Sized>(
    buffer: &'b mut B,
    param: &P,
    name: &str,
) -> &'b mut B {
    let (want, have) = (param.__ad_shape(), buffer.__ad_shape());
    assert!(
        want == have,
        "f_grad_into: `{name}` has shape {have:?} but its parameter has {want:?}",
    );
    buffer.__ad_fill_zero();
    buffer
}

use num_traits::{Float, Zero};

use crate::calls::SlotBuffer;
use core::borrow::BorrowMut;

/// A library container behind any number of references: the products' functions take
/// `&a` of whatever generated code holds (`&DMatrix<F>` of a parameter, an owned `DVector<F>`
/// a product made).
pub trait Lib {
    /// The container.
    type Target: ?Sized;
    /// The container.
    fn __ad_lib(&self) -> &Self::Target;
}

impl<T: Lib + ?Sized> Lib for &T {
    type Target = T::Target;
    #[inline]
    fn __ad_lib(&self) -> &T::Target {
        (**self).__ad_lib()
    }
}

/// Reading a vector (one column) or a matrix by row and column: what the products' rules
/// read of their operands and of their results' adjoints.
pub trait Elements {
    /// The element type.
    type Elem;
    /// Rows and columns.
    fn __ad_shape(&self) -> (usize, usize);
    /// The element at row `i`, column `j`.
    fn __ad_get(&self, i: usize, j: usize) -> Self::Elem;
    /// Whether the elements lie column after column (nalgebra), rather than row after row.
    fn __ad_column_major(&self) -> bool {
        false
    }
}

impl<T: Elements + ?Sized> Elements for &T {
    type Elem = T::Elem;
    #[inline]
    fn __ad_shape(&self) -> (usize, usize) {
        (**self).__ad_shape()
    }
    #[inline]
    fn __ad_get(&self, i: usize, j: usize) -> T::Elem {
        (**self).__ad_get(i, j)
    }
    fn __ad_column_major(&self) -> bool {
        (**self).__ad_column_major()
    }
}

impl<T: Elements + ?Sized, O: BorrowMut<T>> Elements for SlotBuffer<'_, T, O> {
    type Elem = T::Elem;
    #[inline]
    fn __ad_shape(&self) -> (usize, usize) {
        (**self).__ad_shape()
    }
    #[inline]
    fn __ad_get(&self, i: usize, j: usize) -> T::Elem {
        (**self).__ad_get(i, j)
    }
    fn __ad_column_major(&self) -> bool {
        (**self).__ad_column_major()
    }
}

/// `buffer += from`, element by element: two adjoint buffers of a library container.
pub fn add_all<F, B: Accumulate<F> + ?Sized, S: Elements<Elem = F> + ?Sized>(
    buffer: &mut B,
    from: &S,
) {
    let (rows, cols) = from.__ad_shape();
    for j in 0..cols {
        for i in 0..rows {
            buffer.__ad_add(i, j, from.__ad_get(i, j));
        }
    }
}

/// A gradient buffer the products' rules add into by row and column, or `[F; 0]` for an
/// operand that is not differentiated.
pub trait Accumulate<F> {
    /// Whether anything is added (not for `[F; 0]`).
    fn __ad_active(&self) -> bool {
        true
    }
    /// Adds `v` at row `i`, column `j`.
    fn __ad_add(&mut self, i: usize, j: usize, v: F);
}

// The flat buffers of the other containers, by element (`j` is 0): a function with library
// containers adds buffers of all kinds with [`add_all`]. `[F; 0]` is an operand that is not
// differentiated.

impl<F: Copy + core::ops::Add<Output = F>, const N: usize> Accumulate<F> for [F; N] {
    fn __ad_active(&self) -> bool {
        N > 0
    }
    #[inline]
    fn __ad_add(&mut self, i: usize, _: usize, v: F) {
        self[i] = self[i] + v;
    }
}

impl<F: Copy + core::ops::Add<Output = F>> Accumulate<F> for [F] {
    #[inline]
    fn __ad_add(&mut self, i: usize, _: usize, v: F) {
        self[i] = self[i] + v;
    }
}

impl<F: Copy + core::ops::Add<Output = F>> Accumulate<F> for alloc::vec::Vec<F> {
    #[inline]
    fn __ad_add(&mut self, i: usize, _: usize, v: F) {
        self[i] = self[i] + v;
    }
}

impl<F: Zero + Copy + core::ops::Add<Output = F>, O: BorrowMut<[F]>> Accumulate<F>
    for crate::calls::OwnBuffer<'_, F, O>
{
    #[inline]
    fn __ad_add(&mut self, i: usize, _: usize, v: F) {
        let own: &mut [F] = (**self).borrow_mut();
        own[i] = own[i] + v;
    }
}

impl<F: Copy, const N: usize> Elements for [F; N] {
    type Elem = F;
    fn __ad_shape(&self) -> (usize, usize) {
        (N, 1)
    }
    fn __ad_get(&self, i: usize, _: usize) -> F {
        self[i]
    }
}

impl<F: Copy> Elements for [F] {
    type Elem = F;
    fn __ad_shape(&self) -> (usize, usize) {
        (self.len(), 1)
    }
    fn __ad_get(&self, i: usize, _: usize) -> F {
        self[i]
    }
}

impl<F: Copy> Elements for alloc::vec::Vec<F> {
    type Elem = F;
    fn __ad_shape(&self) -> (usize, usize) {
        (self.len(), 1)
    }
    fn __ad_get(&self, i: usize, _: usize) -> F {
        self[i]
    }
}

impl<F, T: Accumulate<F> + ?Sized> Accumulate<F> for &mut T {
    fn __ad_active(&self) -> bool {
        (**self).__ad_active()
    }
    #[inline]
    fn __ad_add(&mut self, i: usize, j: usize, v: F) {
        (**self).__ad_add(i, j, v)
    }
}

impl<F, T: Accumulate<F> + ?Sized, O: BorrowMut<T>> Accumulate<F> for SlotBuffer<'_, T, O> {
    fn __ad_active(&self) -> bool {
        (**self).__ad_active()
    }
    #[inline]
    fn __ad_add(&mut self, i: usize, j: usize, v: F) {
        (**self).__ad_add(i, j, v)
    }
}

/// `a · b`, as the library computes it (`a.dot(b)`).
pub trait LibDot<B: ?Sized> {
    /// A float.
    type Output;
    /// `a · b`.
    fn __ad_dot(&self, b: &B) -> Self::Output;
}

/// A matrix-vector or matrix-matrix product, as the library computes it (nalgebra's `a * b`,
/// ndarray's `a.dot(b)`).
pub trait LibProduct<B: ?Sized> {
    /// The product's container.
    type Output;
    /// `a b`.
    fn __ad_product(&self, b: &B) -> Self::Output;
}

/// The transpose, as the library makes it (nalgebra's `m.transpose()`, ndarray's `a.t()`).
pub trait LibTranspose {
    /// A matrix (a view of `self` for ndarray).
    type Output<'a>
    where
        Self: 'a;
    /// `aᵀ`.
    fn __ad_transpose(&self) -> Self::Output<'_>;
}

/// `a.dot(b)` of two vectors (or matrices, nalgebra's Frobenius product).
#[inline]
pub fn lib_dot<A: Lib + ?Sized, B: Lib + ?Sized>(
    a: &A,
    b: &B,
) -> <A::Target as LibDot<B::Target>>::Output
where
    A::Target: LibDot<B::Target>,
{
    a.__ad_lib().__ad_dot(b.__ad_lib())
}

/// `a b` of a matrix and a vector or a matrix (the primitives `lib_matvec` and `lib_matmul`,
/// which differ in what the lowering knows of the result, not in how it is computed).
#[inline]
pub fn lib_product<A: Lib + ?Sized, B: Lib + ?Sized>(
    a: &A,
    b: &B,
) -> <A::Target as LibProduct<B::Target>>::Output
where
    A::Target: LibProduct<B::Target>,
{
    a.__ad_lib().__ad_product(b.__ad_lib())
}

/// `aᵀ`.
#[inline]
pub fn lib_transpose<A: Lib + ?Sized>(a: &A) -> <A::Target as LibTranspose>::Output<'_>
where
    A::Target: LibTranspose,
{
    a.__ad_lib().__ad_transpose()
}

/// The pullback of `s = a · b`: `da += s̄ b`, `db += s̄ a`.
pub fn lib_dot_pullback<F, A, B, DA, DB>(a: &A, b: &B, _s: F, ds: F, da: &mut DA, db: &mut DB)
where
    F: Float,
    A: Lib + ?Sized,
    B: Lib + ?Sized,
    A::Target: Elements<Elem = F>,
    B::Target: Elements<Elem = F>,
    DA: Accumulate<F> + ?Sized,
    DB: Accumulate<F> + ?Sized,
{
    let (a, b) = (a.__ad_lib(), b.__ad_lib());
    let (rows, cols) = a.__ad_shape();
    let (with_a, with_b) = (da.__ad_active(), db.__ad_active());
    for j in 0..cols {
        for i in 0..rows {
            if with_a {
                da.__ad_add(i, j, ds * b.__ad_get(i, j));
            }
            if with_b {
                db.__ad_add(i, j, ds * a.__ad_get(i, j));
            }
        }
    }
}

/// The pullback of `C = A B` (`B` a vector or a matrix): `dA += dC Bᵀ`, `dB += Aᵀ dC`.
pub fn lib_product_pullback<F, A, B, C, DC, DA, DB>(
    a: &A,
    b: &B,
    _c: &C,
    dc: &DC,
    da: &mut DA,
    db: &mut DB,
) where
    F: Float,
    A: Lib + ?Sized,
    B: Lib + ?Sized,
    A::Target: Elements<Elem = F>,
    B::Target: Elements<Elem = F>,
    C: ?Sized,
    DC: Elements<Elem = F> + ?Sized,
    DA: Accumulate<F> + ?Sized,
    DB: Accumulate<F> + ?Sized,
{
    let (a, b) = (a.__ad_lib(), b.__ad_lib());
    let ((m, k), (_, n)) = (a.__ad_shape(), b.__ad_shape());
    let (with_a, with_b) = (da.__ad_active(), db.__ad_active());
    // The innermost loop runs along the layout's contiguous direction: down columns for
    // nalgebra, along rows for ndarray (the sums are the same, in another order).
    if a.__ad_column_major() {
        for j in 0..n {
            for l in 0..k {
                let blj = b.__ad_get(l, j);
                let mut dblj = F::zero();
                for i in 0..m {
                    let dcij = dc.__ad_get(i, j);
                    if with_a {
                        da.__ad_add(i, l, dcij * blj);
                    }
                    dblj = dblj + a.__ad_get(i, l) * dcij;
                }
                if with_b {
                    db.__ad_add(l, j, dblj);
                }
            }
        }
    } else {
        for i in 0..m {
            for l in 0..k {
                let ail = a.__ad_get(i, l);
                let mut dail = F::zero();
                for j in 0..n {
                    let dcij = dc.__ad_get(i, j);
                    dail = dail + dcij * b.__ad_get(l, j);
                    if with_b {
                        db.__ad_add(l, j, ail * dcij);
                    }
                }
                if with_a {
                    da.__ad_add(i, l, dail);
                }
            }
        }
    }
}

/// The pullback of `T = Aᵀ`: `dA += dTᵀ` (`a` is not read: the shape is `dT`'s).
pub fn lib_transpose_pullback<F, A, T, DT, DA>(_a: &A, _t: &T, dt: &DT, da: &mut DA)
where
    F: Float,
    A: ?Sized,
    T: ?Sized,
    DT: Elements<Elem = F> + ?Sized,
    DA: Accumulate<F> + ?Sized,
{
    let (rows, cols) = dt.__ad_shape();
    if da.__ad_active() {
        for i in 0..rows {
            for j in 0..cols {
                da.__ad_add(j, i, dt.__ad_get(i, j));
            }
        }
    }
}

/// Zeros of a library container of given rows and columns: what the reverse sweep makes
/// the adjoint of a product in a loop from ([`LibShape`]).
pub trait ZerosOfShape {
    /// The element type.
    type Elem;
    /// Zeros of `rows` × `cols` (a vector: `cols` is 1).
    fn __ad_zeros_of(rows: usize, cols: usize) -> Self;
}

/// The shape of a library container whose adjoint buffer is a `B`: kept instead of the
/// container when the reverse sweep only needs to make that buffer.
pub struct LibShape<B>(usize, usize, core::marker::PhantomData<B>);

impl<B> Clone for LibShape<B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B> Copy for LibShape<B> {}

impl<F, B: ZerosOfShape<Elem = F>> crate::stash::LocalBuffer<F> for LibShape<B> {
    type Buffer = B;
    fn __ad_local_zeros(&self) -> B {
        B::__ad_zeros_of(self.0, self.1)
    }
    fn __ad_count(&self) -> usize {
        self.0 * self.1
    }
    type Shape = Self;
    fn __ad_shape(&self) -> Self {
        *self
    }
}

/// What the generated code needs of a library container `$ty` whose adjoint buffer is a
/// `$buffer` (zeros of its shape, by `Elements` and `ZerosOfShape`): `AdjointBuffer` (of a
/// parameter) and `LocalBuffer` (of a product's result); with `owned`, what it needs of the
/// buffer itself (`Refill`, `Reset`).
#[cfg(any(feature = "nalgebra", feature = "ndarray"))]
macro_rules! library_buffer {
    ([$($generics:tt)*] $ty:ty => $buffer:ty, owned) => {
        library_buffer!([$($generics)*] $ty => $buffer);
        library_buffer!(@owned [$($generics)*] $ty);
    };
    ([$($generics:tt)*] $ty:ty => $buffer:ty) => {
        // Not listed in the error of a type that is no container: what it says does not
        // depend on the features.
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> crate::stash::AdjointBuffer for $ty {
            type Buffer = $buffer;
            fn __ad_zeros(&self) -> $buffer {
                let (rows, cols) = super::Elements::__ad_shape(self);
                <$buffer as super::ZerosOfShape>::__ad_zeros_of(rows, cols)
            }
        }

        impl<$($generics)*> crate::stash::LocalBuffer<F> for $ty {
            type Buffer = $buffer;
            fn __ad_local_zeros(&self) -> $buffer {
                let (rows, cols) = super::Elements::__ad_shape(self);
                <$buffer as super::ZerosOfShape>::__ad_zeros_of(rows, cols)
            }
            fn __ad_count(&self) -> usize {
                let (rows, cols) = super::Elements::__ad_shape(self);
                rows * cols
            }
            type Shape = super::LibShape<$buffer>;
            fn __ad_shape(&self) -> super::LibShape<$buffer> {
                let (rows, cols) = super::Elements::__ad_shape(self);
                super::LibShape(rows, cols, core::marker::PhantomData)
            }
        }
    };
    (@owned [$($generics:tt)*] $ty:ty) => {
        /// A new buffer: a matrix's shape may change between iterations with its count.
        impl<$($generics)*> crate::stash::Refill for $ty {
            fn refill<G, L: crate::stash::LocalBuffer<G, Buffer = Self> + ?Sized>(
                self,
                like: &L,
            ) -> Self {
                like.__ad_local_zeros()
            }
        }

        impl<$($generics)*> crate::stash::Reset for $ty {
            fn __ad_reset(&mut self, _len: usize) {
                super::FillZero::__ad_fill_zero(self);
            }
        }
    };
}

#[cfg(feature = "nalgebra")]
mod nalgebra_containers {
    use nalgebra::{
        ClosedAddAssign, ClosedMulAssign, DMatrix, DVector, Dim, Matrix, RawStorage, RawStorageMut,
        SVector, Scalar,
    };
    use num_traits::{One, Zero};

    use super::{FillZero, ZerosOfShape};
    use crate::stash::AsSlice;

    impl<F: Scalar + Zero, R: Dim, C: Dim, S: RawStorageMut<F, R, C>> FillZero for Matrix<F, R, C, S> {
        fn __ad_fill_zero(&mut self) {
            self.fill(F::zero());
        }
    }

    impl<F: Scalar + Zero> ZerosOfShape for DVector<F> {
        type Elem = F;
        fn __ad_zeros_of(rows: usize, _cols: usize) -> Self {
            DVector::zeros(rows)
        }
    }

    impl<F: Scalar + Zero, const N: usize> ZerosOfShape for SVector<F, N> {
        type Elem = F;
        fn __ad_zeros_of(_rows: usize, _cols: usize) -> Self {
            SVector::zeros()
        }
    }

    impl<F: Scalar + Zero> ZerosOfShape for DMatrix<F> {
        type Elem = F;
        fn __ad_zeros_of(rows: usize, cols: usize) -> Self {
            DMatrix::zeros(rows, cols)
        }
    }

    library_buffer!([F: Scalar + Copy + Zero] DVector<F> => DVector<F>, owned);
    library_buffer!([F: Scalar + Copy + Zero, const N: usize] SVector<F, N> => SVector<F, N>, owned);
    library_buffer!([F: Scalar + Copy + Zero] DMatrix<F> => DMatrix<F>, owned);

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

    impl<F: Scalar, R: Dim, C: Dim, S: RawStorage<F, R, C>> super::Lib for Matrix<F, R, C, S> {
        type Target = Self;
        #[inline]
        fn __ad_lib(&self) -> &Self {
            self
        }
    }

    impl<F: Scalar + Copy, R: Dim, C: Dim, S: RawStorage<F, R, C>> super::Elements
        for Matrix<F, R, C, S>
    {
        type Elem = F;
        #[inline]
        fn __ad_shape(&self) -> (usize, usize) {
            self.shape()
        }
        #[inline]
        fn __ad_get(&self, i: usize, j: usize) -> F {
            self[(i, j)]
        }
        fn __ad_column_major(&self) -> bool {
            true
        }
    }

    impl<F: Scalar + Copy + ClosedAddAssign, R: Dim, C: Dim, S: RawStorageMut<F, R, C>>
        super::Accumulate<F> for Matrix<F, R, C, S>
    {
        #[inline]
        fn __ad_add(&mut self, i: usize, j: usize, v: F) {
            self[(i, j)] += v;
        }
    }

    /// The products nalgebra computes with the bounds it asks of a real scalar.
    trait Real: Scalar + Copy + Zero + One + ClosedAddAssign + ClosedMulAssign {}
    impl<F: Scalar + Copy + Zero + One + ClosedAddAssign + ClosedMulAssign> Real for F {}

    impl<F: Real> super::LibDot<DVector<F>> for DVector<F> {
        type Output = F;
        #[inline]
        fn __ad_dot(&self, b: &DVector<F>) -> F {
            self.dot(b)
        }
    }

    impl<F: Real, const N: usize> super::LibDot<SVector<F, N>> for SVector<F, N> {
        type Output = F;
        #[inline]
        fn __ad_dot(&self, b: &SVector<F, N>) -> F {
            self.dot(b)
        }
    }

    impl<F: Real> super::LibDot<DMatrix<F>> for DMatrix<F> {
        type Output = F;
        #[inline]
        fn __ad_dot(&self, b: &DMatrix<F>) -> F {
            self.dot(b)
        }
    }

    impl<F: Real> super::LibProduct<DVector<F>> for DMatrix<F> {
        type Output = DVector<F>;
        #[inline]
        fn __ad_product(&self, b: &DVector<F>) -> DVector<F> {
            self * b
        }
    }

    impl<F: Real> super::LibProduct<DMatrix<F>> for DMatrix<F> {
        type Output = DMatrix<F>;
        #[inline]
        fn __ad_product(&self, b: &DMatrix<F>) -> DMatrix<F> {
            self * b
        }
    }

    impl<F: Scalar> super::LibTranspose for DMatrix<F> {
        type Output<'a>
            = DMatrix<F>
        where
            Self: 'a;
        #[inline]
        fn __ad_transpose(&self) -> DMatrix<F> {
            self.transpose()
        }
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_containers {
    use ndarray::{
        Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Data, DataMut, Ix1, Ix2, LinalgScalar,
    };
    use num_traits::Zero;

    use super::{FillZero, ZerosOfShape};
    use crate::stash::AsSlice;

    impl<F: Clone + Zero, D: ndarray::Dimension> FillZero for ndarray::Array<F, D> {
        fn __ad_fill_zero(&mut self) {
            self.fill(F::zero());
        }
    }

    impl<F: Clone + Zero> ZerosOfShape for Array1<F> {
        type Elem = F;
        fn __ad_zeros_of(rows: usize, _cols: usize) -> Self {
            Array1::zeros(rows)
        }
    }

    impl<F: Clone + Zero> ZerosOfShape for Array2<F> {
        type Elem = F;
        fn __ad_zeros_of(rows: usize, cols: usize) -> Self {
            Array2::zeros((rows, cols))
        }
    }

    library_buffer!([F: Copy + Zero] Array1<F> => Array1<F>, owned);
    library_buffer!([F: Copy + Zero] Array2<F> => Array2<F>, owned);
    // A view's buffer is owned (the transpose `a.t()` is a view).
    library_buffer!([F: Copy + Zero] ArrayView1<'_, F> => Array1<F>);
    library_buffer!([F: Copy + Zero] ArrayView2<'_, F> => Array2<F>);

    /// The elements of an array in standard layout (row-major, contiguous).
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

    impl<S: Data> super::Lib for ArrayBase<S, Ix1> {
        type Target = Self;
        #[inline]
        fn __ad_lib(&self) -> &Self {
            self
        }
    }

    impl<S: Data> super::Lib for ArrayBase<S, Ix2> {
        type Target = Self;
        #[inline]
        fn __ad_lib(&self) -> &Self {
            self
        }
    }

    impl<F: Copy, S: Data<Elem = F>> super::Elements for ArrayBase<S, Ix1> {
        type Elem = F;
        #[inline]
        fn __ad_shape(&self) -> (usize, usize) {
            (self.len(), 1)
        }
        #[inline]
        fn __ad_get(&self, i: usize, _j: usize) -> F {
            self[i]
        }
    }

    impl<F: Copy, S: Data<Elem = F>> super::Elements for ArrayBase<S, Ix2> {
        type Elem = F;
        #[inline]
        fn __ad_shape(&self) -> (usize, usize) {
            self.dim()
        }
        #[inline]
        fn __ad_get(&self, i: usize, j: usize) -> F {
            self[[i, j]]
        }
    }

    impl<F: Copy + core::ops::Add<Output = F>, S: DataMut<Elem = F>> super::Accumulate<F>
        for ArrayBase<S, Ix1>
    {
        #[inline]
        fn __ad_add(&mut self, i: usize, _j: usize, v: F) {
            self[i] = self[i] + v;
        }
    }

    impl<F: Copy + core::ops::Add<Output = F>, S: DataMut<Elem = F>> super::Accumulate<F>
        for ArrayBase<S, Ix2>
    {
        #[inline]
        fn __ad_add(&mut self, i: usize, j: usize, v: F) {
            self[[i, j]] = self[[i, j]] + v;
        }
    }

    impl<F: LinalgScalar, S: Data<Elem = F>, S2: Data<Elem = F>> super::LibDot<ArrayBase<S2, Ix1>>
        for ArrayBase<S, Ix1>
    {
        type Output = F;
        #[inline]
        fn __ad_dot(&self, b: &ArrayBase<S2, Ix1>) -> F {
            self.dot(b)
        }
    }

    impl<F: LinalgScalar, S: Data<Elem = F>, S2: Data<Elem = F>>
        super::LibProduct<ArrayBase<S2, Ix1>> for ArrayBase<S, Ix2>
    {
        type Output = Array1<F>;
        #[inline]
        fn __ad_product(&self, b: &ArrayBase<S2, Ix1>) -> Array1<F> {
            self.dot(b)
        }
    }

    impl<F: LinalgScalar, S: Data<Elem = F>, S2: Data<Elem = F>>
        super::LibProduct<ArrayBase<S2, Ix2>> for ArrayBase<S, Ix2>
    {
        type Output = Array2<F>;
        #[inline]
        fn __ad_product(&self, b: &ArrayBase<S2, Ix2>) -> Array2<F> {
            self.dot(b)
        }
    }

    impl<F, S: Data<Elem = F>> super::LibTranspose for ArrayBase<S, Ix2> {
        type Output<'a>
            = ArrayView2<'a, F>
        where
            Self: 'a;
        #[inline]
        fn __ad_transpose(&self) -> ArrayView2<'_, F> {
            self.t()
        }
    }
}
