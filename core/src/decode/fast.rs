//! The fast path of 64-bit decoding: one-byte and 0F opcodes with only REX, 66, F2/F3 (0F map)
//! and segment prefixes, and simple operand forms. Everything else, and every error, goes to the
//! general engine.
//!
//! The fast path has no opcode knowledge of its own: per opcode (and ModRM.reg for groups) it
//! looks up a 32-bit descriptor that `build` derives at compile time from the candidate lists of
//! `tables::primary` and `tables::legacy_0f`, by running the engine's candidate matching over
//! every context the fast path does not look at (W, REX.B, vendor, ModRM.rm). A descriptor names
//! the candidate that the engine would pick, the operand layout and the operand sizes; where the
//! engine's pick depends on anything else, the descriptor is 0 and the engine decodes.

use super::insn::{Instruction, Map, MemOperand, Operand, Prefixes, Vendor};
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
const D_IMM_SHIFT: u32 = 28; // 3 bits: immediate kind (`IM_*`), 0 none

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
    0,
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
        K::RAx => (SRC_R, SP_V, 0, 0, KF_ACC),
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
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn cand_desc(cands: &[(u8, Cand)], idx: usize, pfx: usize) -> u32 {
    let c = &cands[idx].1;
    if c.attr & (A_MODREG | A_PORT) != 0 {
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

/// The engine's matching key in 64-bit mode for a legacy encoding (see `Decoder::ctx_key`).
const fn key_of(pfx: usize, w: bool, b: bool, intel: bool, modrm: i32) -> u64 {
    let p66 = pfx == 1;
    let mut k: u64 = (1u64 << pfx) << KB_PFX_SHIFT;
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
    if modrm >= 0 {
        let m = modrm as u32;
        k |= if m >= 0xc0 { KB_REG } else { KB_MEM }
            | 1 << (KB_MREG_SHIFT + ((m >> 3) & 7))
            | 1 << (KB_MRM_SHIFT + (m & 7));
    }
    k
}

const NO_MATCH: i32 = -1;
const VARIES: i32 = -2;

/// The candidate (index) the engine picks for ModRM `modrm` (-1: none), provided it is the same
/// whatever W, the vendor and (where a candidate looks at them) REX.B and ModRM.rm.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn pick(cands: &[(u8, Cand)], lo: usize, hi: usize, pfx: usize, modrm: i32) -> i32 {
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
        if (b && !vary_b) || (rm_hi && !vary_rm) {
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
            let key = key_of(pfx, w, b, intel, m);
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

/// The descriptor for one ModRM.reg value (or for an opcode without ModRM).
const fn reg_desc(cands: &[(u8, Cand)], lo: usize, hi: usize, pfx: usize, modrm: i32) -> u32 {
    if modrm < 0 {
        let c = pick(cands, lo, hi, pfx, -1);
        return if c >= 0 {
            cand_desc(cands, c as usize, pfx)
        } else {
            0
        };
    }
    let m = pick(cands, lo, hi, pfx, modrm);
    let r = pick(cands, lo, hi, pfx, modrm | 0xc0);
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
        return D_MEM_SLOW | D_REG_SLOW;
    }
    d
}

const N_GROUPS: usize = 64;
const N_TABLES: usize = 6;

/// The fast path's tables: per table (primary without/with 66; 0F without prefix, with 66, F3,
/// F2) and opcode a descriptor; per group the descriptors by ModRM.reg.
struct Fast {
    tab: [[u32; 256]; N_TABLES],
    groups: [[u32; 8]; N_GROUPS],
    /// The map of each group (0 primary, 1 0F): candidate indices are per map.
    gmap: [bool; N_GROUPS],
    ngroups: usize,
}

/// Builds the tables (at compile time).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn build() -> Fast {
    let mut f = Fast {
        tab: [[0; 256]; N_TABLES],
        groups: [[0; 8]; N_GROUPS],
        gmap: [false; N_GROUPS],
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
        let map = OpMap::new(cands);
        let mut op = 0;
        while op < 256 {
            let a = map.start[op];
            let lo = (a & START_MASK) as usize;
            let hi = (map.start[op + 1] & START_MASK) as usize;
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
                    if d == D_MEM_SLOW | D_REG_SLOW {
                        d = 0;
                    }
                } else {
                    let mut g = [0u32; 8];
                    let mut r = 0;
                    let mut same = true;
                    while r < 8 {
                        g[r] = reg_desc(cands, lo, hi, pfx, (r as i32) << 3);
                        same &= g[r] == g[0];
                        r += 1;
                    }
                    if same {
                        d = if g[0] == D_MEM_SLOW | D_REG_SLOW {
                            0
                        } else {
                            g[0]
                        };
                    } else {
                        let mut gi = 0;
                        while gi < ngroups {
                            let mut eq = f.gmap[gi] == (t >= 2);
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
                            f.gmap[gi] = t >= 2;
                            ngroups += 1;
                        }
                        d = gi as u32 | D_MODRM | L_GROUP << D_LAYOUT_SHIFT;
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

/// An operation and how to produce its operands: what the fast path needs of a candidate.
#[derive(Copy, Clone)]
struct Form {
    op: Op,
    bits: u32,
}

// Form bits.
const F_LAYOUT_SHIFT: u32 = 0; // 4 bits: index in LAYOUTS
const F_ESPEC_SHIFT: u32 = 4; // 3 bits: register spec of E's register form (`SP_*`)
const F_EMEM_SHIFT: u32 = 7; // 3 bits: memory size code of E (see `MEMSZ`)
const F_RSPEC_SHIFT: u32 = 10; // 3 bits: register spec of R
const F_IMM_SHIFT: u32 = 13; // 3 bits: immediate kind (`IM_*`), 0 none
const F_RULE_SHIFT: u32 = 16; // 3 bits: operand-size rule (see `OSZ`)
const F_ZREG: u32 = 1 << 19; // R is the register in the opcode's low bits
const F_LOCK: u32 = 1 << 20; // LOCK allowed (with a memory operand)

// Run-time descriptor bits (0 = not handled by the fast path).
const E_IDX: u16 = 0x3ff; // form index, or group index with E_GROUP
const E_MODRM: u16 = 1 << 10;
const E_MEM_SLOW: u16 = 1 << 11;
const E_REG_SLOW: u16 = 1 << 12;
const E_MAND: u16 = 1 << 13;
const E_GROUP: u16 = 1 << 14;

const N_FORMS: usize = 1024;

/// The run-time tables: descriptors by table and opcode, by group and ModRM.reg, and the forms
/// they index (deduplicated; form 0 is unused so that a valid descriptor is never 0).
struct Fast16 {
    tab: [[u16; 256]; N_TABLES],
    groups: [[u16; 8]; N_GROUPS],
    forms: [Form; N_FORMS],
    ngroups: usize,
    nforms: usize,
}

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn form_of(cands: &[(u8, Cand)], d: u32) -> Form {
    let c = &cands[(d & D_IDX) as usize].1;
    let rule = if c.attr & A_BYTE != 0 {
        0
    } else {
        ((c.attr >> A_OSZ_SHIFT) & 3) + 1
    };
    let mut bits = ((d >> D_LAYOUT_SHIFT) & 15) << F_LAYOUT_SHIFT
        | ((d >> D_ESPEC_SHIFT) & 7) << F_ESPEC_SHIFT
        | ((d >> D_EMEM_SHIFT) & 7) << F_EMEM_SHIFT
        | ((d >> D_RSPEC_SHIFT) & 7) << F_RSPEC_SHIFT
        | ((d >> D_IMM_SHIFT) & 7) << F_IMM_SHIFT
        | rule << F_RULE_SHIFT;
    if d & D_ZREG != 0 {
        bits |= F_ZREG;
    }
    if c.attr & A_LOCK != 0 {
        bits |= F_LOCK;
    }
    Form { op: c.op, bits }
}

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn convert(f: &mut Fast16, cands: &[(u8, Cand)], d: u32) -> u16 {
    if d == 0 {
        return 0;
    }
    if d == D_MEM_SLOW | D_REG_SLOW {
        return E_MEM_SLOW | E_REG_SLOW;
    }
    let form = form_of(cands, d);
    let mut fi = 1;
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
    let mut e = fi as u16;
    if d & D_MODRM != 0 {
        e |= E_MODRM;
    }
    if d & D_MEM_SLOW != 0 {
        e |= E_MEM_SLOW;
    }
    if d & D_REG_SLOW != 0 {
        e |= E_REG_SLOW;
    }
    if d & D_MAND != 0 {
        e |= E_MAND;
    }
    e
}

/// Turns the build tables into the run-time ones.
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn compress(b: &Fast) -> Fast16 {
    let mut f = Fast16 {
        tab: [[0; 256]; N_TABLES],
        groups: [[0; 8]; N_GROUPS],
        forms: [Form {
            op: Op::Invalid,
            bits: 0,
        }; N_FORMS],
        ngroups: b.ngroups,
        nforms: 1,
    };
    let mut gi = 0;
    while gi < b.ngroups {
        let cands = if b.gmap[gi] {
            legacy_0f::LIST
        } else {
            primary::LIST
        };
        let mut r = 0;
        while r < 8 {
            f.groups[gi][r] = convert(&mut f, cands, b.groups[gi][r]);
            r += 1;
        }
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
            f.tab[t][op] = if d != 0 && (d >> D_LAYOUT_SHIFT) & 15 == L_GROUP {
                (d & D_IDX) as u16 | E_GROUP | E_MODRM
            } else {
                convert(&mut f, cands, d)
            };
            op += 1;
        }
        t += 1;
    }
    f
}

const BUILT: Fast16 = compress(&build());
const NG: usize = BUILT.ngroups;
const NF: usize = BUILT.nforms;

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn trim_groups<const N: usize>(g: &[[u16; 8]; N_GROUPS]) -> [[u16; 8]; N] {
    let mut t = [[0; 8]; N];
    let mut i = 0;
    while i < N {
        t[i] = g[i];
        i += 1;
    }
    t
}

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn trim_forms<const N: usize>(g: &[Form; N_FORMS]) -> [Form; N] {
    let mut t = [Form {
        op: Op::Invalid,
        bits: 0,
    }; N];
    let mut i = 0;
    while i < N {
        t[i] = g[i];
        i += 1;
    }
    t
}

static TAB: [[u16; 256]; N_TABLES] = BUILT.tab;
static GROUPS: [[u16; 8]; NG] = trim_groups(&BUILT.groups);
static FORMS: [Form; NF] = trim_forms(&BUILT.forms);

// ---------------------------------------------------------------------------------------------
// Run time.

/// Classes of a byte before the opcode.
const PC_OPCODE: u8 = 0;
const PC_REX: u8 = 1;
const PC_66: u8 = 2;
const PC_F3: u8 = 3;
const PC_F2: u8 = 4;
const PC_SEG: u8 = 5;
const PC_LOCK: u8 = 6;
const PC_SLOW: u8 = 7;

// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const PCLASS: [u8; 256] = {
    let mut t = [PC_OPCODE; 256];
    let mut b = 0x40;
    while b < 0x50 {
        t[b] = PC_REX;
        b += 1;
    }
    t[0x66] = PC_66;
    t[0xf3] = PC_F3;
    t[0xf2] = PC_F2;
    t[0x26] = PC_SEG;
    t[0x2e] = PC_SEG;
    t[0x36] = PC_SEG;
    t[0x3e] = PC_SEG;
    t[0x64] = PC_SEG;
    t[0x65] = PC_SEG;
    t[0x67] = PC_SLOW;
    t[0xf0] = PC_LOCK;
    t
};

/// The operand context by operand-size rule (0 byte, 1 normal, 2 d64, 3 f64, 4 REX.W ignored
/// by AMD) and prefixes (bit 3 W, bit 2 66 as operand-size prefix, bit 1 AMD, bit 0 a REX
/// prefix): bits 0-1 the operand-size code (size = 1 << code, the engine's `Decoder::op_size` in
/// 64-bit mode), bit 2 W, bit 3 REX (the context of `CLS` and `MEMSZ`).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const OSZ: [u8; 80] = {
    let mut t = [0u8; 80];
    let mut i = 0;
    while i < 80 {
        let rule = i >> 4;
        let w = i & 8 != 0;
        let p66 = i & 4 != 0;
        let amd = i & 2 != 0;
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

/// Register operands by class (`RC_*`) and number (0..15).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const REGS: [Operand; 96] = {
    let mut t = [Operand::None; 96];
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
    t
};

#[inline(always)]
fn reg_op(spec: u32, ctx: usize, n: u8) -> Operand {
    let cls = CLS.get((spec as usize) << 4 | ctx).copied().unwrap_or(0) as usize;
    REGS.get(cls << 4 | (n & 15) as usize)
        .copied()
        .unwrap_or(Operand::None)
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

/// Reads an `n`-byte little-endian value (1 <= `n` <= 8) at `*pos`.
#[inline(always)]
fn le(bytes: &[u8], pos: &mut usize, n: u8) -> Option<u64> {
    let p = *pos;
    let end = p + n as usize;
    let v = if let Some(Ok(b)) = bytes.get(p..p + 8).map(<[u8; 8]>::try_from) {
        u64::from_le_bytes(b) & (u64::MAX >> (64 - 8 * (n as u32 & 15)))
    } else {
        let mut v = 0u64;
        for (i, &b) in bytes.get(p..end)?.iter().enumerate() {
            v |= (b as u64) << (8 * i);
        }
        v
    };
    *pos = end;
    Some(v)
}

/// Sign-extends the low `n` bytes (1 <= `n` <= 8).
#[inline(always)]
fn sext_n(v: u64, n: u8) -> u64 {
    let sh = 64 - 8 * (n as u32 & 15);
    (((v << (sh & 63)) as i64) >> (sh & 63)) as u64
}

/// ModRM (mod != 3), SIB and displacement with 64-bit addressing, into `m` (which is
/// [`MemOperand::EMPTY`] except for the size).
#[inline(always)]
fn mem64(
    bytes: &[u8],
    pos: &mut usize,
    modrm: u8,
    rex: u8,
    ovr: Option<Seg>,
    m: &mut MemOperand,
) -> Option<()> {
    let md = modrm >> 6;
    let rm = modrm & 7;
    let rb = (rex & 1) << 3;
    let mut dsize: u8 = match md {
        1 => 1,
        2 => 4,
        _ => 0,
    };
    let mut bnum = rm | rb;
    if rm == 4 {
        let sib = *bytes.get(*pos)?;
        *pos += 1;
        m.scale = 1 << (sib >> 6);
        let idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
        if idx != 4 {
            m.index = Some(Reg::new(RegClass::Gpr64, idx));
        }
        if sib & 7 == 5 && md == 0 {
            dsize = 4;
            bnum = 0xff;
        } else {
            bnum = (sib & 7) | rb;
            m.base = Some(Reg::new(RegClass::Gpr64, bnum));
        }
    } else if rm == 5 && md == 0 {
        dsize = 4;
        bnum = 0xff;
        m.base = Some(Reg::RIP);
    } else {
        m.base = Some(Reg::new(RegClass::Gpr64, bnum));
    }
    if dsize != 0 {
        m.disp = sext_n(le(bytes, pos, dsize)?, dsize) as i64;
        m.disp_size = dsize;
    }
    m.seg = match ovr {
        Some(s) => s,
        None if bnum & !1 == 4 => Seg::Ss,
        None => Seg::Ds,
    };
    Some(())
}

/// Decodes the instruction at the start of `bytes` in 64-bit mode into `out` (which must be
/// [`Instruction::BLANK`]), or returns `None` when the general engine has to (anything unusual,
/// invalid, truncated or too long; `out` is then partly written).
#[inline(never)]
pub(crate) fn decode64(bytes: &[u8], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    let b0 = *bytes.first()?;
    let (rex, pos) = if b0 & 0xf0 == 0x40 { (b0, 1) } else { (0, 0) };
    let b = *bytes.get(pos)?;
    if PCLASS.get(b as usize).copied().unwrap_or(PC_SLOW) == PC_OPCODE {
        return body(bytes, pos + 1, b, rex, 0, false, None, vendor, out);
    }
    prefixed(bytes, vendor, out)
}

/// [`decode64`] with legacy prefixes.
#[inline(never)]
fn prefixed(bytes: &[u8], vendor: Vendor, out: &mut Instruction) -> Option<()> {
    let mut pos = 0usize;
    let mut rex = 0u8;
    let mut pfx = 0usize;
    let mut lock = false;
    let mut seg = None;
    let mut fsgs = None;
    let mut b;
    loop {
        b = *bytes.get(pos)?;
        pos += 1;
        match PCLASS.get(b as usize).copied().unwrap_or(PC_SLOW) {
            PC_OPCODE => break,
            PC_REX => {
                rex = b;
                continue;
            }
            PC_66 | PC_F3 | PC_F2 => {
                let p = if b == 0x66 {
                    1
                } else if b == 0xf3 {
                    2
                } else {
                    3
                };
                if pfx != 0 && pfx != p {
                    return None;
                }
                pfx = p;
            }
            PC_SEG => {
                let s = match b {
                    0x26 => Seg::Es,
                    0x2e => Seg::Cs,
                    0x36 => Seg::Ss,
                    0x3e => Seg::Ds,
                    0x64 => Seg::Fs,
                    _ => Seg::Gs,
                };
                if matches!(s, Seg::Fs | Seg::Gs) {
                    fsgs = Some(s);
                }
                seg = Some(s);
            }
            PC_LOCK => lock = true,
            _ => return None,
        }
        // A legacy prefix after REX cancels it.
        rex = 0;
    }
    let ovr = if fsgs.is_some() { fsgs } else { seg };
    body(bytes, pos, b, rex, pfx, lock, ovr, vendor, out)
}

/// The instruction after its prefixes: `b` is the first opcode byte, at `pos - 1`; `pfx` is 0,
/// 1 (66), 2 (F3) or 3 (F2); `ovr` the segment override in effect.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn body(
    bytes: &[u8],
    mut pos: usize,
    mut b: u8,
    rex: u8,
    pfx: usize,
    lock: bool,
    ovr: Option<Seg>,
    vendor: Vendor,
    out: &mut Instruction,
) -> Option<()> {
    let is0f = b == 0x0f;
    let t = if is0f {
        b = *bytes.get(pos)?;
        pos += 1;
        2 + pfx
    } else if pfx >= 2 {
        return None;
    } else {
        pfx
    };
    let mut d = TAB.get(t)?.get(b as usize).copied().unwrap_or(0);
    if d == 0 {
        return None;
    }
    let has_modrm = d & E_MODRM != 0;
    let mut modrm = 0u8;
    if has_modrm {
        modrm = *bytes.get(pos)?;
        pos += 1;
        if d & E_GROUP != 0 {
            d = GROUPS
                .get((d & E_IDX) as usize)?
                .get(((modrm >> 3) & 7) as usize)
                .copied()
                .unwrap_or(E_MEM_SLOW | E_REG_SLOW);
        }
        let slow = if modrm >= 0xc0 {
            E_REG_SLOW
        } else {
            E_MEM_SLOW
        };
        if d & slow != 0 {
            return None;
        }
    }
    let form = *FORMS.get((d & E_IDX) as usize)?;
    let fb = form.bits;
    let mand = d & E_MAND != 0;
    let w = rex & 8 != 0;
    let p66 = pfx == 1 && !mand;
    let rule = ((fb >> F_RULE_SHIFT) & 7) as usize;
    let ctx = OSZ
        .get(
            rule << 4
                | (w as usize) << 3
                | (p66 as usize) << 2
                | (vendor as usize) << 1
                | (rex != 0) as usize,
        )
        .copied()
        .unwrap_or(0) as usize;
    let osz = 1u8 << (ctx & 3);
    let rb = (rex & 1) << 3;
    let e;
    let rn;
    if has_modrm {
        if modrm >= 0xc0 {
            if lock {
                return None;
            }
            e = reg_op((fb >> F_ESPEC_SHIFT) & 7, ctx, (modrm & 7) | rb);
        } else {
            mem64(bytes, &mut pos, modrm, rex, ovr, &mut out.mem)?;
            out.mem.size = MEMSZ
                .get(((fb >> F_EMEM_SHIFT) & 7) as usize * 8 + (ctx & 7))
                .copied()
                .unwrap_or(0);
            e = Operand::Mem;
        }
        rn = ((modrm >> 3) & 7) | ((rex & 4) << 1);
    } else {
        if lock {
            return None;
        }
        e = Operand::None;
        rn = if fb & F_ZREG != 0 { (b & 7) | rb } else { 0 };
    }
    if lock && fb & F_LOCK == 0 {
        return None;
    }
    let r = reg_op((fb >> F_RSPEC_SHIFT) & 7, ctx, rn);
    let ik = (fb >> F_IMM_SHIFT) & 7;
    let i = if ik != 0 {
        let z = if osz == 2 { 2 } else { 4 };
        let n = match ik {
            IM_B | IM_BS | IM_JB => 1,
            IM_W => 2,
            IM_V => osz,
            _ => z,
        };
        let raw = le(bytes, &mut pos, n)?;
        if ik >= IM_JB {
            out.imm = sext_n(raw, n);
            Operand::Rel { size: n }
        } else {
            out.imm = if ik == IM_BS || ik == IM_Z {
                sext_n(raw, n) & (u64::MAX >> (64 - 8 * (osz as u32 & 15)))
            } else {
                raw
            };
            Operand::Imm { size: n }
        }
    } else {
        Operand::None
    };
    if pos > super::MAX_LEN {
        return None;
    }
    let srcs = [
        Operand::None,
        e,
        r,
        i,
        Operand::One,
        Operand::Reg(Reg::new(RegClass::Gpr8, 1)),
        Operand::None,
        Operand::None,
    ];
    let layout = LAYOUTS
        .get(((fb >> F_LAYOUT_SHIFT) & 15) as usize)
        .copied()
        .unwrap_or(0);
    let slot = |n: u32| {
        srcs.get(((layout >> (4 * n)) & 7) as usize)
            .copied()
            .unwrap_or(Operand::None)
    };
    out.operands[0] = slot(0);
    out.operands[1] = slot(1);
    out.operands[2] = slot(2);
    let mut p = (((rex != 0) as u16) * Prefixes::REX) | ((w as u16) * Prefixes::W);
    if lock {
        p |= Prefixes::LOCK;
    }
    match pfx {
        1 if !mand => p |= Prefixes::OPSIZE,
        2 => {
            p |= if mand {
                Prefixes::F3
            } else {
                Prefixes::F3 | Prefixes::REP
            }
        }
        3 => {
            p |= if mand {
                Prefixes::F2
            } else {
                Prefixes::F2 | Prefixes::REPNE
            }
        }
        _ => {}
    }
    out.len = pos as u8;
    out.op = form.op;
    out.op_size = osz;
    out.addr_size = 8;
    if is0f {
        out.map = Map::M0F;
    }
    out.opcode = b;
    out.modrm = modrm;
    out.prefixes = Prefixes(p);
    out.seg_override = ovr;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::engine::Decoder;
    use super::super::insn::{Instruction, Mode, Vendor};
    use super::decode64;

    fn general(bytes: &[u8], vendor: Vendor) -> Option<Instruction> {
        let mut insn = Instruction::BLANK;
        Decoder::new(bytes, Mode::Long64, vendor)
            .run(&mut insn)
            .ok()
            .map(|()| insn)
    }

    fn check(bytes: &[u8], hits: &mut usize) {
        for vendor in [Vendor::Intel, Vendor::Amd] {
            let mut f = Instruction::BLANK;
            if decode64(bytes, vendor, &mut f).is_some() {
                *hits += 1;
                assert_eq!(Some(f), general(bytes, vendor), "{bytes:02x?} {vendor:?}");
            }
        }
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

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
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
        ];
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
                        check(v.bytes(), &mut hits);
                        // Truncated at every length.
                        if modrm & 63 == 7 {
                            for n in 0..v.len {
                                check(v.bytes().get(..n).unwrap_or(&[]), &mut hits);
                            }
                        }
                    }
                }
            }
        }
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
            check(v.bytes().get(..len).unwrap_or(&[]), &mut hits);
        }
        assert!(hits > n as usize / 10, "{hits}");
    }
}
