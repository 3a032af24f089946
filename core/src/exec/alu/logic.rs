//! Bitwise logic: AND OR XOR TEST NOT.
//!
//! AND, OR, XOR and TEST clear CF and OF and set SF, ZF and PF from the result. AF is undefined
//! in the manuals; AMD Zen 4 and a 5th-generation Xeon clear it (measured), so both vendors get
//! AF = 0. NOT changes no flags.

use super::{AluOut, mask, set_status, szp};

#[inline(always)]
const fn logic_out(size: u8, r: u64, rflags: u64) -> AluOut {
    AluOut {
        value: r,
        rflags: set_status(rflags, szp(size, r)),
    }
}

/// AND: `a & b`.
#[inline]
pub const fn and(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    logic_out(size, a & b & mask(size), rflags)
}

/// OR: `a | b`.
#[inline]
pub const fn or(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    logic_out(size, (a | b) & mask(size), rflags)
}

/// XOR: `a ^ b`.
#[inline]
pub const fn xor(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    logic_out(size, (a ^ b) & mask(size), rflags)
}

/// TEST: the flags of `a & b` (the result is discarded). Returns the new RFLAGS.
#[inline]
pub const fn test(size: u8, a: u64, b: u64, rflags: u64) -> u64 {
    logic_out(size, a & b & mask(size), rflags).rflags
}

/// NOT: `!a`, masked to `size`; RFLAGS are unchanged.
#[inline]
pub const fn not(size: u8, a: u64) -> u64 {
    !a & mask(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{AF, CF, OF, PF, SF, ZF};

    #[test]
    fn examples() {
        let o = and(1, 0xf0, 0x0f, 0x2 | CF | OF | AF);
        assert_eq!(o.value, 0);
        assert_eq!(o.rflags, 0x2 | ZF | PF);
        assert_eq!(xor(2, 0x8000, 1, 0x2).rflags, 0x2 | SF);
        assert_eq!(not(4, 0), 0xffff_ffff);
    }
}
