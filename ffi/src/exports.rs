//! The four exported functions.
//!
//! Each one checks every pointer and the handle before anything else and returns an HRESULT;
//! nothing unwinds across the boundary. Inputs are copied out of the caller's memory with
//! unaligned reads, so a misaligned pointer is no undefined behaviour either; the status is the
//! only thing written back, and only with `S_OK`.

use core::ffi::c_void;

use hvemu::emulator::{
    AccessKind, CallbackKind, Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome,
    Refusal, VpContext,
};
use hvemu::regs::Segment;
use hvemu_alloc_shim::{Handle, Pool};

use crate::abi::*;
use crate::host::{FfiCtx, HostCallbacks, VTABLE};

/// How many emulators can exist at once in the static pool (one per virtual processor is the
/// usual use). With the `std` feature the pool grows past this with `Box`ed blocks.
pub const CAPACITY: usize = 1024;

/// One emulator instance.
pub(crate) struct Instance {
    cb: HostCallbacks,
    emulator: Emulator,
}

pub(crate) static POOL: Pool<Instance, CAPACITY> = Pool::new();

fn handle_of(emulator: WHV_EMULATOR_HANDLE) -> Handle {
    Handle::from_bits(emulator.addr() as u64)
}

fn ptr_of(handle: Handle) -> WHV_EMULATOR_HANDLE {
    core::ptr::without_provenance_mut(handle.to_bits() as usize)
}

/// The processor vendor of the host, which WHP passes through to its guests (it decides the
/// few encodings and undefined flags where Intel and AMD differ).
fn host_vendor() -> hvemu::decode::Vendor {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        // SAFETY: CPUID leaf 0 exists on every x86-64 processor and has no side effects.
        #[allow(unused_unsafe)]
        let id = unsafe { core::arch::x86_64::__cpuid(0) };
        // "GenuineIntel": EBX "Genu".
        if id.ebx == 0x756e_6547 {
            return hvemu::decode::Vendor::Intel;
        }
    }
    hvemu::decode::Vendor::Amd
}

/// Creates an emulator with the given callbacks.
///
/// `E_INVALIDARG` when `Callbacks` or `Emulator` is NULL, `Callbacks->Size` is below 48 or a
/// callback is NULL; `E_OUTOFMEMORY` when every slot is taken. On failure `*Emulator` is set to
/// NULL (when it can be written).
///
/// # Safety
/// `Callbacks`, if not NULL, points to at least 48 readable bytes; `Emulator`, if not NULL, to
/// a writable handle. The callbacks must follow their documented contracts.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn WHvEmulatorCreateEmulator(
    Callbacks: *const WHV_EMULATOR_CALLBACKS,
    Emulator: *mut WHV_EMULATOR_HANDLE,
) -> HRESULT {
    if Emulator.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: `Emulator` is non-null and, by the contract, writable.
    unsafe { Emulator.write_unaligned(core::ptr::null_mut()) };
    if Callbacks.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: non-null, and by the contract at least the 4-byte `Size` is readable.
    let size = unsafe { core::ptr::addr_of!((*Callbacks).Size).read_unaligned() };
    if (size as usize) < core::mem::size_of::<WHV_EMULATOR_CALLBACKS>() {
        return E_INVALIDARG;
    }
    // SAFETY: `Size` says the 48 bytes are there; every bit pattern of the struct is valid
    // (the callbacks are `Option`s of function pointers, NULL being `None`).
    let callbacks = unsafe { Callbacks.read_unaligned() };
    let Some(cb) = HostCallbacks::from_abi(&callbacks) else {
        return E_INVALIDARG;
    };
    let instance = Instance {
        cb,
        emulator: Emulator::new(Config {
            vendor: host_vendor(),
            ..Config::default()
        }),
    };
    match POOL.insert(instance) {
        Ok(h) => {
            // SAFETY: as above.
            unsafe { Emulator.write_unaligned(ptr_of(h)) };
            S_OK
        }
        Err(_) => E_OUTOFMEMORY,
    }
}

/// Destroys an emulator: `S_OK` for a live handle, `E_INVALIDARG` for anything else (NULL,
/// destroyed, foreign, or in use by a running emulation call).
///
/// # Safety
/// None beyond the ABI: any handle value is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn WHvEmulatorDestroyEmulator(Emulator: WHV_EMULATOR_HANDLE) -> HRESULT {
    match POOL.remove(handle_of(Emulator)) {
        Ok(_) => S_OK,
        Err(_) => E_INVALIDARG,
    }
}

/// Translates the outcome of an emulation into `WHV_EMULATOR_STATUS` bits.
///
/// A REP string instruction that faults part-way keeps its progress (the core sets RCX, RSI and
/// RDI once): that call reports success, and the guest re-executes the instruction from the
/// faulting element, where the processor raises the fault itself. Any other fault is an
/// internal failure: the API has no way to hand a fault back, and nothing was changed.
pub(crate) fn status_of(outcome: Outcome, sets: u32) -> u32 {
    type S = WHV_EMULATOR_STATUS;
    match outcome {
        Outcome::Completed => S::EMULATION_SUCCESSFUL,
        Outcome::Partial | Outcome::Exception(_) if sets > 0 => S::EMULATION_SUCCESSFUL,
        Outcome::Partial | Outcome::Exception(_) => S::INTERNAL_EMULATION_FAILURE,
        Outcome::Refused(r) => match r {
            Refusal::CallbackFailed(k) => match k {
                CallbackKind::IoPort => S::IO_PORT_CALLBACK_FAILED,
                CallbackKind::Memory => S::MEMORY_CALLBACK_FAILED,
                CallbackKind::GetRegisters => S::GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED,
                CallbackKind::SetRegisters => S::SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED,
                CallbackKind::TranslateGvaPage => S::TRANSLATE_GVA_PAGE_CALLBACK_FAILED,
                _ => S::INTERNAL_EMULATION_FAILURE,
            },
            Refusal::GpaNotAligned => S::TRANSLATE_GVA_PAGE_CALLBACK_GPA_IS_NOT_ALIGNED,
            Refusal::InterruptionPending => S::INTERRUPT_CAUSED_INTERCEPT,
            _ => S::INTERNAL_EMULATION_FAILURE,
        },
    }
}

fn segment(s: &WHV_X64_SEGMENT_REGISTER) -> Segment {
    Segment {
        base: s.Base,
        limit: s.Limit,
        selector: s.Selector,
        attributes: s.Attributes,
    }
}

fn vp_context(vp: &WHV_VP_EXIT_CONTEXT) -> VpContext {
    type E = WHV_X64_VP_EXECUTION_STATE;
    let es = vp.ExecutionState.AsUINT16;
    VpContext {
        cpl: (es & E::CPL) as u8,
        cr0_pe: es & E::CR0_PE != 0,
        cr0_am: es & E::CR0_AM != 0,
        efer_lma: es & E::EFER_LMA != 0,
        interruption_pending: es & E::INTERRUPTION_PENDING != 0,
        instruction_length: vp.instruction_length(),
        cr8: vp.cr8(),
        cs: segment(&vp.Cs),
        rip: vp.Rip,
        rflags: vp.Rflags,
    }
}

fn instruction_bytes(count: u8, bytes: &[u8; 16]) -> Option<InstructionBytes> {
    let valid = bytes.get(..count as usize)?;
    Some(InstructionBytes::new(valid))
}

/// Reads a caller's structure, or `None` for NULL.
///
/// # Safety
/// `p`, if not NULL, points to a readable `T` (alignment not required).
unsafe fn read<T: Copy>(p: *const T) -> Option<T> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-null and readable by the contract; `T` is plain data for which every bit
        // pattern is valid (only the ABI structs of this crate are read).
        Some(unsafe { p.read_unaligned() })
    }
}

/// Runs one emulation on the handle's instance and writes the status.
fn emulate(
    emulator: WHV_EMULATOR_HANDLE,
    context: *mut c_void,
    status: *mut WHV_EMULATOR_STATUS,
    run: impl FnOnce(&Emulator, &mut FfiCtx) -> Outcome,
) -> HRESULT {
    let result = POOL.with(handle_of(emulator), |instance| {
        let mut ctx = FfiCtx {
            cb: instance.cb,
            context,
            sets: 0,
        };
        let outcome = run(&instance.emulator, &mut ctx);
        status_of(outcome, ctx.sets)
    });
    match result {
        Ok(bits) => {
            // SAFETY: the callers checked `status` non-null; writable by the contract.
            unsafe { status.write_unaligned(WHV_EMULATOR_STATUS { AsUINT32: bits }) };
            S_OK
        }
        Err(_) => E_INVALIDARG,
    }
}

/// Emulates the instruction behind a port exit.
///
/// `E_INVALIDARG` for a NULL or invalid handle, a NULL `VpContext`, `IoInstructionContext` or
/// `EmulatorReturnStatus`, `InstructionByteCount` over 16, an `AccessSize` other than 1, 2 or
/// 4, or `InstructionLength` 0; otherwise `S_OK` with the status bits. `Context` is passed to
/// every callback unchanged.
///
/// # Safety
/// The non-NULL pointers point to readable structures (and a writable status); the callbacks
/// follow their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn WHvEmulatorTryIoEmulation(
    Emulator: WHV_EMULATOR_HANDLE,
    Context: *mut c_void,
    VpContext: *const WHV_VP_EXIT_CONTEXT,
    IoInstructionContext: *const WHV_X64_IO_PORT_ACCESS_CONTEXT,
    EmulatorReturnStatus: *mut WHV_EMULATOR_STATUS,
) -> HRESULT {
    if EmulatorReturnStatus.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: readable when non-null, by the contract.
    let (Some(vp), Some(io)) = (unsafe { read(VpContext) }, unsafe {
        read(IoInstructionContext)
    }) else {
        return E_INVALIDARG;
    };
    let Some(bytes) = instruction_bytes(io.InstructionByteCount, &io.InstructionBytes) else {
        return E_INVALIDARG;
    };
    let size = io.AccessInfo.access_size();
    if vp.instruction_length() == 0 || !matches!(size, 1 | 2 | 4) {
        return E_INVALIDARG;
    }
    type A = WHV_X64_IO_PORT_ACCESS_INFO;
    let info = io.AccessInfo.AsUINT32;
    let exit = IoExit {
        bytes,
        port: io.PortNumber,
        write: info & A::IS_WRITE != 0,
        size: size as u8,
        string: info & A::STRING_OP != 0,
        rep: info & A::REP_PREFIX != 0,
        rax: io.Rax,
        rcx: io.Rcx,
        rsi: io.Rsi,
        rdi: io.Rdi,
        ds: segment(&io.Ds),
        es: segment(&io.Es),
    };
    let vp = vp_context(&vp);
    emulate(Emulator, Context, EmulatorReturnStatus, |e, ctx| {
        e.emulate_io(&VTABLE, ctx, &vp, &exit)
    })
}

/// Emulates the instruction behind a memory-access exit.
///
/// `E_INVALIDARG` for a NULL or invalid handle, a NULL `VpContext`, `MmioInstructionContext`
/// or `EmulatorReturnStatus`, `InstructionByteCount` over 16, or the reserved access type 3;
/// otherwise `S_OK` with the status bits. `Context` is passed to every callback unchanged.
///
/// # Safety
/// As for [`WHvEmulatorTryIoEmulation`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn WHvEmulatorTryMmioEmulation(
    Emulator: WHV_EMULATOR_HANDLE,
    Context: *mut c_void,
    VpContext: *const WHV_VP_EXIT_CONTEXT,
    MmioInstructionContext: *const WHV_MEMORY_ACCESS_CONTEXT,
    EmulatorReturnStatus: *mut WHV_EMULATOR_STATUS,
) -> HRESULT {
    if EmulatorReturnStatus.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: readable when non-null, by the contract.
    let (Some(vp), Some(mmio)) = (unsafe { read(VpContext) }, unsafe {
        read(MmioInstructionContext)
    }) else {
        return E_INVALIDARG;
    };
    let Some(bytes) = instruction_bytes(mmio.InstructionByteCount, &mmio.InstructionBytes) else {
        return E_INVALIDARG;
    };
    type M = WHV_MEMORY_ACCESS_INFO;
    let info = mmio.AccessInfo.AsUINT32;
    let access = match info & M::ACCESS_TYPE {
        0 => AccessKind::Read,
        1 => AccessKind::Write,
        2 => AccessKind::Execute,
        _ => return E_INVALIDARG,
    };
    let exit = MmioExit {
        bytes,
        access,
        gpa_unmapped: info & M::GPA_UNMAPPED != 0,
        gva_valid: info & M::GVA_VALID != 0,
        gpa: mmio.Gpa,
        gva: mmio.Gva,
    };
    let vp = vp_context(&vp);
    emulate(Emulator, Context, EmulatorReturnStatus, |e, ctx| {
        e.emulate_mmio(&VTABLE, ctx, &vp, &exit)
    })
}
