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
/// the same way and Intel from the first step, `MSB(value) XOR MSB-1(value)` (see
/// `by_vendor`). AF: see [`shift_af`].
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
    let of = by_vendor(vendor, bit(r, w.wrapping_sub(1)) ^ cf, top_bits_xor(a, w));
    shift_out(size, r, cf, of, shift_af(vendor), rflags)
}

/// SHR: shift right, filling with zeros.
///
/// CF is the last bit shifted out (0 once the count exceeds the width). OF is the original
/// sign bit for a count of 1; for larger counts AMD clears it and Intel sets it to the original
/// sign bit as for a count of 1 (see `by_vendor`).
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
    let sign = bit(a, w.wrapping_sub(1));
    let of = by_vendor(vendor, if c == 1 { sign } else { 0 }, sign);
    shift_out(size, r, cf, of, shift_af(vendor), rflags)
}

/// SAR: shift right, filling with copies of the sign bit.
///
/// CF is the last bit shifted out (the sign bit once the count reaches the width). OF is 0 for a
/// count of 1, and both vendors clear it for larger counts.
#[inline]
pub const fn sar(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 {
        return unchanged(size, value, rflags);
    }
    let s = sign_extend(size, value);
    let r = (s >> c) as u64 & mask(size);
    let cf = (s >> c.wrapping_sub(1)) as u64 & 1;
    shift_out(size, r, cf, 0, shift_af(vendor), rflags)
}

/// OF of a shift or rotate by a count other than 1 (undefined in the manuals): AMD computes the
/// count-1 formula on the result, `amd`; Intel computes it for the first one-bit step, that is
/// from the original operands, `intel` (both measured: Zen 4, and a 5th-generation Xeon). For a
/// count of 1 the two agree.
#[inline(always)]
const fn by_vendor(vendor: Vendor, amd: u64, intel: u64) -> u64 {
    match vendor {
        Vendor::Amd => amd,
        Vendor::Intel => intel,
    }
}

/// AF after a shift with a nonzero count (undefined in the manuals): AMD (Zen 4) sets it, Intel
/// (5th-generation Xeon) clears it.
#[inline(always)]
pub const fn shift_af(vendor: Vendor) -> u64 {
    match vendor {
        Vendor::Amd => AF,
        Vendor::Intel => 0,
    }
}

/// ROL: rotate left. CF is the bit rotated into bit 0, OF is `MSB(result) XOR CF` (the manuals
/// define OF only for a count of 1; for other counts see `by_vendor`).
/// For 8- and 16-bit operands a masked count that is a multiple of the width leaves the value
/// unchanged but still sets CF and OF.
#[inline]
pub const fn rol(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
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
    let of = by_vendor(vendor, bit(r, w.wrapping_sub(1)) ^ cf, top_bits_xor(a, w));
    rot_out(r, cf, of, rflags)
}

/// ROR: rotate right. CF is the bit rotated into the sign bit, OF is `MSB(result) XOR
/// MSB-1(result)` (defined for a count of 1; for other counts see `by_vendor`).
#[inline]
pub const fn ror(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
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
    let of = by_vendor(
        vendor,
        top_bits_xor(r, w),
        bit(a, 0) ^ bit(a, w.wrapping_sub(1)),
    );
    rot_out(r, cf, of, rflags)
}

/// ROL of a register by an immediate count (`C0`/`C1 /0 ib` with ModRM.mod = 3): as [`rol`],
/// except that Intel (5th-generation Xeon) leaves OF unchanged for a masked count other than 1,
/// where with CL, or with a memory destination, it computes it.
#[inline]
pub const fn rol_imm(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    imm_rotate(
        rol(size, value, count, rflags, vendor),
        size,
        count,
        rflags,
        vendor,
    )
}

/// ROR of a register by an immediate count (`C0`/`C1 /1 ib`, mod = 3): OF as for [`rol_imm`].
#[inline]
pub const fn ror_imm(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    imm_rotate(
        ror(size, value, count, rflags, vendor),
        size,
        count,
        rflags,
        vendor,
    )
}

/// `out`, the outcome of [`rol`] or [`ror`] from `rflags`, with the OF of a register rotated by
/// an immediate count (see [`rol_imm`]).
#[inline(always)]
pub const fn imm_rotate(out: AluOut, size: u8, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    match vendor {
        Vendor::Intel if masked_count(size, count) != 1 => AluOut {
            value: out.value,
            rflags: update(out.rflags, OF, rflags),
        },
        _ => out,
    }
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

/// RCL: rotate left through CF (a `width + 1`-bit rotation). OF is `MSB(result) XOR CF` (for
/// counts other than 1 see `by_vendor`). When the count modulo 9 or 17 is 0, value and CF
/// stay as they were; AMD still computes OF, Intel changes no flag.
#[inline]
pub const fn rcl(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 || (rc_count(size, c) == 0 && matches!(vendor, Vendor::Intel)) {
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
    let of = by_vendor(
        vendor,
        bit(r, w.wrapping_sub(1)) ^ cf,
        top_bits_xor(value & m, w),
    );
    rot_out(r, cf, of, rflags)
}

/// RCR: rotate right through CF (a `width + 1`-bit rotation). OF is `MSB(result) XOR
/// MSB-1(result)` (for counts other than 1 see `by_vendor`); a count that is a multiple of 9
/// or 17 as for [`rcl`].
#[inline]
pub const fn rcr(size: u8, value: u64, count: u8, rflags: u64, vendor: Vendor) -> AluOut {
    let c = masked_count(size, count);
    if c == 0 || (rc_count(size, c) == 0 && matches!(vendor, Vendor::Intel)) {
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
    let cf_in = (rflags & CF != 0) as u64;
    let of = by_vendor(
        vendor,
        top_bits_xor(r, w),
        cf_in ^ bit(value & m, w.wrapping_sub(1)),
    );
    rot_out(r, cf, of, rflags)
}

/// SHLD: shift `dest` left, filling from the top of `src`.
///
/// CF is the last bit shifted out of `dest`, OF is `MSB(result) XOR CF` (for counts other than
/// 1 see `by_vendor`), AF as for [`shl`].
///
/// 16-bit operands with a masked count of 16 or more, which the manuals leave undefined:
/// - AMD (measured on Zen 4) shifts `dest:src:src`, so the result is the top 16 bits of that
///   48-bit value shifted left; CF and OF are the last bit out (bit 0 of `dest`) for a count of
///   16, and both 0 for counts 17 to 31.
/// - Intel (5th-generation Xeon, as Bochs models it) shifts `dest:src:dest`; CF is the last bit
///   out of that 48-bit value.
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
    let of = by_vendor(vendor, of, top_bits_xor(d as u64, w));
    shift_out(size, r, cf, of, shift_af(vendor), rflags)
}

/// SHRD: shift `dest` right, filling from the bottom of `src`.
///
/// CF is the last bit shifted out of `dest`, OF is `MSB(result) XOR MSB-1(result)` (for counts
/// other than 1 see `by_vendor`: Intel's is `bit 0 of src XOR MSB(dest)`), AF as for [`shl`].
///
/// 16-bit operands with a masked count above 16, which the manuals leave undefined:
/// - AMD (measured on Zen 4) shifts `src:src:dest` right; CF is 0 and OF is computed as above.
/// - Intel (5th-generation Xeon, as Bochs models it) shifts `dest:src:dest` right; CF is the
///   last bit out of that 48-bit value.
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
    let intel_of = (s as u64 & 1) ^ bit(d as u64, w.wrapping_sub(1));
    let of = by_vendor(vendor, top_bits_xor(r, w), intel_of);
    shift_out(size, r, cf, of, shift_af(vendor), rflags)
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
        // Vendor differences: OF after a 2-bit SHL (AMD from the result, Intel from the first
        // step: 0x80 << 1 changes the sign), AF after any shift.
        let amd = shl(1, 0x80, 2, 0x2 | AF, Vendor::Amd);
        let intel = shl(1, 0x80, 2, 0x2 | AF, Vendor::Intel);
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
