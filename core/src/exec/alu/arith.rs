//! Addition and subtraction: ADD ADC SUB SBB CMP NEG INC DEC, XADD and the compare of CMPXCHG.
//!
//! All six status flags of these instructions are defined by the architecture, so Intel and AMD
//! agree and no [`Vendor`](super::Vendor) is needed.

use super::{AluOut, mask, set_status, sign_bit, szp, update};
use crate::flags::{AF, CF, OF, STATUS};

/// Flags of `r = a + b + carry_in` (operands and result masked to `size`).
#[inline(always)]
const fn add_flags(size: u8, a: u64, b: u64, r: u64) -> u64 {
    // Bit i of `carries` is the carry out of bit i.
    let carries = (a & b) | ((a | b) & !r);
    let sign = sign_bit(size);
    let mut f = szp(size, r);
    if carries & sign != 0 {
        f |= CF;
    }
    if carries & 0x8 != 0 {
        f |= AF;
    }
    if (a ^ r) & (b ^ r) & sign != 0 {
        f |= OF;
    }
    f
}

/// Flags of `r = a - b - borrow_in` (operands and result masked to `size`).
#[inline(always)]
const fn sub_flags(size: u8, a: u64, b: u64, r: u64) -> u64 {
    // Bit i of `borrows` is the borrow out of bit i.
    let borrows = (!a & b) | ((!a | b) & r);
    let sign = sign_bit(size);
    let mut f = szp(size, r);
    if borrows & sign != 0 {
        f |= CF;
    }
    if borrows & 0x8 != 0 {
        f |= AF;
    }
    if (a ^ b) & (a ^ r) & sign != 0 {
        f |= OF;
    }
    f
}

#[inline(always)]
const fn adc_core(size: u8, a: u64, b: u64, carry: u64, rflags: u64) -> AluOut {
    let m = mask(size);
    let (a, b) = (a & m, b & m);
    let r = a.wrapping_add(b).wrapping_add(carry) & m;
    AluOut {
        value: r,
        rflags: set_status(rflags, add_flags(size, a, b, r)),
    }
}

#[inline(always)]
const fn sbb_core(size: u8, a: u64, b: u64, borrow: u64, rflags: u64) -> AluOut {
    let m = mask(size);
    let (a, b) = (a & m, b & m);
    let r = a.wrapping_sub(b).wrapping_sub(borrow) & m;
    AluOut {
        value: r,
        rflags: set_status(rflags, sub_flags(size, a, b, r)),
    }
}

/// ADD: `a + b`.
#[inline]
pub const fn add(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    adc_core(size, a, b, 0, rflags)
}

/// ADC: `a + b + CF`.
#[inline]
pub const fn adc(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    adc_core(size, a, b, rflags & CF, rflags)
}

/// SUB: `a - b`.
#[inline]
pub const fn sub(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    sbb_core(size, a, b, 0, rflags)
}

/// SBB: `a - b - CF`.
#[inline]
pub const fn sbb(size: u8, a: u64, b: u64, rflags: u64) -> AluOut {
    sbb_core(size, a, b, rflags & CF, rflags)
}

/// CMP: the flags of `a - b` (the difference is discarded). Returns the new RFLAGS.
#[inline]
pub const fn cmp(size: u8, a: u64, b: u64, rflags: u64) -> u64 {
    sbb_core(size, a, b, 0, rflags).rflags
}

/// NEG: `0 - a`; CF is set unless `a` is 0.
#[inline]
pub const fn neg(size: u8, a: u64, rflags: u64) -> AluOut {
    sbb_core(size, 0, a, 0, rflags)
}

/// INC: `a + 1`; CF is unchanged.
#[inline]
pub const fn inc(size: u8, a: u64, rflags: u64) -> AluOut {
    let out = adc_core(size, a, 1, 0, rflags);
    AluOut {
        value: out.value,
        rflags: update(rflags, STATUS & !CF, out.rflags),
    }
}

/// DEC: `a - 1`; CF is unchanged.
#[inline]
pub const fn dec(size: u8, a: u64, rflags: u64) -> AluOut {
    let out = sbb_core(size, a, 1, 0, rflags);
    AluOut {
        value: out.value,
        rflags: update(rflags, STATUS & !CF, out.rflags),
    }
}

/// XADD: the sum `dest + src` (with the flags of ADD) goes to the destination; the caller writes
/// the old `dest` to the source register.
#[inline]
pub const fn xadd(size: u8, dest: u64, src: u64, rflags: u64) -> AluOut {
    add(size, dest, src, rflags)
}

/// The compare of CMPXCHG: the flags of `CMP accumulator, dest`, and whether the two are equal
/// (ZF). When equal the processor writes the source operand to the destination; otherwise it
/// loads `dest` into the accumulator (and, as Intel documents, writes `dest` back to a memory
/// destination, so that the access is always a read-modify-write).
#[inline]
pub const fn cmpxchg(size: u8, accumulator: u64, dest: u64, rflags: u64) -> (bool, u64) {
    let m = mask(size);
    let f = cmp(size, accumulator, dest, rflags);
    (accumulator & m == dest & m, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{PF, SF, ZF};

    #[test]
    fn examples() {
        let o = add(1, 0x7f, 1, 0x2);
        assert_eq!(o.value, 0x80);
        assert_eq!(o.rflags, 0x2 | OF | SF | AF);
        let o = sub(4, 0, 1, 0x2);
        assert_eq!(o.value, 0xffff_ffff);
        assert_eq!(o.rflags, 0x2 | CF | SF | AF | PF);
        let o = inc(8, u64::MAX, 0x2 | CF);
        assert_eq!(o.value, 0);
        assert_eq!(o.rflags, 0x2 | CF | ZF | PF | AF);
        assert_eq!(neg(2, 0, 0x2 | CF).rflags, 0x2 | ZF | PF);
        assert!(cmpxchg(1, 0x1ff, 0xff, 0x2).0);
    }
}
