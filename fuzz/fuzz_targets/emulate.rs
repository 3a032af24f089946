//! One emulation call from a structured input, run twice, with the oracles of
//! `hvemu_fuzz::emu`: no panic, no heap allocation during the call, determinism, the host
//! contract, bounded callbacks, at most one Set and only on success, no guest-visible write on a
//! faulting or refused path.
#![no_main]

use hvemu_fuzz::emu::{Buffers, EmuInput, check};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static BUFS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

fuzz_target!(|input: EmuInput| {
    hvemu_fuzz::alloc_guard::install_panic_hook();
    BUFS.with(|b| check(&input, &mut b.borrow_mut()));
});
