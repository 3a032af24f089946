//! The control block: the one page of memory that the Rust side, the generated trampoline and
//! the signal handler share.
//!
//! The Rust side fills the inputs, the trampoline reads them (RIP-relatively) and writes the
//! outputs, and the signal handler writes the `sig_*` record. It lives in an anonymous mapping
//! above 4 GiB, beside the trampoline code, out of reach of the 32-bit addresses that a case
//! in compatibility mode can form.
//!
//! The vector state does not fit in it: three XSAVE areas follow it in the same mapping (see
//! [`XAreas`]).

/// See the module documentation. Every field is written and read through a raw pointer to the
/// page (never through a Rust reference that lives across a run).
#[repr(C, align(64))]
pub(super) struct Ctrl {
    // ---- inputs, written by `Native::run` ----
    /// GPRs in hardware order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15). The RSP slot
    /// is unused: RSP comes from `frame`.
    pub in_gpr: [u64; 16],
    /// DS and ES loaded before the `iretq` (0x2b in compatibility mode).
    pub in_ds: u16,
    pub in_es: u16,
    /// FS and GS selectors and bases for the case (with FSGSBASE only).
    pub in_fs: u16,
    pub in_gs: u16,
    pub in_fsbase: u64,
    pub in_gsbase: u64,
    /// The `iretq` frame: RIP, CS, RFLAGS, RSP, SS.
    pub frame: [u64; 5],
    /// Nonzero when the instruction is a REP string instruction (single-step mode lets it run
    /// to the end instead of stopping after the first iteration).
    pub rep_string: u64,
    /// Incremented per case; the watchdog compares it between ticks.
    pub seq: u64,
    /// The `seq` that the watchdog last saw executing in the instruction zone.
    pub watchdog_seen: u64,
    /// The thread that owns the harness (`gettid`).
    pub owner_tid: u64,
    /// Set by the trampoline from just before `iretq` to the end of the epilogue: while it is
    /// set, a fault of the owner thread outside the harness code is the case's (a branch that
    /// left the instruction zone).
    pub active: u8,
    pub _pad1: [u8; 7],

    // ---- outputs, written by the epilogue ----
    pub out_gpr: [u64; 16],
    pub out_fsbase: u64,
    pub out_gsbase: u64,
    /// The epilogue's private stack: `pushfq` with RSP = &out_rflags + 8 lands in `out_rflags`.
    pub _stack: [u64; 7],
    pub out_rflags: u64,

    // ---- the signal record, written by the handler (`sig` = 0: no signal) ----
    pub sig: u64,
    pub sig_code: u64,
    pub sig_trapno: u64,
    pub sig_err: u64,
    pub sig_cr2: u64,
    pub sig_rip: u64,
    pub sig_cs: u64,
    /// Nonzero when the signal came from the trampoline itself, not from the instruction.
    pub harness_error: u64,

    // ---- host state, saved and restored by the trampoline ----
    pub host_rsp: u64,
    pub host_fsbase: u64,
    pub host_gsbase: u64,
    pub host_ds: u16,
    pub host_es: u16,
    pub host_fs: u16,
    pub host_gs: u16,
}

const _: () = assert!(core::mem::size_of::<Ctrl>() <= 4096);

/// The three XSAVE areas (standard format, 64-byte aligned, `XLayout::len` bytes each) after the
/// control page: the case's vector state in (built by `Native::run`, loaded with `xrstor64`),
/// the case's vector state out (`xsave64` in the epilogue), and the host's (`xsave64` on
/// entry, `xrstor64` on exit). All three use the requested-feature bitmap `mask`.
#[derive(Clone, Copy, Debug)]
pub(super) struct XAreas {
    /// EDX:EAX of every `xsave64`/`xrstor64`: x87, SSE and the AVX and AVX-512 components the
    /// host enables in XCR0.
    pub mask: u64,
    pub input: u64,
    pub output: u64,
    pub host: u64,
}
