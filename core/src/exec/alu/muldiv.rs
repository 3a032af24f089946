//! Multiplication and division: MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV.
//!
//! The double-width operand is split as `hi:lo`, each `size` bytes: for 8-bit operands `hi` is
//! AH and `lo` is AL (together AX), otherwise `hi` is rDX and `lo` is rAX.

use super::{AluOut, Vendor, mask, set_status, sign_extend, update, width};
use crate::flags::{AF, CF, OF, PF, SF, ZF, parity};

/// The outcome of a widening multiplication: the product `hi:lo` and the new RFLAGS.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MulOut {
    /// Low half of the product (AL, AX, EAX or RAX).
    pub lo: u64,
    /// High half of the product (AH, DX, EDX or RDX).
    pub hi: u64,
    /// RFLAGS after the instruction.
    pub rflags: u64,
}

/// The outcome of a division: quotient, remainder and the new RFLAGS.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DivOut {
    /// The quotient (AL, AX, EAX or RAX).
    pub quotient: u64,
    /// The remainder (AH, DX, EDX or RDX).
    pub remainder: u64,
    /// RFLAGS after the instruction.
    pub rflags: u64,
}

/// Why a division raises #DE (divide error). The processor changes nothing in either case.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DivError {
    /// The divisor is 0.
    DivideByZero,
    /// The quotient does not fit the destination.
    Overflow,
}

/// RFLAGS after a multiplication whose low half (the truncated product) is `lo`: CF = OF =
/// `overflow`. SF, ZF, AF and PF are undefined in the manuals: AMD (Zen 4) leaves them
/// unchanged; Intel (5th-generation Xeon) sets SF and PF from `lo` and clears ZF and AF, even
/// for a product of 0.
#[inline(always)]
const fn mul_flags(size: u8, lo: u64, overflow: bool, rflags: u64, vendor: Vendor) -> u64 {
    let of = if overflow { CF | OF } else { 0 };
    match vendor {
        Vendor::Amd => update(rflags, CF | OF, of),
        Vendor::Intel => {
            let sign = (lo >> width(size).wrapping_sub(1)) & 1;
            set_status(rflags, of | sign.wrapping_mul(SF) | parity(lo))
        }
    }
}

/// MUL: the unsigned product `a * b` as `hi:lo`. CF and OF are set when `hi` is not 0.
///
/// The undefined flags SF, ZF, AF and PF: see `mul_flags` (AMD leaves them unchanged; Intel sets
/// SF and PF from the low half and clears ZF and AF; both measured. Older Intel cores are
/// reported to differ, and hybrid 12th-generation parts to vary).
#[inline]
pub const fn mul(size: u8, a: u64, b: u64, rflags: u64, vendor: Vendor) -> MulOut {
    let m = mask(size);
    // Two 64-bit factors never overflow 128 bits.
    let p = ((a & m) as u128).wrapping_mul((b & m) as u128);
    let lo = p as u64 & m;
    let hi = (p >> width(size)) as u64 & m;
    MulOut {
        lo,
        hi,
        rflags: mul_flags(size, lo, hi != 0, rflags, vendor),
    }
}

/// IMUL with one operand: the signed product `a * b` as `hi:lo`. CF and OF are set when `hi:lo`
/// is not the sign extension of `lo`. Undefined flags as for [`mul`].
#[inline]
pub const fn imul(size: u8, a: u64, b: u64, rflags: u64, vendor: Vendor) -> MulOut {
    let m = mask(size);
    let p = (sign_extend(size, a) as i128).wrapping_mul(sign_extend(size, b) as i128);
    let lo = p as u64 & m;
    let hi = (p >> width(size)) as u64 & m;
    MulOut {
        lo,
        hi,
        rflags: mul_flags(size, lo, p != sign_extend(size, lo) as i128, rflags, vendor),
    }
}

/// IMUL with two or three operands (16, 32 or 64 bits): the signed product truncated to
/// `size`. CF and OF are set when the truncation changed the value; the undefined flags are as
/// for [`mul`].
#[inline]
pub const fn imul_trunc(size: u8, a: u64, b: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let out = imul(size, a, b, rflags, vendor);
    AluOut {
        value: out.lo,
        rflags: out.rflags,
    }
}

/// RFLAGS after a division (all six status flags are undefined in the manuals).
///
/// AMD (measured on Zen 4): CF and OF unchanged, AF set, SF, ZF and PF cleared. Intel leaves all
/// six unchanged (measured on a 5th-generation Xeon, as sandpile.org lists for P6-family cores).
#[inline(always)]
const fn div_flags(rflags: u64, vendor: Vendor) -> u64 {
    match vendor {
        Vendor::Amd => update(rflags, AF | SF | ZF | PF, AF),
        Vendor::Intel => rflags,
    }
}

/// The double-width dividend `hi:lo` as an unsigned 128-bit number.
#[inline(always)]
const fn dividend(size: u8, hi: u64, lo: u64) -> u128 {
    let m = mask(size);
    ((hi & m) as u128) << width(size) | (lo & m) as u128
}

/// DIV: unsigned `hi:lo / divisor`. #DE when the divisor is 0 or the quotient does not fit.
///
/// The flags are undefined in the manuals: AMD Zen 4 sets AF, clears SF, ZF and PF and keeps CF
/// and OF; Intel leaves all of them unchanged (see `div_flags`).
#[inline]
pub const fn div(
    size: u8,
    hi: u64,
    lo: u64,
    divisor: u64,
    rflags: u64,
    vendor: Vendor,
) -> Result<DivOut, DivError> {
    let m = mask(size);
    let d = (divisor & m) as u128;
    let n = dividend(size, hi, lo);
    let (Some(q), Some(r)) = (n.checked_div(d), n.checked_rem(d)) else {
        return Err(DivError::DivideByZero);
    };
    if q > m as u128 {
        return Err(DivError::Overflow);
    }
    Ok(DivOut {
        quotient: q as u64,
        remainder: r as u64,
        rflags: div_flags(rflags, vendor),
    })
}

/// IDIV: signed `hi:lo / divisor`, truncating toward zero; the remainder has the sign of the
/// dividend. #DE when the divisor is 0 or the quotient is outside the signed range of `size`
/// (the most negative quotient itself is allowed). Flags as for [`div`].
#[inline]
pub const fn idiv(
    size: u8,
    hi: u64,
    lo: u64,
    divisor: u64,
    rflags: u64,
    vendor: Vendor,
) -> Result<DivOut, DivError> {
    let m = mask(size);
    let d = sign_extend(size, divisor) as i128;
    if d == 0 {
        return Err(DivError::DivideByZero);
    }
    let shift = 128u32.wrapping_sub(width(size).wrapping_mul(2));
    let n = ((dividend(size, hi, lo) << shift) as i128) >> shift;
    let Some(q) = n.checked_div(d) else {
        return Err(DivError::Overflow);
    };
    let half = 1i128 << width(size).wrapping_sub(1);
    if q < half.wrapping_neg() || q >= half {
        return Err(DivError::Overflow);
    }
    let Some(r) = n.checked_rem(d) else {
        return Err(DivError::Overflow);
    };
    Ok(DivOut {
        quotient: q as u64 & m,
        remainder: r as u64 & m,
        rflags: div_flags(rflags, vendor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        let o = mul(1, 0x10, 0x10, 0x2, Vendor::Amd);
        assert_eq!((o.hi, o.lo), (1, 0));
        assert_eq!(o.rflags & (CF | OF), CF | OF);
        let o = imul(8, u64::MAX, u64::MAX, 0x2, Vendor::Amd);
        assert_eq!((o.hi, o.lo, o.rflags & CF), (0, 1, 0));
        assert_eq!(div(1, 1, 0, 1, 0x2, Vendor::Amd), Err(DivError::Overflow));
        assert_eq!(
            div(4, 0, 7, 0, 0x2, Vendor::Amd),
            Err(DivError::DivideByZero)
        );
        let q = idiv(1, 0xff, 0x80, 0xff, 0x2, Vendor::Amd);
        assert_eq!(q, Err(DivError::Overflow)); // -128 / -1
        let q = idiv(8, u64::MAX, 1u64 << 63, u64::MAX, 0x2, Vendor::Amd);
        assert_eq!(q, Err(DivError::Overflow));
        let q = idiv(2, 0xffff, 0xfff9, 2, 0x2, Vendor::Amd).map(|o| (o.quotient, o.remainder));
        assert_eq!(q, Ok((0xfffd, 0xffff))); // -7 / 2 = -3 rem -1
    }
}
