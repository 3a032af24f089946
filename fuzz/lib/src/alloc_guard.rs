//! The no-heap oracle: every binary linking this crate uses [`Checked`] as its global
//! allocator, which aborts the process when anything allocates inside [`forbid`].
//!
//! The core is `no_std` without `alloc`, so an allocation during an emulation call can only come
//! from the harness's own callbacks (written not to allocate) or from a panic being formatted;
//! [`install_panic_hook`] lifts the ban before a panic message is built, so a panic is reported
//! as a panic and not as an allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static FORBID: AtomicBool = AtomicBool::new(false);

/// The system allocator, refusing to serve while [`forbid`] runs.
pub struct Checked;

fn refuse(what: &str) -> ! {
    FORBID.store(false, Ordering::SeqCst);
    let mut e = std::io::stderr();
    let _ = e.write_all(b"\n==hvemu-fuzz== heap ");
    let _ = e.write_all(what.as_bytes());
    let _ = e.write_all(b" during an emulation call (the core must not allocate)\n");
    std::process::abort();
}

// SAFETY: forwards to `System` unchanged, or aborts without returning.
unsafe impl GlobalAlloc for Checked {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if FORBID.load(Ordering::Relaxed) {
            refuse("allocation");
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if FORBID.load(Ordering::Relaxed) {
            refuse("allocation");
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if FORBID.load(Ordering::Relaxed) {
            refuse("reallocation");
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Checked = Checked;

/// Runs `f` with allocation forbidden.
pub fn forbid<R>(f: impl FnOnce() -> R) -> R {
    FORBID.store(true, Ordering::SeqCst);
    let r = f();
    FORBID.store(false, Ordering::SeqCst);
    r
}

/// Wraps the current panic hook (libFuzzer's, which aborts) so that a panic inside [`forbid`]
/// may allocate its message. Call once, from inside the fuzz target (after libFuzzer's setup).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            FORBID.store(false, Ordering::SeqCst);
            prev(info);
        }));
    });
}
