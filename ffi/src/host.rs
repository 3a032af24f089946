//! The adapter from the core's host vtable (`hvemu::host::Callbacks<FfiCtx>`) to the caller's C
//! function pointers.
//!
//! Every buffer handed to a C callback lives on this stack frame: access records are zeroed
//! before a read, register arrays are `WHV_REGISTER_VALUE` (16-byte aligned, so MSVC-compiled
//! callbacks may use `movaps` on them). A callback that returns anything but `S_OK` is a
//! [`HostError`] carrying its HRESULT; the core then stops and reports which callback failed.

use core::ffi::c_void;

use hvemu::host::{
    Callbacks, HostError, IoAccess, MAX_REGISTERS_PER_CALL, MemAccess, TranslateFlags,
    TranslateResult,
};
use hvemu::regs::{RegName, RegValue};

use crate::abi::*;

/// The most registers one Get or Set names.
const MAX_REGS: usize = MAX_REGISTERS_PER_CALL;
const _: () = assert!(core::mem::size_of::<RegName>() == core::mem::size_of::<WHV_REGISTER_NAME>());

/// The caller's five callbacks, checked non-null at creation.
#[derive(Copy, Clone)]
pub(crate) struct HostCallbacks {
    pub io_port:
        unsafe extern "system" fn(*mut c_void, *mut WHV_EMULATOR_IO_ACCESS_INFO) -> HRESULT,
    pub memory:
        unsafe extern "system" fn(*mut c_void, *mut WHV_EMULATOR_MEMORY_ACCESS_INFO) -> HRESULT,
    pub get_registers: unsafe extern "system" fn(
        *mut c_void,
        *const WHV_REGISTER_NAME,
        u32,
        *mut WHV_REGISTER_VALUE,
    ) -> HRESULT,
    pub set_registers: unsafe extern "system" fn(
        *mut c_void,
        *const WHV_REGISTER_NAME,
        u32,
        *const WHV_REGISTER_VALUE,
    ) -> HRESULT,
    pub translate: unsafe extern "system" fn(
        *mut c_void,
        WHV_GUEST_VIRTUAL_ADDRESS,
        WHV_TRANSLATE_GVA_FLAGS,
        *mut WHV_TRANSLATE_GVA_RESULT_CODE,
        *mut WHV_GUEST_PHYSICAL_ADDRESS,
    ) -> HRESULT,
}

impl HostCallbacks {
    /// The callbacks of a `WHV_EMULATOR_CALLBACKS`, if every one is set.
    pub(crate) fn from_abi(c: &WHV_EMULATOR_CALLBACKS) -> Option<HostCallbacks> {
        Some(HostCallbacks {
            io_port: c.WHvEmulatorIoPortCallback?,
            memory: c.WHvEmulatorMemoryCallback?,
            get_registers: c.WHvEmulatorGetVirtualProcessorRegisters?,
            set_registers: c.WHvEmulatorSetVirtualProcessorRegisters?,
            translate: c.WHvEmulatorTranslateGvaPage?,
        })
    }
}

/// The context of one emulation call: the callbacks, the caller's `Context` (passed to every
/// callback untouched), and what the call did.
pub(crate) struct FfiCtx {
    pub cb: HostCallbacks,
    pub context: *mut c_void,
    /// Set callbacks made (at most one; the status mapping checks it).
    pub sets: u32,
}

/// The vtable the core calls.
pub(crate) const VTABLE: Callbacks<FfiCtx> = Callbacks {
    io_port,
    memory,
    get_registers,
    set_registers,
    translate_gva_page,
    compare_exchange: None,
    // A port exit comes after the processor's own I/O permission check (the TSS bitmap when
    // CPL > IOPL), so the access it reports is allowed.
    io_permission: Some(|_, _, _| Ok(true)),
    // The WinHv ABI has no bulk-transfer callback: one memory or port call per element.
    bulk: None,
    wide_memory: None,
};

fn check(hr: HRESULT) -> Result<(), HostError> {
    if hr == S_OK {
        Ok(())
    } else {
        Err(HostError { code: hr })
    }
}

fn io_port(ctx: &mut FfiCtx, io: &mut IoAccess) -> Result<(), HostError> {
    let mut info = WHV_EMULATOR_IO_ACCESS_INFO {
        Direction: io.write as u8,
        Port: io.port,
        AccessSize: io.size as u16,
        Data: if io.write { io.data } else { 0 },
    };
    // SAFETY: the callback was supplied non-null by the caller of WHvEmulatorCreateEmulator for
    // this purpose; `info` is a valid, initialised record on this frame for the whole call.
    let hr = unsafe { (ctx.cb.io_port)(ctx.context, &mut info) };
    check(hr)?;
    if !io.write {
        let mask = match io.size {
            1 => 0xff,
            2 => 0xffff,
            _ => 0xffff_ffff,
        };
        io.data = info.Data & mask;
    }
    Ok(())
}

fn memory(ctx: &mut FfiCtx, access: &mut MemAccess) -> Result<(), HostError> {
    let size = access.size.min(8);
    let mut info = WHV_EMULATOR_MEMORY_ACCESS_INFO {
        GpaAddress: access.gpa,
        Direction: access.write as u8,
        AccessSize: size,
        Data: if access.write { access.data } else { [0; 8] },
    };
    // SAFETY: as in `io_port`: a caller-supplied non-null callback and a valid record on this
    // frame.
    let hr = unsafe { (ctx.cb.memory)(ctx.context, &mut info) };
    check(hr)?;
    if !access.write {
        access.data = [0; 8];
        for (d, s) in access.data.iter_mut().zip(info.Data).take(size as usize) {
            *d = s;
        }
    }
    Ok(())
}

fn get_registers(
    ctx: &mut FfiCtx,
    names: &[RegName],
    values: &mut [RegValue],
) -> Result<(), HostError> {
    let count = names.len().min(values.len());
    if count > MAX_REGS {
        return Err(HostError { code: E_UNEXPECTED });
    }
    let mut n = [0 as WHV_REGISTER_NAME; MAX_REGS];
    for (d, s) in n.iter_mut().zip(names).take(count) {
        *d = s.0 as WHV_REGISTER_NAME;
    }
    let mut v = [WHV_REGISTER_VALUE::ZERO; MAX_REGS];
    // SAFETY: a caller-supplied non-null callback; `n` holds `count` names and `v` room for
    // `count` values, both on this frame, `v` zeroed and 16-byte aligned by its type.
    let hr =
        unsafe { (ctx.cb.get_registers)(ctx.context, n.as_ptr(), count as u32, v.as_mut_ptr()) };
    check(hr)?;
    for (d, s) in values.iter_mut().zip(v.iter()).take(count) {
        let (lo, hi) = s.halves();
        *d = RegValue { lo, hi };
    }
    Ok(())
}

fn set_registers(
    ctx: &mut FfiCtx,
    names: &[RegName],
    values: &[RegValue],
) -> Result<(), HostError> {
    let count = names.len().min(values.len());
    if count > MAX_REGS {
        return Err(HostError { code: E_UNEXPECTED });
    }
    let mut n = [0 as WHV_REGISTER_NAME; MAX_REGS];
    let mut v = [WHV_REGISTER_VALUE::ZERO; MAX_REGS];
    for ((dn, dv), (sn, sv)) in n.iter_mut().zip(v.iter_mut()).zip(names.iter().zip(values)) {
        *dn = sn.0 as WHV_REGISTER_NAME;
        *dv = WHV_REGISTER_VALUE::from_halves(sv.lo, sv.hi);
    }
    ctx.sets = ctx.sets.saturating_add(1);
    // SAFETY: a caller-supplied non-null callback; `n` and `v` hold `count` initialised
    // entries on this frame, `v` 16-byte aligned by its type.
    let hr = unsafe { (ctx.cb.set_registers)(ctx.context, n.as_ptr(), count as u32, v.as_ptr()) };
    check(hr)
}

fn translate_gva_page(
    ctx: &mut FfiCtx,
    gva: u64,
    flags: TranslateFlags,
) -> Result<(TranslateResult, u64), HostError> {
    let mut result: WHV_TRANSLATE_GVA_RESULT_CODE = WHvTranslateGvaResultSuccess;
    let mut gpa: WHV_GUEST_PHYSICAL_ADDRESS = 0;
    // SAFETY: a caller-supplied non-null callback; `result` and `gpa` are valid, initialised
    // locals on this frame.
    let hr = unsafe {
        (ctx.cb.translate)(
            ctx.context,
            gva,
            flags.0 as WHV_TRANSLATE_GVA_FLAGS,
            &mut result,
            &mut gpa,
        )
    };
    check(hr)?;
    Ok((TranslateResult::from_code(result as u32), gpa))
}
