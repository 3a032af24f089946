//! Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR, SHLD SHRD.
//!
//! `count` is the raw count operand (CL or the immediate); it is masked to 5 bits, or 6 bits for
//! 64-bit operands, as the processor does. A masked count of 0 changes neither the destination
//! nor any flag. RCL and RCR then rotate by the masked count modulo 9 (8-bit) or 17 (16-bit).
//! SHLD and SHRD have no 8-bit form; they treat a `size` of 1 as 2.

use super::{AluOut, Vendor, bit, mask, set_status, sign_extend, szp, update, width};
use crate::flags::{AF, CF, OF};

/// The count after masking to 5 bits (6 for 64-bit operands).
#[inline(always)]
pub const fn masked_count(size: u8, count: u8) -> u32 {
    (count & if size == 8 { 0x3f } else { 0x1f }) as u32
}

#[inline(always)]
const fn unchanged(size: u8, value: u64, rflags: u64) -> AluOut {
    AluOut {
        value: value & mask(size),
        rflags,
    }
}

/// Result, CF and OF of a rotate: only CF and OF change.
#[inline(always)]
const fn rot_out(r: u64, cf: u64, of: u64, rflags: u64) -> AluOut {
    let new = flag_bits(cf, of);
    AluOut {
        value: r,
        rflags: update(rflags, CF | OF, new),
    }
}

#[inline(always)]
const fn flag_bits(cf: u64, of: u64) -> u64 {
    (cf & 1).wrapping_mul(CF) | (of & 1).wrapping_mul(OF)
}

/// `MSB(r) XOR MSB-1(r)` for a `w`-bit result, the OF of ROR, RCR and SHRD.
#[inline(always)]
const fn top_bits_xor(r: u64, w: u32) -> u64 {
    bit(r, w.wrapping_sub(1)) ^ bit(r, w.wrapping_sub(2))
}

/// The flags of a shift (SHL SHR SAR SHLD SHRD): SF ZF PF from the result, CF, OF and AF as
/// given.
#[inline(always)]
const fn shift_out(size: u8, r: u64, cf: u64, of: u64, af: u64, rflags: u64) -> AluOut {
    AluOut {
        value: r,
        rflags: set_status(rflags, szp(size, r) | flag_bits(cf, of) | (af & AF)),
    }
}

/// SHL/SAL: shift left, filling with zeros.
///
/// CF is the last bit shifted out (0 once the count exceeds the width, for 8- and 16-bit
/// operands). OF is `MSB(result) XOR CF` for a count of 1; for larger counts AMD computes it
/// the same way, and Intel leaves it unchanged (sandpile.org, P6 family). AF: see [`shift_af`].
#[inline]
pub const fn shl(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let a = value & m;
    let wide = (a as u128) << c;
    let r = wide as u64 & m;
    let cf = (wide >> w) as u64 & 1;
    let of = bit(r, w.wrapping_sub(1)) ^ cf;
    let of = multi_count_of(vendor, c, of, rflags);
    shift_out(size, r, cf, of, shift_af(vendor, rflags), rflags)
}

/// SHR: shift right, filling with zeros.
///
/// CF is the last bit shifted out (0 once the count exceeds the width). OF is the original
/// sign bit for a count of 1; for larger counts AMD sets it to `MSB(result) XOR
/// MSB-1(result)` (that is, 0 unless the count is 1) and Intel leaves it unchanged.
#[inline]
pub const fn shr(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let a = value & mask(size);
    let r = a >> c;
    let cf = bit(a, c.wrapping_sub(1)) & (c <= w) as u64;
    let of = if c == 1 { bit(a, w.wrapping_sub(1)) } else { 0 };
    let of = multi_count_of(vendor, c, of, rflags);
    shift_out(size, r, cf, of, shift_af(vendor, rflags), rflags)
}

/// SAR: shift right, filling with copies of the sign bit.
///
/// CF is the last bit shifted out (the sign bit once the count reaches the width). OF is 0 for a
/// count of 1; for larger counts AMD clears it and Intel leaves it unchanged.
#[inline]
pub const fn sar(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let s = sign_extend(size, value);
    let r = (s >> c) as u64 & mask(size);
    let cf = (s >> c.wrapping_sub(1)) as u64 & 1;
    let of = multi_count_of(vendor, c, 0, rflags);
    shift_out(size, r, cf, of, shift_af(vendor, rflags), rflags)
}

/// OF of a shift whose count is not 1: `computed` on AMD, unchanged on Intel.
#[inline(always)]
const fn multi_count_of(vendor: Vendor, c: u32, computed: u64, rflags: u64) -> u64 {
    match vendor {
        Vendor::Intel if c != 1 => (rflags & OF != 0) as u64,
        _ => computed,
    }
}

/// AF after a shift with a nonzero count (undefined in the manuals): AMD Zen 4 sets it; Intel
/// P6-family cores leave it unchanged (sandpile.org).
#[inline(always)]
pub const fn shift_af(vendor: Vendor, rflags: u64) -> u64 {
    match vendor {
        Vendor::Amd => AF,
        Vendor::Intel => rflags & AF,
    }
}

/// ROL: rotate left. CF is the bit rotated into bit 0, OF is `MSB(result) XOR CF` (the manuals
/// define OF only for a count of 1; both vendors compute it the same way for other counts).
/// For 8- and 16-bit operands a masked count that is a multiple of the width leaves the value
/// unchanged but still sets CF and OF.
#[inline]
pub const fn rol(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let _ = vendor;
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let a = value & m;
    // Widths are powers of two: the count modulo the width.
    let rc = c & w.wrapping_sub(1);
    let r = if rc == 0 {
        a
    } else {
        ((a << rc) | (a >> w.wrapping_sub(rc))) & m
    };
    let cf = r & 1;
    rot_out(r, cf, bit(r, w.wrapping_sub(1)) ^ cf, rflags)
}

/// ROR: rotate right. CF is the bit rotated into the sign bit, OF is `MSB(result) XOR
/// MSB-1(result)` (defined for a count of 1, computed the same way for other counts).
#[inline]
pub const fn ror(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let _ = vendor;
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let a = value & m;
    // Widths are powers of two: the count modulo the width.
    let rc = c & w.wrapping_sub(1);
    let r = if rc == 0 {
        a
    } else {
        ((a >> rc) | (a << w.wrapping_sub(rc))) & m
    };
    let cf = bit(r, w.wrapping_sub(1));
    rot_out(r, cf, top_bits_xor(r, w), rflags)
}

/// The rotation count of RCL/RCR: the masked count modulo 9 or 17 for 8- and 16-bit operands.
#[inline(always)]
const fn rc_count(size: u8, c: u32) -> u32 {
    match size {
        1 => c % 9,
        2 => c % 17,
        _ => c,
    }
}

/// RCL: rotate left through CF (a `width + 1`-bit rotation). OF is `MSB(result) XOR CF`, for
/// every nonzero masked count (also when the count modulo 9 or 17 is 0 and the value and CF
/// stay as they were).
#[inline]
pub const fn rcl(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let _ = vendor;
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let x = ((rflags & CF) as u128) << w | (value & m) as u128;
    let xm = (1u128 << w.wrapping_add(1)).wrapping_sub(1);
    let rc = rc_count(size, c);
    let y = ((x << rc) | (x >> w.wrapping_add(1).wrapping_sub(rc))) & xm;
    let r = y as u64 & m;
    let cf = (y >> w) as u64 & 1;
    rot_out(r, cf, bit(r, w.wrapping_sub(1)) ^ cf, rflags)
}

/// RCR: rotate right through CF (a `width + 1`-bit rotation). OF is `MSB(result) XOR
/// MSB-1(result)` for every nonzero masked count.
#[inline]
pub const fn rcr(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let _ = vendor;
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let x = ((rflags & CF) as u128) << w | (value & m) as u128;
    let xm = (1u128 << w.wrapping_add(1)).wrapping_sub(1);
    let rc = rc_count(size, c);
    let y = ((x >> rc) | (x << w.wrapping_add(1).wrapping_sub(rc))) & xm;
    let r = y as u64 & m;
    let cf = (y >> w) as u64 & 1;
    rot_out(r, cf, top_bits_xor(r, w), rflags)
}

/// SHLD: shift `dest` left, filling from the top of `src`.
///
/// CF is the last bit shifted out of `dest`, OF is `MSB(result) XOR CF` (for counts above 1 on
/// AMD; Intel leaves OF unchanged there), AF as for [`shl`].
///
/// 16-bit operands with a masked count of 16 or more, which the manuals leave undefined:
/// - AMD (measured on Zen 4) shifts `dest:src:src`, so the result is the top 16 bits of that
///   48-bit value shifted left; CF and OF are the last bit out (bit 0 of `dest`) for a count of
///   16, and both 0 for counts 17 to 31.
/// - Intel P6-family cores shift `dest:src:dest` (Bochs's model); CF is the last bit out of that
///   48-bit value; OF is unchanged.
#[inline]
pub const fn shld(size: u8, dest: u64, src: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    // There is no 8-bit form; treat a size of 1 as 2 rather than fail.
    let size = if size == 1 { 2 } else { size };
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, dest, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let (d, s) = ((dest & m) as u128, (src & m) as u128);
    // The bits that are shifted, most significant first: dest:src, or 48 bits for 16-bit.
    let (x, xw) = match (size, vendor) {
        (2, Vendor::Amd) => ((d << 32) | (s << 16) | s, 48),
        (2, Vendor::Intel) => ((d << 32) | (s << 16) | d, 48),
        _ => ((d << w) | s, w.wrapping_mul(2)),
    };
    let r = (x << c >> xw.wrapping_sub(w)) as u64 & m;
    let mut cf = (x >> xw.wrapping_sub(c)) as u64 & 1;
    let mut of = bit(r, w.wrapping_sub(1)) ^ cf;
    if size == 2 && c >= 16 && matches!(vendor, Vendor::Amd) {
        if c > 16 {
            cf = 0;
        }
        of = cf;
    }
    let of = multi_count_of(vendor, c, of, rflags);
    shift_out(size, r, cf, of, shift_af(vendor, rflags), rflags)
}

/// SHRD: shift `dest` right, filling from the bottom of `src`.
///
/// CF is the last bit shifted out of `dest`, OF is `MSB(result) XOR MSB-1(result)` (for counts
/// above 1 on AMD; Intel leaves OF unchanged there), AF as for [`shl`].
///
/// 16-bit operands with a masked count above 16, which the manuals leave undefined:
/// - AMD (measured on Zen 4) shifts `src:src:dest` right; CF is 0 and OF is computed as above.
/// - Intel P6-family cores shift `dest:src:dest` right (Bochs's model); CF is the last bit out
///   of that 48-bit value; OF is unchanged.
#[inline]
pub const fn shrd(size: u8, dest: u64, src: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    // There is no 8-bit form; treat a size of 1 as 2 rather than fail.
    let size = if size == 1 { 2 } else { size };
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, dest, rflags);
    }
    let w = width(size);
    let m = mask(size);
    let (d, s) = ((dest & m) as u128, (src & m) as u128);
    // The bits that are shifted, least significant first: src:dest, or 48 bits for 16-bit.
    let x = match (size, vendor) {
        (2, Vendor::Amd) => (s << 32) | (s << 16) | d,
        (2, Vendor::Intel) => (d << 32) | (s << 16) | d,
        _ => (s << w) | d,
    };
    let r = (x >> c) as u64 & m;
    let mut cf = (x >> c.wrapping_sub(1)) as u64 & 1;
    if size == 2 && c > 16 && matches!(vendor, Vendor::Amd) {
        cf = 0;
    }
    let of = multi_count_of(vendor, c, top_bits_xor(r, w), rflags);
    shift_out(size, r, cf, of, shift_af(vendor, rflags), rflags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{PF, SF, ZF};

    #[test]
    fn examples() {
        // Count 0 (after masking) changes nothing.
        let o = shl(4, 0x1234, 32, 0x2 | CF, Vendor::Amd);
        assert_eq!((o.value, o.rflags), (0x1234, 0x2 | CF));
        // 8-bit SHL beyond the width: result 0, CF 0.
        let o = shl(1, 0xff, 9, 0x2, Vendor::Amd);
        assert_eq!(o.value, 0);
        assert_eq!(o.rflags, 0x2 | ZF | PF | AF);
        // RCL 8-bit by 9 is a full turn: value and CF unchanged.
        let o = rcl(1, 0x81, 9, 0x2 | CF, Vendor::Amd);
        assert_eq!((o.value, o.rflags & CF), (0x81, CF));
        // SAR keeps the sign.
        assert_eq!(sar(2, 0x8000, 15, 0x2, Vendor::Amd).value, 0xffff);
        // Vendor differences: OF after a 2-bit SHL, AF after any shift.
        let amd = shl(1, 0x10, 2, 0x2 | OF, Vendor::Amd);
        let intel = shl(1, 0x10, 2, 0x2 | OF, Vendor::Intel);
        assert_eq!(amd.rflags & (OF | AF), AF);
        assert_eq!(intel.rflags & (OF | AF), OF);
        // 16-bit SHLD by 20: AMD shifts dest:src:src, Intel dest:src:dest.
        assert_eq!(shld(2, 0xabcd, 0x1234, 20, 0x2, Vendor::Amd).value, 0x2341);
        assert_eq!(
            shld(2, 0xabcd, 0x1234, 20, 0x2, Vendor::Intel).value,
            0x234a
        );
        assert_eq!(shrd(2, 0xabcd, 0x1234, 20, 0x2, Vendor::Amd).value, 0x4123);
        assert_eq!(
            shrd(2, 0xabcd, 0x1234, 20, 0x2, Vendor::Intel).value,
            0xd123
        );
        let o = shld(8, 1, 1 << 63, 1, 0x2, Vendor::Amd);
        assert_eq!((o.value, o.rflags & (CF | SF)), (3, 0));
    }
}
