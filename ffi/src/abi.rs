//! The WinHvEmulation ABI types, byte for byte as `WinHvEmulation.h` and mingw-w64's
//! `winhvemulation.h` / `winhvplatformdefs.h` lay them out (x86-64, LLP64).
//!
//! Names follow the C headers so a reader can compare them line by line. Unions whose members are
//! all bit fields of one integer are written as a struct holding that integer (`AsUINT16`,
//! `AsUINT32`) with a constant per bit field; every layout is pinned by the compile-time
//! assertions at the end of this file and tested against `windows-sys`.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use core::ffi::c_void;
use core::mem::{align_of, offset_of, size_of};

/// A COM status code (`LONG`).
pub type HRESULT = i32;

/// Success.
pub const S_OK: HRESULT = 0;
/// Not implemented.
pub const E_NOTIMPL: HRESULT = 0x8000_4001_u32 as i32;
/// Invalid pointer.
pub const E_POINTER: HRESULT = 0x8000_4003_u32 as i32;
/// Unspecified failure.
pub const E_FAIL: HRESULT = 0x8000_4005_u32 as i32;
/// Catastrophic failure.
pub const E_UNEXPECTED: HRESULT = 0x8000_FFFF_u32 as i32;
/// Out of memory: no emulator instance can be allocated.
pub const E_OUTOFMEMORY: HRESULT = 0x8007_000E_u32 as i32;
/// One or more arguments are invalid.
pub const E_INVALIDARG: HRESULT = 0x8007_0057_u32 as i32;

/// An emulator instance, opaque to the caller.
pub type WHV_EMULATOR_HANDLE = *mut c_void;
/// A guest-physical address.
pub type WHV_GUEST_PHYSICAL_ADDRESS = u64;
/// A guest-virtual address.
pub type WHV_GUEST_VIRTUAL_ADDRESS = u64;
/// A register name (a C enum; `WHvX64RegisterRax` = 0 ... see `WinHvEmulation.h`).
pub type WHV_REGISTER_NAME = i32;
/// `WHV_TRANSLATE_GVA_FLAGS` (a C enum of bit flags).
pub type WHV_TRANSLATE_GVA_FLAGS = i32;
/// `WHV_TRANSLATE_GVA_RESULT_CODE` (a C enum).
pub type WHV_TRANSLATE_GVA_RESULT_CODE = i32;

/// `WHvTranslateGvaFlagNone`.
pub const WHvTranslateGvaFlagNone: WHV_TRANSLATE_GVA_FLAGS = 0x0;
/// `WHvTranslateGvaFlagValidateRead`.
pub const WHvTranslateGvaFlagValidateRead: WHV_TRANSLATE_GVA_FLAGS = 0x1;
/// `WHvTranslateGvaFlagValidateWrite`.
pub const WHvTranslateGvaFlagValidateWrite: WHV_TRANSLATE_GVA_FLAGS = 0x2;
/// `WHvTranslateGvaFlagValidateExecute`.
pub const WHvTranslateGvaFlagValidateExecute: WHV_TRANSLATE_GVA_FLAGS = 0x4;
/// `WHvTranslateGvaFlagPrivilegeExempt`.
pub const WHvTranslateGvaFlagPrivilegeExempt: WHV_TRANSLATE_GVA_FLAGS = 0x8;
/// `WHvTranslateGvaFlagSetPageTableBits`.
pub const WHvTranslateGvaFlagSetPageTableBits: WHV_TRANSLATE_GVA_FLAGS = 0x10;
/// `WHvTranslateGvaFlagEnforceSmap`.
pub const WHvTranslateGvaFlagEnforceSmap: WHV_TRANSLATE_GVA_FLAGS = 0x100;
/// `WHvTranslateGvaFlagOverrideSmap`.
pub const WHvTranslateGvaFlagOverrideSmap: WHV_TRANSLATE_GVA_FLAGS = 0x200;

/// `WHvTranslateGvaResultSuccess`.
pub const WHvTranslateGvaResultSuccess: WHV_TRANSLATE_GVA_RESULT_CODE = 0;
/// `WHvTranslateGvaResultPageNotPresent`.
pub const WHvTranslateGvaResultPageNotPresent: WHV_TRANSLATE_GVA_RESULT_CODE = 1;
/// `WHvTranslateGvaResultPrivilegeViolation`.
pub const WHvTranslateGvaResultPrivilegeViolation: WHV_TRANSLATE_GVA_RESULT_CODE = 2;
/// `WHvTranslateGvaResultInvalidPageTableFlags`.
pub const WHvTranslateGvaResultInvalidPageTableFlags: WHV_TRANSLATE_GVA_RESULT_CODE = 3;
/// `WHvTranslateGvaResultGpaUnmapped`.
pub const WHvTranslateGvaResultGpaUnmapped: WHV_TRANSLATE_GVA_RESULT_CODE = 4;
/// `WHvTranslateGvaResultGpaNoReadAccess`.
pub const WHvTranslateGvaResultGpaNoReadAccess: WHV_TRANSLATE_GVA_RESULT_CODE = 5;
/// `WHvTranslateGvaResultGpaNoWriteAccess`.
pub const WHvTranslateGvaResultGpaNoWriteAccess: WHV_TRANSLATE_GVA_RESULT_CODE = 6;
/// `WHvTranslateGvaResultGpaIllegalOverlayAccess`.
pub const WHvTranslateGvaResultGpaIllegalOverlayAccess: WHV_TRANSLATE_GVA_RESULT_CODE = 7;
/// `WHvTranslateGvaResultIntercept`.
pub const WHvTranslateGvaResultIntercept: WHV_TRANSLATE_GVA_RESULT_CODE = 8;

/// `WHV_UINT128`: 16 bytes, aligned to 16 (`DECLSPEC_ALIGN(16)`).
#[repr(C, align(16))]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_UINT128 {
    /// Bytes 0..8.
    pub Low64: u64,
    /// Bytes 8..16.
    pub High64: u64,
}

/// `WHV_X64_SEGMENT_REGISTER`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_SEGMENT_REGISTER {
    /// Base address.
    pub Base: u64,
    /// Limit.
    pub Limit: u32,
    /// Selector.
    pub Selector: u16,
    /// SegmentType 0x000F, NonSystemSegment 0x0010, DescriptorPrivilegeLevel 0x0060,
    /// Present 0x0080, Reserved 0x0F00, Available 0x1000, Long 0x2000, Default 0x4000,
    /// Granularity 0x8000.
    pub Attributes: u16,
}

/// `WHV_X64_TABLE_REGISTER` (GDTR, IDTR).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_TABLE_REGISTER {
    /// Padding.
    pub Pad: [u16; 3],
    /// Limit.
    pub Limit: u16,
    /// Base address.
    pub Base: u64,
}

/// `WHV_X64_FP_REGISTER`: an x87 register (`Mantissa`, then `BiasedExponent:15`, `Sign:1`).
#[repr(C, align(16))]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_FP_REGISTER {
    /// The 64-bit significand.
    pub Mantissa: u64,
    /// BiasedExponent bits 0-14, Sign bit 15.
    pub High64: u64,
}

/// `WHV_X64_FP_CONTROL_STATUS_REGISTER`.
#[repr(C, align(16))]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_FP_CONTROL_STATUS_REGISTER {
    /// FCW.
    pub FpControl: u16,
    /// FSW.
    pub FpStatus: u16,
    /// Abridged FTW.
    pub FpTag: u8,
    /// Reserved.
    pub Reserved: u8,
    /// FOP.
    pub LastFpOp: u16,
    /// FIP (or `LastFpEip` in bits 0-31 and `LastFpCs` in bits 32-47).
    pub LastFpRip: u64,
}

/// `WHV_X64_XMM_CONTROL_STATUS_REGISTER`.
#[repr(C, align(16))]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_XMM_CONTROL_STATUS_REGISTER {
    /// FDP (or `LastFpDp` in bits 0-31 and `LastFpDs` in bits 32-47).
    pub LastFpRdp: u64,
    /// MXCSR.
    pub XmmStatusControl: u32,
    /// MXCSR_MASK.
    pub XmmStatusControlMask: u32,
}

/// `WHV_REGISTER_VALUE`: 16 bytes, aligned to 16. Every member starts at offset 0; the bit-field
/// registers (interrupt state, pending interruption, ...) are read through `Reg64`/`Reg128`.
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub union WHV_REGISTER_VALUE {
    /// 128-bit registers (XMM).
    pub Reg128: WHV_UINT128,
    /// 64-bit registers.
    pub Reg64: u64,
    /// 32-bit registers.
    pub Reg32: u32,
    /// 16-bit registers.
    pub Reg16: u16,
    /// 8-bit registers.
    pub Reg8: u8,
    /// x87 registers.
    pub Fp: WHV_X64_FP_REGISTER,
    /// x87 control and status.
    pub FpControlStatus: WHV_X64_FP_CONTROL_STATUS_REGISTER,
    /// SSE control and status.
    pub XmmControlStatus: WHV_X64_XMM_CONTROL_STATUS_REGISTER,
    /// Segment registers.
    pub Segment: WHV_X64_SEGMENT_REGISTER,
    /// Descriptor-table registers.
    pub Table: WHV_X64_TABLE_REGISTER,
}

impl WHV_REGISTER_VALUE {
    /// All zero.
    pub const ZERO: WHV_REGISTER_VALUE = WHV_REGISTER_VALUE {
        Reg128: WHV_UINT128 {
            Low64: 0,
            High64: 0,
        },
    };

    /// A value from its two 64-bit halves.
    pub const fn from_halves(low: u64, high: u64) -> WHV_REGISTER_VALUE {
        WHV_REGISTER_VALUE {
            Reg128: WHV_UINT128 {
                Low64: low,
                High64: high,
            },
        }
    }

    /// The two 64-bit halves.
    pub const fn halves(&self) -> (u64, u64) {
        // SAFETY: every member is plain data at offset 0 and every bit pattern is valid for
        // WHV_UINT128. All 16 bytes are initialised: values built in Rust start from
        // `from_halves` or `ZERO`, and buffers handed to C are zeroed before the call.
        let v = unsafe { self.Reg128 };
        (v.Low64, v.High64)
    }
}

impl Default for WHV_REGISTER_VALUE {
    fn default() -> Self {
        Self::ZERO
    }
}

impl core::fmt::Debug for WHV_REGISTER_VALUE {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (lo, hi) = self.halves();
        write!(f, "WHV_REGISTER_VALUE({hi:#018x}_{lo:016x})")
    }
}

/// `WHV_X64_VP_EXECUTION_STATE`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_VP_EXECUTION_STATE {
    /// The bit fields.
    pub AsUINT16: u16,
}

impl WHV_X64_VP_EXECUTION_STATE {
    /// `Cpl:2` (bits 0-1).
    pub const CPL: u16 = 0x0003;
    /// `Cr0Pe:1` (bit 2).
    pub const CR0_PE: u16 = 0x0004;
    /// `Cr0Am:1` (bit 3).
    pub const CR0_AM: u16 = 0x0008;
    /// `EferLma:1` (bit 4).
    pub const EFER_LMA: u16 = 0x0010;
    /// `DebugActive:1` (bit 5).
    pub const DEBUG_ACTIVE: u16 = 0x0020;
    /// `InterruptionPending:1` (bit 6).
    pub const INTERRUPTION_PENDING: u16 = 0x0040;
    /// `InterruptShadow:1` (bit 12).
    pub const INTERRUPT_SHADOW: u16 = 0x1000;
}

/// `WHV_VP_EXIT_CONTEXT`: the processor state of every exit.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_VP_EXIT_CONTEXT {
    /// Execution state bits.
    pub ExecutionState: WHV_X64_VP_EXECUTION_STATE,
    /// `InstructionLength:4` (bits 0-3) and `Cr8:4` (bits 4-7).
    pub InstructionLengthCr8: u8,
    /// Reserved.
    pub Reserved: u8,
    /// Reserved.
    pub Reserved2: u32,
    /// CS.
    pub Cs: WHV_X64_SEGMENT_REGISTER,
    /// RIP.
    pub Rip: u64,
    /// RFLAGS.
    pub Rflags: u64,
}

impl WHV_VP_EXIT_CONTEXT {
    /// The `InstructionLength:4` bit field.
    pub const fn instruction_length(&self) -> u8 {
        self.InstructionLengthCr8 & 0x0f
    }
    /// The `Cr8:4` bit field.
    pub const fn cr8(&self) -> u8 {
        self.InstructionLengthCr8 >> 4
    }
}

/// `WHV_MEMORY_ACCESS_INFO`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_MEMORY_ACCESS_INFO {
    /// The bit fields.
    pub AsUINT32: u32,
}

impl WHV_MEMORY_ACCESS_INFO {
    /// `AccessType:2` (bits 0-1): `WHvMemoryAccessRead` 0, `Write` 1, `Execute` 2.
    pub const ACCESS_TYPE: u32 = 0x3;
    /// `GpaUnmapped:1` (bit 2).
    pub const GPA_UNMAPPED: u32 = 0x4;
    /// `GvaValid:1` (bit 3).
    pub const GVA_VALID: u32 = 0x8;
}

/// `WHV_MEMORY_ACCESS_CONTEXT`: the exit context of a memory access.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_MEMORY_ACCESS_CONTEXT {
    /// How many of `InstructionBytes` are valid (0..=16).
    pub InstructionByteCount: u8,
    /// Reserved.
    pub Reserved: [u8; 3],
    /// The first bytes of the instruction.
    pub InstructionBytes: [u8; 16],
    /// Access type and flags.
    pub AccessInfo: WHV_MEMORY_ACCESS_INFO,
    /// The guest-physical address accessed.
    pub Gpa: WHV_GUEST_PHYSICAL_ADDRESS,
    /// The guest-virtual address accessed (when `GvaValid`).
    pub Gva: WHV_GUEST_VIRTUAL_ADDRESS,
}

/// `WHV_X64_IO_PORT_ACCESS_INFO`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_IO_PORT_ACCESS_INFO {
    /// The bit fields.
    pub AsUINT32: u32,
}

impl WHV_X64_IO_PORT_ACCESS_INFO {
    /// `IsWrite:1` (bit 0).
    pub const IS_WRITE: u32 = 0x01;
    /// `AccessSize:3` (bits 1-3): 1, 2 or 4.
    pub const ACCESS_SIZE: u32 = 0x0e;
    /// `StringOp:1` (bit 4).
    pub const STRING_OP: u32 = 0x10;
    /// `RepPrefix:1` (bit 5).
    pub const REP_PREFIX: u32 = 0x20;

    /// The `AccessSize` bit field.
    pub const fn access_size(&self) -> u32 {
        (self.AsUINT32 & Self::ACCESS_SIZE) >> 1
    }
}

/// `WHV_X64_IO_PORT_ACCESS_CONTEXT`: the exit context of a port access.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_X64_IO_PORT_ACCESS_CONTEXT {
    /// How many of `InstructionBytes` are valid (0..=16).
    pub InstructionByteCount: u8,
    /// Reserved.
    pub Reserved: [u8; 3],
    /// The first bytes of the instruction.
    pub InstructionBytes: [u8; 16],
    /// Direction, size and kind.
    pub AccessInfo: WHV_X64_IO_PORT_ACCESS_INFO,
    /// The port.
    pub PortNumber: u16,
    /// Reserved.
    pub Reserved2: [u16; 3],
    /// RAX.
    pub Rax: u64,
    /// RCX.
    pub Rcx: u64,
    /// RSI.
    pub Rsi: u64,
    /// RDI.
    pub Rdi: u64,
    /// DS.
    pub Ds: WHV_X64_SEGMENT_REGISTER,
    /// ES.
    pub Es: WHV_X64_SEGMENT_REGISTER,
}

/// `WHV_EMULATOR_STATUS`: the extended status of an emulation call.
#[repr(C)]
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash)]
pub struct WHV_EMULATOR_STATUS {
    /// The bit fields.
    pub AsUINT32: u32,
}

impl WHV_EMULATOR_STATUS {
    /// `EmulationSuccessful` (bit 0): the instruction was emulated and the registers set.
    pub const EMULATION_SUCCESSFUL: u32 = 1 << 0;
    /// `InternalEmulationFailure` (bit 1): the emulator could not emulate the instruction.
    pub const INTERNAL_EMULATION_FAILURE: u32 = 1 << 1;
    /// `IoPortCallbackFailed` (bit 2).
    pub const IO_PORT_CALLBACK_FAILED: u32 = 1 << 2;
    /// `MemoryCallbackFailed` (bit 3).
    pub const MEMORY_CALLBACK_FAILED: u32 = 1 << 3;
    /// `TranslateGvaPageCallbackFailed` (bit 4).
    pub const TRANSLATE_GVA_PAGE_CALLBACK_FAILED: u32 = 1 << 4;
    /// `TranslateGvaPageCallbackGpaIsNotAligned` (bit 5).
    pub const TRANSLATE_GVA_PAGE_CALLBACK_GPA_IS_NOT_ALIGNED: u32 = 1 << 5;
    /// `GetVirtualProcessorRegistersCallbackFailed` (bit 6).
    pub const GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED: u32 = 1 << 6;
    /// `SetVirtualProcessorRegistersCallbackFailed` (bit 7).
    pub const SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED: u32 = 1 << 7;
    /// `InterruptCausedIntercept` (bit 8): a pending interruption caused the exit.
    pub const INTERRUPT_CAUSED_INTERCEPT: u32 = 1 << 8;
    /// `GuestCannotBeFaulted` (bit 9).
    pub const GUEST_CANNOT_BE_FAULTED: u32 = 1 << 9;

    /// True when `EmulationSuccessful` is set.
    pub const fn successful(&self) -> bool {
        self.AsUINT32 & Self::EMULATION_SUCCESSFUL != 0
    }
}

impl core::fmt::Debug for WHV_EMULATOR_STATUS {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "WHV_EMULATOR_STATUS({:#x})", self.AsUINT32)
    }
}

/// `WHV_EMULATOR_MEMORY_ACCESS_INFO`: one guest-physical access of 1..=8 bytes in one page.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_EMULATOR_MEMORY_ACCESS_INFO {
    /// The guest-physical address.
    pub GpaAddress: WHV_GUEST_PHYSICAL_ADDRESS,
    /// 0 read, 1 write.
    pub Direction: u8,
    /// 1..=8.
    pub AccessSize: u8,
    /// The bytes in memory order (zeroed before a read).
    pub Data: [u8; 8],
}

/// `WHV_EMULATOR_IO_ACCESS_INFO`: one port access of 1, 2 or 4 bytes.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WHV_EMULATOR_IO_ACCESS_INFO {
    /// 0 in, 1 out.
    pub Direction: u8,
    /// The port.
    pub Port: u16,
    /// 1, 2 or 4.
    pub AccessSize: u16,
    /// The value in the low `AccessSize` bytes (zeroed before an IN).
    pub Data: u32,
}

/// `WHV_EMULATOR_IO_PORT_CALLBACK`.
pub type WHV_EMULATOR_IO_PORT_CALLBACK = Option<
    unsafe extern "system" fn(
        Context: *mut c_void,
        IoAccess: *mut WHV_EMULATOR_IO_ACCESS_INFO,
    ) -> HRESULT,
>;
/// `WHV_EMULATOR_MEMORY_CALLBACK`.
pub type WHV_EMULATOR_MEMORY_CALLBACK = Option<
    unsafe extern "system" fn(
        Context: *mut c_void,
        MemoryAccess: *mut WHV_EMULATOR_MEMORY_ACCESS_INFO,
    ) -> HRESULT,
>;
/// `WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK`.
pub type WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK = Option<
    unsafe extern "system" fn(
        Context: *mut c_void,
        RegisterNames: *const WHV_REGISTER_NAME,
        RegisterCount: u32,
        RegisterValues: *mut WHV_REGISTER_VALUE,
    ) -> HRESULT,
>;
/// `WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK`.
pub type WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK = Option<
    unsafe extern "system" fn(
        Context: *mut c_void,
        RegisterNames: *const WHV_REGISTER_NAME,
        RegisterCount: u32,
        RegisterValues: *const WHV_REGISTER_VALUE,
    ) -> HRESULT,
>;
/// `WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK`.
pub type WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK = Option<
    unsafe extern "system" fn(
        Context: *mut c_void,
        Gva: WHV_GUEST_VIRTUAL_ADDRESS,
        TranslateFlags: WHV_TRANSLATE_GVA_FLAGS,
        TranslationResult: *mut WHV_TRANSLATE_GVA_RESULT_CODE,
        Gpa: *mut WHV_GUEST_PHYSICAL_ADDRESS,
    ) -> HRESULT,
>;

/// `WHV_EMULATOR_CALLBACKS`: what `WHvEmulatorCreateEmulator` needs. `Size` must be at least
/// `size_of::<WHV_EMULATOR_CALLBACKS>()` (48) and every callback must be set.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct WHV_EMULATOR_CALLBACKS {
    /// `sizeof(WHV_EMULATOR_CALLBACKS)`.
    pub Size: u32,
    /// Reserved (ignored).
    pub Reserved: u32,
    /// Port I/O.
    pub WHvEmulatorIoPortCallback: WHV_EMULATOR_IO_PORT_CALLBACK,
    /// Guest-physical memory.
    pub WHvEmulatorMemoryCallback: WHV_EMULATOR_MEMORY_CALLBACK,
    /// Register reads.
    pub WHvEmulatorGetVirtualProcessorRegisters:
        WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK,
    /// Register writes.
    pub WHvEmulatorSetVirtualProcessorRegisters:
        WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK,
    /// Page translation.
    pub WHvEmulatorTranslateGvaPage: WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK,
}

// ----- compile-time layout checks (x86-64 / LLP64 and LP64 agree on every type here) -----

macro_rules! layout {
    ($t:ty, size $s:expr, align $a:expr $(, $f:ident @ $o:expr)* $(,)?) => {
        const _: () = assert!(size_of::<$t>() == $s);
        const _: () = assert!(align_of::<$t>() == $a);
        $(const _: () = assert!(offset_of!($t, $f) == $o);)*
    };
}

#[cfg(target_pointer_width = "64")]
layout!(WHV_EMULATOR_CALLBACKS, size 48, align 8,
    Size @ 0, Reserved @ 4, WHvEmulatorIoPortCallback @ 8, WHvEmulatorMemoryCallback @ 16,
    WHvEmulatorGetVirtualProcessorRegisters @ 24, WHvEmulatorSetVirtualProcessorRegisters @ 32,
    WHvEmulatorTranslateGvaPage @ 40);
layout!(WHV_EMULATOR_STATUS, size 4, align 4, AsUINT32 @ 0);
layout!(WHV_EMULATOR_MEMORY_ACCESS_INFO, size 24, align 8,
    GpaAddress @ 0, Direction @ 8, AccessSize @ 9, Data @ 10);
layout!(WHV_EMULATOR_IO_ACCESS_INFO, size 12, align 4,
    Direction @ 0, Port @ 2, AccessSize @ 4, Data @ 8);
layout!(WHV_X64_VP_EXECUTION_STATE, size 2, align 2, AsUINT16 @ 0);
layout!(WHV_VP_EXIT_CONTEXT, size 40, align 8,
    ExecutionState @ 0, InstructionLengthCr8 @ 2, Reserved @ 3, Reserved2 @ 4, Cs @ 8,
    Rip @ 24, Rflags @ 32);
layout!(WHV_MEMORY_ACCESS_INFO, size 4, align 4, AsUINT32 @ 0);
layout!(WHV_MEMORY_ACCESS_CONTEXT, size 40, align 8,
    InstructionByteCount @ 0, Reserved @ 1, InstructionBytes @ 4, AccessInfo @ 20, Gpa @ 24,
    Gva @ 32);
layout!(WHV_X64_IO_PORT_ACCESS_INFO, size 4, align 4, AsUINT32 @ 0);
layout!(WHV_X64_IO_PORT_ACCESS_CONTEXT, size 96, align 8,
    InstructionByteCount @ 0, Reserved @ 1, InstructionBytes @ 4, AccessInfo @ 20,
    PortNumber @ 24, Reserved2 @ 26, Rax @ 32, Rcx @ 40, Rsi @ 48, Rdi @ 56, Ds @ 64, Es @ 80);
layout!(WHV_X64_SEGMENT_REGISTER, size 16, align 8,
    Base @ 0, Limit @ 8, Selector @ 12, Attributes @ 14);
layout!(WHV_X64_TABLE_REGISTER, size 16, align 8, Pad @ 0, Limit @ 6, Base @ 8);
layout!(WHV_UINT128, size 16, align 16, Low64 @ 0, High64 @ 8);
layout!(WHV_X64_FP_REGISTER, size 16, align 16, Mantissa @ 0, High64 @ 8);
layout!(WHV_X64_FP_CONTROL_STATUS_REGISTER, size 16, align 16,
    FpControl @ 0, FpStatus @ 2, FpTag @ 4, Reserved @ 5, LastFpOp @ 6, LastFpRip @ 8);
layout!(WHV_X64_XMM_CONTROL_STATUS_REGISTER, size 16, align 16,
    LastFpRdp @ 0, XmmStatusControl @ 8, XmmStatusControlMask @ 12);
layout!(WHV_REGISTER_VALUE, size 16, align 16,
    Reg128 @ 0, Reg64 @ 0, Reg32 @ 0, Reg16 @ 0, Reg8 @ 0, Fp @ 0, FpControlStatus @ 0,
    XmmControlStatus @ 0, Segment @ 0, Table @ 0);
const _: () = assert!(size_of::<HRESULT>() == 4);
const _: () = assert!(size_of::<WHV_REGISTER_NAME>() == 4);
const _: () = assert!(size_of::<WHV_TRANSLATE_GVA_FLAGS>() == 4);
const _: () = assert!(size_of::<WHV_TRANSLATE_GVA_RESULT_CODE>() == 4);
const _: () = assert!(size_of::<WHV_EMULATOR_HANDLE>() == size_of::<usize>());
const _: () = assert!(size_of::<WHV_EMULATOR_IO_PORT_CALLBACK>() == size_of::<usize>());
