//! Emulator instance storage for hvemu: a fixed pool of slots with lock-free claiming and
//! checked handles.
//!
//! A C ABI hands its caller an opaque handle and must survive any value coming back: a handle
//! that was destroyed, one from another library, or garbage. [`Pool`] stores values of `T` in a
//! compile-time number of slots (`N`) that can live in a `static`, and gives out [`Handle`]s that
//! encode the slot and a generation. Every use checks the handle against the slot's current
//! state with one atomic compare-and-swap, so a stale, destroyed, foreign or concurrently used
//! handle is an [`Error`], never undefined behaviour.
//!
//! - `insert` claims a free slot with a CAS (no lock, no allocation).
//! - `with` borrows the value exclusively for the duration of a closure: a second borrow of the
//!   same handle at the same time (another thread, or re-entry from the closure) gets
//!   [`Error::Busy`].
//! - `remove` takes the value out and bumps the slot's generation, so every copy of the old
//!   handle becomes [`Error::Stale`].
//!
//! With the `alloc` feature the pool grows where an allocator exists: when the `N` static slots
//! are taken, it allocates further blocks of `N` slots with `Box` (up to [`MAX_SLOTS`] slots in
//! all). Blocks are never freed while the pool lives, so a handle into one stays checkable.
//!
//! ```
//! use hvemu_alloc_shim::{Error, Pool};
//!
//! static POOL: Pool<u32, 4> = Pool::new();
//!
//! let h = POOL.insert(7).unwrap();
//! assert_eq!(POOL.with(h, |v| { *v += 1; *v }), Ok(8));
//! assert_eq!(POOL.remove(h), Ok(8));
//! assert_eq!(POOL.with(h, |v| *v), Err(Error::Stale));
//! assert_eq!(POOL.with(hvemu_alloc_shim::Handle::from_bits(0x1234), |v| *v), Err(Error::Foreign));
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[cfg(feature = "alloc")]
use core::sync::atomic::AtomicPtr;

/// The most slots a pool can address (the index part of a handle is 16 bits).
pub const MAX_SLOTS: usize = 1 << 16;

/// The most `Box`ed blocks a growing pool adds to its static slots.
#[cfg(feature = "alloc")]
pub const MAX_BLOCKS: usize = 63;

/// The top 16 bits of every handle ("HV"). As a pointer the value is non-canonical on x86-64
/// (and far outside any user address space elsewhere), so no real pointer is ever mistaken for
/// a handle, and a handle is never null.
const TAG: u64 = 0x4856;
const TAG_SHIFT: u32 = 48;
const GEN_SHIFT: u32 = 16;
const GEN_MASK: u64 = 0xffff_ffff;
const INDEX_MASK: u64 = 0xffff;

/// Slot phases (the low two bits of a slot's state word; the generation is above them).
const FREE: u64 = 0;
/// Claimed by `insert` (being written) or by `remove` (being read out).
const MOVING: u64 = 1;
const LIVE: u64 = 2;
/// Borrowed by `with`.
const BUSY: u64 = 3;
const PHASE_MASK: u64 = 3;

const fn state(generation: u64, phase: u64) -> u64 {
    (generation & GEN_MASK) << 2 | phase
}

const fn generation_of(state: u64) -> u64 {
    (state >> 2) & GEN_MASK
}

/// A checked reference to a value in a [`Pool`]: 16 bits of tag, 32 bits of generation and 16
/// bits of slot index. Any 64-bit value can be turned back into a `Handle`; the pool decides
/// whether it is one of its own.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Handle(u64);

impl Handle {
    const fn new(index: usize, generation: u64) -> Handle {
        Handle(TAG << TAG_SHIFT | (generation & GEN_MASK) << GEN_SHIFT | index as u64 & INDEX_MASK)
    }

    /// The handle as an integer (never 0), for an opaque C handle.
    pub const fn to_bits(self) -> u64 {
        self.0
    }

    /// Any integer as a handle; the pool checks it on use.
    pub const fn from_bits(bits: u64) -> Handle {
        Handle(bits)
    }

    /// The slot index, if the tag is ours.
    const fn index(self) -> Option<usize> {
        if self.0 >> TAG_SHIFT == TAG {
            Some((self.0 & INDEX_MASK) as usize)
        } else {
            None
        }
    }

    const fn generation(self) -> u64 {
        (self.0 >> GEN_SHIFT) & GEN_MASK
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:#018x})", self.0)
    }
}

/// Why a pool operation failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// Every slot is taken (and, with `alloc`, no more blocks can be added).
    Full,
    /// The handle was not made by this pool: wrong tag, or an index outside it.
    Foreign,
    /// The handle's slot holds no value of that generation: it was removed (and perhaps reused).
    Stale,
    /// The value is borrowed by another `with` call (another thread, or re-entry).
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Full => "no free slot",
            Error::Foreign => "not a handle of this pool",
            Error::Stale => "stale or destroyed handle",
            Error::Busy => "handle in use by another call",
        })
    }
}

/// One slot: a state word (generation and phase) guarding a possibly uninitialised value.
struct Slot<T> {
    state: AtomicU64,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    const fn new() -> Slot<T> {
        Slot {
            state: AtomicU64::new(state(0, FREE)),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Claims the slot if it is free and stores `value`; gives `value` back otherwise.
    fn try_insert(&self, value: T) -> Result<u64, T> {
        let s = self.state.load(Ordering::Relaxed);
        if s & PHASE_MASK != FREE {
            return Err(value);
        }
        let generation = generation_of(s);
        if self
            .state
            .compare_exchange(
                s,
                state(generation, MOVING),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err(value);
        }
        // SAFETY: the CAS above moved the slot from FREE to MOVING, which only this thread can
        // do for this generation; no other thread touches the value until the Release store
        // below publishes LIVE.
        unsafe { (*self.value.get()).write(value) };
        self.state.store(state(generation, LIVE), Ordering::Release);
        Ok(generation)
    }

    fn claim(&self, generation: u64, to: u64) -> Result<(), Error> {
        match self.state.compare_exchange(
            state(generation, LIVE),
            state(generation, to),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => Ok(()),
            Err(now) if now == state(generation, BUSY) => Err(Error::Busy),
            Err(_) => Err(Error::Stale),
        }
    }

    fn with<R>(&self, generation: u64, f: impl FnOnce(&mut T) -> R) -> Result<R, Error> {
        self.claim(generation, BUSY)?;
        // Puts the slot back to LIVE when the borrow ends, even if `f` unwinds.
        struct Release<'a>(&'a AtomicU64, u64);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.store(state(self.1, LIVE), Ordering::Release);
            }
        }
        let _release = Release(&self.state, generation);
        // SAFETY: the CAS in `claim` moved the slot from LIVE to BUSY for this generation, so
        // the value is initialised (LIVE is only published after the write) and this thread is
        // its only user until `_release` stores LIVE again after `f` returns.
        let value = unsafe { (*self.value.get()).assume_init_mut() };
        Ok(f(value))
    }

    fn remove(&self, generation: u64) -> Result<T, Error> {
        self.claim(generation, MOVING)?;
        // SAFETY: the CAS in `claim` moved the slot from LIVE to MOVING, so the value is
        // initialised and no other thread can reach it; it is read out exactly once, and the
        // slot is marked FREE (uninitialised) right after.
        let value = unsafe { (*self.value.get()).assume_init_read() };
        self.state
            .store(state(generation.wrapping_add(1), FREE), Ordering::Release);
        Ok(value)
    }

    /// Drops the value if the slot holds one (exclusive access: no atomics needed).
    fn drop_in_place(&mut self) {
        let phase = *self.state.get_mut() & PHASE_MASK;
        if phase == LIVE || phase == BUSY {
            // SAFETY: `&mut self` excludes every other user, and a LIVE or BUSY slot holds an
            // initialised value, dropped here once; the slot is marked FREE right after.
            unsafe { self.value.get_mut().assume_init_drop() };
            *self.state.get_mut() = state(0, FREE);
        }
    }

    fn is_occupied(&self) -> bool {
        self.state.load(Ordering::Relaxed) & PHASE_MASK != FREE
    }
}

/// A pool of at most `N` values (more with `alloc`), addressed by checked [`Handle`]s.
///
/// `Pool::new` is `const`, so a pool can be a `static`. `N` must be between 1 and
/// [`MAX_SLOTS`]; this is checked at compile time.
pub struct Pool<T, const N: usize> {
    slots: [Slot<T>; N],
    /// Where the next `insert` starts looking (the slot after the last one claimed), so a
    /// filling pool claims in O(1); only a hint.
    hint: AtomicUsize,
    #[cfg(feature = "alloc")]
    blocks: [AtomicPtr<[Slot<T>; N]>; MAX_BLOCKS],
}

// SAFETY: a value is reached only by the one thread that won the CAS on its slot's state word
// (see `Slot`), so sharing the pool only ever moves `T` between threads, which `T: Send` allows.
unsafe impl<T: Send, const N: usize> Sync for Pool<T, N> {}
// SAFETY: as above; the pool owns its values and blocks.
unsafe impl<T: Send, const N: usize> Send for Pool<T, N> {}

impl<T, const N: usize> Default for Pool<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Pool<T, N> {
    const CHECK: () = assert!(N >= 1 && N <= MAX_SLOTS, "pool capacity must be 1..=65536");

    /// An empty pool.
    pub const fn new() -> Pool<T, N> {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        Pool {
            slots: [const { Slot::new() }; N],
            hint: AtomicUsize::new(0),
            #[cfg(feature = "alloc")]
            blocks: [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_BLOCKS],
        }
    }

    /// The number of static slots, `N`.
    pub const fn static_capacity(&self) -> usize {
        N
    }

    /// The most values the pool can hold: `N`, or with `alloc` as many blocks of `N` as fit in
    /// [`MAX_SLOTS`] (and at most `MAX_BLOCKS` blocks).
    pub const fn max_capacity(&self) -> usize {
        N * (1 + Self::max_blocks())
    }

    #[cfg(feature = "alloc")]
    const fn max_blocks() -> usize {
        let fit = MAX_SLOTS / N - 1;
        if fit < MAX_BLOCKS { fit } else { MAX_BLOCKS }
    }

    #[cfg(not(feature = "alloc"))]
    const fn max_blocks() -> usize {
        0
    }

    /// The slot with this index, if it exists.
    fn slot(&self, index: usize) -> Option<&Slot<T>> {
        if let Some(s) = self.slots.get(index) {
            return Some(s);
        }
        #[cfg(feature = "alloc")]
        {
            let block = (index / N).checked_sub(1)?;
            let p = self.blocks.get(block)?.load(Ordering::Acquire);
            if p.is_null() {
                return None;
            }
            // SAFETY: a non-null block pointer came from `Box::into_raw` in `grow` and is freed
            // only by `Drop`, which needs `&mut self`, so it is valid for the lifetime of
            // `&self`; the Acquire load pairs with the Release CAS that published it.
            let block = unsafe { &*p };
            block.get(index % N)
        }
        #[cfg(not(feature = "alloc"))]
        None
    }

    /// Stores `value` in a free slot and returns its handle, or gives the value back with
    /// [`Error::Full`].
    pub fn insert(&self, value: T) -> Result<Handle, (Error, T)> {
        let mut value = value;
        let max = self.max_capacity();
        let start = self.hint.load(Ordering::Relaxed) % max;
        // First the slots that exist, from the hint on, wrapping around.
        for k in 0..max {
            let index = (start + k) % max;
            let Some(slot) = self.slot(index) else {
                continue;
            };
            match slot.try_insert(value) {
                Ok(generation) => {
                    self.hint.store(index + 1, Ordering::Relaxed);
                    return Ok(Handle::new(index, generation));
                }
                Err(v) => value = v,
            }
        }
        // Then new blocks, where an allocator exists.
        for block in 1..=Self::max_blocks() {
            if !self.grow(block) {
                break;
            }
            for index in block * N..(block + 1) * N {
                let Some(slot) = self.slot(index) else {
                    break;
                };
                match slot.try_insert(value) {
                    Ok(generation) => {
                        self.hint.store(index + 1, Ordering::Relaxed);
                        return Ok(Handle::new(index, generation));
                    }
                    Err(v) => value = v,
                }
            }
        }
        Err((Error::Full, value))
    }

    /// Makes sure block number `number` (1-based: block 0 is the static slots) exists.
    #[cfg(feature = "alloc")]
    fn grow(&self, number: usize) -> bool {
        use alloc::boxed::Box;
        use alloc::vec::Vec;
        let Some(cell) = number
            .checked_sub(1)
            .filter(|b| *b < Self::max_blocks())
            .and_then(|b| self.blocks.get(b))
        else {
            return false;
        };
        if !cell.load(Ordering::Acquire).is_null() {
            return true;
        }
        let slots: Vec<Slot<T>> = (0..N).map(|_| Slot::new()).collect();
        let Ok(block) = Box::<[Slot<T>; N]>::try_from(slots.into_boxed_slice()) else {
            return false;
        };
        let p = Box::into_raw(block);
        if cell
            .compare_exchange(
                core::ptr::null_mut(),
                p,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // Another thread added the block first.
            // SAFETY: `p` came from `Box::into_raw` just above and was never shared.
            drop(unsafe { Box::from_raw(p) });
        }
        true
    }

    #[cfg(not(feature = "alloc"))]
    fn grow(&self, _number: usize) -> bool {
        false
    }

    fn find(&self, handle: Handle) -> Result<&Slot<T>, Error> {
        let index = handle.index().ok_or(Error::Foreign)?;
        self.slot(index).ok_or(Error::Foreign)
    }

    /// Runs `f` with exclusive access to the handle's value.
    pub fn with<R>(&self, handle: Handle, f: impl FnOnce(&mut T) -> R) -> Result<R, Error> {
        self.find(handle)?.with(handle.generation(), f)
    }

    /// Takes the handle's value out of the pool; every copy of the handle becomes stale.
    pub fn remove(&self, handle: Handle) -> Result<T, Error> {
        self.find(handle)?.remove(handle.generation())
    }

    /// The number of occupied slots (a snapshot).
    pub fn len(&self) -> usize {
        (0..self.max_capacity())
            .filter_map(|i| self.slot(i))
            .filter(|s| s.is_occupied())
            .count()
    }

    /// True when no slot is occupied (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T, const N: usize> Drop for Pool<T, N> {
    fn drop(&mut self) {
        for s in self.slots.iter_mut() {
            s.drop_in_place();
        }
        #[cfg(feature = "alloc")]
        for b in self.blocks.iter_mut() {
            let p = *b.get_mut();
            if !p.is_null() {
                // SAFETY: a non-null block pointer came from `Box::into_raw` in `grow`; `&mut
                // self` excludes every other user, and the cell is cleared so it is freed once.
                let mut block = unsafe { alloc::boxed::Box::from_raw(p) };
                *b.get_mut() = core::ptr::null_mut();
                for s in block.iter_mut() {
                    s.drop_in_place();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
