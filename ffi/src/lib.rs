//! The WinHvEmulation C ABI over hvemu: a drop-in `WinHvEmulation.dll`.
//!
//! A Windows VMM such as QEMU's WHPX accelerator loads `WinHvEmulation.dll` by name and calls
//! four functions; this crate exports exactly those, byte for byte as the Windows SDK's and
//! mingw-w64's headers declare them (see `include/WinHvEmulation.h`, our own MIT-licensed
//! header):
//!
//! - [`WHvEmulatorCreateEmulator`] / [`WHvEmulatorDestroyEmulator`]: instances live in a fixed
//!   static pool (`hvemu-alloc-shim`); a handle encodes slot and generation and is checked on
//!   every call, so a stale, destroyed, foreign or garbage handle gives `E_INVALIDARG`.
//! - [`WHvEmulatorTryIoEmulation`] / [`WHvEmulatorTryMmioEmulation`]: run the core emulator
//!   with the caller's callbacks. Failures to emulate are `S_OK` with status bits; only
//!   malformed arguments give `E_INVALIDARG`.
//!
//! What the DLL does better than the one it replaces: it asks only for the registers an
//! instruction needs, in one Get at most (none at all for a plain IN/OUT), and writes only
//! those that changed, in one Set at the end, only on success.
//!
//! On Windows the library is `no_std` and allocation-free, so the DLL imports nothing from
//! Rust's std (a std DLL would need `bcryptprimitives.dll`, which Wine 8 lacks); it is built
//! with `panic=abort` (set for the Windows targets in `.cargo/config.toml`). On Linux and other
//! Unix systems the cdylib is `libWinHvEmulation.so` (and `libWinHvEmulation.a`) with the same
//! four symbols (`extern "system"` is the C convention there); it links std, which is always
//! there. With the `std` feature the rlib can also be linked into a Windows Rust program: the
//! crate then defines no panic handler of its own. The feature also lets the emulator pool grow
//! with `Box` past its static capacity.
#![cfg_attr(not(any(unix, test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![allow(non_snake_case)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("the WinHvEmulation ABI is defined for 64-bit targets only");

pub mod abi;
mod exports;
mod host;

pub use exports::{
    CAPACITY, WHvEmulatorCreateEmulator, WHvEmulatorDestroyEmulator, WHvEmulatorTryIoEmulation,
    WHvEmulatorTryMmioEmulation,
};

/// The runtime pieces a `no_std` cdylib or staticlib needs.
#[cfg(not(any(unix, test, feature = "std")))]
mod rt {
    /// Never reached if the emulator is panic-free as designed; stops the process rather than
    /// unwinding into the caller.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        // SAFETY: `ud2` raises #UD, which terminates the process; it touches no memory.
        unsafe {
            core::arch::asm!("ud2", options(noreturn, nomem, nostack))
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
        loop {
            core::hint::spin_loop();
        }
    }

    // The precompiled `core` refers to the unwinding personality routine. Nothing here unwinds
    // (the panic handler never returns), so a routine that only returns suffices. Defined in
    // assembly it stays a local symbol of the library: a `#[no_mangle]` function would be
    // exported from the DLL next to the four API functions.
    #[cfg(target_os = "windows")]
    core::arch::global_asm!(
        ".globl rust_eh_personality",
        "rust_eh_personality:",
        "    ret",
    );
}

#[cfg(test)]
mod tests;
