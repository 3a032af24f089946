//! The native side of the differential test: runs ONE instruction on the host CPU from a chosen
//! machine state and returns the resulting state, or the exception it raised.
//!
//! Linux on x86-64 only. Everything happens in-process (no fork per case): a generated
//! trampoline loads the state, executes the instruction bytes, stores the state back and
//! returns; exceptions arrive as signals whose handler records them and resumes the
//! trampoline. A [`Native`] is the handle; one exists at a time per process (the others wait).
//!
//! # What a case can set and see
//! - **Instruction**: 1–15 bytes, executed at the fixed address [`INSN_ADDR`] (below 4 GiB;
//!   RIP-relative operands are relative to it).
//! - **Registers** ([`State`]): the 16 GPRs, RFLAGS, the whole AVX-512 vector state (ZMM0–ZMM31,
//!   of which XMMn and YMMn are the low 128 and 256 bits, and the opmasks K0–K7), MXCSR and
//!   the FS and GS bases, in and out.
//!   Vector registers: [`State::xmm`] holds XMM0–XMM15, [`State::ymm_hi128`],
//!   [`State::zmm_hi256`] and [`State::hi16_zmm`] the rest of ZMM0–ZMM31 (split as the XSAVE
//!   components are), [`State::k`] the opmasks; [`State::zmm`] / [`State::set_zmm`] (and the
//!   `_bytes` forms) see any ZMMn whole. The harness loads them all before the instruction and
//!   stores them all after it (or at its fault), so an instruction's effect on the upper bits
//!   (VEX zeroing bits 511:128 or 511:256, EVEX masking and zeroing, VZEROUPPER) is visible.
//!   A host without AVX (or AVX-512) cannot hold the corresponding registers: a case that sets
//!   them nonzero fails with [`Error::Unsupported`], and they read as zero (the harness says so
//!   on stderr at setup when AVX-512 is missing). XSAVE itself is required ([`Error::Setup`]).
//!   RFLAGS: only [`INPUT_FLAGS`] (CF PF AF ZF SF DF OF, NT, AC, ID) are taken from the case;
//!   IF is always 1 and IOPL 0 (user mode cannot change them), TF is reserved to the harness,
//!   RF/VM/VIF/VIP are 0. The output RFLAGS is what `pushfq` stores after the instruction (IF
//!   set, TF clear, RF never visible): compare it under [`COMPARE_FLAGS`].
//! - **Memory** ([`Native::mem`], [`Native::write`], ...): the scratch window
//!   [`SCRATCH_BASE`]..[`SCRATCH_END`] (below 4 GiB, so compatibility mode reaches it too):
//!   16 KiB read-write at [`SCRATCH_BASE`], a not-present guard page at [`GUARD_PAGE`], a
//!   present read-only page at [`RO_PAGE`] (its contents are settable through the harness),
//!   and not-present pages just below [`SCRATCH_BASE`] and at [`SCRATCH_END`]. The contents
//!   persist from case to case: the caller sets what a case needs (or [`Native::clear_mem`]).
//!   The stack is the case's business: point RSP into the read-write pages for PUSH/POP/CALL.
//! - **Outcome** ([`Output`]): the registers afterwards, the final RIP, and either
//!   [`Outcome::Completed`], [`Outcome::Exception`] (vector, error code, CR2 for #PF; the
//!   registers are those at the fault, so a REP string instruction shows its progress) or
//!   [`Outcome::Hung`].
//!
//! # Modes
//! - [`Mode::Long64`]: CS = 0x33 (64-bit), SS = the host's (0x2b), DS/ES/FS/GS the host's
//!   null selectors, the FS and GS bases from the [`State`] (default 0, so `fs:` operands are
//!   flat like the others).
//! - [`Mode::Compat32`]: CS = 0x23 (Linux's 32-bit user code segment), SS = DS = ES = FS = GS
//!   = 0x2b (flat 4 GiB data), the FS and GS bases from the [`State`]. Only the low 32 bits of
//!   RAX..RDI (and of RSP on input), ZMM0–ZMM7 (all 512 bits) and K0–K7 are meaningful: the
//!   output reports the low 32 bits of the eight legacy GPRs, and R8–R15 and ZMM8–ZMM31 as
//!   their inputs (the architecture leaves R8–R15 and XMM8–XMM15 undefined across the mode
//!   switches). Observed on AMD Zen 4 (under KVM), with the harness's raw output: nothing a
//!   compatibility-mode instruction does reaches ZMM8–ZMM31, and the mode switches preserve
//!   them, so reporting the inputs hides nothing there. EVEX instructions work on ZMM0–ZMM7
//!   and K0–K7 (masking, zeroing, 512-bit length), and the register-extension bits that cannot
//!   select a high register in 32-bit mode are ignored, not #UD: EVEX.R' = 0 (`62 e1 ...`,
//!   zmm17 in 64-bit mode), EVEX.V' = 0, EVEX.vvvv\[3\], EVEX.B and 3-byte VEX.vvvv\[3\] and
//!   VEX.B all select the register with that bit dropped (zmm1, not zmm17). VZEROUPPER and
//!   VZEROALL touch ZMM0–ZMM7 only.
//!
//! - [`Mode::Compat16`]: 16-bit code, in a 16-bit code segment of the process's LDT (set up with
//!   `modify_ldt`), otherwise as compatibility mode; see the variant.
//! - In both compatibility modes ES and DS can hold another data segment ([`State::es`],
//!   [`State::ds`], see [`DataSeg`]): segments of the LDT based below the window with a limit
//!   inside it (expand-up writable, read-only, expand-down), so 16-bit offsets reach the window
//!   and limit and type checks happen, or the null selector. SS can hold the writable ones
//!   ([`State::ss`]): a 16-bit stack, or the 32-bit expand-down one. The `iretq` that enters
//!   the case loads it; the harness's restore puts the host's SS back.
//!
//! FS and GS need FSGSBASE (Linux 5.9 and later on CPUs that have it; see `HWCAP2`): the
//! trampoline saves the host's bases (FS holds the thread pointer) and restores them after the
//! case with `wrfsbase`/`wrgsbase`. Without it the case runs with the host's FS and GS, the
//! base fields are ignored (reported 0), and instructions that use an FS/GS override in 64-bit
//! mode or load FS/GS are refused, since they would read or break the host's thread data.
//!
//! # How it works
//! Memory below 4 GiB, at fixed addresses: the scratch window, and the *instruction zone*
//! ([`ZONE_BASE`], 68 KiB, mapped read+execute): a stub page, then a landing area filled with
//! `int3` (0xCC) with the instruction in the middle. Both are views of one `memfd`; a second,
//! read-write view (the alias) is how the harness writes the instruction bytes and the memory
//! contents, so no page is ever writable and executable at once and no `mprotect` happens per
//! case (the `iretq` below is serializing, so the new bytes are always fetched).
//!
//! Above 4 GiB, wherever the kernel puts them: the generated trampoline (read+execute) and
//! its control block (read-write), which the trampoline addresses RIP-relatively. A case in
//! compatibility mode cannot form their addresses, and in 64-bit mode a memory operand reaches
//! them only if the case's registers point there; everything the harness needs to survive is
//! there.
//!
//! One run (see `asm::trampoline` for the code):
//! 1. the instruction bytes are copied to [`INSN_ADDR`], followed by a jump to the stub
//!    (`jmp rel32` in 64-bit mode, `jmp far 0x33:stub` in compatibility mode; see
//!    [`trailer`]);
//! 2. the trampoline saves the callee-saved GPRs, RSP, the host's x87, SSE, AVX and AVX-512
//!    state (`xsave64`), the segment selectors and FS/GS bases, loads the case's vector state
//!    (`xrstor64` of an XSAVE image that `Native::run` builds per case: MXCSR, XMM0–15,
//!    YMM_Hi128, opmasks, ZMM_Hi256 and Hi16_ZMM at the offsets CPUID leaf 0xD reports, with
//!    XSTATE_BV set for the components that have a nonzero register and never for x87, so the
//!    x87 stack is empty and all-zero components start in their initial configuration), then
//!    DS/ES/FS/GS, the FS/GS bases and the GPRs, and enters the instruction with `iretq`, which
//!    loads RIP, CS (0x33 or 0x23), RFLAGS, RSP and SS at once, so neither the case's RSP nor
//!    its flags are ever used by the harness;
//! 3. the instruction falls through to the stub, whose `jmp [rip]` reaches the epilogue in
//!    64-bit mode; the epilogue saves RSP, switches to a private stack in the control block,
//!    `pushfq`, stores the GPRs and the vector state (`xsave64` into a second image, decoded
//!    by `Native::run`: a component whose XSTATE_BV bit comes back clear is in its initial
//!    configuration and reads as zero), and restores the host state (flags with DF = AC = 0,
//!    `xrstor64` of everything saved on entry, selectors, FS/GS bases with
//!    `wrfsbase`/`wrgsbase` when the kernel enables FSGSBASE, callee-saved registers) and
//!    returns. The three XSAVE areas follow the control block; all use the same
//!    requested-feature bitmap (x87, SSE and the AVX and AVX-512 components XCR0 enables; not
//!    PKRU);
//! 4. an exception instead raises a signal: see `signals` for the handler (alternate signal
//!    stack; it records `trapno`/`err`/`cr2` from the ucontext and rewrites the saved RIP/CS
//!    to the epilogue, so no `siglongjmp` is involved; the kernel saves the vector state in
//!    the signal frame and restores it on `rt_sigreturn`, so the epilogue stores it as at the
//!    fault).
//!
//! # Exceptions
//! The vector is the `trapno` the kernel saved in the ucontext (REG_TRAPNO), the error code
//! its `err` (REG_ERR), CR2 its `cr2` (REG_CR2, reported for #PF only). In practice: #DE (0)
//! SIGFPE, #DB (1) and #BP (3) SIGTRAP, #UD (6) SIGILL, #NP (11) SIGBUS, #SS (12) SIGBUS,
//! #GP (13) SIGSEGV, #PF (14) SIGSEGV, #MF (16)/#XM (19) SIGFPE, #AC (17) SIGBUS (Linux runs
//! with CR0.AM set, so AC in RFLAGS gives alignment checks at CPL 3).
//! The #PF error code comes from hardware: bit 0 = present (1 on [`RO_PAGE`], 0 on the guard
//! pages), bit 1 = write, bit 2 = user (always 1), bit 4 = instruction fetch.
//!
//! # Control transfers
//! By default ([`Native::set_single_step`] off) the harness knows the final RIP when the
//! instruction falls through (RIP = [`INSN_ADDR`] + length) or lands somewhere it can see: on
//! the `int3` filler of the landing area (±32 KiB around the instruction; RIP = the target),
//! or on a page it cannot execute, anywhere in the address space (the resulting #PF on the
//! fetch is reported as a completed branch with RIP = the target, as the architecture defines
//! the branch itself; the handler takes any fault of the owner thread outside the trampoline
//! while a case runs, which the trampoline flags in the control block). A branch to a target
//! inside the instruction's own bytes or its trailing jump executes whatever is there, one
//! into the host's own code runs it, and a branch to itself spins until the watchdog gives up
//! ([`Outcome::Hung`], after about 100 ms of the thread's CPU time).
//!
//! With single-stepping on, the harness sets TF in the case's RFLAGS: the CPU raises #DB right
//! after the instruction wherever it went, so every control transfer is exact (a REP string
//! instruction is single-stepped only once and then left to run to its end). The cost is one
//! signal per case; PUSHF's image has TF cleared back in memory.
//!
//! # Limitations
//! - Instructions that enter the kernel are refused ([`Error::Refused`]): SYSCALL, SYSENTER,
//!   `int 0x80`; also WRPKRU. Instructions the kernel emulates for user space (SGDT, SIDT, SLDT,
//!   SMSW, STR under UMIP) give the kernel's answers; CPUID runs under the hypervisor.
//! - Segment selectors, CR0/CR4/EFER, CPL (always 3), the x87 state, PKRU and the other XSAVE
//!   components (AMX, CET, ...) are not part of the state (the x87 state starts in its initial
//!   configuration); an instruction that loads a segment register or changes the x87 state is
//!   isolated (the harness restores the host), not observed. Whether a vector component was in
//!   its initial configuration (XINUSE, visible to `xgetbv` with ECX = 1 and to XSAVEOPT) is
//!   not reported: all-zero components are loaded in it, others are not.
//! - The vector state needs XSAVE (setup fails without it); YMM upper halves need AVX and ZMM
//!   upper halves, ZMM16–ZMM31 and opmasks AVX-512 in XCR0 ([`Error::Unsupported`] when a case
//!   sets them on a host without).
//! - Memory operands must point into the scratch window (or at deliberately absent addresses):
//!   the harness cannot stop a 64-bit case whose registers point at the host's own memory.
//! - The bytes after the instruction are its trailing jump and then `int3` ([`trailer`]); an
//!   instruction that reads them sees those.
//! - A case that sets TF itself (POPF from memory) is stepped once and reported with TF clear.
//! - What the host reports is what the test gets: under a hypervisor, INT1 (ICEBP) is
//!   reported at the instruction rather than after it (seen on KVM/AMD), and a jump to a
//!   non-canonical address is #GP(0) at the jump.
//! - The watchdog uses SIGALRM (with its own `sigev_value`; other SIGALRM senders are passed to
//!   the previous handler).
//! - The fixed addresses mean one harness per process; [`Native::new`] serializes threads.

mod asm;
mod ctrl;
mod signals;

use core::ffi::c_void;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{AtomicI32, Ordering, compiler_fence};
use ctrl::{Ctrl, XAreas};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Start of the scratch window (and of its 16 KiB of read-write pages).
pub const SCRATCH_BASE: u64 = 0x1000_0000;
/// Size of the read-write part at [`SCRATCH_BASE`].
pub const SCRATCH_RW_SIZE: u64 = 0x4000;
/// A not-present page right after the read-write pages (#PF with P = 0).
pub const GUARD_PAGE: u64 = SCRATCH_BASE + SCRATCH_RW_SIZE;
/// A present, read-only page (a write raises #PF with P = 1, W = 1).
pub const RO_PAGE: u64 = GUARD_PAGE + 0x1000;
/// End of the scratch window; this page and the one below [`SCRATCH_BASE`] are not present.
pub const SCRATCH_END: u64 = RO_PAGE + 0x1000;
/// The instruction zone: a stub page, then the `int3`-filled landing area.
pub const ZONE_BASE: u64 = 0x2000_0000;
/// Size of the instruction zone.
pub const ZONE_SIZE: u64 = 0x11000;
/// Where the instruction runs (RIP / EIP of every case), in the middle of the landing area.
pub const INSN_ADDR: u64 = ZONE_BASE + 0x9000;
/// The end of the instruction zone: a page that is never mapped (reserved not-present), so
/// an instruction placed to end here by [`Native::run_at_edge`] cannot fetch a byte beyond
/// its last one.
pub const EDGE: u64 = ZONE_BASE + ZONE_SIZE;

/// The RFLAGS bits a case sets: CF PF AF ZF SF DF OF, NT, AC, ID.
pub const INPUT_FLAGS: u64 = 0x0024_4cd5;
/// The RFLAGS bits worth comparing with an emulator: CF PF AF ZF SF DF OF and AC (the
/// undefined flags of an instruction must be masked further by the caller).
pub const COMPARE_FLAGS: u64 = 0x0004_0cd5;

/// Linux's 64-bit and 32-bit user code selectors and its user data selector.
const USER_CS64: u64 = 0x33;
const USER_CS32: u64 = 0x23;
const USER_DS: u16 = 0x2b;
/// The 16-bit code segment of [`Mode::Compat16`]: LDT entry 0 (TI = 1), RPL 3.
pub const CS16: u64 = 0x07;
/// Its limit, the last valid offset: [`EDGE`] is at offset 0x8000 (a fetch there is a #PF, as
/// in the other modes, not a limit #GP); a branch beyond it is #GP.
pub const CODE16_LIMIT: u64 = EDGE - INSN_ADDR;
/// The base of the LDT's data segments ([`DataSeg`]): offset 0x8000 is [`SCRATCH_BASE`].
pub const DATA16_BASE: u64 = SCRATCH_BASE - 0x8000;
/// The limit of [`DataSeg::Data16`] and [`DataSeg::ReadOnly16`], the last valid offset: the
/// last byte of the read-write pages, so the guard page, the read-only page and offsets past
/// 64 KiB are beyond it (#GP, before any page fault), and offsets below 0x8000 reach the
/// unmapped page below the window (#PF).
pub const DATA16_LIMIT: u64 = GUARD_PAGE - 1 - DATA16_BASE;
/// The limit of [`DataSeg::ExpandDown16`]: the valid offsets are those above it up to 0xFFFF
/// (a 16-bit segment): the window's read-write pages but the first, the guard page and the
/// read-only page.
pub const EXPAND_DOWN16_LIMIT: u64 = SCRATCH_BASE + 0x0fff - DATA16_BASE;
/// The base of [`DataSeg::ExpandDown32`], 128 KiB below the window: its offsets there are
/// above 0xFFFF.
pub const EXPAND_DOWN32_BASE: u64 = SCRATCH_BASE - 0x2_0000;
/// The limit of [`DataSeg::ExpandDown32`]: valid offsets above it reach the window's
/// read-write pages but the first, the guard page and the read-only page.
pub const EXPAND_DOWN32_LIMIT: u64 = SCRATCH_BASE + 0x0fff - EXPAND_DOWN32_BASE;

/// What ES or DS holds outside 64-bit mode: the mode's flat segment, one of the LDT's data
/// segments (RPL 3, DPL 3, based below the window: [`DataSeg::base`]), or the null selector
/// (every access through it is #GP(0)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DataSeg {
    /// The mode's flat data segment.
    #[default]
    Flat,
    /// Writable, expand-up, limit [`DATA16_LIMIT`] (LDT entry 1).
    Data16,
    /// Read-only, expand-up, limit [`DATA16_LIMIT`] (LDT entry 2): writes are #GP.
    ReadOnly16,
    /// Writable, expand-down, limit [`EXPAND_DOWN16_LIMIT`] (LDT entry 3).
    ExpandDown16,
    /// Writable, expand-down, a 32-bit segment (B = 1: its valid offsets run up to 0xFFFFFFFF),
    /// based at [`EXPAND_DOWN32_BASE`] with limit [`EXPAND_DOWN32_LIMIT`] (LDT entry 4), so the
    /// window is at offsets above 0xFFFF, where a 16-bit segment ends.
    ExpandDown32,
    /// Selector 0.
    Null,
}

impl DataSeg {
    /// The selector, `None` for the flat segment.
    pub const fn selector(self) -> Option<u16> {
        match self {
            DataSeg::Flat => None,
            DataSeg::Data16 => Some(0x0f),
            DataSeg::ReadOnly16 => Some(0x17),
            DataSeg::ExpandDown16 => Some(0x1f),
            DataSeg::ExpandDown32 => Some(0x27),
            DataSeg::Null => Some(0),
        }
    }

    /// The base of an LDT segment (0 for the others).
    pub const fn base(self) -> u64 {
        match self {
            DataSeg::Data16 | DataSeg::ReadOnly16 | DataSeg::ExpandDown16 => DATA16_BASE,
            DataSeg::ExpandDown32 => EXPAND_DOWN32_BASE,
            DataSeg::Flat | DataSeg::Null => 0,
        }
    }

    /// The limit of an LDT segment (0 for the others).
    pub const fn limit(self) -> u64 {
        match self {
            DataSeg::Data16 | DataSeg::ReadOnly16 => DATA16_LIMIT,
            DataSeg::ExpandDown16 => EXPAND_DOWN16_LIMIT,
            DataSeg::ExpandDown32 => EXPAND_DOWN32_LIMIT,
            DataSeg::Flat | DataSeg::Null => 0,
        }
    }

    /// The LDT's segments.
    pub const LDT: [DataSeg; 4] = [
        DataSeg::Data16,
        DataSeg::ReadOnly16,
        DataSeg::ExpandDown16,
        DataSeg::ExpandDown32,
    ];

    /// Whether SS can hold it: the flat segment or a writable one (loading a read-only or null
    /// selector into SS faults).
    pub const fn fits_ss(self) -> bool {
        !matches!(self, DataSeg::ReadOnly16 | DataSeg::Null)
    }

    /// Whether, as SS, it makes a 16-bit stack (B = 0: SP, wrapping at 64 KiB).
    pub const fn stack16(self) -> bool {
        matches!(self, DataSeg::Data16 | DataSeg::ExpandDown16)
    }

    /// Whether the segment is one of the LDT's.
    pub const fn in_ldt(self) -> bool {
        matches!(
            self,
            DataSeg::Data16 | DataSeg::ReadOnly16 | DataSeg::ExpandDown16 | DataSeg::ExpandDown32
        )
    }
}
const TF: u64 = 1 << 8;
/// The page size.
pub const PAGE: u64 = 0x1000;
/// Watchdog period, in milliseconds of the thread's CPU time.
const WATCHDOG_MS: u64 = 100;

/// GPR indices in [`State::gpr`] (hardware order).
pub mod reg {
    #![allow(missing_docs)]
    pub const RAX: usize = 0;
    pub const RCX: usize = 1;
    pub const RDX: usize = 2;
    pub const RBX: usize = 3;
    pub const RSP: usize = 4;
    pub const RBP: usize = 5;
    pub const RSI: usize = 6;
    pub const RDI: usize = 7;
    pub const R8: usize = 8;
    pub const R9: usize = 9;
    pub const R10: usize = 10;
    pub const R11: usize = 11;
    pub const R12: usize = 12;
    pub const R13: usize = 13;
    pub const R14: usize = 14;
    pub const R15: usize = 15;
    /// Names in index order, as the case format spells them.
    pub const NAMES: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
}

/// The processor mode the instruction runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 64-bit mode, CS = 0x33.
    Long64,
    /// 32-bit compatibility mode, CS = 0x23.
    Compat32,
    /// 16-bit code in compatibility mode: CS = [`CS16`], a 16-bit code segment of the process's
    /// LDT based at [`INSN_ADDR`] (the instruction runs at IP 0, or placed at the edge at IP
    /// 0x8000 minus its length) with limit [`CODE16_LIMIT`], so it covers the landing area up
    /// to and including the first byte of [`EDGE`]. It decodes as 16-bit protected-mode code
    /// (VEX, EVEX and XOP included). The registers and data segments are those of
    /// [`Mode::Compat32`] (flat 32-bit SS, so stack operations use ESP); RIPs in an [`Output`]
    /// are linear addresses, like the other modes'.
    Compat16,
}

/// Register state, input or output.
///
/// The vector registers are split the way the XSAVE components split them, so that XMM0–XMM15
/// stay a plain array: ZMMn (n < 16) is `xmm[n]` (bits 127:0), `ymm_hi128[n]` (255:128) and
/// `zmm_hi256[n]` (511:256); ZMM16–ZMM31 are `hi16_zmm[n - 16]`. [`State::zmm`] and
/// [`State::set_zmm`] (and the byte forms) see any ZMMn whole. Every 128-bit lane is
/// little-endian: bit 0 of the lane is bit 0 of the `u128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8–R15 (see [`reg`]).
    pub gpr: [u64; 16],
    /// RFLAGS (input: only [`INPUT_FLAGS`] are used).
    pub rflags: u64,
    /// XMM0–XMM15: bits 127:0 of ZMM0–ZMM15.
    pub xmm: [u128; 16],
    /// Bits 255:128 of ZMM0–ZMM15 (the upper halves of YMM0–YMM15; XSAVE's YMM_Hi128, needs
    /// AVX).
    pub ymm_hi128: [u128; 16],
    /// Bits 511:256 of ZMM0–ZMM15 as two lanes, `[0]` = bits 383:256, `[1]` = 511:384
    /// (XSAVE's ZMM_Hi256, needs AVX-512).
    pub zmm_hi256: [[u128; 2]; 16],
    /// ZMM16–ZMM31 whole, as four lanes from bit 0 (XSAVE's Hi16_ZMM, needs AVX-512).
    pub hi16_zmm: [[u128; 4]; 16],
    /// The opmask registers K0–K7 (needs AVX-512).
    pub k: [u64; 8],
    /// MXCSR (input: the low 16 bits are used).
    pub mxcsr: u32,
    /// FS base (see the module documentation: needs FSGSBASE; 0 without it).
    pub fs_base: u64,
    /// GS base (as `fs_base`).
    pub gs_base: u64,
    /// What ES holds in compatibility mode and 16-bit code (64-bit mode: always its flat ES).
    pub es: DataSeg,
    /// What DS holds (as `es`).
    pub ds: DataSeg,
    /// What SS holds (as `es`): the flat segment or one of the LDT's writable data segments
    /// (a 16-bit one makes a 16-bit stack: SP, wrapping at 64 KiB). A read-only or null SS
    /// cannot be loaded: the harness refuses it.
    pub ss: DataSeg,
}

impl Default for State {
    fn default() -> State {
        State {
            gpr: [0; 16],
            rflags: 0x2,
            xmm: [0; 16],
            ymm_hi128: [0; 16],
            zmm_hi256: [[0; 2]; 16],
            hi16_zmm: [[0; 4]; 16],
            k: [0; 8],
            mxcsr: 0x1f80,
            fs_base: 0,
            gs_base: 0,
            es: DataSeg::Flat,
            ds: DataSeg::Flat,
            ss: DataSeg::Flat,
        }
    }
}

impl State {
    /// ZMMn (`n` < 32) as four 128-bit lanes from bit 0 (lane 0 is XMMn, lanes 0–1 YMMn).
    pub fn zmm(&self, n: usize) -> [u128; 4] {
        match n {
            0..16 => [
                self.xmm[n],
                self.ymm_hi128[n],
                self.zmm_hi256[n][0],
                self.zmm_hi256[n][1],
            ],
            _ => self.hi16_zmm[n - 16],
        }
    }

    /// YMMn (`n` < 32) as two 128-bit lanes from bit 0: the low half of [`State::zmm`].
    pub fn ymm(&self, n: usize) -> [u128; 2] {
        let z = self.zmm(n);
        [z[0], z[1]]
    }

    /// Sets ZMMn (`n` < 32) from four 128-bit lanes (see [`State::zmm`]).
    pub fn set_zmm(&mut self, n: usize, v: [u128; 4]) {
        match n {
            0..16 => {
                self.xmm[n] = v[0];
                self.ymm_hi128[n] = v[1];
                self.zmm_hi256[n] = [v[2], v[3]];
            }
            _ => self.hi16_zmm[n - 16] = v,
        }
    }

    /// ZMMn (`n` < 32) as its 64 bytes in memory order (byte 0 = bits 7:0), as a 512-bit
    /// store would write it.
    pub fn zmm_bytes(&self, n: usize) -> [u8; 64] {
        let mut b = [0; 64];
        for (lane, v) in b.chunks_exact_mut(16).zip(self.zmm(n)) {
            lane.copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Sets ZMMn (`n` < 32) from 64 bytes in memory order (see [`State::zmm_bytes`]).
    pub fn set_zmm_bytes(&mut self, n: usize, b: &[u8; 64]) {
        let lane = |i: usize| u128::from_le_bytes(b[16 * i..16 * i + 16].try_into().unwrap());
        self.set_zmm(n, [lane(0), lane(1), lane(2), lane(3)]);
    }
}

/// An exception the instruction raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The vector (0 #DE, 1 #DB, 3 #BP, 6 #UD, 12 #SS, 13 #GP, 14 #PF, 17 #AC, ...).
    pub vector: u8,
    /// The error code (0 for vectors without one).
    pub error_code: u64,
    /// The faulting linear address, for #PF.
    pub cr2: Option<u64>,
    /// The signal that carried it, and its `si_code` (for diagnostics).
    pub signal: i32,
    /// See `signal`.
    pub si_code: i32,
}

/// How the instruction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It completed; [`Output::rip`] is the next instruction (or a branch target).
    Completed,
    /// It raised an exception; [`Output::rip`] is where the CPU reported it (the instruction
    /// itself for faults, the next instruction for traps such as #BP from `int3`).
    Exception(Exception),
    /// Still running after a watchdog period (a branch to itself, say); abandoned.
    Hung,
}

/// The result of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// Registers afterwards (at the fault for an exception).
    pub state: State,
    /// RIP afterwards.
    pub rip: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// RSP as the instruction found it: the input's (its low 32 bits outside 64-bit mode),
    /// except that with a 16-bit SS ([`DataSeg::stack16`]) bits 31:16 are the harness's own:
    /// an `iretq` to a 16-bit stack segment loads SP alone.
    pub entry_rsp: u64,
    /// The selectors the instruction found in ES, CS, SS, DS, FS and GS (see the modes in the
    /// module documentation).
    pub selectors: [u16; 6],
}

impl Output {
    /// Whether this result of [`Native::run_at_edge`] with `len` bytes is the fetch fault of
    /// an incomplete instruction: a #PF on the instruction fetch of [`EDGE`], reported at the
    /// instruction's own start, `EDGE - len` (a whole instruction that falls through faults
    /// there with RIP = [`EDGE`]; one that branches into its own bytes, at the target).
    pub fn wants_more_bytes(&self, len: usize) -> bool {
        matches!(
            self.outcome,
            Outcome::Exception(Exception { vector: 14, error_code, cr2: Some(EDGE), .. })
                if error_code & 0x10 != 0 && self.rip == EDGE.wrapping_sub(len as u64)
        )
    }
}

/// Why a case could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Instruction length not in 1..=15.
    Length(usize),
    /// An instruction the harness will not execute (it would enter the kernel, say).
    Refused(&'static str),
    /// Setting up the harness failed.
    Setup(String),
    /// The case sets vector state that this host cannot hold (YMM upper halves without AVX;
    /// ZMM upper halves, ZMM16–ZMM31 or opmasks without AVX-512).
    Unsupported(&'static str),
    /// The trampoline itself faulted (for example the kernel offers no 32-bit code segment).
    Harness {
        /// Signal number.
        signal: i32,
        /// Exception vector.
        trapno: u64,
        /// Where.
        rip: u64,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Length(n) => write!(f, "instruction length {n} not in 1..=15"),
            Error::Refused(why) => write!(f, "refused: {why}"),
            Error::Setup(why) => write!(f, "native harness setup failed: {why}"),
            Error::Unsupported(what) => write!(f, "the host cannot run this case: {what}"),
            Error::Harness {
                signal,
                trapno,
                rip,
            } => write!(
                f,
                "the trampoline faulted: signal {signal}, vector {trapno}, rip {rip:#x}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// What kind of page an address of the scratch window is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Readable and writable.
    ReadWrite,
    /// Present and read-only.
    ReadOnly,
    /// Not present (any access raises #PF with P = 0).
    NotPresent,
    /// Outside the window (and not mapped by the harness).
    Outside,
}

/// The kind of page at `addr`.
pub fn page(addr: u64) -> Page {
    match addr {
        a if (SCRATCH_BASE..GUARD_PAGE).contains(&a) => Page::ReadWrite,
        a if (RO_PAGE..SCRATCH_END).contains(&a) => Page::ReadOnly,
        a if (GUARD_PAGE..RO_PAGE).contains(&a)
            || (SCRATCH_BASE - PAGE..SCRATCH_BASE).contains(&a)
            || (SCRATCH_END..SCRATCH_END + PAGE).contains(&a) =>
        {
            Page::NotPresent
        }
        _ => Page::Outside,
    }
}

/// The bytes that follow an instruction of `len` bytes at [`INSN_ADDR`] in `mode`: its
/// fall-through jump, then `int3` up to the end of the landing area (here 64 bytes of it).
/// A runner that gives an emulator the same memory can place these after the instruction.
pub fn trailer(mode: Mode, len: usize) -> Vec<u8> {
    let end = INSN_ADDR + len as u64;
    let (jmp, n) = asm::fallthrough(mode, end, ZONE_BASE);
    let mut v = jmp[..n].to_vec();
    v.resize(64, 0xcc);
    v
}

/// The process-wide part of the harness: mappings, generated code, handlers.
struct Global {
    /// The read-write alias of the memfd: the scratch window at 0, the zone at `WINDOW_LEN`.
    alias: usize,
    ctrl: usize,
    entry: u64,
    host_ds: u16,
    host_fs: u16,
    host_gs: u16,
    host_ss: u16,
    /// The kernel lets user space use RDFSBASE/WRFSBASE (HWCAP2_FSGSBASE).
    fsgsbase: bool,
    /// Why the LDT ([`CS16`], [`DataSeg::LDT`]) could not be set up (`modify_ldt`), if it
    /// could not.
    ldt_error: Option<&'static str>,
    /// The XSAVE layout of the vector state.
    x: XLayout,
    /// Where the trampoline's XSAVE areas are.
    areas: XAreas,
}

/// XSAVE state components (bit numbers in XCR0 and XSTATE_BV).
const X87: u64 = 1 << 0;
const SSE: u64 = 1 << 1;
const AVX: u64 = 1 << 2;
const OPMASK: u64 = 1 << 5;
const ZMM_HI256: u64 = 1 << 6;
const HI16_ZMM: u64 = 1 << 7;
const AVX512: u64 = OPMASK | ZMM_HI256 | HI16_ZMM;
/// Offsets in the legacy region and the header of a standard-format XSAVE area.
const XS_MXCSR: usize = 24;
const XS_XMM: usize = 160;
const XS_XSTATE_BV: usize = 512;
/// Size of the legacy region and the header.
const XS_BASE_LEN: usize = 576;

/// Where the vector state sits in a standard-format XSAVE area on this host (CPUID leaf 0xD)
/// and which components the host has (XCR0).
#[derive(Clone, Copy, Debug)]
struct XLayout {
    /// The components the harness loads and stores: x87 and SSE always, AVX and AVX-512 when
    /// XCR0 enables them.
    mask: u64,
    /// Bytes of an area (a multiple of 64).
    len: usize,
    /// Offset of the YMM_Hi128 component (CPUID.(EAX=0xD, ECX=2).EBX), when the host has AVX.
    avx: Option<usize>,
    /// Offsets of the opmask, ZMM_Hi256 and Hi16_ZMM components (sub-leaves 5, 6, 7), when the
    /// host has AVX-512.
    avx512: Option<[usize; 3]>,
}

impl XLayout {
    /// Reads CPUID and XCR0. An error when the host has no XSAVE.
    fn detect() -> Result<XLayout, String> {
        use core::arch::x86_64::__cpuid_count;
        let leaf1 = __cpuid_count(1, 0);
        if leaf1.ecx & (1 << 26) == 0 || leaf1.ecx & (1 << 27) == 0 {
            let why = "the host has no XSAVE (CPUID.1:ECX.XSAVE/OSXSAVE), which the harness \
                       needs to load and store the vector state";
            return Err(why.into());
        }
        let (lo, hi): (u32, u32);
        // SAFETY: XGETBV with ECX = 0 reads XCR0; CPUID says the OS enabled XSAVE (OSXSAVE),
        // so it does not fault.
        unsafe {
            core::arch::asm!(
                "xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi,
                options(nomem, nostack, preserves_flags)
            );
        }
        let xcr0 = u64::from(hi) << 32 | u64::from(lo);
        if xcr0 & (X87 | SSE) != X87 | SSE {
            return Err(format!("XCR0 = {xcr0:#x} lacks x87 or SSE"));
        }
        let mut len = (__cpuid_count(0xd, 0).ebx as usize).max(XS_BASE_LEN);
        // The offset of component `i` (sub-leaf `i`), checked against its architectural size.
        let mut component = |i: u32, size: usize| -> Result<usize, String> {
            let l = __cpuid_count(0xd, i);
            let (off, got) = (l.ebx as usize, l.eax as usize);
            if got != size || off < XS_BASE_LEN {
                return Err(format!(
                    "CPUID.(EAX=0xD, ECX={i}) reports {got} bytes at {off}, expected {size} \
                     bytes after the XSAVE header"
                ));
            }
            len = len.max(off + size);
            Ok(off)
        };
        let avx = match xcr0 & AVX {
            0 => None,
            _ => Some(component(2, 256)?),
        };
        let avx512 = match xcr0 & AVX512 {
            0 => None,
            AVX512 => Some([component(5, 64)?, component(6, 512)?, component(7, 1024)?]),
            _ => return Err(format!("XCR0 = {xcr0:#x} enables only part of AVX-512")),
        };
        Ok(XLayout {
            mask: xcr0 & (X87 | SSE | AVX | AVX512),
            len: len.next_multiple_of(64),
            avx,
            avx512,
        })
    }

    /// Writes the case's vector state as an XSAVE image into `buf` (`len` bytes). XSTATE_BV has
    /// the bit of every component with a nonzero register; the others (and always x87) are
    /// loaded in their initial state, so their bytes are left as they are. An error when the
    /// case sets state the host lacks.
    fn encode(&self, s: &State, buf: &mut [u8]) -> Result<(), Error> {
        buf[XS_MXCSR..XS_MXCSR + 4].copy_from_slice(&(s.mxcsr & 0xffff).to_le_bytes());
        let mut bv = 0;
        let mut put = |bit: u64, off: Option<usize>, v: &[u128]| -> Result<(), Error> {
            if v.iter().all(|&x| x == 0) {
                return Ok(());
            }
            let Some(off) = off else {
                return Err(Error::Unsupported(if bit == AVX {
                    "YMM upper halves set, but the host has no AVX state (XCR0)"
                } else {
                    "ZMM upper halves, ZMM16-ZMM31 or opmasks set, but the host has no AVX-512 \
                     state (XCR0)"
                }));
            };
            bv |= bit;
            for (d, x) in buf[off..off + 16 * v.len()].chunks_exact_mut(16).zip(v) {
                d.copy_from_slice(&x.to_le_bytes());
            }
            Ok(())
        };
        let [k, hi256, hi16] = match self.avx512 {
            Some(o) => o.map(Some),
            None => [None; 3],
        };
        put(SSE, Some(XS_XMM), &s.xmm)?;
        put(AVX, self.avx, &s.ymm_hi128)?;
        put(ZMM_HI256, hi256, s.zmm_hi256.as_flattened())?;
        put(HI16_ZMM, hi16, s.hi16_zmm.as_flattened())?;
        if s.k != [0; 8] {
            let Some(k) = k else {
                return Err(Error::Unsupported(
                    "opmasks set, but the host has no AVX-512 state (XCR0)",
                ));
            };
            bv |= OPMASK;
            for (d, x) in buf[k..k + 64].chunks_exact_mut(8).zip(s.k) {
                d.copy_from_slice(&x.to_le_bytes());
            }
        }
        // The header: XSTATE_BV, then XCOMP_BV = 0 (standard format) and reserved zeros.
        buf[XS_XSTATE_BV..XS_BASE_LEN].fill(0);
        buf[XS_XSTATE_BV..XS_XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
        Ok(())
    }

    /// Reads the vector state out of an image that `xsave64` wrote: a component whose
    /// XSTATE_BV bit is clear was in its initial state (zero registers), whatever the area
    /// holds. Components the host lacks read as zero.
    fn decode(&self, buf: &[u8], s: &mut State) {
        let bv = u64::from_le_bytes(buf[XS_XSTATE_BV..XS_XSTATE_BV + 8].try_into().unwrap());
        s.mxcsr = u32::from_le_bytes(buf[XS_MXCSR..XS_MXCSR + 4].try_into().unwrap());
        let get = |bit: u64, off: Option<usize>, v: &mut [u128]| match off {
            Some(off) if bv & bit != 0 => {
                let src = &buf[off..off + 16 * v.len()];
                for (x, b) in v.iter_mut().zip(src.chunks_exact(16)) {
                    *x = u128::from_le_bytes(b.try_into().unwrap());
                }
            }
            _ => v.fill(0),
        };
        let [k, hi256, hi16] = match self.avx512 {
            Some(o) => o.map(Some),
            None => [None; 3],
        };
        get(SSE, Some(XS_XMM), &mut s.xmm);
        get(AVX, self.avx, &mut s.ymm_hi128);
        get(ZMM_HI256, hi256, s.zmm_hi256.as_flattened_mut());
        get(HI16_ZMM, hi16, s.hi16_zmm.as_flattened_mut());
        s.k = [0; 8];
        if let Some(k) = k.filter(|_| bv & OPMASK != 0) {
            for (x, b) in s.k.iter_mut().zip(buf[k..k + 64].chunks_exact(8)) {
                *x = u64::from_le_bytes(b.try_into().unwrap());
            }
        }
    }
}

/// Length of the scratch window in the memfd.
const WINDOW_LEN: u64 = SCRATCH_END - SCRATCH_BASE;
/// Bytes of the memfd: window, then zone.
const MEMFD_LEN: u64 = WINDOW_LEN + ZONE_SIZE;

static GLOBAL: OnceLock<Result<Global, String>> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());
/// The thread (`gettid`) that holds [`LOCK`], 0 when none.
static HOLDER: AtomicI32 = AtomicI32::new(0);

/// `mmap` with `MAP_FIXED_NOREPLACE` (or anywhere when `at` is 0).
fn map(at: u64, len: u64, prot: i32, flags: i32, fd: i32, off: u64) -> Result<usize, String> {
    let fixed = if at != 0 {
        libc::MAP_FIXED_NOREPLACE
    } else {
        0
    };
    // SAFETY: a new mapping at an address nothing else uses (MAP_FIXED_NOREPLACE refuses to
    // replace an existing one); checked below.
    let p = unsafe {
        libc::mmap(
            at as *mut c_void,
            len as usize,
            prot,
            flags | fixed,
            fd,
            off as libc::off_t,
        )
    };
    if p == libc::MAP_FAILED || (at != 0 && p as u64 != at) {
        return Err(format!(
            "mmap at {at:#x} (+{len:#x}) failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(p as usize)
}

fn setup() -> Result<Global, String> {
    let x = XLayout::detect()?;
    if x.avx512.is_none() {
        eprintln!(
            "hvemu native harness: this host has no AVX-512 state (XCR0 lacks it): cases that \
             set ZMM upper halves, ZMM16-ZMM31 or opmasks fail with Error::Unsupported"
        );
    }
    // The memfd: scratch window, then the instruction zone.
    // SAFETY: a valid NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"hvemu-native".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: sizing our own memfd.
    if unsafe { libc::ftruncate(fd, MEMFD_LEN as libc::off_t) } != 0 {
        return Err("ftruncate of the memfd failed".into());
    }
    let shared = libc::MAP_SHARED;
    let anon = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    let (rw, ro, rx) = (
        libc::PROT_READ | libc::PROT_WRITE,
        libc::PROT_READ,
        libc::PROT_READ | libc::PROT_EXEC,
    );
    let none = libc::PROT_NONE;
    let alias = map(0, MEMFD_LEN, rw, shared, fd, 0)?;
    map(SCRATCH_BASE - PAGE, PAGE, none, anon, -1, 0)?;
    map(SCRATCH_BASE, SCRATCH_RW_SIZE, rw, shared, fd, 0)?;
    map(
        GUARD_PAGE,
        PAGE,
        none,
        shared,
        fd,
        GUARD_PAGE - SCRATCH_BASE,
    )?;
    // Populated, so that the page-table entry is present and a write raises #PF with P = 1.
    map(
        RO_PAGE,
        PAGE,
        ro,
        shared | libc::MAP_POPULATE,
        fd,
        RO_PAGE - SCRATCH_BASE,
    )?;
    // SAFETY: locking our own page in memory (keeps its PTE present); failure is harmless.
    unsafe { libc::mlock(RO_PAGE as *const c_void, PAGE as usize) };
    map(SCRATCH_END, PAGE, none, anon, -1, 0)?;
    map(ZONE_BASE, ZONE_SIZE, rx, shared, fd, WINDOW_LEN)?;
    map(EDGE, PAGE, none, anon, -1, 0)?;
    // SAFETY: the file descriptor is no longer needed; the mappings keep the memory.
    unsafe { libc::close(fd) };

    // Code page, control page, then the three XSAVE areas, anywhere (above 4 GiB in
    // practice; the areas are page-aligned, so 64-byte aligned).
    let xlen = x.len as u64;
    let code = map(
        0,
        2 * PAGE + (3 * xlen).next_multiple_of(PAGE),
        rw,
        anon,
        -1,
        0,
    )? as u64;
    let ctrl = code + PAGE;
    let areas = XAreas {
        mask: x.mask,
        input: ctrl + PAGE,
        output: ctrl + PAGE + xlen,
        host: ctrl + PAGE + 2 * xlen,
    };
    // SAFETY: getauxval has no preconditions.
    let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    let fsgsbase = hwcap2 & 2 != 0; // HWCAP2_FSGSBASE
    let (ds, fs, gs, ss): (u16, u16, u16, u16);
    // SAFETY: reading segment selectors has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {0:x}, ds", "mov {1:x}, fs", "mov {2:x}, gs", "mov {3:x}, ss",
            out(reg) ds, out(reg) fs, out(reg) gs, out(reg) ss,
            options(nomem, nostack, preserves_flags)
        );
    }
    let (bytes, labels) = asm::trampoline(code, ctrl, fsgsbase, ss, &areas);
    assert!(bytes.len() as u64 <= PAGE);
    // SAFETY: the code page is ours and writable; `bytes` fits in it.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), code as *mut u8, bytes.len());
    }
    // SAFETY: making our own code page read+execute.
    if unsafe { libc::mprotect(code as *mut c_void, PAGE as usize, rx) } != 0 {
        return Err("mprotect of the trampoline failed".into());
    }

    // The zone: stub, then int3 everywhere.
    let zone = (alias as u64 + WINDOW_LEN) as *mut u8;
    let stub = asm::stub(labels.epilogue);
    // SAFETY: the alias maps the whole memfd read-write; the zone is ZONE_SIZE bytes at
    // WINDOW_LEN.
    unsafe {
        core::ptr::write_bytes(zone, 0xcc, ZONE_SIZE as usize);
        core::ptr::copy_nonoverlapping(stub.as_ptr(), zone, stub.len());
    }

    let ldt_error = install_ldt().err();

    signals::install(signals::Where {
        ctrl: ctrl as usize,
        zone: (ZONE_BASE, ZONE_BASE + ZONE_SIZE),
        code: (code, code + PAGE),
        epilogue: labels.epilogue,
        restore: labels.restore,
        insn: INSN_ADDR,
    })?;
    Ok(Global {
        alias,
        ctrl: ctrl as usize,
        entry: labels.entry,
        host_ds: ds,
        host_fs: fs,
        host_gs: gs,
        host_ss: ss,
        fsgsbase,
        ldt_error,
        x,
        areas,
    })
}

/// `struct user_desc` of `modify_ldt(2)`.
#[repr(C)]
struct UserDesc {
    entry_number: u32,
    base_addr: u32,
    limit: u32,
    /// Bit 0 seg_32bit, bits 1-2 contents, bit 3 read_exec_only, bit 4 limit_in_pages, bit 5
    /// seg_not_present, bit 6 useable.
    flags: u32,
}

/// Writes the LDT: the 16-bit code segment [`CS16`] of [`Mode::Compat16`] (entry 0) and the
/// data segments of [`DataSeg::LDT`].
fn install_ldt() -> Result<(), &'static str> {
    const SEG_32BIT: u32 = 1;
    const CONTENTS_EXPAND_DOWN: u32 = 1 << 1;
    const CONTENTS_CODE: u32 = 2 << 1;
    const READ_EXEC_ONLY: u32 = 1 << 3;
    const USEABLE: u32 = 1 << 6;
    // 16-bit unless said, byte-granular, present: the code segment readable, the data
    // segments writable unless read-only, expand-up unless expand-down.
    let data = DataSeg::LDT.map(|d| {
        let flags = match d {
            DataSeg::ReadOnly16 => READ_EXEC_ONLY,
            DataSeg::ExpandDown16 => CONTENTS_EXPAND_DOWN,
            DataSeg::ExpandDown32 => SEG_32BIT | CONTENTS_EXPAND_DOWN,
            _ => 0,
        };
        (
            d.selector().unwrap_or(0),
            d.base(),
            d.limit(),
            flags | USEABLE,
        )
    });
    let code = (
        CS16 as u16,
        INSN_ADDR,
        CODE16_LIMIT,
        CONTENTS_CODE | USEABLE,
    );
    let entries = core::iter::once(code).chain(data);
    for (sel, base, limit, flags) in entries {
        let desc = UserDesc {
            entry_number: u32::from(sel >> 3),
            base_addr: base as u32,
            limit: limit as u32,
            flags,
        };
        // SAFETY: modify_ldt(0x11: write an entry) reads `size_of::<UserDesc>()` bytes at
        // `&desc`.
        let r = unsafe {
            libc::syscall(
                libc::SYS_modify_ldt,
                0x11,
                &desc as *const UserDesc,
                core::mem::size_of::<UserDesc>(),
            )
        };
        if r != 0 {
            return Err(
                "modify_ldt could not install the 16-bit code and data segments (a kernel \
                 without CONFIG_MODIFY_LDT_SYSCALL, or a seccomp filter)",
            );
        }
    }
    Ok(())
}

/// The harness. See the module documentation.
pub struct Native {
    // Fields drop in order: the watchdog and the signal stack go before the lock is released.
    _watchdog: signals::Watchdog,
    _altstack: signals::AltStack,
    _lock: MutexGuard<'static, ()>,
    g: &'static Global,
    single_step: bool,
}

impl Native {
    /// Sets up the harness on first use, then takes it for the calling thread (waiting while
    /// another thread has it) and gives this thread an alternate signal stack and a watchdog.
    /// A thread that already has a `Native` gets an error instead of a deadlock.
    pub fn new() -> Result<Native, Error> {
        let g = GLOBAL
            .get_or_init(setup)
            .as_ref()
            .map_err(|e| Error::Setup(e.clone()))?;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        if HOLDER.load(Ordering::Acquire) == tid {
            return Err(Error::Setup("this thread already has a Native".into()));
        }
        let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        HOLDER.store(tid, Ordering::Release);
        let per_thread = signals::AltStack::install()
            .and_then(|a| Ok((a, signals::Watchdog::start(WATCHDOG_MS)?)));
        let (altstack, watchdog) = per_thread.map_err(|e| {
            HOLDER.store(0, Ordering::Release);
            Error::Setup(e)
        })?;
        let c = g.ctrl as *mut Ctrl;
        // SAFETY: the control block is mapped read-write; we hold the harness.
        unsafe { write_volatile(addr_of_mut!((*c).owner_tid), tid as u64) };
        Ok(Native {
            _watchdog: watchdog,
            _altstack: altstack,
            _lock: lock,
            g,
            single_step: false,
        })
    }

    /// The XSAVE area at `addr` (`g.areas.input` or `g.areas.output`).
    fn xarea(&mut self, addr: u64) -> &mut [u8] {
        // SAFETY: both areas are `g.x.len` bytes, mapped read-write for the life of the process;
        // the trampoline is the only other user, and it runs inside `run` while no borrow made
        // here is alive (`&mut self` makes this the only one).
        unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, self.g.x.len) }
    }

    /// Turns single-stepping (TF) on or off; see the module documentation.
    pub fn set_single_step(&mut self, on: bool) {
        self.single_step = on;
    }

    /// The scratch window [`SCRATCH_BASE`]..[`SCRATCH_END`] (the bytes of not-present pages are
    /// there but never visible to a case).
    pub fn mem(&self) -> &[u8] {
        // SAFETY: the alias maps WINDOW_LEN bytes read-write for the life of the process, and
        // only a `&mut self` method (which this borrow excludes) runs a case that changes them.
        unsafe { core::slice::from_raw_parts(self.g.alias as *const u8, WINDOW_LEN as usize) }
    }

    /// The scratch window, writable (read-only pages included).
    pub fn mem_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `mem`; `&mut self` makes this the only borrow.
        unsafe { core::slice::from_raw_parts_mut(self.g.alias as *mut u8, WINDOW_LEN as usize) }
    }

    /// `len` bytes at guest address `addr`. Panics outside the window.
    pub fn read(&self, addr: u64, len: usize) -> &[u8] {
        let off = window_offset(addr, len);
        &self.mem()[off..off + len]
    }

    /// Writes `data` at guest address `addr` (any page kind). Panics outside the window.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let off = window_offset(addr, data.len());
        self.mem_mut()[off..off + data.len()].copy_from_slice(data);
    }

    /// Zeroes the whole window.
    pub fn clear_mem(&mut self) {
        self.mem_mut().fill(0);
    }

    /// Runs `bytes` (one instruction) in `mode` from `input`. Memory is the window as it is now
    /// and is left as the instruction leaves it.
    pub fn run(&mut self, mode: Mode, bytes: &[u8], input: &State) -> Result<Output, Error> {
        self.run_placed(mode, bytes, input, false)
    }

    /// [`Native::run`] with the bytes placed to end at [`EDGE`], the start of a page that is
    /// not present, instead of at [`INSN_ADDR`] with a trailing jump: the processor itself
    /// then tells whether `bytes` hold a whole instruction. When they are a proper prefix of
    /// one, its fetch faults at the edge before it runs (see [`Output::wants_more_bytes`]);
    /// when they hold it whole, it runs (or raises its own exception, #UD for an invalid
    /// encoding), and falling through is the fetch fault of the next instruction, reported
    /// as [`Outcome::Completed`] with RIP = [`EDGE`].
    pub fn run_at_edge(
        &mut self,
        mode: Mode,
        bytes: &[u8],
        input: &State,
    ) -> Result<Output, Error> {
        self.run_placed(mode, bytes, input, true)
    }

    fn run_placed(
        &mut self,
        mode: Mode,
        bytes: &[u8],
        input: &State,
        at_edge: bool,
    ) -> Result<Output, Error> {
        let len = bytes.len();
        if len == 0 || len > 15 {
            return Err(Error::Length(len));
        }
        let info = scan(mode, bytes, self.g.fsgsbase);
        if let Some(why) = info.refuse {
            return Err(Error::Refused(why));
        }
        let g = self.g;
        let ldt = mode == Mode::Compat16
            || (mode == Mode::Compat32
                && (input.es.in_ldt() || input.ds.in_ldt() || input.ss.in_ldt()));
        if let (true, Some(why)) = (ldt, g.ldt_error) {
            return Err(Error::Setup(why.into()));
        }
        g.x.encode(input, self.xarea(g.areas.input))?;
        // Compatibility mode, 32- or 16-bit code.
        let compat = mode != Mode::Long64;
        let start = if at_edge {
            EDGE - len as u64
        } else {
            INSN_ADDR
        };
        let end = start + len as u64;
        let (jmp, jlen) = if at_edge {
            ([0; asm::FALLTHROUGH_MAX], 0)
        } else {
            asm::fallthrough(mode, end, ZONE_BASE)
        };
        let zone = self.g.alias + WINDOW_LEN as usize;
        let at = zone + (start - ZONE_BASE) as usize;
        // SAFETY: INSN_ADDR + 15 + FALLTHROUGH_MAX, and EDGE - 15 to EDGE, lie inside the zone
        // of the read-write alias.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, len);
            core::ptr::copy_nonoverlapping(jmp.as_ptr(), (at + len) as *mut u8, jlen);
        }

        let mut rflags = (input.rflags & INPUT_FLAGS) | 0x202;
        if self.single_step {
            rflags |= TF;
        }
        let rsp = if compat {
            input.gpr[reg::RSP] & 0xffff_ffff
        } else {
            input.gpr[reg::RSP]
        };
        let (cs, data_sel, fs, gs) = match mode {
            Mode::Long64 => (USER_CS64, self.g.host_ds, self.g.host_fs, self.g.host_gs),
            Mode::Compat32 => (USER_CS32, USER_DS, USER_DS, USER_DS),
            Mode::Compat16 => (CS16, USER_DS, USER_DS, USER_DS),
        };
        let pick = |d: DataSeg| match d.selector() {
            Some(s) if compat => s,
            _ => data_sel,
        };
        let (ds, es) = (pick(input.ds), pick(input.es));
        // The iretq that enters the case would fault on a read-only or null SS.
        if compat && !input.ss.fits_ss() {
            return Err(Error::Refused("SS must be a writable data segment"));
        }
        let ss = match input.ss.selector() {
            Some(s) if compat => s,
            _ => self.g.host_ss,
        };
        // ESP's upper half under a 16-bit SS: that of RSP during the iretq, the frame's address.
        let entry_rsp = if compat && input.ss.stack16() {
            let frame = self.g.ctrl as u64 + core::mem::offset_of!(Ctrl, frame) as u64;
            frame & 0xffff_0000 | rsp & 0xffff
        } else {
            rsp
        };
        // The instruction pointer in CS: an offset from INSN_ADDR in 16-bit code.
        let ip = if mode == Mode::Compat16 {
            start - INSN_ADDR
        } else {
            start
        };
        let c = self.g.ctrl as *mut Ctrl;
        // SAFETY: the control block is mapped read-write for the life of the process, and no
        // case is running (we hold the harness).
        unsafe {
            write_volatile(addr_of_mut!((*c).in_gpr), input.gpr);
            write_volatile(addr_of_mut!((*c).in_ds), ds);
            write_volatile(addr_of_mut!((*c).in_es), es);
            write_volatile(addr_of_mut!((*c).in_fs), fs);
            write_volatile(addr_of_mut!((*c).in_gs), gs);
            write_volatile(addr_of_mut!((*c).in_fsbase), input.fs_base);
            write_volatile(addr_of_mut!((*c).in_gsbase), input.gs_base);
            write_volatile(
                addr_of_mut!((*c).frame),
                [ip, cs, rflags, rsp, u64::from(ss)],
            );
            write_volatile(addr_of_mut!((*c).rep_string), u64::from(info.rep_string));
            let seq = read_volatile(addr_of!((*c).seq));
            write_volatile(addr_of_mut!((*c).seq), seq.wrapping_add(1));
            write_volatile(addr_of_mut!((*c).sig), 0);
            write_volatile(addr_of_mut!((*c).harness_error), 0);
        }

        // SAFETY: `entry` is the generated trampoline, a function of no arguments that follows
        // the SysV ABI: it preserves RBX, RBP, R12–R15, RSP, MXCSR and the x87 control word,
        // and returns with DF = 0. The compiler fences keep the control-block accesses on
        // their side of the call (the signal handler writes it too).
        unsafe {
            let entry: extern "sysv64" fn() = core::mem::transmute(self.g.entry as usize);
            compiler_fence(Ordering::SeqCst);
            entry();
            compiler_fence(Ordering::SeqCst);
        }

        // SAFETY: as above; the zone bytes written before the run go back to int3.
        let (sig, code, trapno, err, cr2, sig_rip, sig_cs, harness, mut state) = unsafe {
            core::ptr::write_bytes(at as *mut u8, 0xcc, len + jlen);
            (
                read_volatile(addr_of!((*c).sig)) as i32,
                read_volatile(addr_of!((*c).sig_code)) as i32,
                read_volatile(addr_of!((*c).sig_trapno)),
                read_volatile(addr_of!((*c).sig_err)),
                read_volatile(addr_of!((*c).sig_cr2)),
                read_volatile(addr_of!((*c).sig_rip)),
                read_volatile(addr_of!((*c).sig_cs)),
                read_volatile(addr_of!((*c).harness_error)),
                State {
                    gpr: read_volatile(addr_of!((*c).out_gpr)),
                    rflags: read_volatile(addr_of!((*c).out_rflags)),
                    fs_base: read_volatile(addr_of!((*c).out_fsbase)),
                    gs_base: read_volatile(addr_of!((*c).out_gsbase)),
                    ..State::default()
                },
            )
        };
        if harness != 0 {
            return Err(Error::Harness {
                signal: sig,
                trapno,
                rip: sig_rip,
            });
        }
        // A signal in 16-bit code reports IP, an offset in CS16.
        let sig_rip = if sig != 0 && sig_cs == CS16 {
            INSN_ADDR + (sig_rip & 0xffff)
        } else {
            sig_rip
        };
        g.x.decode(self.xarea(g.areas.output), &mut state);
        state.rflags &= !TF;
        if compat {
            for r in &mut state.gpr[..8] {
                *r &= 0xffff_ffff;
            }
            state.gpr[8..].copy_from_slice(&input.gpr[8..]);
            for n in 8..32 {
                state.set_zmm(n, input.zmm(n));
            }
        }

        let insn = start..end;
        let (rip, outcome) = match (sig, trapno) {
            (0, _) => (end, Outcome::Completed),
            (signals::WATCHDOG_SIGNAL, _) => (sig_rip, Outcome::Hung),
            // Single-step trap after the instruction: wherever it went. At the stub: the trap
            // was held back one instruction (MOV SS) and the instruction fell through.
            (libc::SIGTRAP, 1) if code == libc::TRAP_TRACE => {
                let rip = if sig_rip == ZONE_BASE { end } else { sig_rip };
                (rip, Outcome::Completed)
            }
            // Landed on the int3 filler: a branch to sig_rip - 1.
            (libc::SIGTRAP, 3) if !insn.contains(&sig_rip.wrapping_sub(1)) => {
                (sig_rip - 1, Outcome::Completed)
            }
            // Fetch fault at the RIP of the fault, outside the instruction: a branch to a page
            // that cannot be executed.
            (libc::SIGSEGV, 14) if err & 0x10 != 0 && cr2 == sig_rip && !insn.contains(&cr2) => {
                (sig_rip, Outcome::Completed)
            }
            _ => (
                sig_rip,
                Outcome::Exception(Exception {
                    vector: trapno as u8,
                    error_code: err,
                    cr2: (trapno == 14).then_some(cr2),
                    signal: sig,
                    si_code: code,
                }),
            ),
        };
        if self.single_step && info.pushf && outcome == Outcome::Completed {
            // PUSHF stored the image with the harness's TF: clear it back (bit 8 = byte 1).
            let tf_byte = state.gpr[reg::RSP].wrapping_add(1);
            if page(tf_byte) == Page::ReadWrite {
                let off = window_offset(tf_byte, 1);
                self.mem_mut()[off] &= !1;
            }
        }
        Ok(Output {
            state,
            rip,
            outcome,
            entry_rsp,
            selectors: [es, cs as u16, ss, ds, fs, gs],
        })
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        // Runs before the fields (and so the lock) are dropped.
        HOLDER.store(0, Ordering::Release);
    }
}

fn window_offset(addr: u64, len: usize) -> usize {
    assert!(
        addr >= SCRATCH_BASE && addr + len as u64 <= SCRATCH_END,
        "{addr:#x}+{len} is outside the scratch window"
    );
    (addr - SCRATCH_BASE) as usize
}

/// What the harness needs to know about an instruction before running it.
struct Scan {
    refuse: Option<&'static str>,
    rep_string: bool,
    pushf: bool,
}

/// A light look at the prefixes and opcode (not a decoder: enough to refuse instructions that
/// would enter the kernel or, without FSGSBASE, touch the host's FS/GS, and to spot REP string
/// instructions and PUSHF).
fn scan(mode: Mode, bytes: &[u8], fsgsbase: bool) -> Scan {
    let mut i = 0;
    let mut rep = false;
    let mut fs_gs = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            0x64 | 0x65 => fs_gs = true,
            0x26 | 0x2e | 0x36 | 0x3e | 0x66 | 0x67 | 0xf0 => {}
            0xf2 | 0xf3 => rep = true,
            0x40..=0x4f if mode == Mode::Long64 => {}
            _ => break,
        }
        i += 1;
    }
    let op = &bytes[i.min(bytes.len())..];
    let refuse = match op {
        [0x0f, 0x05, ..] => Some("SYSCALL"),
        [0x0f, 0x34, ..] => Some("SYSENTER"),
        [0xcd, 0x80, ..] => Some("INT 0x80"),
        [0x0f, 0x01, 0xef, ..] => Some("WRPKRU"),
        _ if fsgsbase => None,
        [0x8e, m, ..] if matches!((m >> 3) & 7, 4 | 5) => Some("FS/GS load without FSGSBASE"),
        [0x0f, 0xa1 | 0xa9 | 0xb4 | 0xb5, ..] => Some("FS/GS load without FSGSBASE"),
        _ if fs_gs && mode == Mode::Long64 => Some("FS/GS override without FSGSBASE"),
        _ => None,
    };
    let first = op.first().copied().unwrap_or(0);
    Scan {
        refuse,
        rep_string: rep && matches!(first, 0x6c..=0x6f | 0xa4..=0xa7 | 0xaa..=0xaf),
        pushf: first == 0x9c,
    }
}

/// The bytes that differ between `before` and `after` (both views of the scratch window), as
/// `(guest address, bytes)` runs in address order.
pub fn diff(before: &[u8], after: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut runs: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut last_end = u64::MAX;
    // Equal 64-byte chunks (most of the window) are skipped whole.
    for (ci, (a, b)) in before.chunks(64).zip(after.chunks(64)).enumerate() {
        if a == b {
            continue;
        }
        for (j, (x, y)) in a.iter().zip(b).enumerate() {
            if x == y {
                continue;
            }
            let addr = SCRATCH_BASE + (ci * 64 + j) as u64;
            match runs.last_mut() {
                Some((_, v)) if addr == last_end => v.push(*y),
                _ => runs.push((addr, vec![*y])),
            }
            last_end = addr + 1;
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host without AVX-512 (or AVX) refuses cases that set that state, loudly.
    #[test]
    fn missing_components_are_errors() {
        let x = XLayout {
            mask: X87 | SSE | AVX,
            len: 1024,
            avx: Some(576),
            avx512: None,
        };
        let mut buf = vec![0; x.len];
        let mut s = State::default();
        s.xmm[3] = 1;
        s.ymm_hi128[15] = 2;
        assert_eq!(x.encode(&s, &mut buf), Ok(()));
        let bv = u64::from_le_bytes(buf[XS_XSTATE_BV..][..8].try_into().unwrap());
        assert_eq!(bv, SSE | AVX);
        let mut out = State::default();
        x.decode(&buf, &mut out);
        assert_eq!((out.xmm, out.ymm_hi128), (s.xmm, s.ymm_hi128));
        for set in [
            (|s: &mut State| s.k[7] = 1) as fn(&mut State),
            |s| s.zmm_hi256[0][1] = 1,
            |s| s.hi16_zmm[15][3] = 1,
        ] {
            let mut t = s;
            set(&mut t);
            assert!(matches!(x.encode(&t, &mut buf), Err(Error::Unsupported(_))));
        }
        let no_avx = XLayout {
            mask: X87 | SSE,
            avx: None,
            ..x
        };
        assert!(matches!(
            no_avx.encode(&s, &mut buf),
            Err(Error::Unsupported(_))
        ));
    }
}
