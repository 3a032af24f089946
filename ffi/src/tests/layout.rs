//! Our ABI types against `windows-sys` (sizes and field offsets; not alignment, which
//! windows-sys gives as 8 where the C headers say 16), and our constants against its constants.

use core::mem::{align_of, offset_of, size_of};
use windows_sys::Win32::System::Hypervisor as w;

use crate::abi::*;

macro_rules! same_layout {
    ($ours:ident $(, $f:ident => $g:ident)* $(,)?) => {{
        assert_eq!(size_of::<$ours>(), size_of::<w::$ours>(), stringify!($ours));
        $(assert_eq!(
            offset_of!($ours, $f),
            offset_of!(w::$ours, $g),
            concat!(stringify!($ours), ".", stringify!($f))
        );)*
    }};
}

#[test]
fn structs_match_windows_sys() {
    same_layout!(WHV_EMULATOR_CALLBACKS,
        Size => Size, Reserved => Reserved,
        WHvEmulatorIoPortCallback => WHvEmulatorIoPortCallback,
        WHvEmulatorMemoryCallback => WHvEmulatorMemoryCallback,
        WHvEmulatorGetVirtualProcessorRegisters => WHvEmulatorGetVirtualProcessorRegisters,
        WHvEmulatorSetVirtualProcessorRegisters => WHvEmulatorSetVirtualProcessorRegisters,
        WHvEmulatorTranslateGvaPage => WHvEmulatorTranslateGvaPage);
    same_layout!(WHV_EMULATOR_STATUS, AsUINT32 => AsUINT32);
    same_layout!(WHV_EMULATOR_MEMORY_ACCESS_INFO,
        GpaAddress => GpaAddress, Direction => Direction, AccessSize => AccessSize, Data => Data);
    same_layout!(WHV_EMULATOR_IO_ACCESS_INFO,
        Direction => Direction, Port => Port, AccessSize => AccessSize, Data => Data);
    same_layout!(WHV_X64_VP_EXECUTION_STATE, AsUINT16 => AsUINT16);
    same_layout!(WHV_VP_EXIT_CONTEXT,
        ExecutionState => ExecutionState, InstructionLengthCr8 => _bitfield,
        Reserved => Reserved, Reserved2 => Reserved2, Cs => Cs, Rip => Rip, Rflags => Rflags);
    same_layout!(WHV_MEMORY_ACCESS_INFO, AsUINT32 => AsUINT32);
    same_layout!(WHV_MEMORY_ACCESS_CONTEXT,
        InstructionByteCount => InstructionByteCount, Reserved => Reserved,
        InstructionBytes => InstructionBytes, AccessInfo => AccessInfo, Gpa => Gpa, Gva => Gva);
    same_layout!(WHV_X64_IO_PORT_ACCESS_INFO, AsUINT32 => AsUINT32);
    same_layout!(WHV_X64_IO_PORT_ACCESS_CONTEXT,
        InstructionByteCount => InstructionByteCount, Reserved => Reserved,
        InstructionBytes => InstructionBytes, AccessInfo => AccessInfo,
        PortNumber => PortNumber, Reserved2 => Reserved2, Rax => Rax, Rcx => Rcx, Rsi => Rsi,
        Rdi => Rdi, Ds => Ds, Es => Es);
    same_layout!(WHV_X64_SEGMENT_REGISTER,
        Base => Base, Limit => Limit, Selector => Selector, Attributes => Anonymous);
    same_layout!(WHV_X64_TABLE_REGISTER, Pad => Pad, Limit => Limit, Base => Base);
    same_layout!(WHV_REGISTER_VALUE,
        Reg128 => Reg128, Reg64 => Reg64, Reg32 => Reg32, Reg16 => Reg16, Reg8 => Reg8,
        Fp => Fp, FpControlStatus => FpControlStatus, XmmControlStatus => XmmControlStatus,
        Segment => Segment, Table => Table);
    same_layout!(WHV_UINT128);
    same_layout!(WHV_X64_FP_REGISTER);
    same_layout!(WHV_X64_FP_CONTROL_STATUS_REGISTER);
    same_layout!(WHV_X64_XMM_CONTROL_STATUS_REGISTER);
}

#[test]
fn inner_fields_match_windows_sys() {
    // The fields windows-sys nests in anonymous unions and structs.
    assert_eq!(
        offset_of!(WHV_UINT128, Low64),
        offset_of!(w::WHV_UINT128_0, Low64)
    );
    assert_eq!(
        offset_of!(WHV_UINT128, High64),
        offset_of!(w::WHV_UINT128_0, High64)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_REGISTER, Mantissa),
        offset_of!(w::WHV_X64_FP_REGISTER_0, Mantissa)
    );
    type Fcs = w::WHV_X64_FP_CONTROL_STATUS_REGISTER_0;
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpControl),
        offset_of!(Fcs, FpControl)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpStatus),
        offset_of!(Fcs, FpStatus)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpTag),
        offset_of!(Fcs, FpTag)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, Reserved),
        offset_of!(Fcs, Reserved)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpOp),
        offset_of!(Fcs, LastFpOp)
    );
    assert_eq!(
        offset_of!(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpRip),
        offset_of!(Fcs, Anonymous)
    );
    type Xcs = w::WHV_X64_XMM_CONTROL_STATUS_REGISTER_0;
    assert_eq!(
        offset_of!(WHV_X64_XMM_CONTROL_STATUS_REGISTER, LastFpRdp),
        offset_of!(Xcs, Anonymous)
    );
    assert_eq!(
        offset_of!(WHV_X64_XMM_CONTROL_STATUS_REGISTER, XmmStatusControl),
        offset_of!(Xcs, XmmStatusControl)
    );
    assert_eq!(
        offset_of!(WHV_X64_XMM_CONTROL_STATUS_REGISTER, XmmStatusControlMask),
        offset_of!(Xcs, XmmStatusControlMask)
    );
}

#[test]
fn alignment_is_the_c_headers() {
    // C: DECLSPEC_ALIGN(16); windows-sys says 8, which is why buffers are ours.
    assert_eq!(align_of::<WHV_UINT128>(), 16);
    assert_eq!(align_of::<WHV_REGISTER_VALUE>(), 16);
    assert_eq!(align_of::<WHV_X64_FP_REGISTER>(), 16);
    assert_eq!(align_of::<WHV_X64_FP_CONTROL_STATUS_REGISTER>(), 16);
    assert_eq!(align_of::<WHV_X64_XMM_CONTROL_STATUS_REGISTER>(), 16);
    assert_eq!(align_of::<w::WHV_REGISTER_VALUE>(), 8);
    // Same stride either way.
    assert_eq!(
        size_of::<[WHV_REGISTER_VALUE; 3]>(),
        size_of::<[w::WHV_REGISTER_VALUE; 3]>()
    );
}

#[test]
fn scalar_types_match_windows_sys() {
    assert_eq!(
        size_of::<HRESULT>(),
        size_of::<windows_sys::core::HRESULT>()
    );
    assert_eq!(
        size_of::<WHV_REGISTER_NAME>(),
        size_of::<w::WHV_REGISTER_NAME>()
    );
    assert_eq!(
        size_of::<WHV_TRANSLATE_GVA_FLAGS>(),
        size_of::<w::WHV_TRANSLATE_GVA_FLAGS>()
    );
    assert_eq!(
        size_of::<WHV_TRANSLATE_GVA_RESULT_CODE>(),
        size_of::<w::WHV_TRANSLATE_GVA_RESULT_CODE>()
    );
    assert_eq!(size_of::<WHV_EMULATOR_HANDLE>(), 8);
    for cb in [
        size_of::<w::WHV_EMULATOR_IO_PORT_CALLBACK>(),
        size_of::<w::WHV_EMULATOR_MEMORY_CALLBACK>(),
        size_of::<w::WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK>(),
        size_of::<w::WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK>(),
        size_of::<w::WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK>(),
    ] {
        assert_eq!(cb, size_of::<WHV_EMULATOR_IO_PORT_CALLBACK>());
    }
}

#[test]
fn hresults_match_windows_sys() {
    use windows_sys::Win32::Foundation as f;
    assert_eq!(S_OK, f::S_OK);
    assert_eq!(E_NOTIMPL, f::E_NOTIMPL);
    assert_eq!(E_POINTER, f::E_POINTER);
    assert_eq!(E_FAIL, f::E_FAIL);
    assert_eq!(E_UNEXPECTED, f::E_UNEXPECTED);
    assert_eq!(E_OUTOFMEMORY, f::E_OUTOFMEMORY);
    assert_eq!(E_INVALIDARG, f::E_INVALIDARG);
}

#[test]
fn enums_match_windows_sys() {
    assert_eq!(WHvTranslateGvaFlagNone, w::WHvTranslateGvaFlagNone);
    assert_eq!(
        WHvTranslateGvaFlagValidateRead,
        w::WHvTranslateGvaFlagValidateRead
    );
    assert_eq!(
        WHvTranslateGvaFlagValidateWrite,
        w::WHvTranslateGvaFlagValidateWrite
    );
    assert_eq!(
        WHvTranslateGvaFlagValidateExecute,
        w::WHvTranslateGvaFlagValidateExecute
    );
    assert_eq!(
        WHvTranslateGvaFlagPrivilegeExempt,
        w::WHvTranslateGvaFlagPrivilegeExempt
    );
    assert_eq!(
        WHvTranslateGvaFlagSetPageTableBits,
        w::WHvTranslateGvaFlagSetPageTableBits
    );
    assert_eq!(
        WHvTranslateGvaFlagEnforceSmap,
        w::WHvTranslateGvaFlagEnforceSmap
    );
    assert_eq!(
        WHvTranslateGvaFlagOverrideSmap,
        w::WHvTranslateGvaFlagOverrideSmap
    );
    assert_eq!(
        WHvTranslateGvaResultSuccess,
        w::WHvTranslateGvaResultSuccess
    );
    assert_eq!(
        WHvTranslateGvaResultPageNotPresent,
        w::WHvTranslateGvaResultPageNotPresent
    );
    assert_eq!(
        WHvTranslateGvaResultPrivilegeViolation,
        w::WHvTranslateGvaResultPrivilegeViolation
    );
    assert_eq!(
        WHvTranslateGvaResultInvalidPageTableFlags,
        w::WHvTranslateGvaResultInvalidPageTableFlags
    );
    assert_eq!(
        WHvTranslateGvaResultGpaUnmapped,
        w::WHvTranslateGvaResultGpaUnmapped
    );
    assert_eq!(
        WHvTranslateGvaResultGpaNoReadAccess,
        w::WHvTranslateGvaResultGpaNoReadAccess
    );
    assert_eq!(
        WHvTranslateGvaResultGpaNoWriteAccess,
        w::WHvTranslateGvaResultGpaNoWriteAccess
    );
    assert_eq!(
        WHvTranslateGvaResultGpaIllegalOverlayAccess,
        w::WHvTranslateGvaResultGpaIllegalOverlayAccess
    );
    assert_eq!(
        WHvTranslateGvaResultIntercept,
        w::WHvTranslateGvaResultIntercept
    );
    // The core's translate flags are the same numbers.
    use hvemu::host::TranslateFlags as T;
    assert_eq!(T::VALIDATE_READ as i32, w::WHvTranslateGvaFlagValidateRead);
    assert_eq!(
        T::VALIDATE_WRITE as i32,
        w::WHvTranslateGvaFlagValidateWrite
    );
    assert_eq!(
        T::VALIDATE_EXECUTE as i32,
        w::WHvTranslateGvaFlagValidateExecute
    );
    assert_eq!(
        T::PRIVILEGE_EXEMPT as i32,
        w::WHvTranslateGvaFlagPrivilegeExempt
    );
    assert_eq!(
        T::SET_PAGE_TABLE_BITS as i32,
        w::WHvTranslateGvaFlagSetPageTableBits
    );
    assert_eq!(T::ENFORCE_SMAP as i32, w::WHvTranslateGvaFlagEnforceSmap);
    assert_eq!(T::OVERRIDE_SMAP as i32, w::WHvTranslateGvaFlagOverrideSmap);
}

#[test]
fn the_core_register_numbering_is_whv_register_name() {
    use hvemu::regs::{RegName as R, SLOTS, slot_name};
    let pairs = [
        (R::RAX, w::WHvX64RegisterRax),
        (R::RCX, w::WHvX64RegisterRcx),
        (R::RDX, w::WHvX64RegisterRdx),
        (R::RBX, w::WHvX64RegisterRbx),
        (R::RSP, w::WHvX64RegisterRsp),
        (R::RBP, w::WHvX64RegisterRbp),
        (R::RSI, w::WHvX64RegisterRsi),
        (R::RDI, w::WHvX64RegisterRdi),
        (R::R8, w::WHvX64RegisterR8),
        (R::R15, w::WHvX64RegisterR15),
        (R::RIP, w::WHvX64RegisterRip),
        (R::RFLAGS, w::WHvX64RegisterRflags),
        (R::ES, w::WHvX64RegisterEs),
        (R::CS, w::WHvX64RegisterCs),
        (R::SS, w::WHvX64RegisterSs),
        (R::DS, w::WHvX64RegisterDs),
        (R::FS, w::WHvX64RegisterFs),
        (R::GS, w::WHvX64RegisterGs),
        (R::LDTR, w::WHvX64RegisterLdtr),
        (R::TR, w::WHvX64RegisterTr),
        (R::IDTR, w::WHvX64RegisterIdtr),
        (R::GDTR, w::WHvX64RegisterGdtr),
        (R::CR0, w::WHvX64RegisterCr0),
        (R::CR2, w::WHvX64RegisterCr2),
        (R::CR3, w::WHvX64RegisterCr3),
        (R::CR4, w::WHvX64RegisterCr4),
        (R::CR8, w::WHvX64RegisterCr8),
        (R::XCR0, w::WHvX64RegisterXCr0),
        (R::XMM0, w::WHvX64RegisterXmm0),
        (R::FP_MMX0, w::WHvX64RegisterFpMmx0),
        (R::FP_CONTROL_STATUS, w::WHvX64RegisterFpControlStatus),
        (R::XMM_CONTROL_STATUS, w::WHvX64RegisterXmmControlStatus),
        (R::EFER, w::WHvX64RegisterEfer),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours.0 as i32, theirs);
    }
    // Every name the core can ask for is a real register name.
    let known = [
        w::WHvX64RegisterRax,
        w::WHvX64RegisterRcx,
        w::WHvX64RegisterRdx,
        w::WHvX64RegisterRbx,
        w::WHvX64RegisterRsp,
        w::WHvX64RegisterRbp,
        w::WHvX64RegisterRsi,
        w::WHvX64RegisterRdi,
        w::WHvX64RegisterR8,
        w::WHvX64RegisterR9,
        w::WHvX64RegisterR10,
        w::WHvX64RegisterR11,
        w::WHvX64RegisterR12,
        w::WHvX64RegisterR13,
        w::WHvX64RegisterR14,
        w::WHvX64RegisterR15,
        w::WHvX64RegisterRip,
        w::WHvX64RegisterRflags,
        w::WHvX64RegisterEs,
        w::WHvX64RegisterCs,
        w::WHvX64RegisterSs,
        w::WHvX64RegisterDs,
        w::WHvX64RegisterFs,
        w::WHvX64RegisterGs,
        w::WHvX64RegisterLdtr,
        w::WHvX64RegisterTr,
        w::WHvX64RegisterIdtr,
        w::WHvX64RegisterGdtr,
        w::WHvX64RegisterCr0,
        w::WHvX64RegisterCr2,
        w::WHvX64RegisterCr3,
        w::WHvX64RegisterCr4,
        w::WHvX64RegisterCr8,
        w::WHvX64RegisterEfer,
        w::WHvX64RegisterXCr0,
        w::WHvX64RegisterXmm0,
        w::WHvX64RegisterXmm1,
        w::WHvX64RegisterXmm2,
        w::WHvX64RegisterXmm3,
        w::WHvX64RegisterXmm4,
        w::WHvX64RegisterXmm5,
        w::WHvX64RegisterXmm6,
        w::WHvX64RegisterXmm7,
        w::WHvX64RegisterXmm8,
        w::WHvX64RegisterXmm9,
        w::WHvX64RegisterXmm10,
        w::WHvX64RegisterXmm11,
        w::WHvX64RegisterXmm12,
        w::WHvX64RegisterXmm13,
        w::WHvX64RegisterXmm14,
        w::WHvX64RegisterXmm15,
        w::WHvX64RegisterFpMmx0,
        w::WHvX64RegisterFpMmx1,
        w::WHvX64RegisterFpMmx2,
        w::WHvX64RegisterFpMmx3,
        w::WHvX64RegisterFpMmx4,
        w::WHvX64RegisterFpMmx5,
        w::WHvX64RegisterFpMmx6,
        w::WHvX64RegisterFpMmx7,
        w::WHvX64RegisterFpControlStatus,
        w::WHvX64RegisterXmmControlStatus,
    ];
    for i in 0..SLOTS {
        assert!(known.contains(&(slot_name(i).0 as i32)), "slot {i}");
    }
}
