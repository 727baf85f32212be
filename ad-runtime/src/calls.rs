//! What the reverse sweep of a call uses: the protocol between a caller's generated code and
//! the callee's generated pullback, `g_pullback(args.., seed, slots..)`.
//!
//! - `seed` is the cotangent of the returned value (a float, or `&mut buffer` for a container),
//!   or `None` when nothing depends on it.
//! - One *slot* per parameter: for a container parameter the callee differentiates, the
//!   caller's adjoint buffer to add into (`&mut buffer[..]`), or [`Skip`] when the caller does
//!   not need that gradient; [`Skip`] for every other parameter.
//! - The result is a tuple with one element per parameter: the adjoint of a float parameter
//!   the callee differentiates, `()` for a container (its adjoint went into the slot), and
//!   [`Skip`] for a parameter it does not differentiate.
//!
//! A caller that passes an active argument for a parameter the callee does not differentiate
//! (left out of its `wrt(...)`, or not a float) gets a compile error from [`NotDifferentiated`]
//! or [`Adjoint`], not a silently missing derivative.

use core::borrow::BorrowMut;
use core::ops::{Deref, DerefMut};

use num_traits::{Float, Zero};

use crate::stash::AdjointBuffer;

/// "No adjoint here": the slot of an argument whose adjoint the caller does not need, and what
/// a pullback returns for a parameter it does not differentiate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skip;

/// What a pullback's slot (or container seed) parameter accepts: the caller's buffer, `None`
/// or [`Skip`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the adjoint buffer a `#[reverse]` callee takes here",
    note = "rows a `#[reverse]` function returns, read by element in the caller, are annotated where they are bound, `let q: Vec<[f64; 3]> = step(&p);`"
)]
pub trait IntoSlot<T: ?Sized> {
    /// The caller's buffer, if it passed one.
    fn as_slot(&mut self) -> Option<&mut T>;
}

impl<T: ?Sized> IntoSlot<T> for Skip {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut T> {
        None
    }
}

impl<T: ?Sized> IntoSlot<T> for &mut T {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut T> {
        Some(&mut **self)
    }
}

impl<T: ?Sized> IntoSlot<T> for &mut &mut T {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut T> {
        Some(&mut ***self)
    }
}

impl<T: ?Sized> IntoSlot<T> for Option<&mut T> {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut T> {
        self.as_deref_mut()
    }
}

impl<E> IntoSlot<[E]> for &mut alloc::vec::Vec<E> {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut [E]> {
        Some(&mut self[..])
    }
}

impl<T: ?Sized, O: BorrowMut<T>> IntoSlot<T> for &mut SlotBuffer<'_, T, O> {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut T> {
        Some(&mut **self)
    }
}

impl<E, O: BorrowMut<alloc::vec::Vec<E>>> IntoSlot<[E]>
    for &mut SlotBuffer<'_, alloc::vec::Vec<E>, O>
{
    #[inline]
    fn as_slot(&mut self) -> Option<&mut [E]> {
        Some(&mut self[..])
    }
}

impl<E, const N: usize> IntoSlot<[E]> for &mut [E; N] {
    #[inline]
    fn as_slot(&mut self) -> Option<&mut [E]> {
        Some(&mut self[..])
    }
}

/// The slot type of a parameter the callee does not differentiate: only [`Skip`] fits.
#[diagnostic::on_unimplemented(
    message = "this argument depends on an active parameter, but the called function is not differentiated with respect to this parameter",
    label = "the derivative through this argument would be lost",
    note = "add the parameter to the callee's `#[reverse(wrt(...))]` (its type must be a float, a container of floats or a parameter struct), or pass `stop_gradient(..)` of the argument",
    note = "if the argument is a container another function returned, passed by value, give it its type where it is bound: `let a: [f64; 2] = step(..);`"
)]
pub trait NotDifferentiated {}

impl NotDifferentiated for Skip {}

/// The adjoint of a scalar argument, as a pullback returned it.
#[diagnostic::on_unimplemented(
    message = "this argument depends on an active parameter, but the called function is not differentiated with respect to this parameter",
    label = "the derivative through this call would be lost",
    note = "add the parameter to the callee's `#[reverse(wrt(...))]`, or pass `stop_gradient(..)` of the argument",
    note = "if the argument is a container another function returned, passed by value, give it its type where it is bound: `let a: [f64; 2] = step(..);`"
)]
pub trait Adjoint<F> {
    /// Itself.
    fn into_float(self) -> F;
}

#[diagnostic::do_not_recommend]
impl<F: Float> Adjoint<F> for F {
    #[inline]
    fn into_float(self) -> F {
        self
    }
}

/// Checks that a pullback returned an adjoint `a` (not [`Skip`]) for the scalar argument
/// `like`. (The result has `like`'s type, known first, so that an error here does not
/// cascade.)
#[inline]
pub fn adjoint<F, A: Adjoint<F>>(_like: F, a: A) -> F {
    a.into_float()
}

/// An adjoint buffer that is the caller's, or the callee's own zeros when the caller passed
/// [`Skip`]. Dereferences to the buffer.
pub enum SlotBuffer<'a, T: ?Sized, O> {
    /// The caller's buffer: adjoints are added into it.
    Caller(&'a mut T),
    /// Zeros of the callee's own, for adjoints nobody reads.
    Own(O),
}

impl<T: ?Sized, O: BorrowMut<T>> Deref for SlotBuffer<'_, T, O> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        match self {
            SlotBuffer::Caller(buffer) => buffer,
            SlotBuffer::Own(own) => own.borrow(),
        }
    }
}

impl<T: ?Sized, O: BorrowMut<T>> DerefMut for SlotBuffer<'_, T, O> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match self {
            SlotBuffer::Caller(buffer) => buffer,
            SlotBuffer::Own(own) => own.borrow_mut(),
        }
    }
}

impl<T: crate::stash::Reset + ?Sized, O: BorrowMut<T>> crate::stash::Reset
    for SlotBuffer<'_, T, O>
{
    fn __ad_reset(&mut self, len: usize) {
        (**self).__ad_reset(len);
    }
}

/// The buffer of a slot: the caller's, or zeros shaped like `like`.
#[inline]
pub fn slot<'a, T: ?Sized, L: AdjointBuffer + ?Sized>(
    slot: Option<&'a mut T>,
    like: &L,
) -> SlotBuffer<'a, T, L::Buffer>
where
    L::Buffer: BorrowMut<T>,
{
    match slot {
        Some(buffer) => SlotBuffer::Caller(buffer),
        None => SlotBuffer::Own(like.__ad_zeros()),
    }
}

/// The adjoint buffer of a container parameter the function takes by value and changes.
/// Its reverse sweep works in zeros of its own, not in the caller's buffer: that holds the
/// caller's adjoints of the same contents, which the callee's resets (of an element it
/// overwrote, of a whole assignment) must not touch. Dropped at the end of the reverse sweep,
/// when it holds the adjoint of the contents on entry, it adds them into the caller's.
pub struct OwnBuffer<'a, F: Zero + Copy, O: BorrowMut<[F]>> {
    target: Option<&'a mut [F]>,
    own: O,
}

impl<F: Zero + Copy, O: BorrowMut<[F]>> Deref for OwnBuffer<'_, F, O> {
    type Target = O;

    #[inline]
    fn deref(&self) -> &O {
        &self.own
    }
}

impl<F: Zero + Copy, O: BorrowMut<[F]>> DerefMut for OwnBuffer<'_, F, O> {
    #[inline]
    fn deref_mut(&mut self) -> &mut O {
        &mut self.own
    }
}

impl<F: Zero + Copy, O: BorrowMut<[F]> + crate::stash::Reset> crate::stash::Reset
    for OwnBuffer<'_, F, O>
{
    fn __ad_reset(&mut self, len: usize) {
        self.own.__ad_reset(len);
    }
}

impl<F: Zero + Copy, O: BorrowMut<[F]>> Drop for OwnBuffer<'_, F, O> {
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            crate::stash::add_all(target, self.own.borrow());
        }
    }
}

/// The buffer of a parameter taken by value and changed: zeros like `like`, added into `slot`
/// (when the caller passed one) at the end.
#[inline]
pub fn own_slot<'a, F: Zero + Copy, L: AdjointBuffer + ?Sized>(
    slot: Option<&'a mut [F]>,
    like: &L,
) -> OwnBuffer<'a, F, L::Buffer>
where
    L::Buffer: BorrowMut<[F]>,
{
    OwnBuffer {
        target: slot,
        own: like.__ad_zeros(),
    }
}

impl<F, T: crate::stash::AsSlice<F> + ?Sized, O: BorrowMut<T>> crate::stash::AsSlice<F>
    for SlotBuffer<'_, T, O>
{
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        (**self).__ad_slice()
    }
}

impl<F: Zero + Copy, O: BorrowMut<[F]>> crate::stash::AsSlice<F> for OwnBuffer<'_, F, O> {
    #[inline]
    fn __ad_slice(&self) -> &[F] {
        self.own.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn a_slot_is_the_callers_buffer_or_zeros() {
        let x = [1.0f64, 2.0, 3.0];
        let mut caller = vec![1.0f64; 3];
        {
            let mut buffer = slot(Some(&mut caller[..]), &x[..]);
            buffer[1] += 2.0;
        }
        assert_eq!(caller, [1.0, 3.0, 1.0]);
        let mut skip = Skip;
        let mut own = slot::<[f64], _>(IntoSlot::<[f64]>::as_slot(&mut skip), &x[..]);
        own[2] += 1.0;
        assert_eq!(&*own, &[0.0, 0.0, 1.0]);
        assert_eq!(adjoint(1.0, 2.5f32), 2.5);
    }

    #[test]
    fn an_own_buffer_adds_into_the_callers_when_dropped() {
        let x = vec![1.0f64, 2.0];
        let mut caller = vec![5.0f64, 7.0];
        {
            let mut buffer = own_slot(Some(&mut caller[..]), &x);
            buffer.push(3.0);
            buffer[0] += 1.0;
            // What the callee resets is its own, not the caller's adjoint.
            crate::stash::Reset::__ad_reset(&mut buffer, 2);
            buffer[1] += 2.0;
        }
        assert_eq!(caller, [5.0, 9.0]);
    }
}
