//! A small virtual machine behind Rust-implemented C callbacks: a register file keyed by
//! `WHV_REGISTER_NAME`, RAM at GPA 0, a device region that logs its accesses, ports, and a page
//! map for translation. Every callback call is logged, and the checks a real VMM relies on
//! (context pointer, 16-byte aligned register buffers, zeroed read buffers) are recorded.

use core::ffi::c_void;
use std::collections::BTreeMap;
use std::mem::size_of;
use std::sync::{RwLock, RwLockReadGuard};
use std::vec::Vec;

use crate::abi::*;
use crate::{
    WHvEmulatorCreateEmulator, WHvEmulatorDestroyEmulator, WHvEmulatorTryIoEmulation,
    WHvEmulatorTryMmioEmulation,
};

/// Tests that fill the global pool take this for writing; every other emulator holds it for
/// reading.
pub static POOL_LOCK: RwLock<()> = RwLock::new(());

pub const RAM_SIZE: usize = 0x4_0000;
/// The device region: GPA 0xF000_0000.., 64 KiB.
pub const DEV_BASE: u64 = 0xf000_0000;
pub const DEV_SIZE: usize = 0x1_0000;

/// `WHV_E_INVALID_VP_REGISTER_NAME`, what WHvGetVirtualProcessorRegisters says for a name it
/// does not know.
pub const WHV_E_INVALID_VP_REGISTER_NAME: HRESULT = 0x8037_0309_u32 as i32;

pub mod reg {
    pub const RAX: i32 = 0;
    pub const RCX: i32 = 1;
    pub const RDX: i32 = 2;
    pub const RBX: i32 = 3;
    pub const RSI: i32 = 6;
    pub const RDI: i32 = 7;
    pub const RIP: i32 = 0x10;
    pub const RFLAGS: i32 = 0x11;
    pub const ES: i32 = 0x12;
    pub const CS: i32 = 0x13;
    pub const SS: i32 = 0x14;
    pub const DS: i32 = 0x15;
    pub const CR0: i32 = 0x1c;
    pub const CR4: i32 = 0x1f;
    pub const XCR0: i32 = 0x27;
    pub const XMM0: i32 = 0x1000;
    pub const FP_MMX0: i32 = 0x1010;
    pub const FP_CONTROL_STATUS: i32 = 0x1018;
    pub const XMM_CONTROL_STATUS: i32 = 0x1019;
    pub const EFER: i32 = 0x2001;
}

/// Which callback.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cb {
    Io,
    Memory,
    Get,
    Set,
    Translate,
}

/// One logged callback call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Io {
        port: u16,
        size: u16,
        write: bool,
        data: u32,
    },
    Mem {
        gpa: u64,
        size: u8,
        write: bool,
        data: [u8; 8],
    },
    Get(Vec<i32>),
    Set(Vec<(i32, u64, u64)>),
    Translate {
        gva: u64,
        flags: i32,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Real,
    Prot32,
    Long64,
}

pub struct Vm {
    pub mode: Mode,
    pub regs: BTreeMap<i32, (u64, u64)>,
    pub ram: Vec<u8>,
    pub dev: Vec<u8>,
    pub port_in: u32,
    pub log: Vec<Call>,
    /// This callback returns `fail_code`.
    pub fail: Option<Cb>,
    pub fail_code: HRESULT,
    /// GVA page -> GPA page (identity when absent).
    pub pages: BTreeMap<u64, u64>,
    /// The result code the translate callback reports.
    pub translate_result: i32,
    /// GVA pages that are not present (translate reports PageNotPresent for them).
    pub absent: Vec<u64>,
    /// Added to every translated GPA (non-zero makes it misaligned).
    pub gpa_skew: u64,
    /// Every context pointer a callback received.
    pub contexts: Vec<usize>,
    /// A register buffer was not 16-byte aligned.
    pub misaligned_regs: bool,
    /// A read buffer was not zeroed on entry.
    pub dirty_read_buffer: bool,
    /// The interruption-pending bit of the exit.
    pub interruption_pending: bool,
    /// The port callback calls the API again with this handle (re-entry).
    pub reenter: WHV_EMULATOR_HANDLE,
    /// What the re-entrant calls returned.
    pub reenter_results: Vec<HRESULT>,
}

impl Vm {
    pub fn new(mode: Mode) -> Box<Vm> {
        let mut regs = BTreeMap::new();
        for n in 0..16 {
            regs.insert(n, (0, 0));
        }
        let (cs, cr0, efer, rip) = match mode {
            // 64-bit code: L=1, P, S, type 0xb.
            Mode::Long64 => (
                (0xa09b_u64 << 48 | 8 << 32 | 0xffff_ffff, 0),
                0x8001_0033,
                0x500,
                0x1000,
            ),
            // 32-bit flat code: D=1, G=1.
            Mode::Prot32 => (
                (0xc09b_u64 << 48 | 8 << 32 | 0xffff_ffff, 0),
                0x0000_0011,
                0,
                0x1000,
            ),
            // Real mode, CS=0x100 (base 0x1000).
            Mode::Real => (
                (0x009b_u64 << 48 | 0x100 << 32 | 0xffff, 0x1000),
                0x10,
                0,
                0x0,
            ),
        };
        // Segment values: lo = base, hi = limit | selector << 32 | attributes << 48.
        regs.insert(reg::CS, (cs.1, cs.0));
        let data_attr: u64 = match mode {
            Mode::Long64 => 0x0093,
            Mode::Prot32 => 0xc093,
            Mode::Real => 0x0093,
        };
        let data_limit: u64 = if mode == Mode::Real {
            0xffff
        } else {
            0xffff_ffff
        };
        for s in [reg::ES, reg::SS, reg::DS, 0x16, 0x17] {
            regs.insert(s, (0, data_limit | 0x10 << 32 | data_attr << 48));
        }
        regs.insert(reg::RIP, (rip, 0));
        regs.insert(reg::RFLAGS, (0x2, 0));
        regs.insert(reg::CR0, (cr0, 0));
        regs.insert(0x1d, (0, 0));
        regs.insert(0x1e, (0, 0));
        regs.insert(reg::CR4, (if mode == Mode::Long64 { 0x20 } else { 0 }, 0));
        regs.insert(reg::EFER, (efer, 0));
        Box::new(Vm {
            mode,
            regs,
            ram: vec![0; RAM_SIZE],
            dev: (0..DEV_SIZE)
                .map(|i| (i as u8).wrapping_mul(7).wrapping_add(1))
                .collect(),
            port_in: 0xa1b2_c3d4,
            log: Vec::new(),
            fail: None,
            fail_code: E_FAIL,
            pages: BTreeMap::new(),
            translate_result: WHvTranslateGvaResultSuccess,
            absent: Vec::new(),
            gpa_skew: 0,
            contexts: Vec::new(),
            misaligned_regs: false,
            dirty_read_buffer: false,
            interruption_pending: false,
            reenter: core::ptr::null_mut(),
            reenter_results: Vec::new(),
        })
    }

    pub fn reg(&self, n: i32) -> u64 {
        self.regs.get(&n).map_or(0, |v| v.0)
    }

    pub fn set_reg(&mut self, n: i32, v: u64) {
        self.regs.insert(n, (v, 0));
    }

    pub fn context(&mut self) -> *mut c_void {
        (self as *mut Vm).cast()
    }

    /// The exit's processor state, from the register file.
    pub fn vp(&self, instruction_length: u8) -> WHV_VP_EXIT_CONTEXT {
        let (base, hi) = self.regs[&reg::CS];
        let mut es = match self.mode {
            Mode::Real => 0,
            Mode::Prot32 => WHV_X64_VP_EXECUTION_STATE::CR0_PE,
            Mode::Long64 => {
                WHV_X64_VP_EXECUTION_STATE::CR0_PE | WHV_X64_VP_EXECUTION_STATE::EFER_LMA
            }
        };
        if self.interruption_pending {
            es |= WHV_X64_VP_EXECUTION_STATE::INTERRUPTION_PENDING;
        }
        WHV_VP_EXIT_CONTEXT {
            ExecutionState: WHV_X64_VP_EXECUTION_STATE { AsUINT16: es },
            InstructionLengthCr8: instruction_length & 0xf,
            Reserved: 0,
            Reserved2: 0,
            Cs: WHV_X64_SEGMENT_REGISTER {
                Base: base,
                Limit: hi as u32,
                Selector: (hi >> 32) as u16,
                Attributes: (hi >> 48) as u16,
            },
            Rip: self.reg(reg::RIP),
            Rflags: self.reg(reg::RFLAGS),
        }
    }

    fn seg(&self, n: i32) -> WHV_X64_SEGMENT_REGISTER {
        let (base, hi) = self.regs[&n];
        WHV_X64_SEGMENT_REGISTER {
            Base: base,
            Limit: hi as u32,
            Selector: (hi >> 32) as u16,
            Attributes: (hi >> 48) as u16,
        }
    }

    /// A memory-access exit context with these instruction bytes.
    pub fn mmio_ctx(&self, bytes: &[u8], gpa: u64, access_type: u32) -> WHV_MEMORY_ACCESS_CONTEXT {
        let mut c = WHV_MEMORY_ACCESS_CONTEXT {
            InstructionByteCount: bytes.len() as u8,
            AccessInfo: WHV_MEMORY_ACCESS_INFO {
                AsUINT32: access_type,
            },
            Gpa: gpa,
            ..Default::default()
        };
        c.InstructionBytes[..bytes.len()].copy_from_slice(bytes);
        c
    }

    /// A port exit context with these instruction bytes.
    pub fn io_ctx(
        &self,
        bytes: &[u8],
        port: u16,
        size: u32,
        write: bool,
    ) -> WHV_X64_IO_PORT_ACCESS_CONTEXT {
        let mut c = WHV_X64_IO_PORT_ACCESS_CONTEXT {
            InstructionByteCount: bytes.len() as u8,
            AccessInfo: WHV_X64_IO_PORT_ACCESS_INFO {
                AsUINT32: write as u32 | size << 1,
            },
            PortNumber: port,
            Rax: self.reg(reg::RAX),
            Rcx: self.reg(reg::RCX),
            Rsi: self.reg(reg::RSI),
            Rdi: self.reg(reg::RDI),
            Ds: self.seg(reg::DS),
            Es: self.seg(reg::ES),
            ..Default::default()
        };
        c.InstructionBytes[..bytes.len()].copy_from_slice(bytes);
        c
    }

    /// Puts instruction bytes in RAM at the linear address CS.base + RIP (identity mapped
    /// unless `pages` says otherwise).
    pub fn put_code(&mut self, bytes: &[u8]) {
        let linear = self.regs[&reg::CS].0 + self.reg(reg::RIP);
        for (i, b) in bytes.iter().enumerate() {
            let gpa = self.gpa_of(linear + i as u64);
            self.ram[gpa as usize] = *b;
        }
    }

    pub fn gpa_of(&self, gva: u64) -> u64 {
        let page = gva & !0xfff;
        self.pages.get(&page).copied().unwrap_or(page) | (gva & 0xfff)
    }

    pub fn gets(&self) -> Vec<&Vec<i32>> {
        self.log
            .iter()
            .filter_map(|c| if let Call::Get(n) = c { Some(n) } else { None })
            .collect()
    }

    pub fn sets(&self) -> Vec<&Vec<(i32, u64, u64)>> {
        self.log
            .iter()
            .filter_map(|c| if let Call::Set(n) = c { Some(n) } else { None })
            .collect()
    }

    pub fn set_names(&self) -> Vec<i32> {
        self.sets()
            .iter()
            .flat_map(|s| s.iter().map(|e| e.0))
            .collect()
    }

    pub fn mems(&self) -> Vec<(u64, u8, bool, [u8; 8])> {
        self.log
            .iter()
            .filter_map(|c| match c {
                Call::Mem {
                    gpa,
                    size,
                    write,
                    data,
                } => Some((*gpa, *size, *write, *data)),
                _ => None,
            })
            .collect()
    }

    pub fn ios(&self) -> Vec<(u16, u16, bool, u32)> {
        self.log
            .iter()
            .filter_map(|c| match c {
                Call::Io {
                    port,
                    size,
                    write,
                    data,
                } => Some((*port, *size, *write, *data)),
                _ => None,
            })
            .collect()
    }

    pub fn translates(&self) -> Vec<(u64, i32)> {
        self.log
            .iter()
            .filter_map(|c| match c {
                Call::Translate { gva, flags } => Some((*gva, *flags)),
                _ => None,
            })
            .collect()
    }

    fn fails(&self, cb: Cb) -> bool {
        self.fail == Some(cb)
    }
}

/// # Safety
/// `ctx` is the `Vm` the test passed as Context.
unsafe fn vm<'a>(ctx: *mut c_void) -> &'a mut Vm {
    // SAFETY: every test passes a live, exclusively borrowed `Vm` as Context.
    let vm = unsafe { &mut *ctx.cast::<Vm>() };
    vm.contexts.push(ctx as usize);
    vm
}

pub unsafe extern "system" fn io_cb(
    ctx: *mut c_void,
    io: *mut WHV_EMULATOR_IO_ACCESS_INFO,
) -> HRESULT {
    // SAFETY: see `vm`; `io` is the emulator's valid record.
    let (vm, io) = unsafe { (vm(ctx), &mut *io) };
    if io.Direction == 0 && io.Data != 0 {
        vm.dirty_read_buffer = true;
    }
    vm.log.push(Call::Io {
        port: io.Port,
        size: io.AccessSize,
        write: io.Direction == 1,
        data: io.Data,
    });
    if vm.fails(Cb::Io) {
        return vm.fail_code;
    }
    if !vm.reenter.is_null() {
        let handle = vm.reenter;
        let vp = vm.vp(1);
        let c = vm.io_ctx(&[0xee], io.Port, 1, true);
        let mut status = WHV_EMULATOR_STATUS::default();
        // SAFETY: valid pointers; the handle is in use by the outer call.
        let hr = unsafe { WHvEmulatorTryIoEmulation(handle, ctx, &vp, &c, &mut status) };
        vm.reenter_results.push(hr);
        // SAFETY: as above.
        let hr = unsafe { WHvEmulatorDestroyEmulator(handle) };
        vm.reenter_results.push(hr);
    }
    if io.Direction == 0 {
        // QEMU writes AccessSize bytes into &Data.
        let bytes = vm.port_in.to_le_bytes();
        let mut d = [0u8; 4];
        d[..io.AccessSize as usize].copy_from_slice(&bytes[..io.AccessSize as usize]);
        io.Data = u32::from_le_bytes(d);
    }
    S_OK
}

pub unsafe extern "system" fn mem_cb(
    ctx: *mut c_void,
    m: *mut WHV_EMULATOR_MEMORY_ACCESS_INFO,
) -> HRESULT {
    // SAFETY: see `vm`; `m` is the emulator's valid record.
    let (vm, m) = unsafe { (vm(ctx), &mut *m) };
    if m.Direction == 0 && m.Data != [0; 8] {
        vm.dirty_read_buffer = true;
    }
    vm.log.push(Call::Mem {
        gpa: m.GpaAddress,
        size: m.AccessSize,
        write: m.Direction == 1,
        data: m.Data,
    });
    if vm.fails(Cb::Memory) {
        return vm.fail_code;
    }
    assert!(
        (1..=8).contains(&m.AccessSize),
        "memory AccessSize {}",
        m.AccessSize
    );
    assert_eq!(
        m.GpaAddress >> 12,
        (m.GpaAddress + m.AccessSize as u64 - 1) >> 12,
        "an access crosses a page"
    );
    let n = m.AccessSize as usize;
    let (mem, off) = if (m.GpaAddress as usize) < RAM_SIZE {
        (&mut vm.ram, m.GpaAddress as usize)
    } else if m.GpaAddress >= DEV_BASE && m.GpaAddress < DEV_BASE + DEV_SIZE as u64 {
        (&mut vm.dev, (m.GpaAddress - DEV_BASE) as usize)
    } else {
        // Unbacked: reads as all ones, writes dropped (as a PC bus does).
        if m.Direction == 0 {
            m.Data[..n].fill(0xff);
        }
        return S_OK;
    };
    if m.Direction == 0 {
        m.Data[..n].copy_from_slice(&mem[off..off + n]);
    } else {
        mem[off..off + n].copy_from_slice(&m.Data[..n]);
    }
    S_OK
}

pub unsafe extern "system" fn get_cb(
    ctx: *mut c_void,
    names: *const WHV_REGISTER_NAME,
    count: u32,
    values: *mut WHV_REGISTER_VALUE,
) -> HRESULT {
    // SAFETY: see `vm`.
    let vm = unsafe { vm(ctx) };
    if !(values as usize).is_multiple_of(16) {
        vm.misaligned_regs = true;
    }
    // SAFETY: the emulator passes `count` names and room for `count` values.
    let (names, values) = unsafe {
        (
            std::slice::from_raw_parts(names, count as usize),
            std::slice::from_raw_parts_mut(values, count as usize),
        )
    };
    vm.log.push(Call::Get(names.to_vec()));
    if vm.fails(Cb::Get) {
        return vm.fail_code;
    }
    for (n, v) in names.iter().zip(values.iter_mut()) {
        let Some((lo, hi)) = vm.regs.get(n).copied() else {
            return WHV_E_INVALID_VP_REGISTER_NAME;
        };
        *v = WHV_REGISTER_VALUE::from_halves(lo, hi);
    }
    S_OK
}

pub unsafe extern "system" fn set_cb(
    ctx: *mut c_void,
    names: *const WHV_REGISTER_NAME,
    count: u32,
    values: *const WHV_REGISTER_VALUE,
) -> HRESULT {
    // SAFETY: see `vm`.
    let vm = unsafe { vm(ctx) };
    if !(values as usize).is_multiple_of(16) {
        vm.misaligned_regs = true;
    }
    // SAFETY: the emulator passes `count` names and values.
    let (names, values) = unsafe {
        (
            std::slice::from_raw_parts(names, count as usize),
            std::slice::from_raw_parts(values, count as usize),
        )
    };
    let entries: Vec<(i32, u64, u64)> = names
        .iter()
        .zip(values)
        .map(|(n, v)| {
            let (lo, hi) = v.halves();
            (*n, lo, hi)
        })
        .collect();
    vm.log.push(Call::Set(entries.clone()));
    if vm.fails(Cb::Set) {
        return vm.fail_code;
    }
    for (n, lo, hi) in entries {
        vm.regs.insert(n, (lo, hi));
    }
    S_OK
}

pub unsafe extern "system" fn translate_cb(
    ctx: *mut c_void,
    gva: WHV_GUEST_VIRTUAL_ADDRESS,
    flags: WHV_TRANSLATE_GVA_FLAGS,
    result: *mut WHV_TRANSLATE_GVA_RESULT_CODE,
    gpa: *mut WHV_GUEST_PHYSICAL_ADDRESS,
) -> HRESULT {
    // SAFETY: see `vm`.
    let vm = unsafe { vm(ctx) };
    vm.log.push(Call::Translate { gva, flags });
    if vm.fails(Cb::Translate) {
        return vm.fail_code;
    }
    // SAFETY: the emulator passes valid out-pointers.
    let code = if vm.absent.contains(&gva) {
        WHvTranslateGvaResultPageNotPresent
    } else {
        vm.translate_result
    };
    unsafe {
        *result = code;
        *gpa = vm.gpa_of(gva) + vm.gpa_skew;
    }
    S_OK
}

pub fn callbacks() -> WHV_EMULATOR_CALLBACKS {
    WHV_EMULATOR_CALLBACKS {
        Size: size_of::<WHV_EMULATOR_CALLBACKS>() as u32,
        Reserved: 0,
        WHvEmulatorIoPortCallback: Some(io_cb),
        WHvEmulatorMemoryCallback: Some(mem_cb),
        WHvEmulatorGetVirtualProcessorRegisters: Some(get_cb),
        WHvEmulatorSetVirtualProcessorRegisters: Some(set_cb),
        WHvEmulatorTranslateGvaPage: Some(translate_cb),
    }
}

/// An emulator handle, destroyed on drop.
pub struct Emu {
    pub handle: WHV_EMULATOR_HANDLE,
    _pool: RwLockReadGuard<'static, ()>,
}

impl Emu {
    pub fn new() -> Emu {
        let pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
        let cb = callbacks();
        let mut handle = core::ptr::null_mut();
        // SAFETY: valid pointers.
        let hr = unsafe { WHvEmulatorCreateEmulator(&cb, &mut handle) };
        assert_eq!(hr, S_OK);
        assert!(!handle.is_null());
        Emu {
            handle,
            _pool: pool,
        }
    }

    /// Runs a memory-access exit; returns the HRESULT and the status bits.
    pub fn mmio(
        &self,
        vm: &mut Vm,
        vp: &WHV_VP_EXIT_CONTEXT,
        c: &WHV_MEMORY_ACCESS_CONTEXT,
    ) -> (HRESULT, u32) {
        let mut status = WHV_EMULATOR_STATUS {
            AsUINT32: 0xdead_0000,
        };
        // SAFETY: valid pointers; `vm` outlives the call.
        let hr =
            unsafe { WHvEmulatorTryMmioEmulation(self.handle, vm.context(), vp, c, &mut status) };
        (hr, status.AsUINT32)
    }

    /// Runs a port exit; returns the HRESULT and the status bits.
    pub fn io(
        &self,
        vm: &mut Vm,
        vp: &WHV_VP_EXIT_CONTEXT,
        c: &WHV_X64_IO_PORT_ACCESS_CONTEXT,
    ) -> (HRESULT, u32) {
        let mut status = WHV_EMULATOR_STATUS {
            AsUINT32: 0xdead_0000,
        };
        // SAFETY: as above.
        let hr =
            unsafe { WHvEmulatorTryIoEmulation(self.handle, vm.context(), vp, c, &mut status) };
        (hr, status.AsUINT32)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        // SAFETY: our own handle.
        let hr = unsafe { WHvEmulatorDestroyEmulator(self.handle) };
        assert_eq!(hr, S_OK);
    }
}
