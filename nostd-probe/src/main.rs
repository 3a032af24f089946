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

/// The emulator's entry points, linked with the `emulator` feature.
#[cfg(feature = "emulator")]
mod emulate {
    use hvemu::emulator::{Emulator, InstructionBytes, IoExit, MmioExit, Outcome, VpContext};
    use hvemu::host::{Callbacks, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult};
    use hvemu::regs::{RegName, RegValue};

    /// A host whose answers the optimiser cannot predict (`black_box`), so no path is pruned.
    struct ProbeHost;

    fn answer<T>(v: T) -> T {
        core::hint::black_box(v)
    }

    fn fallible(code: i64) -> Result<(), HostError> {
        if answer(code) < 0 {
            Err(HostError { code: code as i32 })
        } else {
            Ok(())
        }
    }

    fn io(_: &mut ProbeHost, a: &mut IoAccess) -> Result<(), HostError> {
        a.data = answer(a.data ^ a.port as u32);
        fallible(a.size as i64 - 4)
    }

    fn mem(_: &mut ProbeHost, a: &mut MemAccess) -> Result<(), HostError> {
        a.data = answer(a.data);
        fallible(a.gpa as i64)
    }

    fn get(_: &mut ProbeHost, n: &[RegName], v: &mut [RegValue]) -> Result<(), HostError> {
        for (n, v) in n.iter().zip(v.iter_mut()) {
            *v = answer(RegValue::from_u64(n.0 as u64));
        }
        fallible(n.len() as i64 - 40)
    }

    fn set(_: &mut ProbeHost, n: &[RegName], _: &[RegValue]) -> Result<(), HostError> {
        fallible(n.len() as i64 - 40)
    }

    fn translate(
        _: &mut ProbeHost,
        gva: u64,
        f: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        fallible(f.0 as i64 - 0x1000)?;
        Ok((
            TranslateResult::from_code(answer(gva as u32 & 15)),
            answer(gva),
        ))
    }

    const CALLBACKS: Callbacks<ProbeHost> = Callbacks {
        io_port: io,
        memory: mem,
        get_registers: get,
        set_registers: set,
        translate_gva_page: translate,
        compare_exchange: None,
        io_permission: None,
        bulk: None,
    };

    fn outcome_code(o: Outcome) -> u8 {
        match o {
            Outcome::Completed => 0,
            Outcome::Exception(f) => f.vector,
            Outcome::Refused(_) => 0xfe,
            Outcome::Partial => 0xff,
        }
    }

    /// Emulates an MMIO exit (`kind` 0), a port exit (1) or the instruction at RIP (2).
    #[unsafe(no_mangle)]
    pub extern "C" fn probe_emulate(
        kind: u8,
        vp: &VpContext,
        bytes: &[u8; 16],
        count: u8,
        gpa: u64,
    ) -> u8 {
        let emulator = Emulator::default();
        let mut host = ProbeHost;
        let b = InstructionBytes {
            bytes: *bytes,
            count,
        };
        let o = match kind {
            0 => emulator.emulate_mmio(
                &CALLBACKS,
                &mut host,
                vp,
                &MmioExit {
                    bytes: b,
                    gpa,
                    ..MmioExit::default()
                },
            ),
            1 => emulator.emulate_io(
                &CALLBACKS,
                &mut host,
                vp,
                &IoExit {
                    bytes: b,
                    port: gpa as u16,
                    ..IoExit::default()
                },
            ),
            _ => emulator.emulate_at_rip(&CALLBACKS, &mut host, vp),
        };
        outcome_code(o)
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let bytes = [0x48u8, 0x89, 0x1f];
    // SAFETY: `bytes` is a live local array of the given length.
    let n = unsafe { probe_decode(core::hint::black_box(bytes.as_ptr()), bytes.len(), 4, true) };
    core::hint::black_box(n);
    #[cfg(feature = "emulator")]
    {
        let vp = core::hint::black_box(hvemu::emulator::VpContext::default());
        let bytes = core::hint::black_box([0u8; 16]);
        for kind in 0..3 {
            let kind = core::hint::black_box(kind);
            core::hint::black_box(emulate::probe_emulate(kind, &vp, &bytes, 16, 0));
        }
    }
    loop {}
}
