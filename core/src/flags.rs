//! RFLAGS bits, laid out as in the architecture manuals.

/// CF: carry out of (or borrow into) the most significant bit.
pub const CF: u64 = 1 << 0;
/// Bit 1 is reserved and always reads as 1.
pub const RESERVED1: u64 = 1 << 1;
/// PF: the low byte of the result has an even number of set bits.
pub const PF: u64 = 1 << 2;
/// AF: carry out of (or borrow into) bit 3.
pub const AF: u64 = 1 << 4;
/// ZF: the result is zero.
pub const ZF: u64 = 1 << 6;
/// SF: the most significant bit of the result.
pub const SF: u64 = 1 << 7;
/// TF: single-step trap.
pub const TF: u64 = 1 << 8;
/// IF: maskable interrupts enabled.
pub const IF: u64 = 1 << 9;
/// DF: string instructions decrement.
pub const DF: u64 = 1 << 10;
/// OF: signed overflow.
pub const OF: u64 = 1 << 11;
/// IOPL: I/O privilege level (two bits).
pub const IOPL: u64 = 3 << 12;
/// NT: nested task.
pub const NT: u64 = 1 << 14;
/// RF: resume flag (suppresses instruction breakpoints for one instruction).
pub const RF: u64 = 1 << 16;
/// VM: virtual-8086 mode.
pub const VM: u64 = 1 << 17;
/// AC: alignment check (with CR0.AM at CPL 3).
pub const AC: u64 = 1 << 18;
/// VIF: virtual interrupt flag.
pub const VIF: u64 = 1 << 19;
/// VIP: virtual interrupt pending.
pub const VIP: u64 = 1 << 20;
/// ID: CPUID is available.
pub const ID: u64 = 1 << 21;

/// The six arithmetic status flags.
pub const STATUS: u64 = CF | PF | AF | ZF | SF | OF;

/// Parity flag for the low byte of `v`.
#[inline]
pub const fn parity(v: u64) -> u64 {
    if (v as u8).count_ones().is_multiple_of(2) {
        PF
    } else {
        0
    }
}
