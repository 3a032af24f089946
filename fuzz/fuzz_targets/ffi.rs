//! The C ABI (ffi/, WinHvEmulation): the four entry points with arbitrary contexts.
//!
//! The input is a misuse selector followed by an `emulate` input (`hvemu_fuzz::emu::EmuInput`).
//! Each run creates an emulator with C callbacks over the simulated host, calls
//! `WHvEmulatorTryMmioEmulation` or `WHvEmulatorTryIoEmulation`, and destroys it. Oracles:
//!
//! - misuse (NULL status, exit context or handle; a destroyed, foreign or garbage handle; more
//!   than 16 instruction bytes; the reserved access type; a port access size other than 1, 2 or
//!   4; instruction length 0; a callback table too short or with a NULL entry) gives
//!   `E_INVALIDARG` and makes no callback; destroying twice gives `E_INVALIDARG`;
//! - otherwise `S_OK`, and the call is the core's: the same input through the core with the
//!   ffi's vtable (no compare-exchange, no bulk, no wide memory, every port allowed), the XMM
//!   vector state (WinHv has no YMM/ZMM or opmask names) and the host's vendor makes
//!   the same callbacks with the same arguments and answers, leaves the same guest memory and
//!   registers, and its outcome maps to the status bits the ffi reported (documented in
//!   ffi/src/exports.rs);
//! - no heap allocation inside the emulation call, no crash (the target is meant for
//!   AddressSanitizer: the ffi is the crate with `unsafe`).
#![no_main]

use core::ffi::c_void;
use hvemu::decode::Vendor;
use hvemu::emulator::{CallbackKind, Config, Outcome, Refusal, VectorState};
use hvemu::host::{IoAccess, MemAccess, TranslateFlags, TranslateResult};
use hvemu::regs::{RegName, RegValue};
use hvemu_ffi::abi::*;
use hvemu_ffi::{
    WHvEmulatorCreateEmulator, WHvEmulatorDestroyEmulator, WHvEmulatorTryIoEmulation,
    WHvEmulatorTryMmioEmulation,
};
use hvemu_fuzz::codec::{Codec, Reader};
use hvemu_fuzz::emu::{self, EmuInput, Ev, Kind, MEM, Sim, entry};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

/// A misuse selector and an emulation.
#[derive(Debug)]
struct FfiInput {
    misuse: u8,
    arg: u8,
    emu: EmuInput,
}

impl<'a> Arbitrary<'a> for FfiInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut r = Reader { u };
        let mut misuse = 0;
        let mut arg = 0;
        r.u8(&mut misuse);
        r.u8(&mut arg);
        let mut emu = EmuInput::default();
        emu.visit(&mut r);
        Ok(FfiInput { misuse, arg, emu })
    }
}

/// Misuse selectors (`misuse % 16`); below 8 the call is well-formed.
const M_NULL_STATUS: u8 = 8;
const M_NULL_VP: u8 = 9;
const M_NULL_EXIT: u8 = 10;
const M_BYTE_COUNT: u8 = 11;
const M_BAD_KIND: u8 = 12;
const M_FOREIGN_HANDLE: u8 = 13;
const M_DESTROYED_HANDLE: u8 = 14;
const M_BAD_CALLBACKS: u8 = 15;

// ----- the C callbacks over the simulated host -----

/// # Safety
/// `ctx` is the `Sim` this target passed as the call's context.
unsafe fn sim<'a>(ctx: *mut c_void) -> &'a mut Sim<'a> {
    // SAFETY: by the contract.
    unsafe { &mut *(ctx as *mut Sim<'a>) }
}

unsafe extern "system" fn c_io(
    ctx: *mut c_void,
    info: *mut WHV_EMULATOR_IO_ACCESS_INFO,
) -> HRESULT {
    // SAFETY: the ffi passes our context and a valid record.
    let (s, i) = unsafe { (sim(ctx), &mut *info) };
    if !matches!(i.AccessSize, 1 | 2 | 4) || i.Direction > 1 {
        s.breach("ffi: port access record with a bad size or direction");
    }
    let mut io = IoAccess {
        port: i.Port,
        size: i.AccessSize as u8,
        write: i.Direction != 0,
        data: i.Data,
    };
    match emu::cb_io(s, &mut io) {
        Ok(()) => {
            i.Data = io.data;
            S_OK
        }
        Err(_) => E_FAIL,
    }
}

unsafe extern "system" fn c_memory(
    ctx: *mut c_void,
    info: *mut WHV_EMULATOR_MEMORY_ACCESS_INFO,
) -> HRESULT {
    // SAFETY: as above.
    let (s, i) = unsafe { (sim(ctx), &mut *info) };
    if i.Direction > 1 {
        s.breach("ffi: memory access record with a bad direction");
    }
    let mut a = MemAccess {
        gpa: i.GpaAddress,
        size: i.AccessSize,
        write: i.Direction != 0,
        data: i.Data,
    };
    match emu::cb_memory(s, &mut a) {
        Ok(()) => {
            i.Data = a.data;
            S_OK
        }
        Err(_) => E_FAIL,
    }
}

const MAX_REGS: usize = 64;

unsafe extern "system" fn c_get(
    ctx: *mut c_void,
    names: *const WHV_REGISTER_NAME,
    count: u32,
    values: *mut WHV_REGISTER_VALUE,
) -> HRESULT {
    // SAFETY: as above; `names` and `values` hold `count` entries.
    let s = unsafe { sim(ctx) };
    if count as usize > MAX_REGS {
        s.breach("ffi: more registers than the register file holds");
        return E_FAIL;
    }
    let n = count as usize;
    let mut rn = [RegName(0); MAX_REGS];
    let mut rv = [RegValue::default(); MAX_REGS];
    for (k, d) in rn.iter_mut().enumerate().take(n) {
        // SAFETY: k < count.
        *d = RegName(unsafe { *names.add(k) } as u32);
    }
    match emu::cb_get(s, &rn[..n], &mut rv[..n]) {
        Ok(()) => {
            for (k, v) in rv.iter().enumerate().take(n) {
                // SAFETY: k < count.
                unsafe { *values.add(k) = WHV_REGISTER_VALUE::from_halves(v.lo, v.hi) };
            }
            S_OK
        }
        Err(_) => E_FAIL,
    }
}

unsafe extern "system" fn c_set(
    ctx: *mut c_void,
    names: *const WHV_REGISTER_NAME,
    count: u32,
    values: *const WHV_REGISTER_VALUE,
) -> HRESULT {
    // SAFETY: as above.
    let s = unsafe { sim(ctx) };
    if count as usize > MAX_REGS {
        s.breach("ffi: more registers than the register file holds");
        return E_FAIL;
    }
    let n = count as usize;
    let mut rn = [RegName(0); MAX_REGS];
    let mut rv = [RegValue::default(); MAX_REGS];
    for k in 0..n {
        // SAFETY: k < count.
        let (name, (lo, hi)) = unsafe { (*names.add(k), (*values.add(k)).halves()) };
        rn[k] = RegName(name as u32);
        rv[k] = RegValue { lo, hi };
    }
    match emu::cb_set(s, &rn[..n], &rv[..n]) {
        Ok(()) => S_OK,
        Err(_) => E_FAIL,
    }
}

unsafe extern "system" fn c_translate(
    ctx: *mut c_void,
    gva: WHV_GUEST_VIRTUAL_ADDRESS,
    flags: WHV_TRANSLATE_GVA_FLAGS,
    result: *mut WHV_TRANSLATE_GVA_RESULT_CODE,
    gpa: *mut WHV_GUEST_PHYSICAL_ADDRESS,
) -> HRESULT {
    // SAFETY: as above; `result` and `gpa` are writable.
    let s = unsafe { sim(ctx) };
    match emu::cb_translate(s, gva, TranslateFlags(flags as u32)) {
        Ok((r, g)) => {
            let code = match r {
                TranslateResult::Success => 0,
                TranslateResult::PageNotPresent => 1,
                TranslateResult::PrivilegeViolation => 2,
                TranslateResult::InvalidPageTableFlags => 3,
                TranslateResult::GpaUnmapped => 4,
                TranslateResult::GpaNoReadAccess => 5,
                TranslateResult::GpaNoWriteAccess => 6,
                TranslateResult::GpaIllegalOverlayAccess => 7,
                TranslateResult::Intercept => 8,
                TranslateResult::Other(c) => c as i32,
            };
            // SAFETY: writable by the contract.
            unsafe {
                *result = code;
                *gpa = g;
            }
            S_OK
        }
        Err(_) => E_FAIL,
    }
}

fn callbacks() -> WHV_EMULATOR_CALLBACKS {
    WHV_EMULATOR_CALLBACKS {
        Size: core::mem::size_of::<WHV_EMULATOR_CALLBACKS>() as u32,
        Reserved: 0,
        WHvEmulatorIoPortCallback: Some(c_io),
        WHvEmulatorMemoryCallback: Some(c_memory),
        WHvEmulatorGetVirtualProcessorRegisters: Some(c_get),
        WHvEmulatorSetVirtualProcessorRegisters: Some(c_set),
        WHvEmulatorTranslateGvaPage: Some(c_translate),
    }
}

fn host_vendor() -> Vendor {
    // SAFETY: CPUID leaf 0 exists on every x86-64 processor.
    #[allow(unused_unsafe)]
    let id = unsafe { core::arch::x86_64::__cpuid(0) };
    if id.ebx == 0x756e_6547 {
        Vendor::Intel
    } else {
        Vendor::Amd
    }
}

/// The status bits the ffi documents for an outcome (`status_of` in ffi/src/exports.rs).
fn expected_status(outcome: Outcome, sets: usize) -> u32 {
    type S = WHV_EMULATOR_STATUS;
    match outcome {
        Outcome::Completed => S::EMULATION_SUCCESSFUL,
        Outcome::Partial | Outcome::Exception(_) if sets > 0 => S::EMULATION_SUCCESSFUL,
        Outcome::Partial | Outcome::Exception(_) => S::INTERNAL_EMULATION_FAILURE,
        Outcome::Refused(Refusal::CallbackFailed(k)) => match k {
            CallbackKind::IoPort => S::IO_PORT_CALLBACK_FAILED,
            CallbackKind::Memory => S::MEMORY_CALLBACK_FAILED,
            CallbackKind::GetRegisters => S::GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED,
            CallbackKind::SetRegisters => S::SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED,
            CallbackKind::TranslateGvaPage => S::TRANSLATE_GVA_PAGE_CALLBACK_FAILED,
            _ => S::INTERNAL_EMULATION_FAILURE,
        },
        Outcome::Refused(Refusal::GpaNotAligned) => {
            S::TRANSLATE_GVA_PAGE_CALLBACK_GPA_IS_NOT_ALIGNED
        }
        Outcome::Refused(Refusal::InterruptionPending) => S::INTERRUPT_CAUSED_INTERCEPT,
        Outcome::Refused(_) => S::INTERNAL_EMULATION_FAILURE,
    }
}

fn segment(s: hvemu::regs::Segment) -> WHV_X64_SEGMENT_REGISTER {
    WHV_X64_SEGMENT_REGISTER {
        Base: s.base,
        Limit: s.limit,
        Selector: s.selector,
        Attributes: s.attributes,
    }
}

struct Bufs {
    core: (Vec<Ev>, Box<[u8; MEM]>),
    ffi: (Vec<Ev>, Box<[u8; MEM]>),
}

thread_local! {
    static BUFS: RefCell<Bufs> = RefCell::new(Bufs {
        core: (Vec::with_capacity(64 + 16 * 1024 + 1), Box::new([0; MEM])),
        ffi: (Vec::with_capacity(64 + 16 * 1024 + 1), Box::new([0; MEM])),
    });
}

fn run(input: &FfiInput, bufs: &mut Bufs) {
    let misuse = input.misuse % 16;
    let mut e = input.emu;
    // WinHv has no YMM/ZMM names and no wide memory callback.
    e.winhv();
    // The ffi has no `emulate_at_rip`; its exit context packs the instruction length and CR8
    // into 4 bits each, and a port access's size into 3.
    if e.entry % 3 == entry::AT_RIP {
        e.entry = entry::MMIO;
    }
    e.insn_len &= 0xf;
    e.io_size &= 7;
    e.budget = 31; // the ffi's budget: 1024 elements
    let is_io = e.entry % 3 == entry::IO;
    let (vp, regs) = e.state();

    // The exit, as a C caller would fill it.
    type X = WHV_X64_VP_EXECUTION_STATE;
    let vpc = WHV_VP_EXIT_CONTEXT {
        ExecutionState: WHV_X64_VP_EXECUTION_STATE {
            AsUINT16: vp.cpl as u16 & X::CPL
                | if vp.cr0_pe { X::CR0_PE } else { 0 }
                | if vp.cr0_am { X::CR0_AM } else { 0 }
                | if vp.efer_lma { X::EFER_LMA } else { 0 }
                | if vp.interruption_pending {
                    X::INTERRUPTION_PENDING
                } else {
                    0
                },
        },
        InstructionLengthCr8: vp.instruction_length | vp.cr8 << 4,
        Reserved: 0,
        Reserved2: 0,
        Cs: segment(vp.cs),
        Rip: vp.rip,
        Rflags: vp.rflags,
    };
    let mut count = e.exit_count() as u8;
    if misuse == M_BYTE_COUNT {
        count = 17 + input.arg % 239;
    }
    let mut mmio = WHV_MEMORY_ACCESS_CONTEXT {
        InstructionByteCount: count,
        InstructionBytes: e.bytes,
        AccessInfo: WHV_MEMORY_ACCESS_INFO {
            AsUINT32: (e.access % 3) as u32 | ((e.mmio_flags & 3) as u32) << 2,
        },
        Gpa: e.gpa,
        Gva: e.gva,
        ..Default::default()
    };
    let mut io_size = e.io_size as u32 & 7;
    if misuse == M_BAD_KIND {
        mmio.AccessInfo.AsUINT32 |= 3;
        io_size = [0, 3, 5, 6, 7][input.arg as usize % 5];
    }
    let io = WHV_X64_IO_PORT_ACCESS_CONTEXT {
        InstructionByteCount: count,
        InstructionBytes: e.bytes,
        AccessInfo: WHV_X64_IO_PORT_ACCESS_INFO {
            AsUINT32: (e.io_flags & 1) as u32
                | (io_size << 1)
                | (((e.io_flags >> 1) & 1) as u32 * 0x10)
                | (((e.io_flags >> 2) & 1) as u32 * 0x20),
        },
        PortNumber: e.port,
        Rax: regs.gpr[0],
        Rcx: regs.gpr[1],
        Rsi: regs.gpr[6],
        Rdi: regs.gpr[7],
        Ds: segment(regs.seg[3]),
        Es: segment(regs.seg[0]),
        ..Default::default()
    };
    // What the ffi must reject.
    let invalid =
        misuse >= 8 || (is_io && (vp.instruction_length == 0 || !matches!(io_size, 1 | 2 | 4)));

    // The emulator.
    let mut handle: WHV_EMULATOR_HANDLE = core::ptr::null_mut();
    let mut cbs = callbacks();
    if misuse == M_BAD_CALLBACKS {
        match input.arg % 3 {
            0 => cbs.Size = 40,
            1 => cbs.WHvEmulatorMemoryCallback = None,
            _ => cbs.WHvEmulatorTranslateGvaPage = None,
        }
        // SAFETY: valid pointers.
        let hr = unsafe { WHvEmulatorCreateEmulator(&cbs, &mut handle) };
        assert!(
            hr == E_INVALIDARG && handle.is_null(),
            "CreateEmulator with a bad callback table: {hr:#x}, handle {handle:?}"
        );
        // SAFETY: a NULL callbacks or handle pointer is checked.
        let hr = unsafe { WHvEmulatorCreateEmulator(core::ptr::null(), &mut handle) };
        assert_eq!(hr, E_INVALIDARG);
        // SAFETY: as above.
        let hr = unsafe { WHvEmulatorCreateEmulator(&callbacks(), core::ptr::null_mut()) };
        assert_eq!(hr, E_INVALIDARG);
        return;
    }
    // SAFETY: valid pointers.
    let hr = unsafe { WHvEmulatorCreateEmulator(&cbs, &mut handle) };
    assert!(hr == S_OK && !handle.is_null(), "CreateEmulator: {hr:#x}");
    let call_handle = match misuse {
        M_FOREIGN_HANDLE => (e.rip ^ 0x5a5a_0000_0000_0001) as WHV_EMULATOR_HANDLE,
        M_DESTROYED_HANDLE => {
            // SAFETY: a handle from CreateEmulator.
            assert_eq!(unsafe { WHvEmulatorDestroyEmulator(handle) }, S_OK);
            handle
        }
        _ => handle,
    };

    // The ffi's call.
    let (trace, mem) = (&mut bufs.ffi.0, &mut bufs.ffi.1);
    let mut sim = Sim::new(&e, regs, mem, trace);
    let mut status = WHV_EMULATOR_STATUS { AsUINT32: 0xdead };
    let status_ptr: *mut WHV_EMULATOR_STATUS = if misuse == M_NULL_STATUS {
        core::ptr::null_mut()
    } else {
        &mut status
    };
    let vp_ptr: *const WHV_VP_EXIT_CONTEXT = if misuse == M_NULL_VP {
        core::ptr::null()
    } else {
        &vpc
    };
    let ctx = &mut sim as *mut Sim as *mut c_void;
    let hr = hvemu_fuzz::alloc_guard::forbid(|| {
        if is_io {
            let p: *const WHV_X64_IO_PORT_ACCESS_CONTEXT = if misuse == M_NULL_EXIT {
                core::ptr::null()
            } else {
                &io
            };
            // SAFETY: the pointers are valid or NULL; the callbacks take `ctx` as a `Sim`.
            unsafe { WHvEmulatorTryIoEmulation(call_handle, ctx, vp_ptr, p, status_ptr) }
        } else {
            let p: *const WHV_MEMORY_ACCESS_CONTEXT = if misuse == M_NULL_EXIT {
                core::ptr::null()
            } else {
                &mmio
            };
            // SAFETY: as above.
            unsafe { WHvEmulatorTryMmioEmulation(call_handle, ctx, vp_ptr, p, status_ptr) }
        }
    });
    let ffi_breach = sim.breach_seen();
    let ffi_regs = sim.regs;
    if misuse != M_DESTROYED_HANDLE {
        // SAFETY: a live handle.
        assert_eq!(unsafe { WHvEmulatorDestroyEmulator(handle) }, S_OK);
    }
    // SAFETY: any handle value is checked.
    assert_eq!(
        unsafe { WHvEmulatorDestroyEmulator(handle) },
        E_INVALIDARG,
        "destroyed twice"
    );

    let ffi_trace = &bufs.ffi.0;
    if invalid {
        assert!(
            hr == E_INVALIDARG && ffi_trace.is_empty(),
            "misuse {misuse} (io {is_io}, length {}, size {io_size}): {hr:#x} after {} callbacks",
            vp.instruction_length,
            ffi_trace.len()
        );
        return;
    }
    assert_eq!(hr, S_OK, "a well-formed call failed");
    if let Some(b) = ffi_breach {
        panic!("host contract breached through the ffi: {b}");
    }

    // The same call through the core with the ffi's vtable.
    let config = Config {
        vendor: host_vendor(),
        rep_budget: 1024,
        vector_state: VectorState::Xmm,
    };
    let cb = emu::winhv_callbacks();
    let r = emu::run_with(&e, &cb, config, &mut bufs.core.1, &mut bufs.core.0);
    let core_trace = &bufs.core.0;
    let why = |what: &str| {
        format!(
            "{what}\n  ffi status {:#x}, {} callbacks\n  core: {}",
            status.AsUINT32,
            ffi_trace.len(),
            emu::describe(&e, &r, core_trace)
        )
    };
    if core_trace != ffi_trace {
        let i = core_trace
            .iter()
            .zip(ffi_trace.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(core_trace.len().min(ffi_trace.len()));
        panic!(
            "{}",
            why(&format!(
                "the ffi's callbacks differ from the core's at callback {i} (ffi {}, core {}):\n  ffi  {:x?}\n  core {:x?}",
                ffi_trace.len(),
                core_trace.len(),
                ffi_trace.get(i),
                core_trace.get(i)
            ))
        );
    }
    assert!(
        bufs.core.1[..] == bufs.ffi.1[..] && r.regs == ffi_regs,
        "{}",
        why("guest state differs")
    );
    let sets = core_trace.iter().filter(|e| e.kind == Kind::Set).count();
    assert_eq!(
        status.AsUINT32,
        expected_status(r.outcome, sets),
        "{}",
        why("status bits do not match the outcome")
    );
}

fuzz_target!(|input: FfiInput| {
    hvemu_fuzz::alloc_guard::install_panic_hook();
    BUFS.with(|b| run(&input, &mut b.borrow_mut()));
});
