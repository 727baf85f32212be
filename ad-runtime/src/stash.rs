//! Where the forward sweep keeps what the reverse sweep needs, and how the reverse sweep finds
//! a loop's indices again. Only generated code uses these (through `__private`).
//!
//! A region outside loops runs at most once per call, so a [`Slot`] holds its values; a loop
//! body pushes one entry per iteration onto a [`Stack`] (branch flags onto [`Bits`], a bit
//! each), reserved to the trip count when the loop's range knows it. The reverse sweep pops in
//! the opposite order. A pop from an empty stash is a bug in the generated code, reported as
//! such.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::ops::{Range, RangeInclusive};

use num_traits::{NumCast, One, ToPrimitive, Zero};

#[cold]
#[inline(never)]
fn empty() -> ! {
    panic!(
        "ad-runtime: the reverse sweep popped an empty stash; this is a bug in #[reverse], please report it"
    )
}

/// One value per iteration of a loop body.
///
/// With the `std` feature, a stack's allocation, when large, is kept for the next stack of the
/// thread that needs as much (the module `reuse`): repeated gradients do not page-fault their
/// stashes in again.
pub struct Stack<T>(Vec<T>);

impl<T> Stack<T> {
    /// An empty stack; allocates on the first push.
    #[inline]
    pub const fn new() -> Self {
        Stack(Vec::new())
    }

    /// Makes room for `n` more pushes.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        if self.0.capacity() - self.0.len() < n {
            self.grow(n);
        }
    }

    /// Keeps `value` for the reverse sweep.
    #[inline]
    pub fn push(&mut self, value: T) {
        let len = self.0.len();
        if len == self.0.capacity() {
            // The value goes with the call: were it written after an out-of-line call here, it
            // would be live across the call, and a float has no callee-saved register (System V,
            // Windows x64 keeps few), so the register allocator keeps it, and often the loop's
            // accumulator it came from, on the stack for the whole loop.
            return self.grow_and_push(value);
        }
        // SAFETY: `len < capacity`, so the vector has room past `len`; `value` is written
        // there before the length covers it. (`Vec::push` checks the capacity a second time.)
        unsafe {
            self.0.as_mut_ptr().add(len).write(value);
            self.0.set_len(len + 1);
        }
    }

    /// [`Stack::push`] when the stack is full.
    #[cold]
    #[inline(never)]
    fn grow_and_push(&mut self, value: T) {
        self.grow(1);
        self.0.push(value);
    }

    /// Room for `n` more entries, at least doubling: from a kept block when one fits.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let wanted = (self.0.len().saturating_add(n))
            .max(self.0.capacity().saturating_mul(2))
            .max(4);
        #[cfg(feature = "std")]
        if let Some(mut kept) = crate::reuse::take::<T>(wanted) {
            kept.append(&mut self.0);
            crate::reuse::give(core::mem::replace(&mut self.0, kept));
            return;
        }
        self.0.reserve_exact(wanted - self.0.len());
    }

    /// The value pushed last.
    #[inline]
    pub fn pop(&mut self) -> T {
        match self.0.pop() {
            Some(value) => value,
            None => empty(),
        }
    }

    /// The number of entries held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> Default for Stack<T> {
    fn default() -> Self {
        Stack::new()
    }
}

impl<T> Drop for Stack<T> {
    fn drop(&mut self) {
        #[cfg(feature = "std")]
        crate::reuse::give(core::mem::take(&mut self.0));
    }
}

/// One value, for a region that runs at most once per call: no allocation.
pub struct Slot<T>(Option<T>);

impl<T> Slot<T> {
    /// An empty slot.
    #[inline]
    pub const fn new() -> Self {
        Slot(None)
    }

    /// Keeps `value` for the reverse sweep.
    #[inline]
    pub fn push(&mut self, value: T) {
        self.0 = Some(value);
    }

    /// Takes the value back.
    #[inline]
    pub fn pop(&mut self) -> T {
        match self.0.take() {
            Some(value) => value,
            None => empty(),
        }
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}

/// A stack of booleans, a bit each: the branch a loop iteration took.
#[derive(Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// An empty stack of bits; allocates on the first push.
    #[inline]
    pub const fn new() -> Self {
        Bits {
            words: Vec::new(),
            len: 0,
        }
    }

    /// Makes room for `n` more bits.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        let words = (self.len + n).div_ceil(64);
        self.words.reserve(words.saturating_sub(self.words.len()));
    }

    /// Keeps `bit` for the reverse sweep.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        let (word, shift) = (self.len / 64, self.len % 64);
        if word == self.words.len() {
            self.words.push(0);
        }
        self.words[word] |= (bit as u64) << shift;
        self.len += 1;
    }

    /// The bit pushed last.
    #[inline]
    pub fn pop(&mut self) -> bool {
        if self.len == 0 {
            empty();
        }
        self.len -= 1;
        let (word, shift) = (self.len / 64, self.len % 64);
        let bit = self.words[word] >> shift & 1 == 1;
        self.words[word] &= !(1 << shift);
        if shift == 0 {
            self.words.pop();
        }
        bit
    }

    /// The number of bits held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bit is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The indices a `for` loop over an integer range visits, as an arithmetic progression, so
/// that the reverse sweep can find the `k`-th without keeping them: the same chain of
/// `.rev()` and `.step_by(k)` as the loop, applied to `Progression::of(range)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progression<T> {
    first: i128,
    step: i128,
    len: usize,
    index: PhantomData<T>,
}

/// A range `Progression::of` accepts: `a..b` and `a..=b` of a primitive integer type.
pub trait IntoProgression {
    /// The index type.
    type Index;
    /// The progression this range iterates.
    fn into_progression(self) -> Progression<Self::Index>;
}

fn wide<T: ToPrimitive>(x: T) -> i128 {
    // Every primitive integer fits in an i128 but u128 above i128::MAX, which no loop reaches.
    x.to_i128().unwrap_or(i128::MAX)
}

impl<T: ToPrimitive> IntoProgression for Range<T> {
    type Index = T;
    fn into_progression(self) -> Progression<T> {
        let (first, end) = (wide(self.start), wide(self.end));
        Progression::new(first, 1, (end - first).max(0))
    }
}

impl<T: ToPrimitive> IntoProgression for RangeInclusive<T> {
    type Index = T;
    fn into_progression(self) -> Progression<T> {
        let (start, end) = self.into_inner();
        let (first, end) = (wide(start), wide(end));
        Progression::new(first, 1, (end - first + 1).max(0))
    }
}

impl<T> Progression<T> {
    fn new(first: i128, step: i128, len: i128) -> Self {
        Progression {
            first,
            step,
            len: usize::try_from(len).unwrap_or(usize::MAX),
            index: PhantomData,
        }
    }

    /// The progression of `range`.
    pub fn of<R: IntoProgression<Index = T>>(range: R) -> Self {
        range.into_progression()
    }

    /// As `Iterator::rev`.
    #[must_use]
    pub fn rev(self) -> Self {
        let last = self.first + self.step * (self.len as i128 - 1).max(0);
        Progression::new(last, -self.step, self.len as i128)
    }

    /// As `Iterator::step_by`.
    ///
    /// # Panics
    ///
    /// If `k` is 0, as `step_by`.
    #[must_use]
    pub fn step_by(self, k: usize) -> Self {
        assert!(k != 0, "assertion failed: step != 0");
        let k = k as i128;
        Progression::new(self.first, self.step * k, (self.len as i128 + k - 1) / k)
    }

    /// The number of indices.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no index.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `k`-th index (from 0).
    #[inline]
    pub fn at(&self, k: usize) -> T
    where
        T: NumCast,
    {
        match T::from(self.first + self.step * k as i128) {
            Some(index) => index,
            None => empty(),
        }
    }
}

/// A value of an inferred numeric type for a variable that has none yet on some path (what a
/// `break value` will set, before it runs). It is never read.
#[inline]
pub fn placeholder<T: Zero>() -> T {
    T::zero()
}

/// What a container declared without a value holds until it is assigned: an empty `Vec`,
/// an array of zeros. Never read.
pub trait Vacant {
    /// The value.
    fn __ad_vacant() -> Self;
}

impl<T> Vacant for Vec<T> {
    fn __ad_vacant() -> Self {
        Vec::new()
    }
}

impl<F: Zero + Copy, const N: usize> Vacant for [F; N] {
    fn __ad_vacant() -> Self {
        [F::zero(); N]
    }
}

/// A `Vacant` container.
#[inline]
pub fn vacant<T: Vacant>() -> T {
    T::__ad_vacant()
}

/// The adjoint buffer of a container: zeros shaped like it (`Vec<F>` for slices and `Vec`s,
/// `[F; N]` for arrays), so that a parameter's buffer is its gradient.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter struct or a container of floats",
    label = "this value is differentiated as a struct of parameters",
    note = "derive `ad_runtime::Params` for it, or leave the parameter out of `wrt(...)`",
    note = "rows a `#[reverse]` function returns, read by element in the caller, are annotated where they are bound, `let q: Vec<[f64; 3]> = step(&p);`"
)]
pub trait AdjointBuffer {
    /// The buffer's type.
    type Buffer;
    /// Zeros, as many as `self` has elements.
    fn __ad_zeros(&self) -> Self::Buffer;
}

impl<F: Zero + Copy> AdjointBuffer for [F] {
    type Buffer = Vec<F>;
    fn __ad_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); self.len()]
    }
}

impl<F: Zero + Copy> AdjointBuffer for Vec<F> {
    type Buffer = Vec<F>;
    fn __ad_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); self.len()]
    }
}

impl<F: Zero + Copy, const N: usize> AdjointBuffer for [F; N] {
    type Buffer = [F; N];
    fn __ad_zeros(&self) -> [F; N] {
        [F::zero(); N]
    }
}

impl<T: AdjointBuffer + ?Sized> AdjointBuffer for &T {
    type Buffer = T::Buffer;
    fn __ad_zeros(&self) -> T::Buffer {
        (**self).__ad_zeros()
    }
}

impl<T: AdjointBuffer + ?Sized> AdjointBuffer for &mut T {
    type Buffer = T::Buffer;
    fn __ad_zeros(&self) -> T::Buffer {
        (**self).__ad_zeros()
    }
}

/// The adjoint buffer of a container the function made or a callee returned: zeros shaped
/// like it, flat, so that rows a callee returns (`Vec<[F; N]>`, `[[F; N]; M]`, not annotated
/// where they are bound) get the `Vec<F>` every pullback takes them as. `F` is inferred: of the impls that
/// could apply, only one has elements that are numbers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a container of floats or of rows of floats",
    label = "the adjoint of this value is not known",
    note = "rows a `#[reverse]` function returns are `Vec<[f64; N]>`; a container of `Vec`s or of arrays of rows is returned flat, or as rows of one length"
)]
pub trait LocalBuffer<F> {
    /// The buffer's type.
    type Buffer;
    /// Zeros, as many as `self` has numbers.
    fn __ad_local_zeros(&self) -> Self::Buffer;
    /// How many numbers `self` holds.
    fn __ad_count(&self) -> usize;
    /// What making the buffer takes: a length (nothing for an array).
    type Shape: LocalBuffer<F, Buffer = Self::Buffer>;
    /// `self`'s shape.
    fn __ad_shape(&self) -> Self::Shape;
}

/// The shape of a `Vec` the reverse sweep keeps instead of the `Vec` itself, when it only
/// needs to make the `Vec`'s adjoint buffer ([`shape`]): its count of numbers.
#[derive(Clone, Copy, Debug)]
pub struct VecShape<F>(usize, core::marker::PhantomData<F>);

/// The shape of an array `[F; N]`: nothing to keep.
#[derive(Clone, Copy, Debug)]
pub struct ArrayShape<F, const N: usize>(core::marker::PhantomData<F>);

impl<F: Zero + Copy> LocalBuffer<F> for VecShape<F> {
    type Buffer = Vec<F>;
    fn __ad_local_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); self.0]
    }
    fn __ad_count(&self) -> usize {
        self.0
    }
    type Shape = Self;
    fn __ad_shape(&self) -> Self {
        *self
    }
}

impl<F: Zero + Copy, const N: usize> LocalBuffer<F> for ArrayShape<F, N> {
    type Buffer = [F; N];
    fn __ad_local_zeros(&self) -> [F; N] {
        [F::zero(); N]
    }
    fn __ad_count(&self) -> usize {
        N
    }
    type Shape = Self;
    fn __ad_shape(&self) -> Self {
        *self
    }
}

impl<F: Zero + Copy> LocalBuffer<F> for Vec<F> {
    type Buffer = Vec<F>;
    fn __ad_local_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); self.len()]
    }
    fn __ad_count(&self) -> usize {
        self.len()
    }
    type Shape = VecShape<F>;
    fn __ad_shape(&self) -> VecShape<F> {
        VecShape(self.len(), core::marker::PhantomData)
    }
}

impl<F: Zero + Copy, const N: usize> LocalBuffer<F> for [F; N] {
    type Buffer = [F; N];
    fn __ad_local_zeros(&self) -> [F; N] {
        [F::zero(); N]
    }
    fn __ad_count(&self) -> usize {
        N
    }
    type Shape = ArrayShape<F, N>;
    fn __ad_shape(&self) -> ArrayShape<F, N> {
        ArrayShape(core::marker::PhantomData)
    }
}

impl<F: Zero + Copy, const N: usize> LocalBuffer<F> for Vec<[F; N]> {
    type Buffer = Vec<F>;
    fn __ad_local_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); self.len() * N]
    }
    fn __ad_count(&self) -> usize {
        self.len() * N
    }
    type Shape = VecShape<F>;
    fn __ad_shape(&self) -> VecShape<F> {
        VecShape(self.len() * N, core::marker::PhantomData)
    }
}

impl<F: Zero + Copy, const N: usize, const M: usize> LocalBuffer<F> for [[F; N]; M] {
    type Buffer = Vec<F>;
    fn __ad_local_zeros(&self) -> Vec<F> {
        alloc::vec![F::zero(); N * M]
    }
    fn __ad_count(&self) -> usize {
        N * M
    }
    type Shape = VecShape<F>;
    fn __ad_shape(&self) -> VecShape<F> {
        VecShape(N * M, core::marker::PhantomData)
    }
}

/// How many numbers `container` holds: its length, times the width of its rows if it has
/// rows (`Vec<[F; N]>`), which is the length of its buffer (`LocalBuffer`).
#[inline]
pub fn count<F, T: LocalBuffer<F>>(container: &T) -> usize {
    container.__ad_count()
}

/// The shape of `container` (`LocalBuffer::Shape`), from which [`local_zeros`] makes the
/// same buffer as from the container.
#[inline]
pub fn shape<F, T: LocalBuffer<F>>(container: &T) -> T::Shape {
    container.__ad_shape()
}

/// `LocalBuffer`'s zeros of `like`.
#[inline]
pub fn local_zeros<F, T: LocalBuffer<F>>(like: &T) -> T::Buffer {
    like.__ad_local_zeros()
}

/// [`local_zeros`] of `like` in the allocation `kept` holds, if it holds one: a loop body
/// making an adjoint buffer in every iteration makes it once ([`keep`] gives it back at the
/// end of the iteration).
#[inline]
pub fn zeros_from<F, T: LocalBuffer<F>>(kept: &mut Option<T::Buffer>, like: &T) -> T::Buffer
where
    T::Buffer: Refill,
{
    match kept.take() {
        Some(buffer) => buffer.refill::<F, T>(like),
        None => like.__ad_local_zeros(),
    }
}

/// Keeps `buffer`'s allocation for the next [`zeros_from`] of the same buffer.
#[inline]
pub fn keep<B>(kept: &mut Option<B>, buffer: B) {
    *kept = Some(buffer);
}

/// A buffer made zero again, shaped like `like`'s, in the allocation it has where it can.
pub trait Refill: Sized {
    /// Zeros, as many as `like` has numbers.
    fn refill<F, L: LocalBuffer<F, Buffer = Self> + ?Sized>(self, like: &L) -> Self;
}

impl<F: Zero + Copy> Refill for Vec<F> {
    #[inline]
    fn refill<G, L: LocalBuffer<G, Buffer = Self> + ?Sized>(mut self, like: &L) -> Self {
        self.clear();
        self.resize(like.__ad_count(), F::zero());
        self
    }
}

impl<F: Zero + Copy, const N: usize> Refill for [F; N] {
    #[inline]
    fn refill<G, L: LocalBuffer<G, Buffer = Self> + ?Sized>(self, _: &L) -> Self {
        [F::zero(); N]
    }
}

/// The adjoint in `slot`, which is reset to zero: the adjoint of a value overwritten there.
#[inline]
pub fn take<F: Zero + Copy>(slot: &mut F) -> F {
    core::mem::replace(slot, F::zero())
}

/// The last adjoint of a buffer, removed: the adjoint of the value pushed last.
#[inline]
pub fn pop<F>(buffer: &mut Vec<F>) -> F {
    match buffer.pop() {
        Some(value) => value,
        None => empty(),
    }
}

/// `a + b`, for an accumulation whose first operand's type rustc has not inferred yet where
/// the sum is written (a zero placeholder carried by a loop): a function call lets it unify
/// the operands first, where the operator would need `a`'s type on the spot.
#[inline(always)]
pub fn add<F: core::ops::Add<Output = F>>(a: F, b: F) -> F {
    a + b
}

/// `a`, of the type of `like`: a method called on a zero placeholder whose type rustc has not
/// inferred yet (`best.total_cmp(&v)` of a `max_by`) needs the type where it is written.
#[inline(always)]
pub fn like<F>(a: F, _like: &F) -> F {
    a
}

/// The sum of the adjoints in a buffer.
#[inline]
pub fn sum<F: Zero + Copy>(buffer: &[F]) -> F {
    buffer.iter().fold(F::zero(), |acc, &x| acc + x)
}

/// Makes `buffer` `len` zeros: the adjoint of a container's elements before a whole
/// assignment overwrote them (a `Vec` may have had another length; an array has its own).
#[inline]
pub fn reset<B: Reset + ?Sized>(buffer: &mut B, len: usize) {
    buffer.__ad_reset(len);
}

/// An adjoint buffer that [`reset`] can zero: `Vec<F>` and `[F; N]`.
pub trait Reset {
    /// Makes `self` `len` zeros (an array keeps its length).
    fn __ad_reset(&mut self, len: usize);
}

impl<F: Zero + Copy> Reset for Vec<F> {
    fn __ad_reset(&mut self, len: usize) {
        self.clear();
        self.resize(len, F::zero());
    }
}

impl<F: Zero + Copy, const N: usize> Reset for [F; N] {
    fn __ad_reset(&mut self, _len: usize) {
        self.fill(F::zero());
    }
}

/// The caller's buffer of a parameter (`f_grad_into`, a pullback's slot): its length is the
/// parameter's.
impl<F: Zero + Copy> Reset for [F] {
    fn __ad_reset(&mut self, _len: usize) {
        self.fill(F::zero());
    }
}

impl<T: Reset + ?Sized> Reset for &mut T {
    fn __ad_reset(&mut self, len: usize) {
        (**self).__ad_reset(len);
    }
}

/// `buffer[i] += from[i]`: a container's adjoint collected in a second buffer.
#[inline]
pub fn add_all<F: Zero + Copy>(buffer: &mut [F], from: &[F]) {
    for (b, &f) in buffer.iter_mut().zip(from) {
        *b = *b + f;
    }
}

/// `*slot += value` (which `Float` does not provide).
#[inline]
pub fn add_to<F: Zero + Copy>(slot: &mut F, value: F) {
    *slot = *slot + value;
}

/// Panics unless a cotangent has as many elements as the output it belongs to.
#[track_caller]
pub fn check_seed<F>(seed: &[F], output_len: usize, name: &str) {
    assert!(
        seed.len() == output_len,
        "f_vjp: `{name}` has {} elements but the output it is the cotangent of has {output_len}",
        seed.len()
    );
}

/// Panics unless a tangent (or direction) has as many elements as its parameter. Checked on
/// entry to `f_jvp` and `f_hvp`, which also tells the optimizer that the two have one length.
#[track_caller]
#[inline]
pub fn check_tangent(tangent_len: usize, param_len: usize, names: &[&str; 3]) {
    if tangent_len != param_len {
        tangent_length(tangent_len, param_len, names);
    }
}

#[cold]
#[track_caller]
fn tangent_length(tangent_len: usize, param_len: usize, [function, tangent, param]: &[&str; 3]) {
    panic!(
        "{function}: the tangent `{tangent}` has {tangent_len} elements but `{param}` has {param_len}"
    );
}

/// The caller's gradient buffer `buffer` for `param`, zeroed, after checking its length.
#[track_caller]
pub fn into_buffer<'b, F: Zero + Copy, P: AsRef<[F]> + ?Sized>(
    buffer: &'b mut [F],
    param: &P,
    name: &str,
) -> &'b mut [F] {
    let len = param.as_ref().len();
    assert!(
        buffer.len() == len,
        "f_grad_into: `{name}` has {} elements but its parameter has {len}",
        buffer.len(),
    );
    buffer.fill(F::zero());
    buffer
}

/// A cotangent for one row of a Jacobian: 1 if `*at` is 0, else 0; then one position less.
#[inline]
pub fn basis_scalar<F: Zero + One>(at: &mut usize) -> F {
    let value = if *at == 0 { F::one() } else { F::zero() };
    *at = at.wrapping_sub(1);
    value
}

/// As [`basis_scalar`], for a container output of `len` elements.
pub fn basis_vec<F: Zero + One + Copy>(at: &mut usize, len: usize) -> Vec<F> {
    let mut seed = alloc::vec![F::zero(); len];
    if *at < len {
        seed[*at] = F::one();
    }
    *at = at.wrapping_sub(len);
    seed
}

/// As [`basis_scalar`], for an array output.
pub fn basis_array<F: Zero + One + Copy, const N: usize>(at: &mut usize) -> [F; N] {
    let mut seed = [F::zero(); N];
    if *at < N {
        seed[*at] = F::one();
    }
    *at = at.wrapping_sub(N);
    seed
}

/// Appends a gradient, flattened, to a Jacobian row.
pub trait Flatten<F> {
    /// Appends the components of `self` to `row`.
    fn flatten_into(&self, row: &mut Vec<F>);
}

impl<F: num_traits::Float> Flatten<F> for F {
    fn flatten_into(&self, row: &mut Vec<F>) {
        row.push(*self);
    }
}

impl<F: Copy> Flatten<F> for Vec<F> {
    fn flatten_into(&self, row: &mut Vec<F>) {
        row.extend_from_slice(self);
    }
}

impl<F: Copy, const N: usize> Flatten<F> for [F; N] {
    fn flatten_into(&self, row: &mut Vec<F>) {
        row.extend_from_slice(self);
    }
}

/// The elements of a container however generated code holds it (an array, a `Vec`, a slice, a
/// reference to one, a caller's buffer), as a slice: a container operand of a rule.
pub trait AsSlice<F> {
    /// The elements.
    fn __ad_slice(&self) -> &[F];
}

impl<F> AsSlice<F> for [F] {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        self
    }
}

impl<F, const N: usize> AsSlice<F> for [F; N] {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        self
    }
}

impl<F> AsSlice<F> for Vec<F> {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        self
    }
}

impl<F, T: AsSlice<F> + ?Sized> AsSlice<F> for &T {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        (**self).__ad_slice()
    }
}

impl<F, T: AsSlice<F> + ?Sized> AsSlice<F> for &mut T {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        (**self).__ad_slice()
    }
}

/// [`AsSlice`] as a function.
#[inline]
pub fn slice<F, T: AsSlice<F> + ?Sized>(x: &T) -> &[F] {
    x.__ad_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn indices<T: NumCast>(p: Progression<T>) -> Vec<T> {
        (0..p.len()).map(|k| p.at(k)).collect()
    }

    #[test]
    fn progressions_match_the_iterators() {
        assert_eq!(indices(Progression::of(2..7)), (2..7).collect::<Vec<i32>>());
        assert_eq!(
            indices(Progression::of(2..=7)),
            (2..=7).collect::<Vec<u8>>()
        );
        let (five, two, three) = (5usize, 2usize, 3usize);
        assert_eq!(indices(Progression::of(five..two)), Vec::<usize>::new());
        assert_eq!(indices(Progression::of(three..=two)), Vec::<usize>::new());
        assert_eq!(
            indices(Progression::of(0..10).rev()),
            (0..10).rev().collect::<Vec<usize>>()
        );
        for n in 0..12usize {
            for k in 1..5 {
                let want: Vec<usize> = (0..n).step_by(k).collect();
                assert_eq!(indices(Progression::of(0..n).step_by(k)), want);
                let want: Vec<usize> = (0..n).rev().step_by(k).collect();
                assert_eq!(indices(Progression::of(0..n).rev().step_by(k)), want);
                // std cannot reverse these two (no `ExactSizeIterator`): the reason
                // `Progression` exists.
                let mut want: Vec<usize> = (0..=n).step_by(k).collect();
                want.reverse();
                assert_eq!(indices(Progression::of(0..=n).step_by(k).rev()), want);
                let mut forward: Vec<i64> = (-3..n as i64).step_by(k).collect();
                forward.reverse();
                let want: Vec<i64> = forward.into_iter().step_by(2).collect();
                let got = indices(Progression::of(-3..n as i64).step_by(k).rev().step_by(2));
                assert_eq!(got, want);
            }
        }
        assert_eq!(
            indices(Progression::of(u64::MAX - 2..=u64::MAX)),
            vec![u64::MAX - 2, u64::MAX - 1, u64::MAX]
        );
    }

    #[test]
    #[should_panic(expected = "step != 0")]
    fn step_by_zero_panics_like_the_iterator() {
        let _ = Progression::of(0..3).step_by(0);
    }

    #[test]
    fn a_stack_grows_past_its_reservation_keeping_every_value() {
        // Pushes that find the stack full take the out-of-line path with their value; owned
        // values check that nothing is written twice or lost on the way.
        let mut s = Stack::new();
        s.reserve(2);
        for i in 0..1000 {
            s.push(alloc::format!("{i}"));
        }
        assert_eq!(s.len(), 1000);
        for i in (0..1000).rev() {
            assert_eq!(s.pop(), alloc::format!("{i}"));
        }
        assert!(s.is_empty());
    }

    #[test]
    fn stacks_and_bits_are_lifo() {
        let mut s = Stack::new();
        s.reserve(3);
        for i in 0..3 {
            s.push((i, i as f64));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.pop(), (2, 2.0));
        assert_eq!(s.pop(), (1, 1.0));
        assert_eq!(s.pop(), (0, 0.0));
        assert!(s.is_empty());

        let mut b = Bits::new();
        let pattern: Vec<bool> = (0..200).map(|i| i % 3 == 0 || i % 7 == 1).collect();
        b.reserve(10);
        for &bit in &pattern {
            b.push(bit);
        }
        assert_eq!(b.len(), 200);
        for &bit in pattern.iter().rev() {
            assert_eq!(b.pop(), bit);
        }
        assert!(b.is_empty());
        b.push(true);
        assert!(b.pop());

        let mut slot = Slot::new();
        slot.push(4.5);
        assert_eq!(slot.pop(), 4.5);
    }

    #[test]
    #[should_panic(expected = "popped an empty stash")]
    fn popping_an_empty_stack_is_reported_as_a_bug() {
        Stack::<f64>::new().pop();
    }

    #[test]
    fn placeholder_is_zero() {
        assert_eq!(placeholder::<f64>(), 0.0);
        assert_eq!(placeholder::<usize>(), 0);
    }
}
