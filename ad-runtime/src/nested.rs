//! Nested containers at the boundary of generated code. Inside a generated function a
//! container of rows (`&[[F; N]]`, `[[F; N]; M]`, `Vec<[F; N]>`) is one flat container of its
//! floats, row after row, indexed `x[i * N + j]`; these convert between the user's shapes and
//! the flat ones where values enter and leave: parameters on entry, gradients on return,
//! arguments of calls to other `#[reverse]` functions. Only generated code uses them (through
//! `__private`).

use alloc::vec::Vec;

/// The floats of a container of rows, row after row.
#[inline]
pub fn flat<F, const N: usize>(rows: &[[F; N]]) -> &[F] {
    rows.as_flattened()
}

/// [`flat`], writable.
#[inline]
pub fn flat_mut<F, const N: usize>(rows: &mut [[F; N]]) -> &mut [F] {
    rows.as_flattened_mut()
}

/// An owned container of rows as an owned flat `Vec`: a `Vec<[F; N]>` without copying.
pub trait FlatOwned<F> {
    /// The floats, row after row.
    fn __ad_flat_owned(self) -> Vec<F>;
}

impl<F, const N: usize> FlatOwned<F> for Vec<[F; N]> {
    #[inline]
    fn __ad_flat_owned(self) -> Vec<F> {
        self.into_flattened()
    }
}

impl<F: Copy, const N: usize, const M: usize> FlatOwned<F> for [[F; N]; M] {
    #[inline]
    fn __ad_flat_owned(self) -> Vec<F> {
        self.as_flattened().to_vec()
    }
}

/// [`FlatOwned`] as a function.
#[inline]
pub fn flat_owned<F, T: FlatOwned<F>>(rows: T) -> Vec<F> {
    rows.__ad_flat_owned()
}

#[cold]
#[inline(never)]
fn not_rows(len: usize, row: usize) -> ! {
    panic!(
        "ad-runtime: a flat container of {len} floats is not made of rows of {row}; this is a bug in #[reverse], please report it"
    )
}

/// A borrowed view of flat floats as the rows a callee takes: `&[[F; N]]` or `&[[F; N]; M]`
/// (the type is inferred from the callee's parameter).
pub trait Nest<'a, F>: Sized {
    /// The view.
    fn __ad_nest(flat: &'a [F]) -> Self;
}

impl<'a, F, const N: usize> Nest<'a, F> for &'a [[F; N]] {
    #[inline]
    fn __ad_nest(flat: &'a [F]) -> Self {
        match flat.as_chunks::<N>() {
            (rows, []) => rows,
            _ => not_rows(flat.len(), N),
        }
    }
}

impl<'a, F, const N: usize, const M: usize> Nest<'a, F> for &'a [[F; N]; M] {
    #[inline]
    fn __ad_nest(flat: &'a [F]) -> Self {
        match <&[[F; N]]>::__ad_nest(flat).try_into() {
            Ok(rows) => rows,
            Err(_) => not_rows(flat.len(), N),
        }
    }
}

/// [`Nest`] as a function.
#[inline]
pub fn nest<'a, F, T: Nest<'a, F>>(flat: &'a [F]) -> T {
    T::__ad_nest(flat)
}

/// A writable view of flat floats as rows: `&mut [[F; N]]` or `&mut [[F; N]; M]`.
pub trait NestMut<'a, F>: Sized {
    /// The view.
    fn __ad_nest_mut(flat: &'a mut [F]) -> Self;
}

impl<'a, F, const N: usize> NestMut<'a, F> for &'a mut [[F; N]] {
    #[inline]
    fn __ad_nest_mut(flat: &'a mut [F]) -> Self {
        let len = flat.len();
        match flat.as_chunks_mut::<N>() {
            (rows, []) => rows,
            _ => not_rows(len, N),
        }
    }
}

impl<'a, F, const N: usize, const M: usize> NestMut<'a, F> for &'a mut [[F; N]; M] {
    #[inline]
    fn __ad_nest_mut(flat: &'a mut [F]) -> Self {
        let len = flat.len();
        match <&mut [[F; N]]>::__ad_nest_mut(flat).try_into() {
            Ok(rows) => rows,
            Err(_) => not_rows(len, N),
        }
    }
}

/// [`NestMut`] as a function.
#[inline]
pub fn nest_mut<'a, F, T: NestMut<'a, F>>(flat: &'a mut [F]) -> T {
    T::__ad_nest_mut(flat)
}

/// An owned container of rows made from flat floats (copied): `Vec<[F; N]>` or
/// `[[F; N]; M]`. A nested gradient on return, a nested argument a callee takes by value.
pub trait Nested<F>: Sized {
    /// The rows.
    fn __ad_nested(flat: &[F]) -> Self;
}

impl<F: Copy, const N: usize> Nested<F> for Vec<[F; N]> {
    #[inline]
    fn __ad_nested(flat: &[F]) -> Self {
        <&[[F; N]]>::__ad_nest(flat).to_vec()
    }
}

impl<F: Copy, const N: usize, const M: usize> Nested<F> for [[F; N]; M] {
    #[inline]
    fn __ad_nested(flat: &[F]) -> Self {
        *<&[[F; N]; M]>::__ad_nest(flat)
    }
}

/// [`Nested`] as a function.
#[inline]
pub fn nested<F, T: Nested<F>>(flat: &[F]) -> T {
    T::__ad_nested(flat)
}

/// The floats of rows of any lengths (`&[Vec<F>]`), flat, and the offsets where each row
/// starts followed by their number (one more offset than rows).
pub fn ragged<F: Copy, R: AsRef<[F]>>(rows: &[R]) -> (Vec<F>, Vec<usize>) {
    let mut offsets = Vec::with_capacity(rows.len() + 1);
    let mut flat = Vec::with_capacity(rows.iter().map(|r| r.as_ref().len()).sum());
    for row in rows {
        offsets.push(flat.len());
        flat.extend_from_slice(row.as_ref());
    }
    offsets.push(flat.len());
    (flat, offsets)
}

/// The rows of [`ragged`]'s flat floats, as `Vec`s: a gradient shaped as its parameter.
pub fn unragged<F: Copy>(flat: &[F], offsets: &[usize]) -> Vec<Vec<F>> {
    offsets
        .windows(2)
        .map(|w| flat[w[0]..w[1]].to_vec())
        .collect()
}

/// [`unragged`] into the caller's rows `buffer` (of `f_grad_into`), after checking that it
/// has the parameter's shape.
#[track_caller]
pub fn unragged_into<F: Copy, R: AsMut<[F]>>(
    buffer: &mut [R],
    flat: &[F],
    offsets: &[usize],
    name: &str,
) {
    assert!(
        buffer.len() + 1 == offsets.len(),
        "f_grad_into: `{name}` has {} rows but its parameter has {}",
        buffer.len(),
        offsets.len() - 1,
    );
    for (i, (row, w)) in buffer.iter_mut().zip(offsets.windows(2)).enumerate() {
        let row = row.as_mut();
        assert!(
            row.len() == w[1] - w[0],
            "f_grad_into: row {i} of `{name}` has {} elements but its parameter's has {}",
            row.len(),
            w[1] - w[0],
        );
        row.copy_from_slice(&flat[w[0]..w[1]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let rows = alloc::vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let flat_rows = flat(&rows).to_vec();
        assert_eq!(flat_rows, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let view: &[[f64; 3]] = nest(&flat_rows);
        assert_eq!(view, &rows[..]);
        let array: &[[f64; 3]; 2] = nest(&flat_rows);
        assert_eq!(array, &[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let owned: Vec<[f64; 3]> = nested(&flat_rows);
        assert_eq!(owned, rows);
        assert_eq!(flat_owned(rows), flat_rows);
    }

    #[test]
    fn ragged_rows_round_trip() {
        let rows = alloc::vec![alloc::vec![1.0, 2.0], alloc::vec![], alloc::vec![3.0]];
        let (flat, offsets) = ragged(&rows);
        assert_eq!(flat, [1.0, 2.0, 3.0]);
        assert_eq!(offsets, [0, 2, 2, 3]);
        assert_eq!(unragged(&flat, &offsets), rows);
        let mut buffer = alloc::vec![alloc::vec![0.0; 2], alloc::vec![], alloc::vec![0.0]];
        unragged_into(&mut buffer, &flat, &offsets, "dx");
        assert_eq!(buffer, rows);
    }

    #[test]
    #[should_panic(expected = "row 0 of `dx` has 1 elements but its parameter's has 2")]
    fn a_buffer_of_other_rows_is_refused() {
        let (flat, offsets) = ragged(&[alloc::vec![1.0, 2.0]]);
        unragged_into(&mut [alloc::vec![0.0]], &flat, &offsets, "dx");
    }
}
