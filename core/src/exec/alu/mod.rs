//! Pure semantics of the general-purpose ALU instructions.
//!
//! Every function here is a pure function of its operands: `size` is the operand size in bytes
//! (1, 2, 4 or 8; any other value is treated as 8), operands are `u64` of which only the low
//! `size` bytes are read, `rflags` is the RFLAGS value before the instruction, and where Intel and
//! AMD processors differ (the flags the manuals call undefined, a few undefined results) a
//! [`Vendor`] chooses. Results come back masked to `size`, with the complete new RFLAGS: only the
//! six status flags (CF, PF, AF, ZF, SF, OF) ever change.
//!
//! - [`Vendor::Amd`] is exact to the bit against an AMD Zen 4 processor, including every flag the
//!   manuals leave undefined.
//! - [`Vendor::Intel`] is exact to the bit against a 5th-generation Xeon (Emerald Rapids),
//!   likewise. Intel's cores are reported to disagree among themselves in places (P6-family
//!   parts leave more flags unchanged, per sandpile.org; SiliFuzz saw the undefined flags of
//!   IMUL vary on hybrid 12th-generation parts), so this is one core's answer, not all of them.
//!
//! The `native_alu` test of `hvemu-tests` checks the host's vendor against the host processor.
//!
//! The families: [`arith`] (ADD ADC SUB SBB CMP NEG INC DEC, XADD, the compare of CMPXCHG),
//! [`logic`] (AND OR XOR TEST NOT), [`shift`] (shifts, rotates, SHLD SHRD), [`muldiv`] (MUL IMUL
//! DIV IDIV), [`bits`] (BT BTS BTR BTC, BSF BSR, POPCNT LZCNT TZCNT, BSWAP MOVBE) and [`cond`]
//! (the sixteen condition codes of Jcc, SETcc and CMOVcc).

pub mod arith;
pub mod bits;
pub mod cond;
pub mod logic;
pub mod muldiv;
pub mod shift;

pub use crate::decode::Vendor;

use crate::flags::{SF, STATUS, ZF, parity};

/// The outcome of an instruction with one result: the value and the new RFLAGS.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AluOut {
    /// The result, masked to the operand size.
    pub value: u64,
    /// RFLAGS after the instruction (only the status flags differ from the input).
    pub rflags: u64,
}

/// All ones in the low `size` bytes (`size` other than 1, 2, 4 counts as 8).
#[inline(always)]
pub const fn mask(size: u8) -> u64 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// The operand width in bits: 8, 16, 32 or 64 (`size` other than 1, 2, 4 counts as 8).
#[inline(always)]
pub const fn width(size: u8) -> u32 {
    match size {
        1 => 8,
        2 => 16,
        4 => 32,
        _ => 64,
    }
}

/// The sign bit of a `size`-byte operand.
#[inline(always)]
pub const fn sign_bit(size: u8) -> u64 {
    1 << width(size).wrapping_sub(1)
}

/// Sign-extends the low `size` bytes of `v` to 64 bits.
#[inline(always)]
pub const fn sign_extend(size: u8, v: u64) -> i64 {
    let shift = 64u32.wrapping_sub(width(size));
    ((v << shift) as i64) >> shift
}

/// SF, ZF and PF for a result (`value` already masked to `size`).
#[inline(always)]
pub const fn szp(size: u8, value: u64) -> u64 {
    let mut f = parity(value);
    if value == 0 {
        f |= ZF;
    }
    if value & sign_bit(size) != 0 {
        f |= SF;
    }
    f
}

/// `rflags` with the flags in `which` replaced by those in `new` (bits of `new` outside `which`
/// are ignored).
#[inline(always)]
pub const fn update(rflags: u64, which: u64, new: u64) -> u64 {
    (rflags & !which) | (new & which)
}

/// `rflags` with all six status flags replaced by `status`.
#[inline(always)]
pub const fn set_status(rflags: u64, status: u64) -> u64 {
    update(rflags, STATUS, status)
}

/// The flag `f` if `cond` holds, else 0.
#[inline(always)]
pub(crate) const fn flag_if(cond: bool, f: u64) -> u64 {
    if cond { f } else { 0 }
}

/// The bit at `pos` of `v` as 0 or 1 (`pos` below 64).
#[inline(always)]
pub(crate) const fn bit(v: u64, pos: u32) -> u64 {
    (v >> (pos & 63)) & 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::PF;

    #[test]
    fn helpers() {
        assert_eq!(mask(1), 0xff);
        assert_eq!(mask(3), u64::MAX);
        assert_eq!(sign_extend(1, 0x80), -128);
        assert_eq!(sign_extend(2, 0x7fff), 0x7fff);
        assert_eq!(szp(1, 0), ZF | PF);
        assert_eq!(szp(2, 0x8001), SF);
        assert_eq!(update(0x202, STATUS, !0), 0x202 | STATUS);
    }

    /// Every function accepts any size, count and operands without panicking (the debug build
    /// checks arithmetic overflow and shift amounts).
    #[test]
    fn total_on_any_input() {
        let values = [
            0,
            1,
            0x7f,
            0x80,
            0xffff,
            0x8000_0000,
            u64::MAX,
            1 << 63,
            0x1234_5678_9abc,
        ];
        for size in (0..=17u8).chain([31, 32, 64, 128, 255]) {
            for &a in &values {
                for &b in &values {
                    for vendor in [Vendor::Amd, Vendor::Intel] {
                        let f = 0x202 | (a & STATUS);
                        let _ = (arith::add(size, a, b, f), arith::sbb(size, a, b, f));
                        let _ = (arith::neg(size, a, f), arith::dec(size, a, f));
                        let _ = (logic::xor(size, a, b, f), logic::not(size, a));
                        let _ = muldiv::mul(size, a, b, f, vendor);
                        let _ = muldiv::imul(size, a, b, f, vendor);
                        let _ = muldiv::div(size, a, b, a ^ b, f, vendor);
                        let _ = muldiv::idiv(size, a, b, a ^ b, f, vendor);
                        let _ = muldiv::idiv(size, a, b, u64::MAX, f, vendor);
                        let _ = bits::bt(size, a, b, f, vendor);
                        let _ = (
                            bits::bts(size, a, b, f, vendor),
                            bits::bit_mem_offset(size, b),
                        );
                        let _ = (
                            bits::bsf(size, a, b, f, vendor),
                            bits::bsr(size, a, b, f, vendor),
                        );
                        let _ = (
                            bits::lzcnt(size, b, f, vendor),
                            bits::tzcnt(size, b, f, vendor),
                        );
                        let _ = (bits::popcnt(size, b, f), bits::bswap(size, b));
                        for count in 0..=255u8 {
                            let _ = shift::rol(size, a, count, f, vendor);
                            let _ = shift::ror(size, a, count, f, vendor);
                            let _ = shift::rcl(size, a, count, f, vendor);
                            let _ = shift::rcr(size, a, count, f, vendor);
                            let _ = shift::shl(size, a, count, f, vendor);
                            let _ = shift::shr(size, a, count, f, vendor);
                            let _ = shift::sar(size, a, count, f, vendor);
                            let _ = shift::shld(size, a, b, count, f, vendor);
                            let _ = shift::shrd(size, a, b, count, f, vendor);
                        }
                    }
                }
            }
        }
        for code in 0..=255u8 {
            let _ = cond::holds(code, u64::MAX);
        }
    }
}
