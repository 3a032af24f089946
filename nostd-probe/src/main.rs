//! Links every public entry point of the core into a freestanding binary (see Cargo.toml).
#![no_std]
#![no_main]

use hvemu::decode::{Mode, Vendor, decode};

#[cfg(not(feature = "ffi"))]
unsafe extern "C" {
    /// Deliberately undefined: any reachable panic makes the link fail.
    fn hvemu_panic_is_reachable() -> !;
}

#[cfg(not(feature = "ffi"))]
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
#[inline(never)]
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
    use hvemu::emulator::{
        Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome, VectorState, VpContext,
    };
    use hvemu::host::{
        BulkFn, BulkTransfer, Callbacks, CompareExchangeFn, HostError, IoAccess, IoPermissionFn,
        MemAccess, TranslateFlags, TranslateResult, WideMemoryFn,
    };
    use hvemu::regs::{RegName, RegValue};

    /// A host whose answers the optimiser cannot predict (`black_box`), so no path is pruned.
    struct ProbeHost;

    fn answer<T>(v: T) -> T {
        core::hint::black_box(v)
    }

    /// `Some(v)` or `None`, as the optimiser cannot predict.
    fn maybe<T>(v: T) -> Option<T> {
        if answer(true) { Some(v) } else { None }
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

    fn compare_exchange(
        _: &mut ProbeHost,
        gpa: u64,
        size: u8,
        expected: u128,
        new: u128,
    ) -> Result<u128, HostError> {
        fallible(size as i64 - 16)?;
        Ok(answer(expected ^ new ^ gpa as u128))
    }

    fn io_permission(_: &mut ProbeHost, port: u16, size: u8) -> Result<bool, HostError> {
        fallible(size as i64 - 4)?;
        Ok(answer(port & 1 == 0))
    }

    fn bulk(_: &mut ProbeHost, t: &BulkTransfer) -> Result<u32, HostError> {
        fallible(t.size as i64 - 8)?;
        Ok(answer(t.count / 2))
    }

    fn wide_memory(_: &mut ProbeHost, gpa: u64, _: bool, data: &mut [u8]) -> Result<(), HostError> {
        fallible(gpa as i64)?;
        for b in data.iter_mut() {
            *b = answer(*b);
        }
        Ok(())
    }

    /// An emulator whose vector-state setting the optimiser cannot predict.
    fn emulator() -> Emulator {
        let vector_state = match answer(0u8) {
            0 => VectorState::Xmm,
            1 => VectorState::Ymm,
            _ => VectorState::Zmm,
        };
        Emulator::new(Config {
            vector_state,
            ..Config::default()
        })
    }

    /// The vtable, with each optional entry present or not as the optimiser cannot predict, so
    /// the paths with and without it are both linked.
    fn callbacks() -> Callbacks<ProbeHost> {
        Callbacks {
            io_port: io,
            memory: mem,
            get_registers: get,
            set_registers: set,
            translate_gva_page: translate,
            compare_exchange: maybe(compare_exchange as CompareExchangeFn<ProbeHost>),
            io_permission: maybe(io_permission as IoPermissionFn<ProbeHost>),
            bulk: maybe(bulk as BulkFn<ProbeHost>),
            wide_memory: maybe(wide_memory as WideMemoryFn<ProbeHost>),
        }
    }

    fn outcome_code(o: Outcome) -> u8 {
        match o {
            Outcome::Completed => 0,
            Outcome::Exception(f) => f.vector,
            Outcome::Refused(_) => 0xfe,
            Outcome::Partial => 0xff,
        }
    }

    // One function per entry point (never inlined into `_start`), so stack.sh can measure each.

    /// Emulates an MMIO exit.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_emulate_mmio(vp: &VpContext, exit: &MmioExit) -> u8 {
        let mut host = ProbeHost;
        outcome_code(emulator().emulate_mmio(&callbacks(), &mut host, vp, exit))
    }

    /// Emulates a port exit.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_emulate_io(vp: &VpContext, exit: &IoExit) -> u8 {
        let mut host = ProbeHost;
        outcome_code(emulator().emulate_io(&callbacks(), &mut host, vp, exit))
    }

    /// Emulates the instruction at RIP.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_emulate_at_rip(vp: &VpContext) -> u8 {
        let mut host = ProbeHost;
        outcome_code(emulator().emulate_at_rip(&callbacks(), &mut host, vp))
    }

    /// Calls each entry point with inputs the optimiser cannot predict.
    pub fn all() {
        let vp = answer(VpContext::default());
        let bytes = InstructionBytes {
            bytes: answer([0u8; 16]),
            count: answer(16),
        };
        let mmio = answer(MmioExit {
            bytes,
            ..MmioExit::default()
        });
        let io = answer(IoExit {
            bytes,
            ..IoExit::default()
        });
        answer(probe_emulate_mmio(&vp, &mmio));
        answer(probe_emulate_io(&vp, &io));
        answer(probe_emulate_at_rip(&vp));
    }
}

/// The WinHvEmulation exports, linked with the `ffi` feature: one wrapper per export (never
/// inlined into `_start`), so stack.sh can measure each.
#[cfg(feature = "ffi")]
mod ffi {
    use WinHvEmulation::abi::*;
    use WinHvEmulation::*;
    use core::ffi::c_void;
    use core::hint::black_box;

    /// `WHvEmulatorCreateEmulator`.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_ffi_create(
        callbacks: *const WHV_EMULATOR_CALLBACKS,
        emulator: *mut WHV_EMULATOR_HANDLE,
    ) -> HRESULT {
        // SAFETY: never executed (the probe is only linked, never run).
        unsafe { WHvEmulatorCreateEmulator(callbacks, emulator) }
    }

    /// `WHvEmulatorDestroyEmulator`.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_ffi_destroy(emulator: WHV_EMULATOR_HANDLE) -> HRESULT {
        // SAFETY: never executed.
        unsafe { WHvEmulatorDestroyEmulator(emulator) }
    }

    /// `WHvEmulatorTryIoEmulation`.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_ffi_try_io(
        emulator: WHV_EMULATOR_HANDLE,
        context: *mut c_void,
        vp: *const WHV_VP_EXIT_CONTEXT,
        io: *const WHV_X64_IO_PORT_ACCESS_CONTEXT,
        status: *mut WHV_EMULATOR_STATUS,
    ) -> HRESULT {
        // SAFETY: never executed.
        unsafe { WHvEmulatorTryIoEmulation(emulator, context, vp, io, status) }
    }

    /// `WHvEmulatorTryMmioEmulation`.
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub extern "C" fn probe_ffi_try_mmio(
        emulator: WHV_EMULATOR_HANDLE,
        context: *mut c_void,
        vp: *const WHV_VP_EXIT_CONTEXT,
        mmio: *const WHV_MEMORY_ACCESS_CONTEXT,
        status: *mut WHV_EMULATOR_STATUS,
    ) -> HRESULT {
        // SAFETY: never executed.
        unsafe { WHvEmulatorTryMmioEmulation(emulator, context, vp, mmio, status) }
    }

    /// Calls each export with arguments the optimiser cannot predict.
    pub fn all() {
        let handle = black_box(core::ptr::null_mut());
        let context = black_box(core::ptr::null_mut());
        let vp = black_box(core::ptr::null());
        let status = black_box(core::ptr::null_mut());
        black_box(probe_ffi_create(
            black_box(core::ptr::null()),
            black_box(core::ptr::null_mut()),
        ));
        black_box(probe_ffi_try_io(
            handle,
            context,
            vp,
            black_box(core::ptr::null()),
            status,
        ));
        black_box(probe_ffi_try_mmio(
            handle,
            context,
            vp,
            black_box(core::ptr::null()),
            status,
        ));
        black_box(probe_ffi_destroy(handle));
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let bytes = [0x48u8, 0x89, 0x1f];
    // SAFETY: `bytes` is a live local array of the given length.
    let n = unsafe { probe_decode(core::hint::black_box(bytes.as_ptr()), bytes.len(), 4, true) };
    core::hint::black_box(n);
    #[cfg(feature = "emulator")]
    emulate::all();
    #[cfg(feature = "ffi")]
    ffi::all();
    loop {
        core::hint::spin_loop();
    }
}
