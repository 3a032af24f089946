//! Bit tests and scans: BT BTS BTR BTC, BSF BSR, POPCNT LZCNT TZCNT, BSWAP and MOVBE.

use super::{AluOut, Vendor, bit, flag_if, mask, set_status, sign_extend, update, width};
use crate::flags::{CF, OF, STATUS, ZF, parity};

/// The bit offset of BT/BTS/BTR/BTC within a `size`-byte operand: the offset masked to the
/// operand width, as register destinations and all immediate offsets use it.
#[inline(always)]
pub const fn bit_index(size: u8, offset: u64) -> u32 {
    (offset & (width(size) as u64).wrapping_sub(1)) as u32
}

/// For BT/BTS/BTR/BTC with a memory destination and a register offset: the byte displacement
/// to add to the effective address (the offset, sign-extended from `size` bytes, divided by the
/// operand width rounding down, times `size`), and the bit index within the operand found
/// there. The caller truncates the address to the address size.
#[inline]
pub const fn bit_mem_offset(size: u8, offset: u64) -> (i64, u32) {
    let w = width(size);
    let units = sign_extend(size, offset) >> w.trailing_zeros();
    (units.wrapping_mul(size as i64), bit_index(size, offset))
}

/// RFLAGS after BT/BTS/BTR/BTC: CF is the selected bit; ZF is unchanged; OF, SF, AF and PF
/// (undefined in the manuals) are unchanged too, as measured on Zen 4 and on a 5th-generation
/// Xeon.
#[inline(always)]
const fn bt_flags(cf: u64, rflags: u64, vendor: Vendor) -> u64 {
    let _ = vendor;
    update(rflags, CF, cf * CF)
}

/// BT: CF := the bit of `value` at `offset` (masked, see [`bit_index`]). Returns the new RFLAGS.
#[inline]
pub const fn bt(size: u8, value: u64, offset: u64, rflags: u64, vendor: Vendor) -> u64 {
    bt_flags(bit(value, bit_index(size, offset)), rflags, vendor)
}

/// BTS: as [`bt`], and set the bit.
#[inline]
pub const fn bts(size: u8, value: u64, offset: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let i = bit_index(size, offset);
    AluOut {
        value: (value | 1 << i) & mask(size),
        rflags: bt_flags(bit(value, i), rflags, vendor),
    }
}

/// BTR: as [`bt`], and clear the bit.
#[inline]
pub const fn btr(size: u8, value: u64, offset: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let i = bit_index(size, offset);
    AluOut {
        value: value & !(1 << i) & mask(size),
        rflags: bt_flags(bit(value, i), rflags, vendor),
    }
}

/// BTC: as [`bt`], and complement the bit.
#[inline]
pub const fn btc(size: u8, value: u64, offset: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let i = bit_index(size, offset);
    AluOut {
        value: (value ^ 1 << i) & mask(size),
        rflags: bt_flags(bit(value, i), rflags, vendor),
    }
}

/// RFLAGS after BSF/BSR: ZF is set when the source is 0; CF, OF, SF, AF and PF are undefined.
///
/// Both vendors (measured on Zen 4 and on a 5th-generation Xeon) clear CF, OF, SF and AF and
/// set PF from the index found (as for an index of 0 when the source is 0). Intel's P6-family
/// cores are reported to change only ZF (sandpile.org).
#[inline(always)]
const fn bs_flags(zero: bool, index: u64, rflags: u64) -> u64 {
    set_status(rflags, flag_if(zero, ZF) | parity(index))
}

/// BSF: the index of the lowest set bit of `src`. When `src` is 0, ZF is set and the
/// destination keeps its value (`dest`, returned masked): AMD documents this, and Intel
/// processors do the same in practice. The register is then not written at all: on Zen 4 a
/// 32-bit destination keeps bits 63:32 too (no zero-extension), so callers should skip the
/// write when `src & mask(size)` is 0.
#[inline]
pub const fn bsf(size: u8, dest: u64, src: u64, rflags: u64, vendor: Vendor) -> AluOut {
    // Both vendors agree (see `bs_flags`); the parameter keeps the family's signature.
    let _ = vendor;
    let s = src & mask(size);
    // 0 when the source is 0 (trailing_zeros gives 64).
    let index = s.trailing_zeros() as u64 & 63;
    AluOut {
        value: if s == 0 { dest & mask(size) } else { index },
        rflags: bs_flags(s == 0, index, rflags),
    }
}

/// BSR: the index of the highest set bit of `src`; `src` = 0 as for [`bsf`].
#[inline]
pub const fn bsr(size: u8, dest: u64, src: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let _ = vendor;
    let s = src & mask(size);
    let index = if s == 0 {
        0
    } else {
        63u64.wrapping_sub(s.leading_zeros() as u64)
    };
    AluOut {
        value: if s == 0 { dest & mask(size) } else { index },
        rflags: bs_flags(s == 0, index, rflags),
    }
}

/// POPCNT: the number of set bits. ZF is set when the source is 0; OF, SF, AF, CF and PF are
/// cleared.
#[inline]
pub const fn popcnt(size: u8, src: u64, rflags: u64) -> AluOut {
    let s = src & mask(size);
    AluOut {
        value: s.count_ones() as u64,
        rflags: set_status(rflags, flag_if(s == 0, ZF)),
    }
}

/// RFLAGS after LZCNT/TZCNT: CF when the source is 0, ZF when the result is 0; OF, SF, AF and
/// PF are undefined.
///
/// AMD (measured on Zen 4) leaves OF unchanged and clears SF, AF and PF. For Intel no
/// measurement is known to us; we clear all four.
#[inline(always)]
const fn cnt_flags(src_zero: bool, result: u64, rflags: u64, vendor: Vendor) -> u64 {
    let f = flag_if(src_zero, CF) | flag_if(result == 0, ZF);
    match vendor {
        Vendor::Amd => update(rflags, STATUS & !OF, f),
        Vendor::Intel => set_status(rflags, f),
    }
}

/// LZCNT: the number of leading zero bits (the width when the source is 0).
#[inline]
pub const fn lzcnt(size: u8, src: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let s = src & mask(size);
    // The masked source has at least `64 - width` leading zeros.
    let n = s.leading_zeros().wrapping_add(width(size)).wrapping_sub(64) as u64;
    AluOut {
        value: n,
        rflags: cnt_flags(s == 0, n, rflags, vendor),
    }
}

/// TZCNT: the number of trailing zero bits (the width when the source is 0).
#[inline]
pub const fn tzcnt(size: u8, src: u64, rflags: u64, vendor: Vendor) -> AluOut {
    let s = src & mask(size);
    let n = if s == 0 {
        width(size) as u64
    } else {
        s.trailing_zeros() as u64
    };
    AluOut {
        value: n,
        rflags: cnt_flags(s == 0, n, rflags, vendor),
    }
}

/// Byte reversal of a `size`-byte value: BSWAP for 4 and 8 bytes, MOVBE for 2, 4 and 8 bytes.
/// No flags change. (For BSWAP with a 16-bit operand see [`bswap_r16`].)
#[inline]
pub const fn bswap(size: u8, value: u64) -> u64 {
    match size {
        1 => value & 0xff,
        2 => (value as u16).swap_bytes() as u64,
        4 => (value as u32).swap_bytes() as u64,
        _ => value.swap_bytes(),
    }
}

/// MOVBE: the same byte reversal as [`bswap`].
#[inline]
pub const fn movbe(size: u8, value: u64) -> u64 {
    bswap(size, value)
}

/// BSWAP with a 16-bit operand (66 0F C8+r), undefined in the manuals: the new low 16 bits.
/// Both Zen 4 and Intel cores write 0.
#[inline]
pub const fn bswap_r16(value: u64, vendor: Vendor) -> u64 {
    let _ = (value, vendor);
    0
}
