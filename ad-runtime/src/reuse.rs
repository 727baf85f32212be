//! Stash memory kept between gradients, per thread (with the `std` feature).
//!
//! A gradient's forward sweep fills its stacks and the reverse sweep empties them, so every call
//! allocates the same large blocks and frees them at its end. For blocks of more than a few
//! hundred kilobytes the system allocator hands memory back to the operating system on free
//! and page-faults it in again on the next call: a loop stashing 10⁶ floats spent more time in
//! the kernel than in its own arithmetic. Instead, a stack's allocation is kept here when the
//! stack is dropped, and the next stack that needs as much takes it back.
//!
//! Only blocks of at least [`MIN_BYTES`] are kept (the allocator's free lists serve smaller
//! ones as fast); at most [`MAX_BLOCKS`] blocks and [`MAX_BYTES`] bytes per thread, the oldest
//! given back to the allocator first. [`release`] frees them all.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::RefCell;
use core::mem::{ManuallyDrop, align_of, size_of};
use core::ptr::NonNull;

/// The smallest allocation worth keeping.
pub const MIN_BYTES: usize = 64 * 1024;
/// The most blocks a thread keeps.
pub const MAX_BLOCKS: usize = 16;
/// The most bytes a thread keeps.
pub const MAX_BYTES: usize = 1 << 30;
/// A kept block serves a request of at least this fraction of its size.
pub const LARGEST_FIT: usize = 16;

/// An allocation of the global allocator, empty, with the layout it was made with. It owns
/// the allocation: not `Copy`, so that it is freed or handed on exactly once.
struct Block {
    ptr: NonNull<u8>,
    layout: Layout,
}

/// The kept blocks, oldest first, in place: keeping one allocates nothing.
struct Pool {
    blocks: [Option<Block>; MAX_BLOCKS],
    len: usize,
    bytes: usize,
}

impl Pool {
    const fn new() -> Pool {
        Pool {
            blocks: [const { None }; MAX_BLOCKS],
            len: 0,
            bytes: 0,
        }
    }

    fn kept(&self) -> impl Iterator<Item = (usize, &Block)> + '_ {
        (self.blocks[..self.len].iter().enumerate()).filter_map(|(i, b)| Some((i, b.as_ref()?)))
    }

    /// Takes block `at` out of the pool, if it holds one there.
    fn remove(&mut self, at: usize) -> Option<Block> {
        let block = self.blocks.get_mut(at)?.take()?;
        self.blocks[at..self.len].rotate_left(1);
        self.len -= 1;
        self.bytes -= block.layout.size();
        Some(block)
    }

    fn push(&mut self, block: Block) {
        self.bytes += block.layout.size();
        self.blocks[self.len] = Some(block);
        self.len += 1;
    }

    /// Frees the oldest block; whether there was one.
    fn free_oldest(&mut self) -> bool {
        let Some(block) = self.remove(0) else {
            return false;
        };
        // SAFETY: `block` was allocated by the global allocator with `block.layout` (it was a
        // `Vec`'s allocation, see `give`) and is owned by the pool alone.
        unsafe { alloc::alloc::dealloc(block.ptr.as_ptr(), block.layout) }
        true
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        while self.free_oldest() {}
    }
}

std::thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool::new()) };
}

/// An empty vector with room for at least `n` elements in a kept block, the smallest that
/// fits, or `None` (too small to be worth it, or nothing kept fits).
pub fn take<T>(n: usize) -> Option<Vec<T>> {
    let size = size_of::<T>();
    let needed = n.checked_mul(size)?;
    if size == 0 || needed < MIN_BYTES {
        return None;
    }
    POOL.try_with(|pool| {
        let mut pool = pool.try_borrow_mut().ok()?;
        let (at, _) = (pool.kept())
            .filter(|(_, b)| {
                let bytes = b.layout.size();
                // Not a block far larger than asked for: a later, larger stack will want it.
                b.layout.align() == align_of::<T>()
                    && (needed..=needed.saturating_mul(LARGEST_FIT)).contains(&bytes)
                    && bytes % size == 0
            })
            .min_by_key(|(_, b)| b.layout.size())?;
        let block = pool.remove(at)?;
        // SAFETY: the block was allocated by the global allocator with alignment
        // `align_of::<T>()` and a size that is a whole number of `T`s (both checked above), and
        // the pool owned it alone: exactly what a `Vec<T>` of that capacity and length 0 owns.
        Some(unsafe {
            Vec::from_raw_parts(
                block.ptr.as_ptr().cast::<T>(),
                0,
                block.layout.size() / size,
            )
        })
    })
    .ok()
    .flatten()
}

/// Keeps the allocation of `v`, emptied, for a later [`take`], when it is worth keeping;
/// frees it otherwise.
pub fn give<T>(mut v: Vec<T>) {
    v.clear();
    let bytes = v.capacity() * size_of::<T>();
    if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
        return;
    }
    // If the thread's pool is gone (a thread-local destructor running) or busy, the closure
    // never runs or returns early, and `v` is dropped with it, as without a pool.
    let _ = POOL.try_with(move |pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return;
        };
        while (pool.len == MAX_BLOCKS || pool.bytes + bytes > MAX_BYTES) && pool.free_oldest() {}
        let Ok(layout) = Layout::array::<T>(v.capacity()) else {
            return;
        };
        // The allocation's start: the (empty) slice of a `Vec` with capacity points at it.
        let mut v = ManuallyDrop::new(v);
        let ptr = NonNull::from(v.as_mut_slice()).cast::<u8>();
        pool.push(Block { ptr, layout });
    });
}

/// Frees the stash memory this thread keeps for its next gradients.
pub fn release() {
    let _ = POOL.try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            while pool.free_oldest() {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn kept() -> (usize, usize) {
        POOL.with(|p| {
            let p = p.borrow();
            (p.len, p.bytes)
        })
    }

    #[test]
    fn blocks_come_back_to_the_type_that_fits() {
        release();
        let n = MIN_BYTES / 8 * 2 * LARGEST_FIT;
        let mut v: Vec<f64> = Vec::with_capacity(n);
        v.extend((0..n).map(|i| i as f64));
        let ptr = v.as_ptr() as usize;
        give(v);
        assert_eq!(kept(), (1, n * 8));
        // Too small a request is not served from the pool.
        assert!(take::<f64>(16).is_none());
        // A type of another alignment does not fit.
        assert!(take::<u8>(n).is_none());
        // Pairs of floats: same alignment, size a multiple of 16.
        let pairs = take::<(f64, f64)>(n / 2).expect("the kept block fits");
        assert_eq!(pairs.as_ptr() as usize, ptr);
        assert_eq!((pairs.len(), pairs.capacity()), (0, n / 2));
        assert_eq!(kept(), (0, 0));
        give(pairs);
        // More than it holds is not served, nor far less.
        assert!(take::<f64>(n + 1).is_none());
        assert!(take::<f64>(n / LARGEST_FIT - 1).is_none());
        assert!(take::<f64>(n / LARGEST_FIT).is_some());
        release();
        assert_eq!(kept(), (0, 0));
    }

    #[test]
    fn the_pool_is_bounded_and_frees_the_oldest() {
        release();
        let n = MIN_BYTES / 8;
        for i in 0..MAX_BLOCKS + 3 {
            give(Vec::<f64>::with_capacity(n + i));
        }
        let (blocks, bytes) = kept();
        assert_eq!(blocks, MAX_BLOCKS);
        let expected: usize = (3..MAX_BLOCKS + 3).map(|i| (n + i) * 8).sum();
        assert_eq!(bytes, expected);
        release();
        // Blocks holding values with destructors are emptied before they are kept.
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(MIN_BYTES / 24 + 1);
        rows.push(vec![1.0; 3]);
        give(rows);
        assert_eq!(kept().0, 1);
        release();
    }
}
