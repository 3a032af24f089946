/*
 * WinHvEmulation.h: the Windows Hypervisor Platform instruction emulator API
 * (WinHvEmulation.dll), as implemented by hvemu's WinHvEmulation.dll and
 * libWinHvEmulation.so / libWinHvEmulation.a.
 *
 * SPDX-License-Identifier: MIT
 *
 * Copyright (c) the hvemu contributors
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 *
 * ---------------------------------------------------------------------------
 *
 * Source compatible with the Windows SDK's and mingw-w64's <winhvemulation.h>
 * for the names a virtual machine monitor uses: the same types, fields, bit
 * fields, enumerators and functions, with the same sizes and offsets (x86-64).
 * CI checks this with static assertions against mingw-w64's headers.
 *
 * On Windows the platform types (WHV_VP_EXIT_CONTEXT, WHV_REGISTER_VALUE, ...)
 * come from <winhvplatformdefs.h> when the toolchain has it, so this header
 * mixes with <WinHvPlatform.h>; define HVEMU_OWN_PLATFORM_DEFS to use the
 * definitions below instead. Elsewhere (Linux) the header is self-contained,
 * and WINAPI/CALLBACK are the C calling convention.
 *
 * Behaviour of hvemu's implementation, beyond the documented API:
 * - E_INVALIDARG for a NULL handle, Callbacks, VpContext, instruction context
 *   or status pointer, a Size below sizeof(WHV_EMULATOR_CALLBACKS), a NULL
 *   callback, a stale, destroyed, foreign or busy handle, an
 *   InstructionByteCount over 16, a port exit with InstructionLength 0 or an
 *   AccessSize other than 1, 2 or 4, and memory AccessType 3.
 *   E_OUTOFMEMORY when no more emulators can be created. Everything else is
 *   S_OK with EmulatorReturnStatus; the status is written only with S_OK.
 * - The Get callback is called at most once per call, with only the registers
 *   the instruction needs (none for a plain IN or OUT); the Set callback at
 *   most once, last, with only the registers that changed, and only when
 *   EmulationSuccessful is reported.
 * - Register value arrays passed to the callbacks are 16-byte aligned.
 * - GVAs passed to TranslateGvaPage are page-aligned; a returned GPA that is
 *   not sets TranslateGvaPageCallbackGpaIsNotAligned.
 * - Memory callbacks never cross a page and have AccessSize 1..8; port
 *   callbacks have AccessSize 1, 2 or 4. Data is zeroed before a read.
 * - A callback returning anything other than S_OK stops the emulation and sets
 *   only that callback's bit. A guest fault or an instruction that cannot be
 *   emulated sets InternalEmulationFailure; nothing is changed in either case.
 * - InterruptCausedIntercept when VpContext->ExecutionState.InterruptionPending
 *   is set. GuestCannotBeFaulted is never set.
 * - One emulator per virtual processor; emulators on different threads never
 *   interact. Re-entering the API with a handle whose call is running from one
 *   of its callbacks gives E_INVALIDARG.
 */

#ifndef HVEMU_WINHVEMULATION_H
#define HVEMU_WINHVEMULATION_H

/* A header of the same API included before this one wins. */
#ifndef _WINHVEMUAPI_H_
#define _WINHVEMUAPI_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#include <windows.h>
#if !defined(HVEMU_OWN_PLATFORM_DEFS) && !defined(_WINHVAPIDEFS_H_) && defined(__has_include)
#if __has_include(<winhvplatformdefs.h>)
#include <winhvplatformdefs.h>
#endif
#endif
#else /* !_WIN32: the few Win32 types and macros the API uses */
#ifndef HVEMU_NO_WIN32_TYPES
typedef int32_t HRESULT;
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint32_t UINT32;
typedef uint64_t UINT64;
#endif
#ifndef VOID
#define VOID void
#endif
#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef S_OK
#define S_OK ((HRESULT)0x00000000L)
#endif
#ifndef E_NOTIMPL
#define E_NOTIMPL ((HRESULT)0x80004001L)
#endif
#ifndef E_POINTER
#define E_POINTER ((HRESULT)0x80004003L)
#endif
#ifndef E_FAIL
#define E_FAIL ((HRESULT)0x80004005L)
#endif
#ifndef E_UNEXPECTED
#define E_UNEXPECTED ((HRESULT)0x8000FFFFL)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG ((HRESULT)0x80070057L)
#endif
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif
#endif /* _WIN32 */

#if defined(_MSC_VER)
#define HVEMU_ALIGN16 __declspec(align(16))
#else
#define HVEMU_ALIGN16 __attribute__((aligned(16)))
#endif

/* Anonymous structs and unions (C11; an extension before, as in the SDK's headers). */
#if defined(__GNUC__) && !defined(__cplusplus)
#define HVEMU_NAMELESS __extension__
#else
#define HVEMU_NAMELESS
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Platform types (normally from winhvplatformdefs.h)                        */
/* ------------------------------------------------------------------------- */

#ifndef _WINHVAPIDEFS_H_
#define _WINHVAPIDEFS_H_

typedef UINT64 WHV_GUEST_PHYSICAL_ADDRESS;
typedef UINT64 WHV_GUEST_VIRTUAL_ADDRESS;

/* Register names: the x64 registers around the emulator's register set. */
typedef enum WHV_REGISTER_NAME {
    WHvX64RegisterRax = 0x00000000,
    WHvX64RegisterRcx = 0x00000001,
    WHvX64RegisterRdx = 0x00000002,
    WHvX64RegisterRbx = 0x00000003,
    WHvX64RegisterRsp = 0x00000004,
    WHvX64RegisterRbp = 0x00000005,
    WHvX64RegisterRsi = 0x00000006,
    WHvX64RegisterRdi = 0x00000007,
    WHvX64RegisterR8 = 0x00000008,
    WHvX64RegisterR9 = 0x00000009,
    WHvX64RegisterR10 = 0x0000000A,
    WHvX64RegisterR11 = 0x0000000B,
    WHvX64RegisterR12 = 0x0000000C,
    WHvX64RegisterR13 = 0x0000000D,
    WHvX64RegisterR14 = 0x0000000E,
    WHvX64RegisterR15 = 0x0000000F,
    WHvX64RegisterRip = 0x00000010,
    WHvX64RegisterRflags = 0x00000011,
    WHvX64RegisterEs = 0x00000012,
    WHvX64RegisterCs = 0x00000013,
    WHvX64RegisterSs = 0x00000014,
    WHvX64RegisterDs = 0x00000015,
    WHvX64RegisterFs = 0x00000016,
    WHvX64RegisterGs = 0x00000017,
    WHvX64RegisterLdtr = 0x00000018,
    WHvX64RegisterTr = 0x00000019,
    WHvX64RegisterIdtr = 0x0000001A,
    WHvX64RegisterGdtr = 0x0000001B,
    WHvX64RegisterCr0 = 0x0000001C,
    WHvX64RegisterCr2 = 0x0000001D,
    WHvX64RegisterCr3 = 0x0000001E,
    WHvX64RegisterCr4 = 0x0000001F,
    WHvX64RegisterCr8 = 0x00000020,
    WHvX64RegisterDr0 = 0x00000021,
    WHvX64RegisterDr1 = 0x00000022,
    WHvX64RegisterDr2 = 0x00000023,
    WHvX64RegisterDr3 = 0x00000024,
    WHvX64RegisterDr6 = 0x00000025,
    WHvX64RegisterDr7 = 0x00000026,
    WHvX64RegisterXCr0 = 0x00000027,
    WHvX64RegisterXmm0 = 0x00001000,
    WHvX64RegisterXmm1 = 0x00001001,
    WHvX64RegisterXmm2 = 0x00001002,
    WHvX64RegisterXmm3 = 0x00001003,
    WHvX64RegisterXmm4 = 0x00001004,
    WHvX64RegisterXmm5 = 0x00001005,
    WHvX64RegisterXmm6 = 0x00001006,
    WHvX64RegisterXmm7 = 0x00001007,
    WHvX64RegisterXmm8 = 0x00001008,
    WHvX64RegisterXmm9 = 0x00001009,
    WHvX64RegisterXmm10 = 0x0000100A,
    WHvX64RegisterXmm11 = 0x0000100B,
    WHvX64RegisterXmm12 = 0x0000100C,
    WHvX64RegisterXmm13 = 0x0000100D,
    WHvX64RegisterXmm14 = 0x0000100E,
    WHvX64RegisterXmm15 = 0x0000100F,
    WHvX64RegisterFpMmx0 = 0x00001010,
    WHvX64RegisterFpMmx1 = 0x00001011,
    WHvX64RegisterFpMmx2 = 0x00001012,
    WHvX64RegisterFpMmx3 = 0x00001013,
    WHvX64RegisterFpMmx4 = 0x00001014,
    WHvX64RegisterFpMmx5 = 0x00001015,
    WHvX64RegisterFpMmx6 = 0x00001016,
    WHvX64RegisterFpMmx7 = 0x00001017,
    WHvX64RegisterFpControlStatus = 0x00001018,
    WHvX64RegisterXmmControlStatus = 0x00001019,
    WHvX64RegisterTsc = 0x00002000,
    WHvX64RegisterEfer = 0x00002001,
    WHvX64RegisterKernelGsBase = 0x00002002,
    WHvX64RegisterApicBase = 0x00002003,
    WHvX64RegisterPat = 0x00002004,
    WHvX64RegisterSysenterCs = 0x00002005,
    WHvX64RegisterSysenterEip = 0x00002006,
    WHvX64RegisterSysenterEsp = 0x00002007,
    WHvX64RegisterStar = 0x00002008,
    WHvX64RegisterLstar = 0x00002009,
    WHvX64RegisterCstar = 0x0000200A,
    WHvX64RegisterSfmask = 0x0000200B,
    WHvX64RegisterTscAux = 0x0000207B,
    WHvRegisterPendingInterruption = 0x80000000,
    WHvRegisterInterruptState = 0x80000001,
    WHvRegisterPendingEvent = 0x80000002,
    WHvX64RegisterDeliverabilityNotifications = 0x80000004,
    WHvRegisterInternalActivityState = 0x80000005,
    WHvX64RegisterPendingDebugException = 0x80000006
} WHV_REGISTER_NAME;

/* 128 bits, 16-byte aligned: register buffers may be used with aligned SSE moves. */
typedef union HVEMU_ALIGN16 WHV_UINT128 {
    HVEMU_NAMELESS struct {
        UINT64 Low64;
        UINT64 High64;
    };
    UINT32 Dword[4];
} WHV_UINT128;

typedef union WHV_X64_FP_REGISTER {
    HVEMU_NAMELESS struct {
        UINT64 Mantissa;
        UINT64 BiasedExponent : 15;
        UINT64 Sign : 1;
        UINT64 Reserved : 48;
    };
    WHV_UINT128 AsUINT128;
} WHV_X64_FP_REGISTER;

typedef union WHV_X64_FP_CONTROL_STATUS_REGISTER {
    HVEMU_NAMELESS struct {
        UINT16 FpControl;
        UINT16 FpStatus;
        UINT8 FpTag;
        UINT8 Reserved;
        UINT16 LastFpOp;
        HVEMU_NAMELESS union {
            UINT64 LastFpRip;
            HVEMU_NAMELESS struct {
                UINT32 LastFpEip;
                UINT16 LastFpCs;
                UINT16 Reserved2;
            };
        };
    };
    WHV_UINT128 AsUINT128;
} WHV_X64_FP_CONTROL_STATUS_REGISTER;

typedef union WHV_X64_XMM_CONTROL_STATUS_REGISTER {
    HVEMU_NAMELESS struct {
        HVEMU_NAMELESS union {
            UINT64 LastFpRdp;
            HVEMU_NAMELESS struct {
                UINT32 LastFpDp;
                UINT16 LastFpDs;
                UINT16 Reserved;
            };
        };
        UINT32 XmmStatusControl;
        UINT32 XmmStatusControlMask;
    };
    WHV_UINT128 AsUINT128;
} WHV_X64_XMM_CONTROL_STATUS_REGISTER;

typedef struct WHV_X64_SEGMENT_REGISTER {
    UINT64 Base;
    UINT32 Limit;
    UINT16 Selector;
    HVEMU_NAMELESS union {
        HVEMU_NAMELESS struct {
            UINT16 SegmentType : 4;
            UINT16 NonSystemSegment : 1;
            UINT16 DescriptorPrivilegeLevel : 2;
            UINT16 Present : 1;
            UINT16 Reserved : 4;
            UINT16 Available : 1;
            UINT16 Long : 1;
            UINT16 Default : 1;
            UINT16 Granularity : 1;
        };
        UINT16 Attributes;
    };
} WHV_X64_SEGMENT_REGISTER;

typedef struct WHV_X64_TABLE_REGISTER {
    UINT16 Pad[3];
    UINT16 Limit;
    UINT64 Base;
} WHV_X64_TABLE_REGISTER;

typedef union WHV_X64_INTERRUPT_STATE_REGISTER {
    HVEMU_NAMELESS struct {
        UINT64 InterruptShadow : 1;
        UINT64 NmiMasked : 1;
        UINT64 Reserved : 62;
    };
    UINT64 AsUINT64;
} WHV_X64_INTERRUPT_STATE_REGISTER;

typedef union WHV_X64_PENDING_INTERRUPTION_REGISTER {
    HVEMU_NAMELESS struct {
        UINT32 InterruptionPending : 1;
        UINT32 InterruptionType : 3;
        UINT32 DeliverErrorCode : 1;
        UINT32 InstructionLength : 4;
        UINT32 NestedEvent : 1;
        UINT32 Reserved : 6;
        UINT32 InterruptionVector : 16;
        UINT32 ErrorCode;
    };
    UINT64 AsUINT64;
} WHV_X64_PENDING_INTERRUPTION_REGISTER;

typedef union WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER {
    HVEMU_NAMELESS struct {
        UINT64 NmiNotification : 1;
        UINT64 InterruptNotification : 1;
        UINT64 InterruptPriority : 4;
        UINT64 Reserved : 58;
    };
    UINT64 AsUINT64;
} WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER;

typedef enum WHV_X64_PENDING_EVENT_TYPE {
    WHvX64PendingEventException = 0,
    WHvX64PendingEventExtInt = 5
} WHV_X64_PENDING_EVENT_TYPE;

typedef union WHV_X64_PENDING_EXCEPTION_EVENT {
    HVEMU_NAMELESS struct {
        UINT32 EventPending : 1;
        UINT32 EventType : 3;
        UINT32 Reserved0 : 4;
        UINT32 DeliverErrorCode : 1;
        UINT32 Reserved1 : 7;
        UINT32 Vector : 16;
        UINT32 ErrorCode;
        UINT64 ExceptionParameter;
    };
    WHV_UINT128 AsUINT128;
} WHV_X64_PENDING_EXCEPTION_EVENT;

typedef union WHV_X64_PENDING_EXT_INT_EVENT {
    HVEMU_NAMELESS struct {
        UINT64 EventPending : 1;
        UINT64 EventType : 3;
        UINT64 Reserved0 : 4;
        UINT64 Vector : 8;
        UINT64 Reserved1 : 48;
        UINT64 Reserved2;
    };
    WHV_UINT128 AsUINT128;
} WHV_X64_PENDING_EXT_INT_EVENT;

typedef union WHV_INTERNAL_ACTIVITY_REGISTER {
    HVEMU_NAMELESS struct {
        UINT64 StartupSuspend : 1;
        UINT64 HaltSuspend : 1;
        UINT64 IdleSuspend : 1;
        UINT64 Reserved : 61;
    };
    UINT64 AsUINT64;
} WHV_INTERNAL_ACTIVITY_REGISTER;

typedef union WHV_X64_PENDING_DEBUG_EXCEPTION {
    UINT64 AsUINT64;
    HVEMU_NAMELESS struct {
        UINT64 Breakpoint0 : 1;
        UINT64 Breakpoint1 : 1;
        UINT64 Breakpoint2 : 1;
        UINT64 Breakpoint3 : 1;
        UINT64 SingleStep : 1;
        UINT64 Reserved0 : 59;
    };
} WHV_X64_PENDING_DEBUG_EXCEPTION;

/* 16 bytes, 16-byte aligned (through WHV_UINT128). */
typedef union WHV_REGISTER_VALUE {
    WHV_UINT128 Reg128;
    UINT64 Reg64;
    UINT32 Reg32;
    UINT16 Reg16;
    UINT8 Reg8;
    WHV_X64_FP_REGISTER Fp;
    WHV_X64_FP_CONTROL_STATUS_REGISTER FpControlStatus;
    WHV_X64_XMM_CONTROL_STATUS_REGISTER XmmControlStatus;
    WHV_X64_SEGMENT_REGISTER Segment;
    WHV_X64_TABLE_REGISTER Table;
    WHV_X64_INTERRUPT_STATE_REGISTER InterruptState;
    WHV_X64_PENDING_INTERRUPTION_REGISTER PendingInterruption;
    WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER DeliverabilityNotifications;
    WHV_X64_PENDING_EXCEPTION_EVENT ExceptionEvent;
    WHV_X64_PENDING_EXT_INT_EVENT ExtIntEvent;
    WHV_INTERNAL_ACTIVITY_REGISTER InternalActivity;
    WHV_X64_PENDING_DEBUG_EXCEPTION PendingDebugException;
} WHV_REGISTER_VALUE;

typedef union WHV_X64_VP_EXECUTION_STATE {
    HVEMU_NAMELESS struct {
        UINT16 Cpl : 2;
        UINT16 Cr0Pe : 1;
        UINT16 Cr0Am : 1;
        UINT16 EferLma : 1;
        UINT16 DebugActive : 1;
        UINT16 InterruptionPending : 1;
        UINT16 Reserved0 : 5;
        UINT16 InterruptShadow : 1;
        UINT16 Reserved1 : 3;
    };
    UINT16 AsUINT16;
} WHV_X64_VP_EXECUTION_STATE;

/* The processor state of every exit. */
typedef struct WHV_VP_EXIT_CONTEXT {
    WHV_X64_VP_EXECUTION_STATE ExecutionState;
    UINT8 InstructionLength : 4;
    UINT8 Cr8 : 4;
    UINT8 Reserved;
    UINT32 Reserved2;
    WHV_X64_SEGMENT_REGISTER Cs;
    UINT64 Rip;
    UINT64 Rflags;
} WHV_VP_EXIT_CONTEXT;

typedef enum WHV_MEMORY_ACCESS_TYPE {
    WHvMemoryAccessRead = 0,
    WHvMemoryAccessWrite = 1,
    WHvMemoryAccessExecute = 2
} WHV_MEMORY_ACCESS_TYPE;

typedef union WHV_MEMORY_ACCESS_INFO {
    HVEMU_NAMELESS struct {
        UINT32 AccessType : 2;
        UINT32 GpaUnmapped : 1;
        UINT32 GvaValid : 1;
        UINT32 Reserved : 28;
    };
    UINT32 AsUINT32;
} WHV_MEMORY_ACCESS_INFO;

/* The exit context of a memory access. */
typedef struct WHV_MEMORY_ACCESS_CONTEXT {
    UINT8 InstructionByteCount;
    UINT8 Reserved[3];
    UINT8 InstructionBytes[16];
    WHV_MEMORY_ACCESS_INFO AccessInfo;
    WHV_GUEST_PHYSICAL_ADDRESS Gpa;
    WHV_GUEST_VIRTUAL_ADDRESS Gva;
} WHV_MEMORY_ACCESS_CONTEXT;

typedef union WHV_X64_IO_PORT_ACCESS_INFO {
    HVEMU_NAMELESS struct {
        UINT32 IsWrite : 1;
        UINT32 AccessSize : 3;
        UINT32 StringOp : 1;
        UINT32 RepPrefix : 1;
        UINT32 Reserved : 26;
    };
    UINT32 AsUINT32;
} WHV_X64_IO_PORT_ACCESS_INFO;

/* The exit context of a port access. */
typedef struct WHV_X64_IO_PORT_ACCESS_CONTEXT {
    UINT8 InstructionByteCount;
    UINT8 Reserved[3];
    UINT8 InstructionBytes[16];
    WHV_X64_IO_PORT_ACCESS_INFO AccessInfo;
    UINT16 PortNumber;
    UINT16 Reserved2[3];
    UINT64 Rax;
    UINT64 Rcx;
    UINT64 Rsi;
    UINT64 Rdi;
    WHV_X64_SEGMENT_REGISTER Ds;
    WHV_X64_SEGMENT_REGISTER Es;
} WHV_X64_IO_PORT_ACCESS_CONTEXT;

typedef enum WHV_TRANSLATE_GVA_FLAGS {
    WHvTranslateGvaFlagNone = 0x00000000,
    WHvTranslateGvaFlagValidateRead = 0x00000001,
    WHvTranslateGvaFlagValidateWrite = 0x00000002,
    WHvTranslateGvaFlagValidateExecute = 0x00000004,
    WHvTranslateGvaFlagPrivilegeExempt = 0x00000008,
    WHvTranslateGvaFlagSetPageTableBits = 0x00000010,
    WHvTranslateGvaFlagEnforceSmap = 0x00000100,
    WHvTranslateGvaFlagOverrideSmap = 0x00000200
} WHV_TRANSLATE_GVA_FLAGS;

typedef enum WHV_TRANSLATE_GVA_RESULT_CODE {
    WHvTranslateGvaResultSuccess = 0,
    WHvTranslateGvaResultPageNotPresent = 1,
    WHvTranslateGvaResultPrivilegeViolation = 2,
    WHvTranslateGvaResultInvalidPageTableFlags = 3,
    WHvTranslateGvaResultGpaUnmapped = 4,
    WHvTranslateGvaResultGpaNoReadAccess = 5,
    WHvTranslateGvaResultGpaNoWriteAccess = 6,
    WHvTranslateGvaResultGpaIllegalOverlayAccess = 7,
    WHvTranslateGvaResultIntercept = 8
} WHV_TRANSLATE_GVA_RESULT_CODE;

typedef struct WHV_TRANSLATE_GVA_RESULT {
    WHV_TRANSLATE_GVA_RESULT_CODE ResultCode;
    UINT32 Reserved;
} WHV_TRANSLATE_GVA_RESULT;

#endif /* _WINHVAPIDEFS_H_ */

/* ------------------------------------------------------------------------- */
/* The emulator API                                                          */
/* ------------------------------------------------------------------------- */

/* The extended status of an emulation call (valid only with S_OK). */
typedef union WHV_EMULATOR_STATUS {
    HVEMU_NAMELESS struct {
        UINT32 EmulationSuccessful : 1;
        UINT32 InternalEmulationFailure : 1;
        UINT32 IoPortCallbackFailed : 1;
        UINT32 MemoryCallbackFailed : 1;
        UINT32 TranslateGvaPageCallbackFailed : 1;
        UINT32 TranslateGvaPageCallbackGpaIsNotAligned : 1;
        UINT32 GetVirtualProcessorRegistersCallbackFailed : 1;
        UINT32 SetVirtualProcessorRegistersCallbackFailed : 1;
        UINT32 InterruptCausedIntercept : 1;
        UINT32 GuestCannotBeFaulted : 1;
        UINT32 Reserved : 22;
    };
    UINT32 AsUINT32;
} WHV_EMULATOR_STATUS;

/* One guest-physical access of 1..8 bytes within a page (Direction 0 read, 1 write). */
typedef struct WHV_EMULATOR_MEMORY_ACCESS_INFO {
    WHV_GUEST_PHYSICAL_ADDRESS GpaAddress;
    UINT8 Direction;
    UINT8 AccessSize;
    UINT8 Data[8];
} WHV_EMULATOR_MEMORY_ACCESS_INFO;

/* One port access of 1, 2 or 4 bytes in the low bytes of Data (Direction 0 in, 1 out). */
typedef struct WHV_EMULATOR_IO_ACCESS_INFO {
    UINT8 Direction;
    UINT16 Port;
    UINT16 AccessSize;
    UINT32 Data;
} WHV_EMULATOR_IO_ACCESS_INFO;

typedef HRESULT (CALLBACK *WHV_EMULATOR_IO_PORT_CALLBACK)(
    VOID *Context,
    WHV_EMULATOR_IO_ACCESS_INFO *IoAccess);

typedef HRESULT (CALLBACK *WHV_EMULATOR_MEMORY_CALLBACK)(
    VOID *Context,
    WHV_EMULATOR_MEMORY_ACCESS_INFO *MemoryAccess);

typedef HRESULT (CALLBACK *WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK)(
    VOID *Context,
    const WHV_REGISTER_NAME *RegisterNames,
    UINT32 RegisterCount,
    WHV_REGISTER_VALUE *RegisterValues);

typedef HRESULT (CALLBACK *WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK)(
    VOID *Context,
    const WHV_REGISTER_NAME *RegisterNames,
    UINT32 RegisterCount,
    const WHV_REGISTER_VALUE *RegisterValues);

typedef HRESULT (CALLBACK *WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK)(
    VOID *Context,
    WHV_GUEST_VIRTUAL_ADDRESS Gva,
    WHV_TRANSLATE_GVA_FLAGS TranslateFlags,
    WHV_TRANSLATE_GVA_RESULT_CODE *TranslationResult,
    WHV_GUEST_PHYSICAL_ADDRESS *Gpa);

/* Size = sizeof(WHV_EMULATOR_CALLBACKS), Reserved = 0, every callback set. */
typedef struct WHV_EMULATOR_CALLBACKS {
    UINT32 Size;
    UINT32 Reserved;
    WHV_EMULATOR_IO_PORT_CALLBACK WHvEmulatorIoPortCallback;
    WHV_EMULATOR_MEMORY_CALLBACK WHvEmulatorMemoryCallback;
    WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK WHvEmulatorGetVirtualProcessorRegisters;
    WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK WHvEmulatorSetVirtualProcessorRegisters;
    WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK WHvEmulatorTranslateGvaPage;
} WHV_EMULATOR_CALLBACKS;

typedef VOID *WHV_EMULATOR_HANDLE;

HRESULT WINAPI WHvEmulatorCreateEmulator(
    const WHV_EMULATOR_CALLBACKS *Callbacks,
    WHV_EMULATOR_HANDLE *Emulator);

HRESULT WINAPI WHvEmulatorDestroyEmulator(
    WHV_EMULATOR_HANDLE Emulator);

HRESULT WINAPI WHvEmulatorTryIoEmulation(
    WHV_EMULATOR_HANDLE Emulator,
    VOID *Context,
    const WHV_VP_EXIT_CONTEXT *VpContext,
    const WHV_X64_IO_PORT_ACCESS_CONTEXT *IoInstructionContext,
    WHV_EMULATOR_STATUS *EmulatorReturnStatus);

HRESULT WINAPI WHvEmulatorTryMmioEmulation(
    WHV_EMULATOR_HANDLE Emulator,
    VOID *Context,
    const WHV_VP_EXIT_CONTEXT *VpContext,
    const WHV_MEMORY_ACCESS_CONTEXT *MmioInstructionContext,
    WHV_EMULATOR_STATUS *EmulatorReturnStatus);

#ifdef __cplusplus
}
#endif

#endif /* _WINHVEMUAPI_H_ */
#endif /* HVEMU_WINHVEMULATION_H */
