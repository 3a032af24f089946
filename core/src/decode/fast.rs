//! The fast path of decoding in every mode: one-byte and 0F opcodes with only REX, 66, F2/F3 (0F
//! map) and segment prefixes, and simple operand forms. Everything else, and every
//! error, goes to the general engine. (String operations take a path of their own in every
//! mode.)
//!
//! The fast path has no opcode knowledge of its own: per opcode (and ModRM.reg for groups) it
//! looks up a 32-bit descriptor that `build` derives at compile time from the candidate lists of
//! `tables::primary` and `tables::legacy_0f`, by running the engine's candidate matching over
//! every context the fast path does not look at (W, REX.B, vendor, ModRM.rm). A descriptor names
//! the candidate that the engine would pick, the operand layout and the operand sizes; where the
//! engine's pick depends on anything else, the descriptor is 0 and the engine decodes. The same
//! descriptors serve 32-bit code (protected and compatibility mode) and 16-bit code (real and
//! protected mode): `build` marks those whose candidate or immediate size differs there
//! (`E_ONLY64`, `E_NOT16`), and the shapes have a context of their own for them (`CTX_CODE32`).

use super::insn::{Encoding, Instruction, Map, MemOperand, Mode, Operand, Prefixes, Vendor};
use super::op::Op;
use super::reg::{Reg, RegClass, Seg};
use super::table::*;
use super::tables::{legacy_0f, primary};

// Descriptor bits (0 = not handled by the fast path).
/// Candidate index in its map (or group number for `L_GROUP`).
const D_IDX: u32 = 0x3ff;
/// The opcode has a ModRM byte; the layout has an E operand.
const D_MODRM: u32 = 1 << 10;
/// Memory (register) form: not handled here.
const D_MEM_SLOW: u32 = 1 << 11;
const D_REG_SLOW: u32 = 1 << 12;
/// The table's 66/F3/F2 prefix is the candidate's mandatory prefix.
const D_MAND: u32 = 1 << 13;
/// The R operand is the register in the opcode's low bits (else ModRM.reg, or 0 without ModRM).
const D_ZREG: u32 = 1 << 14;
const D_LAYOUT_SHIFT: u32 = 15; // 4 bits: index in LAYOUTS
const D_ESPEC_SHIFT: u32 = 19; // 3 bits: register spec of E's register form (`SP_*`)
const D_EMEM_SHIFT: u32 = 22; // 3 bits: memory size code of E (`mem_size`)
const D_RSPEC_SHIFT: u32 = 25; // 3 bits: register spec of R
const D_IMM_SHIFT: u32 = 28; // 4 bits: immediate kind (`IM_*`, `IM_DX`), 0 none
/// 32-bit code picks another candidate (or none): the fast path leaves it to the engine there.
const D_ONLY64: u64 = 1 << 32;
/// The same for 16-bit code (in real or protected mode).
const D_NOT16: u64 = 1 << 33;

/// The descriptor is a group: ModRM.reg selects the descriptor in `Fast::groups`.
const L_GROUP: u32 = 15;

// Register specs.
const SP_V: u32 = 0; // general-purpose, operand size
const SP_B: u32 = 1; // 8-bit (AH..BH without REX)
const SP_W: u32 = 2;
const SP_D: u32 = 3;
const SP_Q: u32 = 4;
const SP_Y: u32 = 5; // 4 or 8 by W
const SP_X: u32 = 6; // XMM

// Immediate kinds.
const IM_B: u32 = 1;
const IM_BS: u32 = 2;
const IM_W: u32 = 3;
const IM_Z: u32 = 4;
const IM_V: u32 = 5;
const IM_JB: u32 = 6;
const IM_JZ: u32 = 7;
/// DX in the immediate's slot (the port of IN and OUT): no bytes.
const IM_DX: u32 = 10;

// Operand sources of a layout slot.
const SRC_NONE: u16 = 0;
const SRC_E: u16 = 1; // ModRM.rm register or memory
const SRC_R: u16 = 2; // ModRM.reg, opcode register or the accumulator
const SRC_I: u16 = 3; // immediate or relative branch
const SRC_ONE: u16 = 4;
const SRC_CL: u16 = 5;

const fn lay(a: u16, b: u16, c: u16) -> u16 {
    a | b << 4 | c << 8
}

/// Operand layouts: the source of each slot, four bits each. Index 0 and `L_GROUP` are unused.
const LAYOUTS: [u16; 16] = [
    0,
    lay(SRC_NONE, SRC_NONE, SRC_NONE),
    lay(SRC_E, SRC_NONE, SRC_NONE),
    lay(SRC_E, SRC_R, SRC_NONE),
    lay(SRC_R, SRC_E, SRC_NONE),
    lay(SRC_E, SRC_I, SRC_NONE),
    lay(SRC_R, SRC_E, SRC_I),
    lay(SRC_E, SRC_R, SRC_I),
    lay(SRC_E, SRC_ONE, SRC_NONE),
    lay(SRC_E, SRC_CL, SRC_NONE),
    lay(SRC_I, SRC_NONE, SRC_NONE),
    lay(SRC_R, SRC_NONE, SRC_NONE),
    lay(SRC_R, SRC_I, SRC_NONE),
    lay(SRC_E, SRC_R, SRC_CL),
    lay(SRC_I, SRC_R, SRC_NONE),
    0,
];

// ---------------------------------------------------------------------------------------------
// Compile-time construction.

/// One operand kind: (source, register spec, memory size code, immediate kind, flags).
const KF_MEM_ONLY: u32 = 1;
const KF_REG_ONLY: u32 = 2;
const KF_ZREG: u32 = 4;
const KF_ACC: u32 = 8;
const KF_BAD: u32 = 16;

const fn kind_info(k: K) -> (u16, u32, u32, u32, u32) {
    match k {
        K::None => (SRC_NONE, 0, 0, 0, 0),
        K::Eb => (SRC_E, SP_B, 1, 0, 0),
        K::Ew => (SRC_E, SP_W, 2, 0, 0),
        K::Ed => (SRC_E, SP_D, 3, 0, 0),
        K::Eq => (SRC_E, SP_Q, 4, 0, 0),
        K::Ev => (SRC_E, SP_V, 6, 0, 0),
        K::Ey => (SRC_E, SP_Y, 7, 0, 0),
        K::M => (SRC_E, 0, 0, 0, KF_MEM_ONLY),
        K::Mb => (SRC_E, 0, 1, 0, KF_MEM_ONLY),
        K::Mw => (SRC_E, 0, 2, 0, KF_MEM_ONLY),
        K::Md => (SRC_E, 0, 3, 0, KF_MEM_ONLY),
        K::Mq => (SRC_E, 0, 4, 0, KF_MEM_ONLY),
        K::Mo => (SRC_E, 0, 5, 0, KF_MEM_ONLY),
        K::Mv => (SRC_E, 0, 6, 0, KF_MEM_ONLY),
        K::My => (SRC_E, 0, 7, 0, KF_MEM_ONLY),
        K::Wx | K::W16 => (SRC_E, SP_X, 5, 0, 0),
        K::Wh | K::W8 => (SRC_E, SP_X, 4, 0, 0),
        K::Wqr | K::W4 => (SRC_E, SP_X, 3, 0, 0),
        K::We | K::W2 => (SRC_E, SP_X, 2, 0, 0),
        K::W1 => (SRC_E, SP_X, 1, 0, 0),
        K::Ux | K::U16 => (SRC_E, SP_X, 0, 0, KF_REG_ONLY),
        K::Gb => (SRC_R, SP_B, 0, 0, 0),
        K::Gd => (SRC_R, SP_D, 0, 0, 0),
        K::Gq => (SRC_R, SP_Q, 0, 0, 0),
        K::Gv => (SRC_R, SP_V, 0, 0, 0),
        K::Gy => (SRC_R, SP_Y, 0, 0, 0),
        K::Vx | K::Vh | K::V16 => (SRC_R, SP_X, 0, 0, 0),
        K::Zb => (SRC_R, SP_B, 0, 0, KF_ZREG),
        K::Zv => (SRC_R, SP_V, 0, 0, KF_ZREG),
        K::Al => (SRC_R, SP_B, 0, 0, KF_ACC),
        // The port accumulator's size rule is the candidate's (`A_PORT`, see `form_of`).
        K::RAx | K::EAx => (SRC_R, SP_V, 0, 0, KF_ACC),
        K::Dx => (SRC_I, 0, 0, IM_DX, 0),
        K::Ib => (SRC_I, 0, 0, IM_B, 0),
        K::Ibs => (SRC_I, 0, 0, IM_BS, 0),
        K::Iw => (SRC_I, 0, 0, IM_W, 0),
        K::Iz => (SRC_I, 0, 0, IM_Z, 0),
        K::Iv => (SRC_I, 0, 0, IM_V, 0),
        K::Jb => (SRC_I, 0, 0, IM_JB, 0),
        K::Jz => (SRC_I, 0, 0, IM_JZ, 0),
        K::One => (SRC_ONE, 0, 0, 0, 0),
        K::Cl => (SRC_CL, 0, 0, 0, 0),
        _ => (SRC_NONE, 0, 0, 0, KF_BAD),
    }
}

/// The descriptor of candidate `idx` of `cands` in table prefix `pfx` (0 none, 1 66, 2 F3,
/// 3 F2), or 0 when the fast path cannot produce its operands.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn cand_desc(cands: &[(u8, Cand)], idx: usize, pfx: usize) -> u32 {
    let c = &cands[idx].1;
    if c.attr & A_MODREG != 0 {
        return 0;
    }
    assert!(
        idx <= D_IDX as usize,
        "candidate index too large for the fast path"
    );
    let mut srcs = [SRC_NONE; 4];
    let (mut espec, mut emem, mut rspec, mut imm, mut flags) = (0, 0, 0, 0, 0);
    let (mut ne, mut nr, mut ni) = (0, 0, 0);
    let mut i = 0;
    while i < 4 {
        let (src, spec, mem, im, f) = kind_info(c.k[i]);
        flags |= f;
        srcs[i] = src;
        match src {
            SRC_E => {
                ne += 1;
                espec = spec;
                emem = mem;
            }
            SRC_R => {
                nr += 1;
                rspec = spec;
            }
            SRC_I => {
                ni += 1;
                imm = im;
            }
            _ => {}
        }
        i += 1;
    }
    if flags & KF_BAD != 0 || ne > 1 || nr > 1 || ni > 1 || srcs[3] != SRC_NONE {
        return 0;
    }
    // Byte operations with an operand-size operand (the engine's rules differ there).
    if c.attr & A_BYTE != 0
        && ((ne == 1 && (espec == SP_V || emem == 6)) || (nr == 1 && rspec == SP_V))
    {
        return 0;
    }
    let modrm = c.attr & A_MODRM != 0;
    // The E operand is exactly what ModRM brings; an accumulator or opcode register with
    // ModRM would read ModRM.reg.
    if modrm != (ne == 1) || (modrm && flags & (KF_ZREG | KF_ACC) != 0) {
        return 0;
    }
    let want = lay(srcs[0], srcs[1], srcs[2]);
    let mut layout = 1;
    while layout < 16 {
        if layout != L_GROUP as usize && LAYOUTS[layout] == want {
            break;
        }
        layout += 1;
    }
    if layout >= 16 {
        return 0;
    }
    let mut d = idx as u32
        | (layout as u32) << D_LAYOUT_SHIFT
        | espec << D_ESPEC_SHIFT
        | emem << D_EMEM_SHIFT
        | rspec << D_RSPEC_SHIFT
        | imm << D_IMM_SHIFT;
    if modrm {
        d |= D_MODRM;
    }
    if flags & KF_ZREG != 0 {
        d |= D_ZREG;
    }
    if flags & KF_MEM_ONLY != 0 {
        d |= D_REG_SLOW;
    }
    if flags & KF_REG_ONLY != 0 {
        d |= D_MEM_SLOW;
    }
    if pfx != 0 && c.pfx_sel() == pfx as u32 + 1 {
        d |= D_MAND;
    }
    d
}

const fn size_bit(bytes: u8) -> u64 {
    match bytes {
        2 => 1,
        4 => 2,
        8 => 4,
        _ => 0,
    }
}

/// Kinds of code the build picks candidates for: 64-bit mode, then outside it (no REX: `w` and
/// `b` false) 32-bit code, 16-bit code in protected mode and in real mode.
const CODE_64: u8 = 0;
const CODE_32: u8 = 1;
const CODE_16: u8 = 2;
const CODE_REAL: u8 = 3;

/// The engine's matching key for a legacy encoding (see `Decoder::ctx_key`) in `code` (`CODE_*`).
// Evaluated at compile time: an overflow is a compile error, not a panic.
#[allow(clippy::arithmetic_side_effects)]
const fn key_of(pfx: usize, w: bool, b: bool, intel: bool, modrm: i32, code: u8) -> u64 {
    let p66 = pfx == 1;
    let mut k: u64 = (1u64 << pfx) << KB_PFX_SHIFT;
    if code != CODE_64 {
        k |= KB_NOT64 | KB_W0_32;
        if code == CODE_REAL {
            k |= KB_REAL;
        }
        k |= if intel {
            KB_INTEL | KB_INTEL_NOT64
        } else {
            KB_AMD
        };
        let size: u8 = if code == CODE_32 { 4 } else { 2 };
        let osz = if p66 { 6 - size } else { size };
        k |= size_bit(osz) << KB_OSZ0_SHIFT | size_bit(osz) << KB_OSZ1_SHIFT;
        k |= size_bit(size) << KB_ASZ_SHIFT | KB_NOREXB;
        if p66 {
            k |= KB_66;
        }
        return k | modrm_key(modrm);
    }
    k |= KB_64 | if w { KB_W1_64 } else { KB_W0_64 };
    k |= if intel { KB_INTEL } else { KB_AMD };
    let osz0 = if w {
        8
    } else if p66 {
        2
    } else {
        4
    };
    let osz1 = if w {
        8
    } else if p66 {
        2
    } else {
        8
    };
    k |= size_bit(osz0) << KB_OSZ0_SHIFT;
    k |= size_bit(osz1) << KB_OSZ1_SHIFT;
    k |= size_bit(8) << KB_ASZ_SHIFT;
    if !b {
        k |= KB_NOREXB;
    }
    if p66 {
        k |= KB_66;
    }
    k | modrm_key(modrm)
}

/// The ModRM bits of a matching key (none for -1).
// Evaluated at compile time: an overflow is a compile error, not a panic.
#[allow(clippy::arithmetic_side_effects)]
const fn modrm_key(modrm: i32) -> u64 {
    if modrm < 0 {
        return 0;
    }
    let m = modrm as u32;
    (if m >= 0xc0 { KB_REG } else { KB_MEM })
        | 1 << (KB_MREG_SHIFT + ((m >> 3) & 7))
        | 1 << (KB_MRM_SHIFT + (m & 7))
}

const NO_MATCH: i32 = -1;
const VARIES: i32 = -2;

/// The candidate (index) the engine picks for ModRM `modrm` (-1: none), provided it is the same
/// whatever W, the vendor and (where a candidate looks at them) REX.B and ModRM.rm, in `code`
/// (`CODE_*`).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn pick(cands: &[(u8, Cand)], lo: usize, hi: usize, pfx: usize, modrm: i32, code: u8) -> i32 {
    let mut vary_rm = false;
    let mut vary_b = false;
    let mut i = lo;
    while i < hi {
        let s = cands[i].1.sel;
        vary_rm |= (s >> S_RM_SHIFT) & 15 != 15;
        vary_b |= s & S_REXB != 0;
        i += 1;
    }
    let mut res = -3;
    let mut v = 0;
    while v < 16 {
        let w = v & 1 != 0;
        let intel = v & 2 != 0;
        let b = v & 4 != 0;
        let rm_hi = v & 8 != 0;
        v += 1;
        if (b && !vary_b) || (rm_hi && !vary_rm) || (code != CODE_64 && (w || b)) {
            continue;
        }
        let mut rm = 0;
        while rm < 4 {
            let m = if modrm < 0 {
                modrm
            } else {
                (modrm & !7) | rm | if rm_hi { 4 } else { 0 }
            };
            rm += 1;
            if (modrm < 0 || !vary_rm) && rm > 1 {
                continue;
            }
            let key = key_of(pfx, w, b, intel, m, code);
            let mut c = NO_MATCH;
            let mut i = lo;
            while i < hi {
                if cands[i].1.matches(key) {
                    c = i as i32;
                    break;
                }
                i += 1;
            }
            if res == -3 {
                res = c;
            } else if res != c {
                return VARIES;
            }
        }
    }
    res
}

/// The descriptor for one ModRM.reg value (or for an opcode without ModRM), with `D_ONLY64` and
/// `D_NOT16` where 32-bit or 16-bit code picks another candidate.
const fn reg_desc(cands: &[(u8, Cand)], lo: usize, hi: usize, pfx: usize, modrm: i32) -> u64 {
    if modrm < 0 {
        let c = pick(cands, lo, hi, pfx, -1, CODE_64);
        let d = if c >= 0 {
            cand_desc(cands, c as usize, pfx) as u64
        } else {
            0
        };
        if d == 0 {
            return 0;
        }
        return d | outside64(cands, lo, hi, pfx, -1, c, -1);
    }
    let m = pick(cands, lo, hi, pfx, modrm, CODE_64);
    let r = pick(cands, lo, hi, pfx, modrm | 0xc0, CODE_64);
    let d = if m >= 0 && m == r {
        cand_desc(cands, m as usize, pfx)
    } else if m >= 0 {
        cand_desc(cands, m as usize, pfx) | D_REG_SLOW
    } else if r >= 0 {
        cand_desc(cands, r as usize, pfx) | D_MEM_SLOW
    } else {
        0
    };
    if d & (D_MEM_SLOW | D_REG_SLOW) == D_MEM_SLOW | D_REG_SLOW
        || d & !(D_MEM_SLOW | D_REG_SLOW) == 0
    {
        // Neither form: a group member must still stop the fast path.
        return (D_MEM_SLOW | D_REG_SLOW) as u64;
    }
    d as u64 | outside64(cands, lo, hi, pfx, modrm, m, r)
}

/// `D_ONLY64` and `D_NOT16` for the picks `m` (memory form, or without ModRM) and `r` (register
/// form) of 64-bit mode: set where another kind of code picks otherwise.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn outside64(
    cands: &[(u8, Cand)],
    lo: usize,
    hi: usize,
    pfx: usize,
    modrm: i32,
    m: i32,
    r: i32,
) -> u64 {
    // Candidates that look at no bit of the key that differs between kinds of code pick the
    // same in all of them.
    let code_bits = KB_64
        | KB_NOT64
        | KB_W0_64
        | KB_W1_64
        | KB_W0_32
        | KB_W1_32
        | KB_REAL
        | KB_INTEL_NOT64
        | KB_NOREXB
        | 7 << KB_OSZ0_SHIFT
        | 7 << KB_OSZ1_SHIFT
        | 7 << KB_ASZ_SHIFT;
    let mut i = lo;
    let mut looks = false;
    while i < hi {
        looks |= cands[i].1.forbids() & code_bits != 0;
        i += 1;
    }
    if !looks {
        return 0;
    }
    let mut marks = 0;
    let codes = [
        (CODE_32, D_ONLY64),
        (CODE_16, D_NOT16),
        (CODE_REAL, D_NOT16),
    ];
    let mut i = 0;
    while i < codes.len() {
        let (code, mark) = codes[i];
        let same = pick(cands, lo, hi, pfx, modrm, code) == m
            && (modrm < 0 || pick(cands, lo, hi, pfx, modrm | 0xc0, code) == r);
        if !same {
            marks |= mark;
        }
        i += 1;
    }
    marks
}

const N_GROUPS: usize = 64;
/// Room for the run-time groups (the build's, deduplicated after conversion): a power of two,
/// as the run-time group index is masked to it. Groups beyond it (the last built: rare 0F
/// groups with an F3 or F2 prefix) are left to the engine.
const N_RT_GROUPS: usize = 32;
const _: () = assert!(N_RT_GROUPS.is_power_of_two());
/// `remap` of a group left to the engine.
const NO_GROUP: u32 = u32::MAX;
const N_TABLES: usize = 6;

/// The fast path's tables: per table (primary without/with 66; 0F without prefix, with 66, F3,
/// F2) and opcode a descriptor; per group the descriptors by ModRM.reg.
struct Fast {
    tab: [[u64; 256]; N_TABLES],
    groups: [[u64; 8]; N_GROUPS],
    /// The table of each group (`tab` index): candidate indices are per map, immediate sizes
    /// per 66 prefix.
    gtab: [u8; N_GROUPS],
    ngroups: usize,
}

/// Builds the tables (at compile time).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn build() -> Fast {
    let mut f = Fast {
        tab: [[0; 256]; N_TABLES],
        groups: [[0; 8]; N_GROUPS],
        gtab: [0; N_GROUPS],
        ngroups: 0,
    };
    let mut ngroups = 0;
    let mut t = 0;
    while t < N_TABLES {
        let (cands, pfx) = if t < 2 {
            (primary::LIST, t)
        } else {
            (legacy_0f::LIST, t - 2)
        };
        let start = OpMap::index(cands);
        let mut op = 0;
        while op < 256 {
            let a = start[op];
            let lo = (a & START_MASK) as usize;
            let hi = (start[op + 1] & START_MASK) as usize;
            let mi = a & INFO_MODRM_INTEL != 0;
            let ma = a & INFO_MODRM_AMD != 0;
            // Prefixes, escapes and bytes that may start VEX/EVEX/XOP never get here.
            let excluded = if t < 2 {
                matches!(
                    op,
                    0x0f | 0x26
                        | 0x2e
                        | 0x36
                        | 0x3e
                        | 0x40..=0x4f
                        | 0x62
                        | 0x64..=0x67
                        | 0x8f
                        | 0xc4
                        | 0xc5
                        | 0xd8..=0xdf
                        | 0xf0
                        | 0xf2
                        | 0xf3
                )
            } else {
                matches!(op, 0x0f | 0x38 | 0x3a)
            };
            let mut d = 0;
            if a & INFO_ANY != 0 && mi == ma && !excluded {
                if !mi {
                    d = reg_desc(cands, lo, hi, pfx, -1);
                    if d == (D_MEM_SLOW | D_REG_SLOW) as u64 {
                        d = 0;
                    }
                } else {
                    let mut g = [0u64; 8];
                    let mut r = 0;
                    let mut same = true;
                    while r < 8 {
                        g[r] = reg_desc(cands, lo, hi, pfx, (r as i32) << 3);
                        same &= g[r] == g[0];
                        r += 1;
                    }
                    if same {
                        d = if g[0] == (D_MEM_SLOW | D_REG_SLOW) as u64 {
                            0
                        } else {
                            g[0]
                        };
                    } else {
                        let mut gi = 0;
                        while gi < ngroups {
                            let mut eq = f.gtab[gi] as usize == t;
                            let mut r = 0;
                            while r < 8 {
                                eq &= f.groups[gi][r] == g[r];
                                r += 1;
                            }
                            if eq {
                                break;
                            }
                            gi += 1;
                        }
                        if gi == ngroups {
                            assert!(ngroups < N_GROUPS, "too many fast-path groups");
                            f.groups[gi] = g;
                            f.gtab[gi] = t as u8;
                            ngroups += 1;
                        }
                        d = (gi as u32 | D_MODRM | L_GROUP << D_LAYOUT_SHIFT) as u64;
                    }
                }
            }
            f.tab[t][op] = d;
            op += 1;
        }
        t += 1;
    }
    f.ngroups = ngroups;
    f
}

/// An operation and how to produce its operands: what the fast path needs of a candidate at run
/// time (the low half of the build's form bits).
#[derive(Copy, Clone)]
struct Form {
    op: Op,
    bits: u16,
}

/// A form as the build makes it: the run-time bits and, above them, the shape's.
#[derive(Copy, Clone)]
struct BuildForm {
    op: Op,
    bits: u32,
}

/// The unused entries of `FORMS`.
const NO_FORM: Form = Form {
    op: Op::Invalid,
    bits: 0,
};

// Form bits, run time (the low 16).
const F_MAND: u32 = 1; // the table's 66/F3/F2 prefix is the candidate's mandatory prefix
const F_EMEM_SHIFT: u32 = 1; // 3 bits: memory size code of E (see `MEMSZ`)
const F_IMM_SHIFT: u32 = 4; // 4 bits: immediate kind (`IM_*`, `IM_ONE`, `IM_CL`, `IM_DX`), 0 none
const F_SLOT_E_SHIFT: u32 = 8; // 2 bits: operand slot of E (3: none)
const F_SLOT_R_SHIFT: u32 = 10; // 2 bits: operand slot of R (3: none)
const F_SLOT_I_SHIFT: u32 = 12; // 2 bits: operand slot of the immediate, 1 or CL (3: none)
const F_ZREG: u32 = 1 << 14; // R is the register in the opcode's low bits
const F_LOCK: u32 = 1 << 15; // LOCK allowed (with a memory operand)
// Form bits, build only: the operand-size rule and register specs, which with `F_MAND` make the
// shape, and the shape's number (the run time reads the descriptor's copy, `E_SHAPE_SHIFT`).
const F_RULE_SHIFT: u32 = 16; // 3 bits: operand-size rule (see `OSZ`)
const F_SHAPE_SHIFT: u32 = 19; // 5 bits: the row of 16 in `SHAPES`
const F_ESPEC_SHIFT: u32 = 24; // 3 bits: register spec of E's register form (`SP_*`)
const F_RSPEC_SHIFT: u32 = 27; // 3 bits: register spec of R

/// The form context of `OSZ` (operand-size rule and `F_MAND`) of form bits `bits`.
const fn osz_form(bits: u32) -> usize {
    (((bits >> F_RULE_SHIFT) & 7) | (bits & F_MAND) << 3) as usize
}

/// The third operand kind of the immediate slot: the constant 1, or CL.
const IM_ONE: u32 = 8;
const IM_CL: u32 = 9;

/// The slot of operand source `src` in layout `layout` (3 when it has none).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn slot_of(layout: usize, src: u16) -> u32 {
    let l = LAYOUTS[layout];
    let mut n = 0;
    while n < 3 {
        if (l >> (4 * n)) & 15 == src {
            return n;
        }
        n += 1;
    }
    3
}

// Run-time descriptor bits (0 = not handled by the fast path).
const E_IDX: u32 = N_FORMS as u32 - 1; // form index, or group index with E_GROUP
const E_MODRM: u32 = 1 << 10;
const E_MEM_SLOW: u32 = 1 << 11;
const E_REG_SLOW: u32 = 1 << 12;
/// 32-bit code is not decoded through this descriptor (see `D_ONLY64`).
const E_ONLY64: u32 = 1 << 13;
/// 16-bit code is not decoded through this descriptor (see `D_NOT16`).
const E_NOT16: u32 = 1 << 15;
const E_GROUP: u32 = 1 << 14;
/// Immediate size in bytes without REX.W (4 bits), then with REX.W (4 bits): the length, which
/// the next instruction's decode waits for in a sweep, needs no table load after this one.
const E_IMM_SHIFT: u32 = 16;
/// 5 bits: the form's shape (`F_SHAPE_SHIFT`), so that the `SHAPES` load does not wait for the
/// `FORMS` load: with cold caches, each table level is a miss.
const E_SHAPE_SHIFT: u32 = 24;
/// Descriptors of the one-byte tables that are no instruction: a prefix (the fast path reads
/// prefixes other than REX only when it sees one) and the 0F escape. Form indices start above.
const E_PREFIX: u32 = 1;
const E_ESC0F: u32 = 2;
/// Descriptor of the one-byte string operations (INS, OUTS, MOVS, CMPS, STOS, LODS, SCAS) in
/// the one-byte tables: see [`string`].
const E_STRING: u32 = 3;
const FIRST_FORM: usize = 4;

/// Room for the forms: a power of two, as the run-time form index is masked to it (no bounds
/// check); the one-byte and 0F tables need 517.
const N_FORMS: usize = 1024;
/// Room for the shapes (a power of two, as the shape field is).
const N_SHAPES: usize = 32;

/// The run-time tables: descriptors by table and opcode, by group and ModRM.reg, and the forms
/// they index (deduplicated; from `FIRST_FORM` on so that a valid descriptor is never 0 or a
/// marker).
struct Fast16 {
    tab: [[u32; 256]; N_TABLES],
    groups: [[u32; 8]; N_RT_GROUPS],
    forms: [Form; N_FORMS],
    nforms: usize,
    /// The shapes: their `F_MAND`, `F_RULE_SHIFT`, `F_ESPEC_SHIFT` and `F_RSPEC_SHIFT` fields of
    /// the form bits.
    shapes: [u32; N_SHAPES],
    nshapes: usize,
}

/// The form bits that make the shape.
const SHAPE_KEY: u32 = F_MAND | 7 << F_RULE_SHIFT | 7 << F_ESPEC_SHIFT | 7 << F_RSPEC_SHIFT;

/// Sets the shape field of form bits `bits`, adding the shape to `f` when it is new.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn with_shape(f: &mut Fast16, bits: u32) -> u32 {
    let key = bits & SHAPE_KEY;
    let mut i = 0;
    while i < f.nshapes && f.shapes[i] != key {
        i += 1;
    }
    if i == f.nshapes {
        assert!(i < N_SHAPES, "too many fast-path shapes");
        f.shapes[i] = key;
        f.nshapes += 1;
    }
    bits | (i as u32) << F_SHAPE_SHIFT
}

// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn form_of(cands: &[(u8, Cand)], d: u32) -> BuildForm {
    let c = &cands[(d & D_IDX) as usize].1;
    let rule = if c.attr & A_BYTE != 0 {
        0
    } else if c.attr & A_PORT != 0 {
        5
    } else {
        ((c.attr >> A_OSZ_SHIFT) & 3) + 1
    };
    let layout = ((d >> D_LAYOUT_SHIFT) & 15) as usize;
    let mut ik = (d >> D_IMM_SHIFT) & 15;
    let mut si = slot_of(layout, SRC_I);
    if slot_of(layout, SRC_ONE) != 3 {
        ik = IM_ONE;
        si = slot_of(layout, SRC_ONE);
    }
    if slot_of(layout, SRC_CL) != 3 {
        ik = IM_CL;
        si = slot_of(layout, SRC_CL);
    }
    let mut bits = rule << F_RULE_SHIFT
        | (d & D_MAND != 0) as u32
        | ((d >> D_ESPEC_SHIFT) & 7) << F_ESPEC_SHIFT
        | ((d >> D_EMEM_SHIFT) & 7) << F_EMEM_SHIFT
        | ((d >> D_RSPEC_SHIFT) & 7) << F_RSPEC_SHIFT
        | ik << F_IMM_SHIFT
        | slot_of(layout, SRC_E) << F_SLOT_E_SHIFT
        | slot_of(layout, SRC_R) << F_SLOT_R_SHIFT
        | si << F_SLOT_I_SHIFT;
    if d & D_ZREG != 0 {
        bits |= F_ZREG;
    }
    if c.attr & A_LOCK != 0 {
        bits |= F_LOCK;
    }
    BuildForm { op: c.op, bits }
}

/// The encoded size of the immediate of form bits `bits` in prefix context `ctx` (bits 0-3 of an
/// `OSZ` context); 0 without one.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn imm_bytes(bits: u32, ctx: usize) -> u32 {
    let ik = ((bits >> F_IMM_SHIFT) & 15) as usize;
    if ik == 0 || ik >= IM_ONE as usize {
        return 0;
    }
    let oc = (OSZ[osz_form(bits) << 4 | ctx] & 3) as usize;
    (IMMK[ik << 2 | oc] & 15) as u32
}

// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn convert(f: &mut Fast16, cands: &[(u8, Cand)], d: u64, p66: bool) -> u32 {
    let mut only64 = d & D_ONLY64 != 0;
    let mut not16 = d & D_NOT16 != 0;
    let d = d as u32;
    if d == 0 {
        return 0;
    }
    if d == D_MEM_SLOW | D_REG_SLOW {
        return E_MEM_SLOW | E_REG_SLOW;
    }
    let form = form_of(cands, d);
    // The immediate size by REX.W; a size that depends on the vendor is left to the engine.
    let p66 = (p66 as usize) << 2;
    let mut imm = 0;
    let mut w = 0;
    while w < 2 {
        let rex = w << 1 | w;
        let n = imm_bytes(form.bits, p66 | rex);
        if n != imm_bytes(form.bits, CTX_AMD | p66 | rex) {
            return if d & D_MODRM != 0 {
                E_MODRM | E_MEM_SLOW | E_REG_SLOW
            } else {
                0
            };
        }
        imm |= n << (E_IMM_SHIFT + 4 * w as u32);
        w += 1;
    }
    // 32-bit code reads the size without REX.W: where its size differs, it is left to the
    // engine there. 16-bit code reads it from `IMMS`, which must not depend on the vendor; it
    // takes the 32-bit contexts with the 66 prefix's meaning reversed, which holds only where 66
    // is no mandatory prefix.
    let (c32, c16) = (code_ctx(false, p66 != 0), code_ctx(true, p66 != 0));
    let n64 = (imm >> E_IMM_SHIFT) & 15;
    only64 |= imm_bytes(form.bits, c32) != n64 || imm_bytes(form.bits, CTX_AMD | c32) != n64;
    not16 |=
        imm_bytes(form.bits, c16) != imm_bytes(form.bits, CTX_AMD | c16) || form.bits & F_MAND != 0;
    let bits = with_shape(f, form.bits);
    // Forms alike at run time share an entry: the shape is the descriptor's.
    let form = Form {
        op: form.op,
        bits: bits as u16,
    };
    let mut fi = FIRST_FORM;
    while fi < f.nforms {
        if f.forms[fi].op as u16 == form.op as u16 && f.forms[fi].bits == form.bits {
            break;
        }
        fi += 1;
    }
    if fi == f.nforms {
        assert!(fi < N_FORMS, "too many fast-path forms");
        f.forms[fi] = form;
        f.nforms += 1;
    }
    let mut e = fi as u32 | imm | ((bits >> F_SHAPE_SHIFT) & 31) << E_SHAPE_SHIFT;
    if d & D_MODRM != 0 {
        e |= E_MODRM;
    }
    if d & D_MEM_SLOW != 0 {
        e |= E_MEM_SLOW;
    }
    if d & D_REG_SLOW != 0 {
        e |= E_REG_SLOW;
    }
    if only64 {
        e |= E_ONLY64;
    }
    if not16 {
        e |= E_NOT16;
    }
    e
}

/// Turns the build tables into the run-time ones.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn compress(b: &Fast) -> Fast16 {
    let mut f = Fast16 {
        tab: [[0; 256]; N_TABLES],
        groups: [[0; 8]; N_RT_GROUPS],
        forms: [NO_FORM; N_FORMS],
        nforms: FIRST_FORM,
        shapes: [0; N_SHAPES],
        nshapes: 0,
    };
    let mut remap = [0u32; N_GROUPS];
    let mut nrt = 0;
    let mut gi = 0;
    while gi < b.ngroups {
        let t = b.gtab[gi];
        let cands = if t >= 2 {
            legacy_0f::LIST
        } else {
            primary::LIST
        };
        let mut g = [0u32; 8];
        let mut r = 0;
        while r < 8 {
            g[r] = convert(&mut f, cands, b.groups[gi][r], t == 1 || t == 3);
            r += 1;
        }
        let mut k = 0;
        while k < nrt {
            let mut eq = true;
            let mut r = 0;
            while r < 8 {
                eq &= f.groups[k][r] == g[r];
                r += 1;
            }
            if eq {
                break;
            }
            k += 1;
        }
        if k == nrt && nrt < N_RT_GROUPS {
            f.groups[k] = g;
            nrt += 1;
        }
        remap[gi] = if k < nrt { k as u32 } else { NO_GROUP };
        gi += 1;
    }
    let mut t = 0;
    while t < N_TABLES {
        let cands = if t < 2 {
            primary::LIST
        } else {
            legacy_0f::LIST
        };
        let mut op = 0;
        while op < 256 {
            let d = b.tab[t][op];
            f.tab[t][op] = if t < 2 && op == 0x0f {
                E_ESC0F
            } else if t < 2 && PCLASS[op] != PC_OPCODE {
                E_PREFIX
            } else if t < 2 && is_string(op) {
                E_STRING
            } else if d != 0 && ((d as u32) >> D_LAYOUT_SHIFT) & 15 == L_GROUP {
                match remap[(d as u32 & D_IDX) as usize] {
                    NO_GROUP => 0,
                    g => g | E_GROUP | E_MODRM,
                }
            } else {
                convert(&mut f, cands, d, t == 1 || t == 3)
            };
            op += 1;
        }
        t += 1;
    }
    f
}

const BUILT: Fast16 = compress(&build());

/// The one-byte opcodes of the string operations.
const fn is_string(op: usize) -> bool {
    matches!(op, 0x6c..=0x6f | 0xa4..=0xa7 | 0xaa..=0xaf)
}

/// What the fast path needs of a string operation in one context: the operation, the operand
/// size and the operands (indices in `OPS`).
#[derive(Copy, Clone)]
struct StrForm {
    op: Op,
    op_size: u8,
    ops: [u8; 2],
}

const NO_STR_FORM: StrForm = StrForm {
    op: Op::Invalid,
    op_size: 0,
    ops: [OP_NONE as u8; 2],
};

/// The string operation of opcode `op` with a 66 prefix or not and REX.W or not, as the
/// engine decodes it: its candidate (the same whatever the vendor and REX.B, else the build
/// fails) and the engine's operand rules (`Decoder::operands_general`, `str_size`).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn string_form(op: usize, p66: bool, w: bool) -> StrForm {
    let cands = primary::LIST;
    let start = OpMap::index(cands);
    let lo = (start[op] & START_MASK) as usize;
    let hi = (start[op + 1] & START_MASK) as usize;
    let mut found = usize::MAX;
    let mut v = 0;
    while v < 4 {
        let key = key_of(p66 as usize, w, v & 1 != 0, v & 2 != 0, -1, CODE_64);
        let mut i = lo;
        while i < hi && !cands[i].1.matches(key) {
            i += 1;
        }
        assert!(
            i < hi && (found == usize::MAX || found == i),
            "a string operation the fast path cannot tell"
        );
        found = i;
        v += 1;
    }
    let c = &cands[found].1;
    assert!(
        c.pfx_sel() == super::table::Pfx::Any as u32 && (c.attr >> A_OSZ_SHIFT) & 3 == 0,
        "a string operation with a prefix or size rule of its own"
    );
    let osz: u8 = if w {
        8
    } else if p66 {
        2
    } else {
        4
    };
    let op_size = if c.attr & A_BYTE != 0 { 1 } else { osz };
    // Sizes as log2, the offsets of `OP_STR_SRC` and `OP_STR_DST`.
    let lg = op_size.trailing_zeros() as usize;
    let z = if op_size == 2 { 1 } else { 2 };
    let mut ops = [OP_NONE as u8; 2];
    let mut k = 0;
    while k < 4 {
        let o = match c.k[k] {
            K::None => OP_NONE,
            K::Xb => OP_STR_SRC,
            K::Yb => OP_STR_DST,
            K::Xv => OP_STR_SRC + lg,
            K::Yv => OP_STR_DST + lg,
            K::Xz => OP_STR_SRC + z,
            K::Yz => OP_STR_DST + z,
            K::Dx => OP_DX,
            K::Al => (RC_GPR8 as usize) << 4,
            K::RAx => (CLS[(SP_V as usize) << 4 | lg] as usize) << 4,
            _ => usize::MAX,
        };
        assert!(
            o != usize::MAX,
            "a string operand the fast path does not produce"
        );
        if k < 2 {
            ops[k] = o as u8;
        } else {
            assert!(
                o == OP_NONE,
                "a string operation with more than two operands"
            );
        }
        k += 1;
    }
    StrForm {
        op: c.op,
        // Port operations move at most 4 bytes, whatever REX.W says.
        op_size: if c.attr & A_PORT != 0 && op_size > 4 {
            4
        } else {
            op_size
        },
        ops,
    }
}

/// The string operations by row (opcode - 6C for INS and OUTS, opcode - A0 for the others) and
/// context (bit 0 a 66 prefix, bit 1 REX.W).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
static STRINGS: [StrForm; 64] = {
    let mut t = [NO_STR_FORM; 64];
    let mut i = 0;
    while i < 64 {
        let row = i >> 2;
        let op = if row < 4 { 0x6c + row } else { 0xa0 + row };
        if is_string(op) {
            t[i] = string_form(op, i & 1 != 0, i & 2 != 0);
        }
        i += 1;
    }
    t
};

/// What a shape's operands are in one prefix context: the fields of one `SHAPES` entry.
#[derive(Copy, Clone)]
struct Shape {
    op_size: u8,
    /// The row in `OPS` of E's register form and of R (register class × 16).
    e_row: u8,
    r_row: u8,
    /// Bits 0-1 the operand-size code, bit 2 W (the context of `MEMSZ`).
    ctx: u8,
}

const NO_SHAPE: Shape = Shape {
    op_size: 0,
    e_row: 0,
    r_row: 0,
    ctx: 0,
};

/// `Shape` by shape (rows of 16, see `F_SHAPE_SHIFT`) and prefix context (bit 3 AMD, bit 2 a 66
/// prefix, bits 0-1 `rex >> RX_PRESENT_SHIFT`): one load gives the operand size and both register classes.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const SHAPES: [Shape; N_SHAPES * 16] = {
    let mut t = [NO_SHAPE; N_SHAPES * 16];
    let mut i = 0;
    while i < BUILT.nshapes * 16 {
        let key = BUILT.shapes[i >> 4];
        let ctx = OSZ[osz_form(key) << 4 | (i & 15)] as usize;
        let espec = ((key >> F_ESPEC_SHIFT) & 7) as usize;
        let rspec = ((key >> F_RSPEC_SHIFT) & 7) as usize;
        t[i] = Shape {
            op_size: 1 << (ctx & 3),
            e_row: CLS[espec << 4 | ctx] << 4,
            r_row: CLS[rspec << 4 | ctx] << 4,
            ctx: (ctx & 7) as u8,
        };
        i += 1;
    }
    t
};

static TAB: [[u32; 256]; N_TABLES] = BUILT.tab;
static GROUPS: [[u32; 8]; N_RT_GROUPS] = BUILT.groups;
static FORMS: [Form; N_FORMS] = BUILT.forms;

// ---------------------------------------------------------------------------------------------
// Run time.

/// What a byte before the opcode is: 0 the opcode; else bits 0-1 the 66 (1), F3 (2) or F2 (3)
/// prefix, bit 2 LOCK, bits 3-5 a segment override (the segment's number + 1), bit 6 REX, bit 7
/// the address-size prefix (67: left to the engine in 64-bit mode; outside it, string
/// operations alone take the fast path with it).
const PC_OPCODE: u8 = 0;
const PC_LOCK: u8 = 4;
const PC_SEG_SHIFT: u8 = 3;
const PC_REX: u8 = 0x40;
const PC_ADDR: u8 = 0x80;

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const PCLASS: [u8; 256] = {
    let mut t = [PC_OPCODE; 256];
    let mut b = 0x40;
    while b < 0x50 {
        t[b] = PC_REX;
        b += 1;
    }
    t[0x66] = 1;
    t[0xf3] = 2;
    t[0xf2] = 3;
    t[0x26] = (Seg::Es as u8 + 1) << PC_SEG_SHIFT;
    t[0x2e] = (Seg::Cs as u8 + 1) << PC_SEG_SHIFT;
    t[0x36] = (Seg::Ss as u8 + 1) << PC_SEG_SHIFT;
    t[0x3e] = (Seg::Ds as u8 + 1) << PC_SEG_SHIFT;
    t[0x64] = (Seg::Fs as u8 + 1) << PC_SEG_SHIFT;
    t[0x65] = (Seg::Gs as u8 + 1) << PC_SEG_SHIFT;
    t[0x67] = PC_ADDR;
    t[0xf0] = PC_LOCK;
    t
};

/// The prefix context's REX bits for 32-bit code (W without a REX prefix, which 64-bit code
/// never has): the `SHAPES` and `OSZ` entries of 32-bit code. 16-bit code takes them with the
/// 66 prefix's bit reversed: its operand sizes are 32-bit code's the other way round.
const CTX_CODE32: usize = 2;
/// The prefix context's AMD bit.
const CTX_AMD: usize = 8;

/// The prefix context (bits 0-2 of the `SHAPES` and `OSZ` contexts) of 32-bit code, or of 16-bit
/// code (`code16`), with or without a 66 prefix.
const fn code_ctx(code16: bool, p66: bool) -> usize {
    ((p66 != code16) as usize) << 2 | CTX_CODE32
}

/// The operand context by form context (bits 4-6 the operand-size rule: 0 byte, 1 normal,
/// 2 d64, 3 f64, 4 REX.W ignored by AMD, 5 port (at most 4 bytes); bit 7 the 66/F3/F2 prefix
/// is mandatory, see `osz_form`) and prefixes (bit 3 AMD, bit 2 a 66 prefix, bits 0-1 the REX
/// prefix's `RX_W` and `RX_PRESENT` shifted down, see `REX_OF`, or `CTX_CODE32`): bits 0-1 the
/// operand-size code (size = 1 << code, the engine's `Decoder::op_size`), bit 2 W, bit 3 REX
/// (the context of `CLS` and `MEMSZ`).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const OSZ: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let rule = (i >> 4) & 7;
        let mand = i & 128 != 0;
        let p66 = i & 4 != 0 && !mand;
        let amd = i & 8 != 0;
        let code32 = i & 3 == CTX_CODE32;
        let w = i & 2 != 0 && !code32;
        let rex = i & 1 != 0;
        let normal = if w {
            3
        } else if p66 {
            1
        } else {
            2
        };
        t[i] = match rule {
            0 => 0,
            // Outside 64-bit mode every rule is the operand size of the code.
            _ if code32 => {
                if p66 {
                    1
                } else {
                    2
                }
            }
            1 => normal,
            2 => {
                if w || !p66 {
                    3
                } else {
                    1
                }
            }
            3 => {
                if amd && p66 && !w {
                    1
                } else {
                    3
                }
            }
            5 => {
                if p66 && !w {
                    1
                } else {
                    2
                }
            }
            _ => {
                if !amd {
                    normal
                } else if p66 && !w {
                    1
                } else {
                    2
                }
            }
        } | (w as u8) << 2
            | (rex as u8) << 3;
        i += 1;
    }
    t
};

/// Register classes of `REGS`.
const RC_GPR8: u8 = 0;
const RC_GPR8_LEGACY: u8 = 1; // 4..7 are AH..BH
const RC_GPR16: u8 = 2;
const RC_GPR32: u8 = 3;
const RC_GPR64: u8 = 4;
const RC_XMM: u8 = 5;

/// The register class (`RC_*`) of a register spec (`SP_*`) by context: bits 0-1 the
/// operand-size code, bit 2 W, bit 3 a REX prefix.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const CLS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let spec = (i >> 4) as u32;
        let oc = i & 3;
        let w = i & 4 != 0;
        let rex = i & 8 != 0;
        t[i] = match spec {
            SP_V => match oc {
                0 => RC_GPR8,
                1 => RC_GPR16,
                2 => RC_GPR32,
                _ => RC_GPR64,
            },
            SP_B => {
                if rex {
                    RC_GPR8
                } else {
                    RC_GPR8_LEGACY
                }
            }
            SP_W => RC_GPR16,
            SP_D => RC_GPR32,
            SP_Q => RC_GPR64,
            SP_Y => {
                if w {
                    RC_GPR64
                } else {
                    RC_GPR32
                }
            }
            _ => RC_XMM,
        };
        i += 1;
    }
    t
};

/// Operands: registers by class (`RC_*`, rows of 16) and number, then the other operands the
/// fast path produces (`OP_*`), so that every operand is one table entry.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const OPS: [Operand; 128] = {
    let mut t = [Operand::None; 128];
    let mut i = 0;
    while i < 96 {
        let n = (i & 15) as u8;
        let class = match i >> 4 {
            0 => RegClass::Gpr8,
            1 => {
                if n >= 4 && n < 8 {
                    RegClass::Gpr8High
                } else {
                    RegClass::Gpr8
                }
            }
            2 => RegClass::Gpr16,
            3 => RegClass::Gpr32,
            4 => RegClass::Gpr64,
            _ => RegClass::Xmm,
        };
        let num = if matches!(class, RegClass::Gpr8High) {
            n - 4
        } else {
            n
        };
        t[i] = Operand::Reg(Reg::new(class, num));
        i += 1;
    }
    t[OP_ONE] = Operand::One;
    t[OP_CL] = Operand::Reg(Reg::new(RegClass::Gpr8, 1));
    t[OP_DX] = Operand::Reg(Reg::new(RegClass::Gpr16, 2));
    let mut k = 0;
    while k < 4 {
        t[OP_IMM + k] = Operand::Imm { size: 1 << k };
        t[OP_REL + k] = Operand::Rel { size: 1 << k };
        t[OP_STR_SRC + k] = Operand::StrSrc { size: 1 << k };
        t[OP_STR_DST + k] = Operand::StrDst { size: 1 << k };
        k += 1;
    }
    t
};
const OP_NONE: usize = 127;
const OP_ONE: usize = 97;
const OP_CL: usize = 98;
const OP_DX: usize = 99;
const OP_IMM: usize = 100; // + log2 of the size
const OP_REL: usize = 104; // + log2 of the size
const OP_STR_SRC: usize = 108; // + log2 of the size
const OP_STR_DST: usize = 112; // + log2 of the size

/// The operand at `OPS[i]`.
#[inline(always)]
fn op_at(i: usize) -> Operand {
    OPS.get(i & 127).copied().unwrap_or(Operand::None)
}

/// The register `n` (0-15) of the class whose row in `OPS` is `row`.
#[inline(always)]
fn reg_op(row: u8, n: u32) -> Operand {
    op_at(usize::from(row) | n as usize)
}

/// Memory sizes by code (see `kind_info`) and context (bits 0-1 the operand-size code, bit 2
/// W).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const MEMSZ: [u16; 64] = {
    let mut t = [0u16; 64];
    let mut i = 0;
    while i < 64 {
        let code = i >> 3;
        let osz = 1u16 << (i & 3);
        let w = i & 4 != 0;
        t[i] = match code {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 4,
            4 => 8,
            5 => 16,
            6 => osz,
            _ => {
                if w {
                    8
                } else {
                    4
                }
            }
        };
        i += 1;
    }
    t
};

/// The bytes the fast path decodes from: the instruction (at most 15 bytes) and room for an
/// 8-byte read starting at any of its first 16 bytes. Reads are at positions masked to 0..16, so
/// they need no bounds checks; an instruction that would run past 15 bytes (or past the input)
/// is left to the engine by the final length check.
pub(super) const WIN: usize = 32;

/// The byte at `pos` (modulo 16).
#[inline(always)]
fn at(win: &[u8; WIN], pos: usize) -> u8 {
    win.get(pos & 15).copied().unwrap_or(0)
}

/// The 8 bytes at `pos` (modulo 16), little-endian.
#[inline(always)]
fn le8(win: &[u8; WIN], pos: usize) -> u64 {
    let p = pos & 15;
    match win
        .get(p..p.wrapping_add(8))
        .and_then(|s| s.first_chunk::<8>())
    {
        Some(a) => u64::from_le_bytes(*a),
        None => 0,
    }
}

/// The index register by SIB index with REX.X (bits 0-3) and whether there is a SIB (bit 4):
/// none without SIB, and for index 4 without REX.X.
const INDEXES: [Option<Reg>; 32] = index_regs(RegClass::Gpr64, 16);
/// `INDEXES` of 32-bit addressing in 32-bit code (no REX.X).
const INDEXES32: [Option<Reg>; 32] = index_regs(RegClass::Gpr32, 8);

/// `INDEXES` for registers of `class`, `count` of them.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn index_regs(class: RegClass, count: usize) -> [Option<Reg>; 32] {
    let mut t = [None; 32];
    let mut n = 0;
    while n < count {
        if n != 4 {
            t[16 + n] = Some(Reg::new(class, n as u8));
        }
        n += 1;
    }
    t
}

/// What an addressing form brings, by REX.B (bit 6), mod (bits 4-5), SIB (bit 3) and base
/// (bits 0-2: ModRM.rm or SIB.base).
#[derive(Copy, Clone)]
struct AddrForm {
    base: Option<Reg>,
    /// The default segment: SS for RSP and RBP as the base, else DS.
    seg: Seg,
    /// Displacement bytes.
    disp_size: u8,
    /// The shift left then arithmetic right that sign-extends the displacement bytes.
    sext: u8,
    /// -1 with a displacement, else 0 (the mask of its value).
    keep: i8,
}

const NO_ADDR_FORM: AddrForm = AddrForm {
    base: None,
    seg: Seg::Ds,
    disp_size: 0,
    sext: 0,
    keep: 0,
};

/// `AddrForm` by REX.B, mod, SIB and base (see `AddrForm`).
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const ADDR_FORMS: [AddrForm; 128] = {
    let mut t = [NO_ADDR_FORM; 128];
    let mut i = 0;
    while i < 128 {
        let md = (i >> 4) & 3;
        let has_sib = i & 8 != 0;
        let base = (i & 7) as u8 | ((i >> 3) & 8) as u8;
        // mod 0 with base 5 (either REX.B): a 32-bit displacement, and RIP as the base (without
        // SIB) or none.
        let disp32_only = md == 0 && base & 7 == 5;
        let disp_size: u8 = match md {
            1 => 1,
            2 => 4,
            _ => {
                if disp32_only {
                    4
                } else {
                    0
                }
            }
        };
        t[i] = AddrForm {
            base: if !disp32_only {
                Some(Reg::new(RegClass::Gpr64, base))
            } else if has_sib {
                None
            } else {
                Some(Reg::RIP)
            },
            seg: if !disp32_only && (base == 4 || base == 5) {
                Seg::Ss
            } else {
                Seg::Ds
            },
            disp_size,
            sext: (64 - 8 * disp_size) & 63,
            keep: if disp_size == 0 { 0 } else { -1 },
        };
        i += 1;
    }
    t
};

/// Fills `m` ([`MemOperand::EMPTY`] but for the size) with the memory operand of ModRM `modrm`
/// (mod != 3) with 64-bit addressing (`forms` and `indexes` are `ADDR_FORMS` and `INDEXES`) or,
/// in 32-bit code, 32-bit addressing (`ADDR_FORMS32`, `INDEXES32`, `rex` 0), SIB and
/// displacement at `*pos` (advanced past them). Without a branch (which addressing form comes
/// next is hard to predict): every field is one table entry or a few operations.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn mem_sib(
    win: &[u8; WIN],
    pos: &mut usize,
    modrm: u8,
    rex: u8,
    ovr: Option<Seg>,
    m: &mut MemOperand,
    forms: &[AddrForm],
    indexes: &[Option<Reg>],
) {
    // Word-sized arithmetic throughout: byte operations cost extra instructions to merge.
    let (modrm, rex) = (u32::from(modrm), u32::from(rex));
    let rm = modrm & 7;
    let has_sib = rm == 4;
    // Without SIB, the fields of a SIB with no index, scale 1 and ModRM.rm as the base.
    let sib = core::hint::select_unpredictable(has_sib, u32::from(at(win, *pos)), 0x20 | rm);
    let f = forms
        .get(((rex & 1) << 6 | (modrm >> 2) & 0x30 | (has_sib as u32) << 3 | (sib & 7)) as usize)
        .copied()
        .unwrap_or(NO_ADDR_FORM);
    m.base = f.base;
    m.seg = match ovr {
        Some(s) => s,
        None => f.seg,
    };
    m.index = indexes
        .get((((sib >> 3) & 7) | (rex & 2) << 2 | (has_sib as u32) << 4) as usize)
        .copied()
        .unwrap_or(None);
    m.scale = SCALES.get((sib >> 6) as usize).copied().unwrap_or(1);
    let dpos = pos.wrapping_add(has_sib as usize);
    let sh = u32::from(f.sext);
    m.disp = (le8(win, dpos).wrapping_shl(sh) as i64).wrapping_shr(sh) & i64::from(f.keep);
    m.disp_size = f.disp_size;
    *pos = dpos.wrapping_add(f.disp_size as usize);
}

/// The scale by SIB.scale.
const SCALES: [u8; 4] = [1, 2, 4, 8];

/// `AddrForm` of 32-bit addressing in 32-bit code by mod (bits 4-5), SIB (bit 3) and base (bits
/// 0-2): no REX, and mod 0 with base 5 is a displacement alone.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const ADDR_FORMS32: [AddrForm; 64] = {
    let mut t = [NO_ADDR_FORM; 64];
    let mut i = 0;
    while i < 64 {
        let f = ADDR_FORMS[i];
        t[i] = AddrForm {
            base: match f.base {
                Some(r) if r.class as u8 == RegClass::Gpr64 as u8 => {
                    Some(Reg::new(RegClass::Gpr32, r.num))
                }
                _ => None,
            },
            ..f
        };
        i += 1;
    }
    t
};

/// What a 16-bit addressing form brings, by mod (bits 3-4) and ModRM.rm (bits 0-2).
#[derive(Copy, Clone)]
struct AddrForm16 {
    base: Option<Reg>,
    index: Option<Reg>,
    /// The default segment: SS with BP as the base, else DS.
    seg: Seg,
    /// Displacement bytes.
    disp_size: u8,
    /// The shift left then arithmetic right that sign-extends the displacement bytes.
    sext: u8,
    /// -1 with a displacement, else 0 (the mask of its value).
    keep: i8,
}

const NO_ADDR_FORM16: AddrForm16 = AddrForm16 {
    base: None,
    index: None,
    seg: Seg::Ds,
    disp_size: 0,
    sext: 0,
    keep: 0,
};

/// `AddrForm16` by mod and ModRM.rm: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (a displacement
/// alone with mod 0), BX.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const ADDR_FORMS16: [AddrForm16; 32] = {
    const BASE: [u8; 8] = [3, 3, 5, 5, 6, 7, 5, 3];
    const INDEX: [u8; 8] = [6, 7, 6, 7, 8, 8, 8, 8];
    let mut t = [NO_ADDR_FORM16; 32];
    let mut i = 0;
    while i < 32 {
        let md = i >> 3;
        let rm = i & 7;
        let disp_only = md == 0 && rm == 6;
        let disp_size: u8 = match md {
            1 => 1,
            2 => 2,
            _ => {
                if disp_only {
                    2
                } else {
                    0
                }
            }
        };
        let base = if disp_only { 8 } else { BASE[rm] };
        t[i] = AddrForm16 {
            base: if base < 8 {
                Some(Reg::new(RegClass::Gpr16, base))
            } else {
                None
            },
            index: if INDEX[rm] < 8 {
                Some(Reg::new(RegClass::Gpr16, INDEX[rm]))
            } else {
                None
            },
            seg: if base == 5 { Seg::Ss } else { Seg::Ds },
            disp_size,
            sext: (64 - 8 * disp_size) & 63,
            keep: if disp_size == 0 { 0 } else { -1 },
        };
        i += 1;
    }
    t
};

/// [`mem_sib`] for 16-bit addressing in 16-bit code.
#[inline(always)]
fn mem16(win: &[u8; WIN], pos: &mut usize, modrm: u8, ovr: Option<Seg>, m: &mut MemOperand) {
    let f = ADDR_FORMS16
        .get(((modrm >> 3) & 0x18 | modrm & 7) as usize)
        .copied()
        .unwrap_or(NO_ADDR_FORM16);
    m.base = f.base;
    m.index = f.index;
    m.seg = match ovr {
        Some(s) => s,
        None => f.seg,
    };
    m.scale = 1;
    let sh = u32::from(f.sext);
    m.disp = (le8(win, *pos).wrapping_shl(sh) as i64).wrapping_shr(sh) & i64::from(f.keep);
    m.disp_size = f.disp_size;
    *pos = pos.wrapping_add(f.disp_size as usize);
}

/// Legacy prefixes and REX before the opcode.
struct Pfx {
    /// Position of the opcode.
    pos: usize,
    /// The REX prefix in effect, as `REX_OF` gives it.
    rex: u8,
    /// 0, 1 (66), 2 (F3) or 3 (F2): the last of them.
    pfx: usize,
    /// More than one of 66, F3 and F2: only string operations take the fast path then.
    mixed: bool,
    /// The prefix flags of 66, F3 and F2, and REP or REPNE by the last of F3 and F2.
    flags: u16,
    lock: bool,
    /// The segment override in effect.
    ovr: Option<Seg>,
    /// An address-size prefix (67), outside 64-bit mode (64-bit mode leaves it to the engine):
    /// only string operations take the fast path with it.
    addr67: bool,
}

/// A REX prefix as the fast path keeps it (0 for none): B, X and R in bits 0-2 as encoded,
/// `RX_PRESENT` and `RX_W` at the bits of `Prefixes::REX` and `Prefixes::W` (so the prefix flags
/// need no shifts, and the `SHAPES` context takes `rex >> RX_PRESENT_SHIFT`).
const RX_PRESENT_SHIFT: u32 = 5;
const RX_PRESENT: u8 = 1 << RX_PRESENT_SHIFT;
const RX_W: u8 = 0x40;
const _: () = assert!(RX_PRESENT as u16 == Prefixes::REX && RX_W as u16 == Prefixes::W);

/// `rex` by byte: the REX prefixes 40-4F as the fast path keeps them, 0 for other bytes.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const REX_OF: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0x40;
    while b < 0x50 {
        t[b] = RX_PRESENT | ((b as u8 & 8) << 3) | (b as u8 & 7);
        b += 1;
    }
    t
};

/// Segment overrides by number + 1.
const OVR: [Option<Seg>; 8] = [
    None,
    Some(Seg::Es),
    Some(Seg::Cs),
    Some(Seg::Ss),
    Some(Seg::Ds),
    Some(Seg::Fs),
    Some(Seg::Gs),
    None,
];

/// Reads the prefixes, or returns `None` for anything the fast path leaves to the engine.
/// Each byte is one table entry (see `PCLASS`) folded into the state without a branch but the
/// loop's and the rare exits; what only the last byte decides (REX) is read after the loop.
/// Outside 64-bit mode (`CODE` other than `CODE_64`) 40-4F are opcodes and there is no REX.
#[inline(always)]
fn prefixes<const CODE: u8>(win: &[u8; WIN]) -> Option<Pfx> {
    let outside64 = CODE != CODE_64;
    let mut pos = 0;
    // Bit x for each legacy prefix x (0 none, 1 66, 2 F3, 3 F2) seen; the last of 66, F3 and
    // F2, the last of F3 and F2; all classes ORed (for LOCK).
    let mut seen = 0u8;
    let mut pfx = 0;
    let mut rep = 0;
    let mut all = 0;
    // Segment numbers + 1 (0 none): the last override, the last FS or GS override.
    let mut seg = 0;
    let mut fsgs = 0;
    loop {
        if pos >= super::MAX_LEN {
            return None;
        }
        let c = PCLASS
            .get(at(win, pos) as usize)
            .copied()
            .unwrap_or(PC_ADDR);
        if c == PC_OPCODE || (outside64 && c == PC_REX) {
            break;
        }
        if c & PC_ADDR != 0 && !outside64 {
            return None;
        }
        let x = (c & 3) as usize;
        seen |= 1 << x;
        pfx = if x != 0 { x } else { pfx };
        rep = if x >= 2 { x } else { rep };
        all |= c;
        let s = c >> PC_SEG_SHIFT & 7;
        seg = if s != 0 { s } else { seg };
        fsgs = if s > Seg::Fs as u8 { s } else { fsgs };
        pos = pos.wrapping_add(1);
    }
    // REX counts only right before the opcode (a legacy prefix after it cancels it).
    let rex = if pos != 0 && !outside64 {
        REX_OF
            .get(at(win, pos.wrapping_sub(1)) as usize)
            .copied()
            .unwrap_or(0)
    } else {
        0
    };
    // In 64-bit mode FS and GS win over the others (which it ignores); elsewhere the last wins.
    let ovr = if fsgs != 0 && !outside64 { fsgs } else { seg };
    let legacy = seen & 0xe;
    Some(Pfx {
        pos,
        rex,
        pfx,
        mixed: legacy & legacy.wrapping_sub(1) != 0,
        flags: PRESENT_SEEN.get(legacy as usize).copied().unwrap_or(0)
            | REPEAT.get(rep).copied().unwrap_or(0),
        lock: all & PC_LOCK != 0,
        ovr: OVR.get(ovr as usize).copied().unwrap_or(None),
        addr67: outside64 && all & PC_ADDR != 0,
    })
}

/// The flag of each legacy prefix (0, 66, F3, F2) that says it is present.
const PRESENT: [u16; 4] = [0, Prefixes::OPSIZE, Prefixes::F3, Prefixes::F2];
/// The flags of `PRESENT` by set of legacy prefixes (bit x for prefix x).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const PRESENT_SEEN: [u16; 16] = {
    let mut t = [0u16; 16];
    let mut i = 0;
    while i < 16 {
        let mut x = 0;
        while x < 4 {
            if i & 1 << x != 0 {
                t[i] |= PRESENT[x];
            }
            x += 1;
        }
        i += 1;
    }
    t
};
/// The repeat flag of each legacy prefix (0, 66, F3, F2) where it is a repeat prefix.
const REPEAT: [u16; 4] = [0, 0, Prefixes::REP, Prefixes::REPNE];

/// Prefix flags by legacy prefix (0, 66, F3, F2) and whether it is the mandatory prefix.
const PBITS: [u16; 8] = [
    0,
    0,
    Prefixes::OPSIZE,
    0,
    Prefixes::F3 | Prefixes::REP,
    Prefixes::F3,
    Prefixes::F2 | Prefixes::REPNE,
    Prefixes::F2,
];

/// Immediates by kind (`IM_*`) and operand-size code: the size in bytes (bits 0-3) and the
/// operand's index in `OPS` (bits 8-14).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const IMMK: [u16; 64] = {
    let mut t = [0u16; 64];
    let mut i = 0;
    while i < 64 {
        let osz = 1u16 << (i & 3);
        let z = if osz == 2 { 2 } else { 4 };
        let kind = (i >> 2) as u32;
        let n = match kind {
            IM_B | IM_BS | IM_JB => 1,
            IM_W => 2,
            IM_V => osz,
            IM_Z | IM_JZ => z,
            _ => 0,
        };
        let lg = match n {
            1 => 0,
            2 => 1,
            4 => 2,
            _ => 3,
        };
        let op = match kind {
            0 => OP_NONE,
            IM_ONE => OP_ONE,
            IM_CL => OP_CL,
            IM_DX => OP_DX,
            IM_JB | IM_JZ => OP_REL + lg,
            _ => OP_IMM + lg,
        };
        t[i] = n | (op as u16) << 8;
        i += 1;
    }
    t
};

/// How to produce the immediate and the operand of the immediate slot.
#[derive(Copy, Clone)]
struct Imm {
    /// The mask that turns the sign-extended immediate bytes into the immediate (0 without one).
    keep: u64,
    /// The shift left then arithmetic right that sign-extends the encoded bytes (64 - 8 × the
    /// encoded size, modulo 64).
    sext: u8,
    /// The encoded size (64-bit and 32-bit code read it from the descriptor, `E_IMM_SHIFT`).
    len: u8,
    /// The operand of the immediate slot.
    op: Operand,
}

const NO_IMM: Imm = Imm {
    keep: 0,
    sext: 0,
    len: 0,
    op: Operand::None,
};

/// `Imm` by the index of `IMMK`: everything the immediate needs in one entry.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const IMMS: [Imm; 64] = {
    let mut t = [NO_IMM; 64];
    let mut i = 0;
    while i < 64 {
        let osz = 1u32 << (i & 3);
        let n = (IMMK[i] & 15) as u32;
        // Bytes of the value: all for branches, the operand size for sign-extended ones, the
        // encoded size for the others.
        let keep = match (i >> 2) as u32 {
            IM_JB | IM_JZ => 8,
            IM_BS | IM_Z => osz,
            _ => n,
        };
        t[i] = Imm {
            keep: if keep == 0 {
                0
            } else {
                u64::MAX >> (64 - 8 * keep)
            },
            sext: ((64 - 8 * n) & 63) as u8,
            len: n as u8,
            op: OPS[(IMMK[i] >> 8) as usize & 127],
        };
        i += 1;
    }
    t
};

/// The fields the fast path does not compute, as it leaves them; also no segment override and
/// ModRM 0, for instructions without them.
const TEMPLATE: Instruction = Instruction {
    addr_size: 8,
    encoding: Encoding::Legacy,
    ..Instruction::BLANK
};

/// Decodes the instruction at the start of `bytes` in 64-bit mode into `out` (whatever it held),
/// or returns `None` when the general engine has to (anything unusual, invalid, truncated or
/// too long; `out` is then partly written).
#[inline(always)]
pub(crate) fn decode64(bytes: &[u8], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    match bytes.first_chunk::<WIN>() {
        Some(win) => run(win, vendor, out),
        None => short(bytes, vendor, out),
    }
}

/// [`decode64`] of the first `len` bytes of `win` (whatever follows them).
#[inline(always)]
pub(crate) fn decode64_window(
    win: &[u8; WIN],
    len: usize,
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    run(win, vendor, out)?;
    if out.len as usize > len {
        return None;
    }
    Some(())
}

/// [`decode64`] of an input shorter than the window: decoded from a zero-padded copy, then
/// checked against the real length. (Not through [`decode64_window`]: a second inlined copy
/// of [`run`] costs a kilobyte for a cold path.)
#[inline(never)]
#[cold]
fn short(bytes: &[u8], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    let mut pad = [0u8; WIN];
    for (d, &s) in pad.iter_mut().zip(bytes) {
        *d = s;
    }
    prefixed(&pad, vendor, out)?;
    if out.len as usize > bytes.len() {
        return None;
    }
    Some(())
}

/// The fast path for instructions with no prefix but REX (inlined into the caller: most
/// instructions take only this path).
#[inline(always)]
fn run(win: &[u8; WIN], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    let b0 = at(win, 0);
    let rex = REX_OF.get(b0 as usize).copied().unwrap_or(0);
    // The opcode and its descriptor both ways, with and without a REX prefix, then selected: the
    // descriptor's load does not wait for the REX test (a sweep waits on every decode's length,
    // which starts from the descriptor). The test is on the byte, not `rex != 0`, which would
    // wait for the `REX_OF` load.
    let has_rex = b0 & 0xf0 == 0x40;
    let b1 = at(win, 1);
    let primary = TAB.first();
    let d0 = primary
        .and_then(|t| t.get(b0 as usize))
        .copied()
        .unwrap_or(0);
    let d1 = primary
        .and_then(|t| t.get(b1 as usize))
        .copied()
        .unwrap_or(0);
    body::<CODE_64>(
        win,
        (has_rex as usize).wrapping_add(1),
        core::hint::select_unpredictable(has_rex, b1, b0),
        core::hint::select_unpredictable(has_rex, d1, d0),
        rex,
        0,
        false,
        None,
        vendor,
        out,
        false,
    )
}

/// The fast path for instructions with legacy prefixes (or any, from a padded window).
#[inline(never)]
fn prefixed(win: &[u8; WIN], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    after_prefixes::<CODE_64>(win, vendor, out, |p, b, out| {
        string(p.pos.wrapping_add(1), b, p.rex, p.flags, p.lock, p.ovr, out)
    })
}

/// The prefixes, then the instruction after them in `CODE` (`CODE_*`); a string operation (its
/// opcode `b`) goes to `string_op`.
#[inline(always)]
fn after_prefixes<const CODE: u8>(
    win: &[u8; WIN],
    vendor: Vendor,
    out: &mut Instruction,
    string_op: impl FnOnce(&Pfx, u8, &mut Instruction) -> Option<()>,
) -> Option<()> {
    let p = prefixes::<CODE>(win)?;
    let b = at(win, p.pos);
    let d = TAB
        .get(p.pfx & 1)
        .and_then(|x| x.get(b as usize))
        .copied()
        .unwrap_or(0);
    if d == E_STRING {
        return string_op(&p, b, out);
    }
    if p.mixed || p.addr67 {
        return None;
    }
    body::<CODE>(
        win,
        p.pos.wrapping_add(1),
        b,
        d,
        p.rex,
        p.pfx,
        p.lock,
        p.ovr,
        vendor,
        out,
        true,
    )
}

/// A string operation (opcode `b`, the next byte at `pos`; `flags` the prefix flags of 66, F3
/// and F2 as [`prefixes`] gives them): no ModRM and no immediate, its operands by opcode,
/// operand size and REX.W (see `STRINGS`). String operations are what most port and many MMIO
/// exits run, with prefixes that elsewhere the fast path leaves to the engine (REP, and 66 with
/// it).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn string(
    pos: usize,
    b: u8,
    rex: u8,
    flags: u16,
    lock: bool,
    ovr: Option<Seg>,
    out: &mut Instruction,
) -> Option<()> {
    // LOCK makes them invalid: the engine says so.
    if lock {
        return None;
    }
    let ctx = (flags & Prefixes::OPSIZE != 0) as usize | ((rex & RX_W != 0) as usize) << 1;
    let prefixes = flags | (rex & (RX_PRESENT | RX_W)) as u16;
    string_record(out, b, ctx, ovr, prefixes, pos)
}

/// Fills `out` (whatever it held) with string operation `b` in `STRINGS` context `ctx`: the
/// segment override `ovr`, the prefix flags `prefixes`, `len` bytes, 64-bit addressing.
#[inline(always)]
fn string_record(
    out: &mut Instruction,
    b: u8,
    ctx: usize,
    ovr: Option<Seg>,
    prefixes: u16,
    len: usize,
) -> Option<()> {
    let row = b.wrapping_sub(if b >= 0xa0 { 0xa0 } else { 0x6c });
    let f = STRINGS.get((row as usize & 15) << 2 | ctx).copied()?;
    *out = TEMPLATE;
    out.op = f.op;
    out.opcode = b;
    out.op_size = f.op_size;
    out.operands[0] = op_at(f.ops[0] as usize);
    out.operands[1] = op_at(f.ops[1] as usize);
    out.mem.seg = ovr.unwrap_or(Seg::Ds);
    out.seg_override = ovr;
    out.prefixes = Prefixes(prefixes);
    out.len = len as u8;
    Some(())
}

/// A string operation (opcode `b`) after the prefixes `p` outside 64-bit mode, in 16-bit code
/// (`code16`) or 32-bit code: the record as the engine builds it, 67 included.
#[inline(never)]
fn string_outside64(p: &Pfx, b: u8, code16: bool, out: &mut Instruction) -> Option<()> {
    // LOCK makes them invalid: the engine says so.
    if p.lock {
        return None;
    }
    let p66 = p.flags & Prefixes::OPSIZE != 0;
    let prefixes = p.flags | if p.addr67 { Prefixes::ADDRSIZE } else { 0 };
    string_record(
        out,
        b,
        (code16 != p66) as usize,
        p.ovr,
        prefixes,
        p.pos.wrapping_add(1),
    )?;
    out.addr_size = if code16 != p.addr67 { 2 } else { 4 };
    Some(())
}

/// Decodes the instruction at the start of `bytes` in 32-bit or 16-bit code (`mode` not 64-bit)
/// into `out`, or returns `None` when the engine has to (as [`decode64`]).
#[inline(always)]
pub(crate) fn decode_outside64(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    match bytes.first_chunk::<WIN>() {
        Some(win) => outside64_code(win, bytes, mode, vendor, out),
        None => {
            let mut pad = [0u8; WIN];
            for (d, &s) in pad.iter_mut().zip(bytes) {
                *d = s;
            }
            outside64_code(&pad, bytes, mode, vendor, out)
        }
    }
}

/// [`decode_outside64`] of the first `len` bytes of `win` (whatever follows them).
#[inline(always)]
pub(crate) fn decode_outside64_window(
    win: &[u8; WIN],
    len: usize,
    mode: Mode,
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    outside64_code(win, win.get(..len)?, mode, vendor, out)
}

/// The fast path of 32-bit or 16-bit code by `mode` (none for 64-bit mode: see [`decode64`]).
#[inline(always)]
fn outside64_code(
    win: &[u8; WIN],
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    match mode {
        Mode::Prot32 | Mode::Compat32 => code_outside64::<CODE_32>(win, bytes, vendor, out),
        Mode::Real | Mode::Prot16 => code_outside64::<CODE_16>(win, bytes, vendor, out),
        Mode::Long64 => None,
    }
}

/// The fast path in 32-bit or 16-bit code (`CODE`): `win` holds the first bytes of `bytes`
/// (zero-padded when they are fewer). String operations take [`string_outside64`].
#[inline(never)]
fn code_outside64<const CODE: u8>(
    win: &[u8; WIN],
    bytes: &[u8],
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    after_prefixes::<CODE>(win, vendor, out, |p, b, out| {
        string_outside64(p, b, CODE == CODE_16, out)
    })?;
    if out.len as usize > bytes.len() {
        return None;
    }
    Some(())
}

/// The instruction from its opcode byte `b` (whose one-byte-table descriptor is `d`) on, the
/// next byte at `pos`: `rex` is the REX prefix as `REX_OF` gives it; `pfx` is 0, 1 (66), 2 (F3)
/// or 3 (F2); `ovr` the segment override in effect. Unless `after_prefixes`, a prefix byte as
/// `b` continues in [`prefixed`], a string operation in [`string`]. `CODE` is the kind of code
/// (`CODE_64`, `CODE_32` or `CODE_16`; outside 64-bit mode `rex` is 0, the addressing the code's).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn body<const CODE: u8>(
    win: &[u8; WIN],
    mut pos: usize,
    mut b: u8,
    mut d: u32,
    rex: u8,
    pfx: usize,
    lock: bool,
    ovr: Option<Seg>,
    vendor: Vendor,
    out: &mut Instruction,
    after_prefixes: bool,
) -> Option<()> {
    // The constant fields in one copy of a template (a few wide stores); its primary map, no
    // segment override and ModRM 0 need no store of their own. (On `None` the record is
    // unspecified.)
    *out = TEMPLATE;
    if d <= E_STRING {
        if d != E_ESC0F {
            if !after_prefixes {
                if d == E_PREFIX {
                    return prefixed(win, vendor, out);
                }
                if d == E_STRING {
                    return string(pos, b, rex, 0, false, None, out);
                }
            }
            return None;
        }
        b = at(win, pos);
        pos = pos.wrapping_add(1);
        d = TAB
            .get(pfx.wrapping_add(2))
            .and_then(|x| x.get(b as usize))
            .copied()
            .unwrap_or(0);
        if d <= E_ESC0F {
            return None;
        }
        out.map = Map::M0F;
    } else if pfx >= 2 {
        return None;
    }
    let modrm = at(win, pos);
    let has_modrm = d & E_MODRM != 0;
    // Group members by ModRM.reg, selected without a branch (the masked index needs no bounds
    // check).
    let gd = GROUPS
        .get(d as usize % N_RT_GROUPS)
        .and_then(|g| g.get(((modrm >> 3) & 7) as usize))
        .copied()
        .unwrap_or(E_MEM_SLOW | E_REG_SLOW);
    d = core::hint::select_unpredictable(d & E_GROUP != 0, gd, d);
    let outside = match CODE {
        CODE_64 => 0,
        CODE_32 => E_ONLY64,
        _ => E_NOT16,
    };
    if d & outside != 0 {
        return None;
    }
    let form = FORMS.get((d & E_IDX) as usize).copied().unwrap_or(NO_FORM);
    let fb = u32::from(form.bits);
    // Fields are stored as soon as they are known (fewer values live at once).
    if CODE != CODE_64 {
        out.addr_size = if CODE == CODE_32 { 4 } else { 2 };
    }
    out.op = form.op;
    out.opcode = b;
    if ovr.is_some() {
        out.seg_override = ovr;
    }
    let shape = SHAPES
        .get(
            ((d >> (E_SHAPE_SHIFT - 4)) & 31 << 4) as usize
                | (vendor as usize) << 3
                | if CODE == CODE_64 {
                    ((pfx == 1) as usize) << 2 | (rex >> RX_PRESENT_SHIFT) as usize
                } else {
                    code_ctx(CODE != CODE_32, pfx == 1)
                },
        )
        .copied()
        .unwrap_or(NO_SHAPE);
    out.op_size = shape.op_size;
    let rb = (u32::from(rex) & 1) << 3;
    let se = ((fb >> F_SLOT_E_SHIFT) & 3) as usize;
    let rn;
    if has_modrm {
        // Advanced here, not by `has_modrm`: the positions of SIB, displacement and immediate
        // (and so the length, which a sweep's next decode waits for) then do not wait for the
        // descriptor's load.
        pos = pos.wrapping_add(1);
        out.modrm = modrm;
        // E is stored in each branch: one 16-bit load and store for the register, a constant for
        // memory.
        if modrm >= 0xc0 {
            if d & E_REG_SLOW != 0 || lock {
                return None;
            }
            if let Some(o) = out.operands.get_mut(se) {
                *o = reg_op(shape.e_row, u32::from(modrm) & 7 | rb);
            }
        } else {
            if d & E_MEM_SLOW != 0 || (lock && fb & F_LOCK == 0) {
                return None;
            }
            out.mem.size = MEMSZ
                .get((((fb >> F_EMEM_SHIFT) & 7) as usize) << 3 | shape.ctx as usize)
                .copied()
                .unwrap_or(0);
            match CODE {
                CODE_64 => mem_sib(
                    win,
                    &mut pos,
                    modrm,
                    rex,
                    ovr,
                    &mut out.mem,
                    &ADDR_FORMS,
                    &INDEXES,
                ),
                CODE_32 => mem_sib(
                    win,
                    &mut pos,
                    modrm,
                    0,
                    ovr,
                    &mut out.mem,
                    &ADDR_FORMS32,
                    &INDEXES32,
                ),
                _ => mem16(win, &mut pos, modrm, ovr, &mut out.mem),
            }
            if let Some(o) = out.operands.get_mut(se) {
                *o = Operand::Mem;
            }
        }
        rn = (u32::from(modrm) >> 3) & 7 | (u32::from(rex) & 4) << 1;
    } else {
        if lock {
            return None;
        }
        // The register in the opcode's low bits, or the accumulator (0): masked, not a branch.
        rn = (u32::from(b) & 7 | rb) & 0u32.wrapping_sub((fb & F_ZREG != 0) as u32);
    }
    let r = reg_op(shape.r_row, rn);
    if let Some(o) = out.operands.get_mut(((fb >> F_SLOT_R_SHIFT) & 3) as usize) {
        *o = r;
    }
    let imm = IMMS
        .get((((fb >> F_IMM_SHIFT) & 15) as usize) << 2 | (shape.ctx & 3) as usize)
        .copied()
        .unwrap_or(NO_IMM);
    if let Some(o) = out.operands.get_mut(((fb >> F_SLOT_I_SHIFT) & 3) as usize) {
        *o = imm.op;
    }
    out.operands[3] = Operand::None;
    let mut p = (rex & (RX_PRESENT | RX_W)) as u16 | (lock as u16);
    if pfx != 0 {
        p |= PBITS
            .get(pfx << 1 | (fb & F_MAND != 0) as usize)
            .copied()
            .unwrap_or(0);
    }
    out.prefixes = Prefixes(p);
    // The immediate without a branch: its bytes sign-extended, then masked to the value (to
    // nothing without an immediate).
    let sh = imm.sext as u32;
    out.imm = (le8(win, pos).wrapping_shl(sh) as i64).wrapping_shr(sh) as u64 & imm.keep;
    // The immediate's size from the descriptor: the length, which a sweep's next decode waits
    // for, then needs no table load after the descriptor's (`IMMS` would be two loads later).
    let n = if CODE == CODE_16 {
        u32::from(imm.len)
    } else {
        (d >> (E_IMM_SHIFT | u32::from(rex & RX_W) >> 4)) & 15
    };
    pos = pos.wrapping_add(n as usize);
    out.len = pos as u8;
    if pos > super::MAX_LEN {
        return None;
    }
    Some(())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::super::engine::Decoder;
    use super::super::insn::{
        Encoding, Instruction, Map, MemOperand, Mode, Operand, Prefixes, Vendor,
    };
    use super::super::op::Op;
    use super::super::reg::{Reg, RegClass, Seg};
    use super::{decode_outside64, decode64};

    fn general(bytes: &[u8], vendor: Vendor) -> Option<Instruction> {
        general_in(bytes, Mode::Long64, vendor)
    }

    fn general_in(bytes: &[u8], mode: Mode, vendor: Vendor) -> Option<Instruction> {
        let mut insn = Instruction::BLANK;
        Decoder::new(bytes, mode, vendor)
            .run(&mut insn)
            .ok()
            .map(|()| insn)
    }

    /// A record with every field set, as a reused record may be: the fast path must overwrite
    /// all of them.
    fn dirty() -> Instruction {
        let mut d = Instruction::BLANK;
        d.len = 15;
        d.op = Op::Vaddps;
        d.op_size = 32;
        d.addr_size = 4;
        d.encoding = Encoding::Evex;
        d.map = Map::M0F38;
        d.opcode = 0x58;
        d.modrm = 0xff;
        d.prefixes = Prefixes(0x1ff);
        d.seg_override = Some(Seg::Gs);
        d.operands = [Operand::Imm2; 4];
        d.mem = MemOperand {
            seg: Seg::Fs,
            base: Some(Reg::new(RegClass::Zmm, 3)),
            index: Some(Reg::new(RegClass::Zmm, 4)),
            scale: 8,
            disp: -5,
            disp_size: 8,
            size: 64,
        };
        d.imm = 0x1234;
        d.imm2 = 7;
        d.vl = 64;
        d.mask = 3;
        d.zeroing = true;
        d.broadcast = true;
        d.rounding = 2;
        d
    }

    fn check_one(bytes: &[u8], hits: &mut usize) {
        for vendor in [Vendor::Intel, Vendor::Amd] {
            let mut f = dirty();
            if decode64(bytes, vendor, &mut f).is_some() {
                *hits += 1;
                assert_eq!(Some(f), general(bytes, vendor), "{bytes:02x?} {vendor:?}");
            }
        }
    }

    /// Checks `bytes` as given (shorter than the window: the padded path) and followed by filler
    /// up to a full window (the main path).
    fn check(bytes: &[u8], hits: &mut usize) {
        check_one(bytes, hits);
        let mut long = [0xccu8; 40];
        for (d, &s) in long.iter_mut().zip(bytes) {
            *d = s;
        }
        check_one(&long, hits);
    }

    /// 32-bit code (protected and compatibility mode) and 16-bit code (real and protected mode).
    const CODE32: &[Mode] = &[Mode::Prot32, Mode::Compat32];
    const CODE16: &[Mode] = &[Mode::Real, Mode::Prot16];
    const OUTSIDE64: &[Mode] = &[Mode::Prot32, Mode::Compat32, Mode::Real, Mode::Prot16];

    /// [`check_one`] outside 64-bit mode, in `modes`.
    fn check_outside64_one(bytes: &[u8], modes: &[Mode], hits: &mut usize) {
        for &mode in modes {
            for vendor in [Vendor::Intel, Vendor::Amd] {
                let mut f = dirty();
                if decode_outside64(bytes, mode, vendor, &mut f).is_some() {
                    *hits += 1;
                    let want = general_in(bytes, mode, vendor);
                    assert_eq!(Some(f), want, "{bytes:02x?} {mode:?} {vendor:?}");
                }
            }
        }
    }

    /// [`check`] outside 64-bit mode, in `modes`.
    fn check_outside64(bytes: &[u8], modes: &[Mode], hits: &mut usize) {
        check_outside64_one(bytes, modes, hits);
        let mut long = [0xccu8; 40];
        for (d, &s) in long.iter_mut().zip(bytes) {
            *d = s;
        }
        check_outside64_one(&long, modes, hits);
    }

    #[derive(Default)]
    struct Buf {
        b: [u8; 32],
        len: usize,
    }
    impl Buf {
        fn push(&mut self, x: u8) {
            if let Some(s) = self.b.get_mut(self.len) {
                *s = x;
                self.len += 1;
            }
        }
        fn bytes(&self) -> &[u8] {
            self.b.get(..self.len).unwrap_or(&[])
        }
    }

    /// Calls `f` with every one-byte and 0F opcode and every ModRM after each of `prefixes`,
    /// followed by random bytes, and with every truncation of one ModRM in 64.
    fn every_opcode(prefixes: &[&[u8]], rng: &mut Rng, mut f: impl FnMut(&[u8])) {
        for p in prefixes {
            for map0f in [false, true] {
                for op in 0..=255u8 {
                    for modrm in 0..=255u8 {
                        let mut v = Buf::default();
                        for &b in p.iter() {
                            v.push(b);
                        }
                        if map0f {
                            v.push(0x0f);
                        }
                        v.push(op);
                        v.push(modrm);
                        for _ in 0..10 {
                            v.push(rng.next() as u8);
                        }
                        f(v.bytes());
                        if modrm & 63 == 7 {
                            for n in 0..v.len {
                                f(v.bytes().get(..n).unwrap_or(&[]));
                            }
                        }
                    }
                }
            }
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Outside 64-bit mode the fast path agrees with the engine wherever it decodes: every
    /// opcode after every sequence of up to three prefixes (and REX bytes, opcodes there), in
    /// every mode, for both vendors; and string operations (with 67 too) do take it.
    #[test]
    fn strings_outside_64_bit_mode_match_engine() {
        let pool = [
            0x66, 0x67, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0, 0x40, 0x4f, 0x0f,
        ];
        let mut hits = 0;
        for mode in [Mode::Real, Mode::Prot16, Mode::Prot32, Mode::Compat32] {
            for n in 0..=3u32 {
                for idx in 0..pool.len().pow(n) {
                    let mut v = Buf::default();
                    let mut k = idx;
                    for _ in 0..n {
                        v.push(pool.get(k % pool.len()).copied().unwrap_or(0));
                        k /= pool.len();
                    }
                    for op in 0..=255u8 {
                        let mut w = Buf::default();
                        for &b in v.bytes().iter().chain(&[op, 0x90]) {
                            w.push(b);
                        }
                        // Cut after the opcode, and not.
                        for bytes in [w.bytes(), w.bytes().get(..w.len - 1).unwrap_or(&[])] {
                            for vendor in [Vendor::Intel, Vendor::Amd] {
                                let mut f = dirty();
                                if decode_outside64(bytes, mode, vendor, &mut f).is_none() {
                                    continue;
                                }
                                hits += 1;
                                let mut e = Instruction::BLANK;
                                let r = Decoder::new(bytes, mode, vendor).run(&mut e);
                                assert_eq!(
                                    Some(f),
                                    r.ok().map(|()| e),
                                    "{bytes:02x?} {mode:?} {vendor:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(hits > 50_000, "{hits}");
        for bytes in [
            &[0xf3, 0x66, 0x6d][..],
            &[0x66, 0xf3, 0xa5],
            &[0xf3, 0x6e],
            &[0x67, 0xf3, 0xa4],
        ] {
            let mut f = dirty();
            assert!(
                decode_outside64(bytes, Mode::Prot32, Vendor::Intel, &mut f).is_some(),
                "{bytes:02x?} left to the engine"
            );
        }
    }

    /// Port I/O and string operations, what most exits are, take the fast path (and agree with
    /// the engine).
    #[test]
    fn port_io_and_strings_take_the_fast_path() {
        let mut hits = 0;
        for bytes in [
            &[0xec][..],
            &[0xed],
            &[0x66, 0xed],
            &[0x48, 0xed],
            &[0x66, 0x48, 0xef],
            &[0xee],
            &[0xef],
            &[0xe4, 0x60],
            &[0xe5, 0x71],
            &[0xe6, 0x80],
            &[0x66, 0xe7, 0x70],
            // String I/O and copies, as port and MMIO exits run them.
            &[0x6c],
            &[0xf3, 0x6d],
            &[0x66, 0xf3, 0x6d],
            &[0xf3, 0x66, 0x6f],
            &[0xf3, 0x48, 0x6f],
            &[0xf3, 0xa4],
            &[0xf3, 0x48, 0xa5],
            &[0x48, 0xab],
            &[0x65, 0xf3, 0x66, 0xab],
            &[0xf2, 0xae],
            &[0xf3, 0xa7],
            &[0x66, 0xad],
        ] {
            let before = hits;
            check(bytes, &mut hits);
            assert_eq!(hits, before + 4, "{bytes:02x?} left to the engine");
        }
    }

    /// The instructions of 32-bit and 16-bit guests' MMIO and port exits take the fast path.
    #[test]
    fn exits_outside_64_bit_mode_take_the_fast_path() {
        let mut hits = 0;
        for bytes in [
            // mov [edi+0xb0], eax; mov eax, [ebx]; mov [esi+ecx*4], dx; mov byte [0xfee00020], 1
            &[0x89, 0x87, 0xb0, 0x00, 0x00, 0x00][..],
            &[0x8b, 0x03],
            &[0x66, 0x89, 0x14, 0x8e],
            &[0xc6, 0x05, 0x20, 0x00, 0xe0, 0xfe, 0x01],
            // movzx eax, word [edx+8]; and dword [eax], 0xfffffffe; or [ebp-4], ecx; test [ecx], 1
            &[0x0f, 0xb7, 0x42, 0x08],
            &[0x83, 0x20, 0xfe],
            &[0x09, 0x4d, 0xfc],
            &[0xf6, 0x01, 0x01],
            // lock or dword [esp], 0; fs mov eax, [0x10]
            &[0xf0, 0x83, 0x0c, 0x24, 0x00],
            &[0x64, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00],
            // in al, dx; out dx, eax; in ax, 0x60; rep outsb; rep movsd
            &[0xec],
            &[0xef],
            &[0x66, 0xe5, 0x60],
            &[0xf3, 0x6e],
            &[0xf3, 0xa5],
        ] {
            let before = hits;
            check_outside64(bytes, CODE32, &mut hits);
            assert_eq!(hits, before + 8, "{bytes:02x?} left to the engine");
        }
        for bytes in [
            // mov [di], ax; mov al, [bx+si+4]; mov es:[0x20], dx; mov word [bp-2], 0x1234
            &[0x89, 0x05][..],
            &[0x8a, 0x40, 0x04],
            &[0x26, 0x89, 0x16, 0x20, 0x00],
            &[0xc7, 0x46, 0xfe, 0x34, 0x12],
            // mov eax, [si]; or byte [bx], 0x80; movzx ax, byte [di+0x100]
            &[0x66, 0x8b, 0x04],
            &[0x80, 0x0f, 0x80],
            &[0x0f, 0xb6, 0x85, 0x00, 0x01],
            // out dx, al; in al, dx; in eax, dx; out 0x80, al; in al, 0x71; rep stosw
            &[0xee],
            &[0xec],
            &[0x66, 0xed],
            &[0xe6, 0x80],
            &[0xe4, 0x71],
            &[0xf3, 0xab],
        ] {
            let before = hits;
            check_outside64(bytes, CODE16, &mut hits);
            assert_eq!(hits, before + 8, "{bytes:02x?} left to the engine");
        }
    }

    /// The fast path outside 64-bit mode agrees with the engine wherever it decodes: every
    /// one-byte and 0F opcode with every ModRM after prefix mixes (40-4F are INC and DEC there),
    /// in 32-bit and 16-bit code, protected, compatibility and real mode, for both vendors.
    #[test]
    fn fast_path_matches_engine_outside_64_bit_mode() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut hits = 0;
        let prefixes: &[&[u8]] = &[
            &[],
            &[0x66],
            &[0xf3],
            &[0xf2],
            &[0x2e],
            &[0x64],
            &[0x26, 0x66],
            &[0xf0],
            &[0x66, 0xf0],
            &[0x67],
            &[0x66, 0xf3],
            &[0xf2, 0x66, 0x65],
        ];
        every_opcode(prefixes, &mut rng, |bytes| {
            check_outside64(bytes, OUTSIDE64, &mut hits)
        });
        assert!(hits > 500_000, "{hits}");
    }

    /// `decode_window` gives what `decode_into` gives for the window's first `len` bytes,
    /// whatever follows them, in every mode: the emulator decodes an exit's bytes through it.
    #[test]
    fn a_window_decodes_as_its_first_len_bytes() {
        use super::super::{Mode, decode_into, decode_window};
        let mut rng = Rng(0x005e_ed0f_0bad_cafe);
        let pool = [
            0x66, 0xf3, 0xf2, 0x2e, 0x64, 0x48, 0x41, 0xf0, 0x67, 0x0f, 0xc4, 0x62,
        ];
        let n = if cfg!(debug_assertions) {
            20_000
        } else {
            300_000
        };
        let mut valid = 0;
        for _ in 0..n {
            let mut win = [0u8; super::WIN];
            for b in win.iter_mut() {
                *b = rng.next() as u8;
            }
            for b in win.iter_mut().take((rng.next() % 3) as usize) {
                *b = *pool.get(rng.next() as usize % pool.len()).unwrap_or(&0);
            }
            let len = (rng.next() % 17) as usize;
            for mode in [
                Mode::Long64,
                Mode::Compat32,
                Mode::Prot32,
                Mode::Prot16,
                Mode::Real,
            ] {
                for vendor in [Vendor::Intel, Vendor::Amd] {
                    let (mut a, mut b) = (dirty(), dirty());
                    let ra = decode_window(&win, len, mode, vendor, &mut a);
                    let rb = decode_into(win.get(..len).unwrap_or(&[]), mode, vendor, &mut b);
                    assert_eq!(ra, rb, "{win:02x?} {len} {mode:?} {vendor:?}");
                    if ra.is_ok() {
                        valid += 1;
                        assert_eq!(a, b, "{win:02x?} {len} {mode:?} {vendor:?}");
                    }
                }
            }
        }
        assert!(valid > n, "{valid}");
    }

    /// Every opcode and ModRM byte of both maps under common prefix combinations.
    #[test]
    fn fast_path_matches_engine_exhaustive() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut hits = 0;
        let prefixes: &[&[u8]] = &[
            &[],
            &[0x48],
            &[0x4d],
            &[0x42],
            &[0x66],
            &[0x66, 0x41],
            &[0xf3],
            &[0xf3, 0x48],
            &[0xf2],
            &[0x64, 0x48],
            &[0x2e],
            &[0x48, 0x66],
            &[0xf0],
            &[0xf0, 0x48],
            &[0x66, 0xf0, 0x41],
            // String operations: REP with 66, both repeat prefixes, REX after them.
            &[0x66, 0xf3],
            &[0xf3, 0x66],
            &[0xf2, 0xf3],
            &[0xf3, 0xf2, 0x48],
            &[0x65, 0xf3, 0x48],
            &[0x26, 0x66, 0xf2, 0x64],
        ];
        every_opcode(prefixes, &mut rng, |bytes| check(bytes, &mut hits));
        assert!(hits > 500_000, "{hits}");
    }

    /// Random prefix sequences and bytes.
    #[test]
    fn fast_path_matches_engine_random() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let pool = [
            0x66, 0xf3, 0xf2, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x40, 0x41, 0x44, 0x48, 0x4f,
            0xf0, 0x67, 0x0f,
        ];
        let mut hits = 0;
        let n = if cfg!(debug_assertions) {
            200_000
        } else {
            5_000_000
        };
        for _ in 0..n {
            let mut v = Buf::default();
            let np = rng.next() % 5;
            for _ in 0..np {
                v.push(*pool.get(rng.next() as usize % pool.len()).unwrap_or(&0));
            }
            for _ in 0..14 {
                v.push(rng.next() as u8);
            }
            let len = if rng.next().is_multiple_of(8) {
                rng.next() as usize % 16
            } else {
                v.len
            };
            let bytes = v.bytes().get(..len).unwrap_or(&[]);
            check(bytes, &mut hits);
            check_outside64(bytes, OUTSIDE64, &mut hits);
        }
        assert!(hits > n as usize / 10, "{hits}");
    }
}
