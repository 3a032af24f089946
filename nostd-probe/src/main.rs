//! Links every public entry point of the core into a freestanding binary (see Cargo.toml).
#![no_std]
#![no_main]

use hvemu::decode::{Mode, Vendor, decode};

unsafe extern "C" {
    /// Deliberately undefined: any reachable panic makes the link fail.
    fn hvemu_panic_is_reachable() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: never executed; the symbol only exists to make reachable panics fail to link.
    unsafe { hvemu_panic_is_reachable() }
}

/// Decodes `len` bytes at `ptr` in the given mode; returns the length or 0.
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn probe_decode(ptr: *const u8, len: usize, mode: u8, amd: bool) -> u8 {
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    let mode = match mode {
        0 => Mode::Real,
        1 => Mode::Prot16,
        2 => Mode::Prot32,
        3 => Mode::Compat32,
        _ => Mode::Long64,
    };
    let vendor = if amd { Vendor::Amd } else { Vendor::Intel };
    match decode(bytes, mode, vendor) {
        Ok(i) => i.len,
        Err(_) => 0,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let bytes = [0x48u8, 0x89, 0x1f];
    // SAFETY: `bytes` is a live local array of the given length.
    let n = unsafe { probe_decode(core::hint::black_box(bytes.as_ptr()), bytes.len(), 4, true) };
    core::hint::black_box(n);
    loop {}
}
