//! The format of the opcode tables: candidate lists matched on prefixes and ModRM fields.
//!
//! Every opcode map is a `const` array of `(opcode, Cand)` pairs sorted by opcode. An opcode's
//! candidates are tried in order; the first whose selector matches the instruction wins, and no
//! match means #UD. One mechanism covers mandatory prefixes, opcode groups (ModRM.reg), register
//! versus memory forms, the x87 and 0F 01 register tables (ModRM.rm), VEX/EVEX W and L, and
//! per-mode and per-vendor encodings.

use super::op::Op;

/// How one operand is taken from the instruction (after the SDM's opcode-map notation).
///
/// Letters: E = ModRM.rm (register or memory), G = ModRM.reg, M = ModRM.rm memory only,
/// R = ModRM.rm register only, I = immediate, J = relative branch, O = moffs, S = segment register
/// in ModRM.reg, C/D = control/debug register in ModRM.reg, P/Q/N = MMX in reg/rm/rm-register,
/// V/W/U = XMM-class in reg/rm/rm-register, H = VEX/EVEX vvvv, L = register in imm8[7:4],
/// X/Y = string source/destination. Sizes: b = 1, w = 2, d = 4, q = 8, v = operand size,
/// y = 4 or 8 (W or 64-bit operand size), z = 2 or 4, x = the vector length, h = half of it,
/// qr = a quarter, e = an eighth; a number is a fixed size in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs, clippy::enum_variant_names)]
pub(crate) enum K {
    None,
    // general-purpose register or memory in ModRM.rm
    Eb,
    Ew,
    Ed,
    Eq,
    Ev,
    Ey,
    // general-purpose register in ModRM.reg
    Gb,
    Gd,
    Gq,
    Gv,
    Gy,
    // general-purpose register in ModRM.rm, register form only
    Rv,
    Ry,
    Rd,
    Rq,
    /// MOV to/from CR/DR/TR: ModRM.rm register of 8 bytes in 64-bit mode, else 4; mod ignored.
    Rcr,
    // memory only; the name gives the access size
    /// Address only, no access (LEA, hint NOPs, prefetches).
    M,
    Mb,
    Mw,
    Md,
    Mq,
    Mo,
    My,
    Mv,
    /// Far pointer in memory: offset of operand size plus 2-byte selector.
    Mp,
    /// Pseudo-descriptor: 6 bytes (10 in 64-bit mode).
    Ms,
    /// 10-byte x87 extended real / packed BCD.
    Mt,
    /// x87 environment: 14 or 28 bytes.
    Menv,
    /// x87 state: 94 or 108 bytes.
    Mstate,
    /// 512 bytes (FXSAVE area).
    M512,
    /// XSAVE area of variable size.
    Mxsave,
    /// 64-byte aligned (MOVDIR64B destination, ENQCMD).
    M64b,
    /// Two operand-size values (BOUND): 4 or 8 bytes.
    Ma,
    /// The vector length (x) in memory.
    Mx,
    /// 32 bytes in memory (VBROADCASTF128 has 16: use Mo).
    M32b,
    // immediates
    Ib,
    /// imm8 sign-extended to the operand size.
    Ibs,
    Iw,
    /// 2 or 4 bytes by operand size; sign-extended to 8 with 64-bit operand size.
    Iz,
    /// 2, 4 or 8 bytes by operand size (MOV r64, imm64).
    Iv,
    /// A second imm8 (ENTER level, EXTRQ/INSERTQ index).
    Ib2,
    /// A 4-byte immediate whatever the operand size (XOP TBM BEXTR, LWPINS, LWPVAL).
    Id,
    /// The register in imm8[7:4], vector length wide (VEX is4 operand).
    Lx,
    // relative branches
    Jb,
    Jz,
    /// Far pointer immediate: offset of operand size then 2-byte selector.
    Ap,
    // moffs
    Ob,
    Ov,
    // fixed registers
    Al,
    Cl,
    /// DX as port number.
    Dx,
    /// AX as FNSTSW destination.
    Ax,
    /// AL/AX/EAX/RAX by operand size.
    RAx,
    /// AX or EAX by operand size (IN/OUT).
    EAx,
    /// 8-bit register in opcode bits 2..0 (+ REX.B).
    Zb,
    /// Operand-size register in opcode bits 2..0 (+ REX.B).
    Zv,
    /// Segment register in ModRM.reg (6 and 7 invalid).
    Sw,
    /// Segment register in ModRM.reg as a destination (CS also invalid).
    SwDst,
    Es,
    Cs,
    Ss,
    Ds,
    Fs,
    Gs,
    /// Control register in ModRM.reg (+ REX.R).
    Cd,
    /// Debug register in ModRM.reg.
    Dd,
    /// The constant 1.
    One,
    /// ST(0).
    St0,
    /// ST(i) from ModRM.rm.
    Sti,
    // string operands
    Xb,
    Xv,
    Yb,
    Yv,
    /// ES:[rDI] of 2 or 4 bytes (INS).
    Yz,
    /// seg:[rSI] of 2 or 4 bytes (OUTS).
    Xz,
    // MMX
    Pq,
    Qq,
    Qd,
    Nq,
    // XMM-class in ModRM.reg
    Vx,
    Vh,
    V16,
    // XMM-class in ModRM.rm, register or memory of the given size
    Wx,
    Wh,
    Wqr,
    We,
    W16,
    W8,
    W4,
    W2,
    W1,
    // XMM-class in ModRM.rm, register only
    Ux,
    U16,
    // VEX/EVEX vvvv
    Hx,
    H16,
    /// General-purpose register in vvvv, 4 or 8 bytes by W.
    By,
    /// VSIB memory with an index vector as wide as the vector length.
    Vsib,
    /// VSIB memory with an index vector half the vector length.
    VsibH,
    // opmask registers
    KG,
    KR,
    KH,
    /// Opmask register or memory of 1, 2, 4, 8 bytes.
    KEb,
    KEw,
    KEd,
    KEq,
    // bounds registers (MPX)
    // AMX tiles
    TmmG,
    TmmR,
    TmmH,
    /// MOVDIR64B/ENQCMD destination: ES:[reg] with address-size register in ModRM.reg.
    GaEs,
    /// XLAT table byte: seg:[rBX + AL] (DS by default).
    Xlat,
}

impl K {
    /// True for the common kinds that the engine's fast operand path handles (legacy encodings).
    pub(crate) const fn is_simple(self) -> bool {
        matches!(
            self,
            K::None
                | K::Eb
                | K::Ew
                | K::Ed
                | K::Eq
                | K::Ev
                | K::Ey
                | K::Gb
                | K::Gd
                | K::Gq
                | K::Gv
                | K::Gy
                | K::M
                | K::Mb
                | K::Mw
                | K::Md
                | K::Mq
                | K::Mo
                | K::Mv
                | K::Ib
                | K::Ibs
                | K::Iw
                | K::Iz
                | K::Iv
                | K::Jb
                | K::Jz
                | K::Al
                | K::Cl
                | K::RAx
                | K::Zb
                | K::Zv
                | K::One
                | K::Vx
                | K::Wx
                | K::W8
                | K::W4
        )
    }

    /// True when the operand is taken from the ModRM byte.
    pub(crate) const fn uses_modrm(self) -> bool {
        !matches!(
            self,
            K::None
                | K::Ib
                | K::Ibs
                | K::Iw
                | K::Iz
                | K::Iv
                | K::Ib2
                | K::Id
                | K::Lx
                | K::Jb
                | K::Jz
                | K::Ap
                | K::Ob
                | K::Ov
                | K::Al
                | K::Cl
                | K::Dx
                | K::Ax
                | K::RAx
                | K::EAx
                | K::Zb
                | K::Zv
                | K::Es
                | K::Cs
                | K::Ss
                | K::Ds
                | K::Fs
                | K::Gs
                | K::One
                | K::St0
                | K::Xb
                | K::Xv
                | K::Yb
                | K::Yv
                | K::Yz
                | K::Xz
                | K::Hx
                | K::H16
                | K::By
                | K::KH
                | K::TmmH
                | K::Xlat
        )
    }
}

/// Mandatory prefix selector.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Pfx {
    /// Any prefixes (66 is the operand-size prefix, F2/F3 are REP prefixes).
    Any,
    /// None of 66, F2, F3 as a mandatory prefix (VEX/EVEX pp = 0).
    Np,
    /// 66 (pp = 1).
    P66,
    /// F3 (pp = 2).
    Pf3,
    /// F2 (pp = 3).
    Pf2,
    /// No F2/F3 (66 allowed, as an operand-size prefix).
    NoRep,
}

/// EVEX disp8×N tuple type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub(crate) enum Tuple {
    None,
    Full,
    Half,
    FullMem,
    T1s,
    T1f,
    T2,
    T4,
    T8,
    HalfMem,
    QuarterMem,
    EighthMem,
    M128,
    Dup,
    /// T1S with 1-byte elements (PEXTRB/PINSRB).
    T1s8,
    /// T1S with 2-byte elements (PEXTRW/PINSRW, FP16 scalars).
    T1s16,
}

/// One entry of an opcode's candidate list.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Cand {
    pub op: Op,
    pub k: [K; 4],
    pub sel: u32,
    pub attr: u32,
    /// Key bits (`KB_*`) that rule this candidate out, low 32 and high 16 bits (two fields
    /// rather than a `u64` to keep the table entries small): see [`Cand::matches`].
    pub forbid_lo: u32,
    pub forbid_hi: u16,
}

// Selector bits.
pub(crate) const S_PFX_SHIFT: u32 = 0; // 3 bits: Pfx
pub(crate) const S_MOD_SHIFT: u32 = 3; // 2 bits: 0 any, 1 memory, 2 register
pub(crate) const S_REG_SHIFT: u32 = 5; // 4 bits: 0..7, 15 any
pub(crate) const S_RM_SHIFT: u32 = 9; // 4 bits: 0..7, 15 any
pub(crate) const S_W_SHIFT: u32 = 13; // 2 bits: 0 any, 1 W0, 2 W1
pub(crate) const S_L_SHIFT: u32 = 15; // 3 bits: allowed L values (bit n = L n)
pub(crate) const S_MODE_SHIFT: u32 = 18; // 2 bits: 0 any, 1 not 64-bit, 2 64-bit only
pub(crate) const S_VENDOR_SHIFT: u32 = 20; // 2 bits: 0 any, 1 Intel, 2 AMD, 3 not Intel's 32-bit
pub(crate) const S_W32IG: u32 = 1 << 22; // W is ignored outside 64-bit mode
pub(crate) const S_OSZ_SHIFT: u32 = 23; // 2 bits: 0 any, 1 16, 2 32, 3 64
pub(crate) const S_ASZ_SHIFT: u32 = 25; // 2 bits: 0 any, 1 16, 2 32, 3 64
pub(crate) const S_REAL_NO: u32 = 1 << 27; // not in real mode (VEX-like encodings there are #UD)
pub(crate) const S_REXB: u32 = 1 << 28; // REX.B must be set (90 with REX.B is XCHG r8, rAX)
pub(crate) const S_NO66: u32 = 1 << 29; // no 66 prefix at all (PTWRITE: F3 66 is #UD)

// Attribute bits.
pub(crate) const A_LOCK: u32 = 1 << 0; // LOCK allowed with a memory destination
pub(crate) const A_OSZ_SHIFT: u32 = 1; // 2 bits: 0 normal, 1 d64, 2 f64, 3 REX.W ignored by AMD
pub(crate) const A_MODRM: u32 = 1 << 3; // has a ModRM byte
pub(crate) const A_MODREG: u32 = 1 << 4; // ModRM.mod is ignored: always a register form
pub(crate) const A_TUPLE_SHIFT: u32 = 5; // 4 bits: Tuple
pub(crate) const A_ES_SHIFT: u32 = 9; // 3 bits: EVEX element size: 0 by W (4/8), 1: 1, 2: 2, 3: 4, 4: 8
pub(crate) const A_BCST: u32 = 1 << 12; // EVEX broadcast allowed
pub(crate) const A_ER: u32 = 1 << 13; // EVEX embedded rounding allowed
pub(crate) const A_SAE: u32 = 1 << 14; // EVEX suppress-all-exceptions allowed
pub(crate) const A_NOMASK: u32 = 1 << 15; // EVEX aaa must be 0
pub(crate) const A_KREQ: u32 = 1 << 16; // EVEX aaa must not be 0
pub(crate) const A_NOZ: u32 = 1 << 17; // EVEX z must be 0
pub(crate) const A_LIG: u32 = 1 << 18; // vector length ignored (scalar): reported as 16
pub(crate) const A_BYTE: u32 = 1 << 22; // operand size is 1 byte (derived from the operands)
// Derived from the operand kinds (in `Cand::new`).
pub(crate) const A_USES_V: u32 = 1 << 19; // an operand is in vvvv (H*, By, KH, TmmH)
pub(crate) const A_VSIB: u32 = 1 << 20; // an operand is VSIB memory
pub(crate) const A_PORT: u32 = 1 << 21; // EAx/Xz/Yz: operand size at most 4
pub(crate) const A_KMODRM: u32 = 1 << 23; // an operand kind is taken from ModRM
pub(crate) const A_VEX_OVL: u32 = 1 << 24; // VEX: #UD when registers coincide (gathers, AMX)
pub(crate) const A_EVEX_OVL: u32 = 1 << 25; // EVEX: #UD when the destination is a source
pub(crate) const A_STR_SRC: u32 = 1 << 26; // k[0] is Xb/Xv (CMPS: the Y operand keeps DS)
pub(crate) const A_CHECKREG: u32 = 1 << 27; // an operand kind with VEX/EVEX register checks
pub(crate) const A_SIMPLE: u32 = 1 << 28; // every operand kind is one the fast path handles

// Bits of the matching key: one-hot fields describing the instruction (see `Cand::forbid`).
pub(crate) const KB_PFX_SHIFT: u32 = 0; // 4 bits: Np, 66, F3, F2 (the mandatory prefix / pp)
pub(crate) const KB_MEM: u64 = 1 << 4; // ModRM memory form
pub(crate) const KB_REG: u64 = 1 << 5; // ModRM register form
pub(crate) const KB_MREG_SHIFT: u32 = 6; // 8 bits: ModRM.reg
pub(crate) const KB_MRM_SHIFT: u32 = 14; // 8 bits: ModRM.rm
pub(crate) const KB_W0_64: u64 = 1 << 22;
pub(crate) const KB_W1_64: u64 = 1 << 23;
pub(crate) const KB_W0_32: u64 = 1 << 24; // W0 outside 64-bit mode
pub(crate) const KB_W1_32: u64 = 1 << 25;
pub(crate) const KB_L_SHIFT: u32 = 26; // 4 bits: L (VEX/EVEX/XOP, not with EVEX rounding)
pub(crate) const KB_64: u64 = 1 << 30;
pub(crate) const KB_NOT64: u64 = 1 << 31;
pub(crate) const KB_REAL: u64 = 1 << 32;
pub(crate) const KB_INTEL: u64 = 1 << 33;
pub(crate) const KB_AMD: u64 = 1 << 34;
pub(crate) const KB_OSZ0_SHIFT: u32 = 35; // 3 bits: operand size 2, 4, 8 (normal rule)
pub(crate) const KB_OSZ1_SHIFT: u32 = 38; // 3 bits: operand size 2, 4, 8 (d64 rule)
pub(crate) const KB_ASZ_SHIFT: u32 = 41; // 3 bits: address size 2, 4, 8
pub(crate) const KB_NOREXB: u64 = 1 << 44; // REX.B clear
pub(crate) const KB_66: u64 = 1 << 45; // a 66 prefix is present
pub(crate) const KB_INTEL_NOT64: u64 = 1 << 46; // Intel, outside 64-bit mode

/// The key bits that rule out a candidate with selector `sel` and attributes `attr`.
// Evaluated at compile time: an overflow is a compile error, not a panic.
#[allow(clippy::arithmetic_side_effects)]
const fn forbid_of(sel: u32, attr: u32) -> u64 {
    assert!(
        attr & A_MODREG == 0 || (sel >> S_MOD_SHIFT) & 3 == 0,
        "modreg() takes no ModRM.mod selector"
    );
    let mut f = 0u64;
    f |= match (sel >> S_PFX_SHIFT) & 7 {
        1 => 0b1110,
        2 => 0b1101,
        3 => 0b1011,
        4 => 0b0111,
        5 => 0b1100,
        _ => 0,
    } << KB_PFX_SHIFT;
    let modreg = attr & A_MODREG != 0;
    match (sel >> S_MOD_SHIFT) & 3 {
        1 => f |= if modreg { KB_MEM | KB_REG } else { KB_REG },
        2 if !modreg => f |= KB_MEM,
        _ => {}
    }
    let r = (sel >> S_REG_SHIFT) & 15;
    if r != 15 {
        f |= (0xff & !(1u64 << r)) << KB_MREG_SHIFT;
    }
    let rm = (sel >> S_RM_SHIFT) & 15;
    if rm != 15 {
        f |= (0xff & !(1u64 << rm)) << KB_MRM_SHIFT;
    }
    let w32ig = sel & S_W32IG != 0;
    match (sel >> S_W_SHIFT) & 3 {
        1 => f |= KB_W1_64 | if w32ig { 0 } else { KB_W1_32 },
        2 => f |= KB_W0_64 | if w32ig { 0 } else { KB_W0_32 },
        _ => {}
    }
    f |= ((!((sel >> S_L_SHIFT) & 7) & 15) as u64) << KB_L_SHIFT;
    match (sel >> S_MODE_SHIFT) & 3 {
        1 => f |= KB_64,
        2 => f |= KB_NOT64,
        _ => {}
    }
    if sel & S_REAL_NO != 0 {
        f |= KB_REAL;
    }
    match (sel >> S_VENDOR_SHIFT) & 3 {
        1 => f |= KB_AMD,
        2 => f |= KB_INTEL,
        3 => f |= KB_INTEL_NOT64,
        _ => {}
    }
    let o = (sel >> S_OSZ_SHIFT) & 3;
    if o != 0 {
        let rule = (attr >> A_OSZ_SHIFT) & 3;
        // The key carries the operand size of the normal and d64 rules only.
        assert!(
            rule <= 1 && attr & A_BYTE == 0,
            "osz() needs a normal or d64 candidate"
        );
        let shift = if rule == 1 {
            KB_OSZ1_SHIFT
        } else {
            KB_OSZ0_SHIFT
        };
        f |= (7 & !(1u64 << (o - 1))) << shift;
    }
    let a = (sel >> S_ASZ_SHIFT) & 3;
    if a != 0 {
        f |= (7 & !(1u64 << (a - 1))) << KB_ASZ_SHIFT;
    }
    if sel & S_REXB != 0 {
        f |= KB_NOREXB;
    }
    if sel & S_NO66 != 0 {
        f |= KB_66;
    }
    f
}

impl Cand {
    /// A candidate matching any prefix and ModRM, with operand kinds `k`.
    // Evaluated at compile time: an index out of range or an overflow is a compile error, not a
    // panic.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    pub(crate) const fn new(op: Op, k: [K; 4]) -> Cand {
        let mut attr = 0;
        let mut i = 0;
        while i < 4 {
            if k[i].uses_modrm() {
                attr |= A_MODRM;
            }
            i += 1;
        }
        // The destination (or, for OUT, the source) decides whether the operation is on bytes.
        let sized = if matches!(k[0], K::Dx | K::Ib) {
            k[1]
        } else {
            k[0]
        };
        if matches!(
            sized,
            K::Eb | K::Gb | K::Al | K::Zb | K::Ob | K::Xb | K::Yb | K::Xlat
        ) {
            attr |= A_BYTE;
        }
        attr |= (Tuple::None as u32) << A_TUPLE_SHIFT;
        let mut i = 0;
        while i < 4 {
            attr |= match k[i] {
                K::Hx | K::H16 | K::By | K::KH | K::TmmH => A_USES_V | A_CHECKREG,
                K::Vsib | K::VsibH => A_VSIB,
                K::EAx | K::Xz | K::Yz => A_PORT,
                K::Gd | K::Gq | K::Gy | K::KG | K::TmmG | K::TmmR => A_CHECKREG,
                _ => 0,
            };
            if k[i].uses_modrm() {
                attr |= A_KMODRM;
            }
            i += 1;
        }
        if matches!(k[1], K::Vsib | K::VsibH) || matches!(k, [K::TmmG, K::TmmR, K::TmmH, _]) {
            attr |= A_VEX_OVL;
        }
        if matches!(k[1], K::Vsib | K::VsibH)
            || matches!(
                op,
                Op::Vfmaddcph
                    | Op::Vfcmaddcph
                    | Op::Vfmulcph
                    | Op::Vfcmulcph
                    | Op::Vfmaddcsh
                    | Op::Vfcmaddcsh
                    | Op::Vfmulcsh
                    | Op::Vfcmulcsh
            )
        {
            attr |= A_EVEX_OVL;
        }
        if matches!(k[0], K::Xb | K::Xv) {
            attr |= A_STR_SRC;
        }
        let mut simple = true;
        let mut i = 0;
        while i < 4 {
            simple &= k[i].is_simple();
            i += 1;
        }
        if simple {
            attr |= A_SIMPLE;
        }
        let sel = (Pfx::Any as u32) << S_PFX_SHIFT
            | (15 << S_REG_SHIFT)
            | (15 << S_RM_SHIFT)
            | (7 << S_L_SHIFT);
        Cand {
            op,
            k,
            sel,
            attr,
            forbid_lo: forbid_of(sel, attr) as u32,
            forbid_hi: (forbid_of(sel, attr) >> 32) as u16,
        }
    }

    /// Recomputes the derived match mask after a selector or attribute change.
    const fn fin(mut self) -> Cand {
        let f = forbid_of(self.sel, self.attr);
        self.forbid_lo = f as u32;
        self.forbid_hi = (f >> 32) as u16;
        self
    }

    /// The key bits (`KB_*`) the candidate rejects.
    pub(crate) const fn forbids(&self) -> u64 {
        self.forbid_lo as u64 | (self.forbid_hi as u64) << 32
    }

    /// True when the candidate accepts an instruction with matching key `key` (`KB_*` bits).
    #[inline]
    pub(crate) const fn matches(&self, key: u64) -> bool {
        (key as u32 & self.forbid_lo) | ((key >> 32) as u16 & self.forbid_hi) as u32 == 0
    }

    const fn with_sel(mut self, mask: u32, shift: u32, value: u32) -> Cand {
        self.sel = (self.sel & !(mask << shift)) | (value << shift);
        self.fin()
    }

    /// Requires mandatory prefix (or VEX/EVEX pp) `p`.
    pub(crate) const fn pfx(self, p: Pfx) -> Cand {
        self.with_sel(7, S_PFX_SHIFT, p as u32)
    }
    /// No mandatory prefix.
    pub(crate) const fn np(self) -> Cand {
        self.pfx(Pfx::Np)
    }
    /// Mandatory 66.
    pub(crate) const fn p66(self) -> Cand {
        self.pfx(Pfx::P66)
    }
    /// Mandatory F3.
    pub(crate) const fn pf3(self) -> Cand {
        self.pfx(Pfx::Pf3)
    }
    /// Mandatory F2.
    pub(crate) const fn pf2(self) -> Cand {
        self.pfx(Pfx::Pf2)
    }
    /// Memory form only (ModRM.mod != 3).
    pub(crate) const fn mem(self) -> Cand {
        let mut c = self.with_sel(3, S_MOD_SHIFT, 1);
        c.attr |= A_MODRM;
        c.fin()
    }
    /// Register form only (ModRM.mod = 3).
    pub(crate) const fn reg_form(self) -> Cand {
        let mut c = self.with_sel(3, S_MOD_SHIFT, 2);
        c.attr |= A_MODRM;
        c.fin()
    }
    /// ModRM.reg must be `r` (opcode group member /r).
    pub(crate) const fn r(self, r: u8) -> Cand {
        let mut c = self.with_sel(15, S_REG_SHIFT, r as u32);
        c.attr |= A_MODRM;
        c.fin()
    }
    /// ModRM.mod = 3, ModRM.reg = `r` and ModRM.rm = `m` (a single register-form encoding).
    pub(crate) const fn rm(self, r: u8, m: u8) -> Cand {
        self.r(r).reg_form().with_sel(15, S_RM_SHIFT, m as u32)
    }
    /// ModRM.rm must be `m`, whatever ModRM.mod (TILEZERO's rm = 0; `.mem().rm_is(4)` requires
    /// a SIB byte, as AMX tile loads do).
    pub(crate) const fn rm_is(self, m: u8) -> Cand {
        let mut c = self.with_sel(15, S_RM_SHIFT, m as u32);
        c.attr |= A_MODRM;
        c.fin()
    }
    /// VEX/EVEX/XOP W (or REX.W in legacy maps) must be 0.
    pub(crate) const fn w0(self) -> Cand {
        self.with_sel(3, S_W_SHIFT, 1)
    }
    /// W must be 1.
    pub(crate) const fn w1(self) -> Cand {
        self.with_sel(3, S_W_SHIFT, 2)
    }
    /// W is ignored outside 64-bit mode (W1 there decodes as this entry).
    pub(crate) const fn w32ig(mut self) -> Cand {
        self.sel |= S_W32IG;
        self.fin()
    }
    /// Only L = 0 (128-bit).
    pub(crate) const fn l0(self) -> Cand {
        self.with_sel(7, S_L_SHIFT, 1)
    }
    /// Only L = 1 (256-bit).
    pub(crate) const fn l1(self) -> Cand {
        self.with_sel(7, S_L_SHIFT, 2)
    }
    /// Only EVEX L'L = 2 (512-bit).
    pub(crate) const fn l2(self) -> Cand {
        self.with_sel(7, S_L_SHIFT, 4)
    }
    /// L = 1 or 2 (256 or 512 bit).
    pub(crate) const fn l12(self) -> Cand {
        self.with_sel(7, S_L_SHIFT, 6)
    }
    /// Any L (scalar instruction, length ignored): reported as 128-bit.
    pub(crate) const fn lig(mut self) -> Cand {
        self.attr |= A_LIG;
        self.with_sel(7, S_L_SHIFT, 7)
    }
    /// Invalid in 64-bit mode.
    pub(crate) const fn not64(self) -> Cand {
        self.with_sel(3, S_MODE_SHIFT, 1)
    }
    /// Valid only in 64-bit mode.
    pub(crate) const fn only64(self) -> Cand {
        self.with_sel(3, S_MODE_SHIFT, 2)
    }
    /// Intel processors only.
    pub(crate) const fn intel(self) -> Cand {
        self.with_sel(3, S_VENDOR_SHIFT, 1)
    }
    /// AMD processors only.
    pub(crate) const fn amd(self) -> Cand {
        self.with_sel(3, S_VENDOR_SHIFT, 2)
    }
    /// Intel processors only in 64-bit mode, AMD's in every mode.
    pub(crate) const fn intel_only64(self) -> Cand {
        self.with_sel(3, S_VENDOR_SHIFT, 3)
    }
    /// Only with operand size `bytes` (2, 4, 8).
    pub(crate) const fn osz(self, bytes: u8) -> Cand {
        let v = match bytes {
            2 => 1,
            4 => 2,
            _ => 3,
        };
        self.with_sel(3, S_OSZ_SHIFT, v)
    }
    /// Only with address size `bytes` (2, 4, 8).
    pub(crate) const fn asz(self, bytes: u8) -> Cand {
        let v = match bytes {
            2 => 1,
            4 => 2,
            _ => 3,
        };
        self.with_sel(3, S_ASZ_SHIFT, v)
    }
    /// REX.B must be set (legacy maps; 90 with REX.B is XCHG r8, rAX rather than NOP/PAUSE).
    pub(crate) const fn rexb(mut self) -> Cand {
        self.sel |= S_REXB;
        self.fin()
    }
    /// #UD with a 66 prefix (for F3/F2-selected forms that do not take an operand-size prefix).
    pub(crate) const fn no66(mut self) -> Cand {
        self.sel |= S_NO66;
        self.fin()
    }
    /// Not recognised in real mode.
    pub(crate) const fn not_real(mut self) -> Cand {
        self.sel |= S_REAL_NO;
        self.fin()
    }
    /// LOCK allowed (with a memory destination).
    pub(crate) const fn lock(mut self) -> Cand {
        self.attr |= A_LOCK;
        self.fin()
    }
    /// Operand size defaults to 64 bits in 64-bit mode (PUSH, POP, ...).
    pub(crate) const fn d64(mut self) -> Cand {
        self.attr = (self.attr & !(3 << A_OSZ_SHIFT)) | (1 << A_OSZ_SHIFT);
        self.fin()
    }
    /// Operand size forced to 64 bits in 64-bit mode (near branches; AMD honours 66).
    pub(crate) const fn f64(mut self) -> Cand {
        self.attr = (self.attr & !(3 << A_OSZ_SHIFT)) | (2 << A_OSZ_SHIFT);
        self.fin()
    }
    /// REX.W is ignored on AMD processors (far indirect CALL/JMP have no m16:64 form there).
    pub(crate) const fn w_amd_ig(mut self) -> Cand {
        self.attr = (self.attr & !(3 << A_OSZ_SHIFT)) | (3 << A_OSZ_SHIFT);
        self.fin()
    }
    /// ModRM.mod is ignored: the rm field always names a register (MOV CR/DR).
    pub(crate) const fn modreg(mut self) -> Cand {
        self.attr |= A_MODREG | A_MODRM;
        self.fin()
    }
    /// EVEX tuple type and element size (0 = by W: 4 or 8 bytes; else 1, 2, 4 or 8).
    pub(crate) const fn tuple(mut self, t: Tuple, elem: u8) -> Cand {
        let es = match elem {
            1 => 1,
            2 => 2,
            4 => 3,
            8 => 4,
            _ => 0,
        };
        self.attr = (self.attr & !(15 << A_TUPLE_SHIFT) & !(7 << A_ES_SHIFT))
            | ((t as u32) << A_TUPLE_SHIFT)
            | (es << A_ES_SHIFT);
        self.fin()
    }
    /// EVEX embedded broadcast allowed.
    pub(crate) const fn bcst(mut self) -> Cand {
        self.attr |= A_BCST;
        self.fin()
    }
    /// EVEX embedded rounding (and so SAE) allowed.
    pub(crate) const fn er(mut self) -> Cand {
        self.attr |= A_ER | A_SAE;
        self.fin()
    }
    /// EVEX suppress-all-exceptions allowed.
    pub(crate) const fn sae(mut self) -> Cand {
        self.attr |= A_SAE;
        self.fin()
    }
    /// EVEX masking not allowed.
    pub(crate) const fn nomask(mut self) -> Cand {
        self.attr |= A_NOMASK | A_NOZ;
        self.fin()
    }
    /// EVEX masking required (gathers and scatters).
    pub(crate) const fn kreq(mut self) -> Cand {
        self.attr |= A_KREQ | A_NOZ;
        self.fin()
    }
    /// EVEX zeroing not allowed (memory destinations, compares into masks).
    pub(crate) const fn noz(mut self) -> Cand {
        self.attr |= A_NOZ;
        self.fin()
    }

    pub(crate) const fn pfx_sel(&self) -> u32 {
        (self.sel >> S_PFX_SHIFT) & 7
    }
    pub(crate) const fn tuple_type(&self) -> u32 {
        (self.attr >> A_TUPLE_SHIFT) & 15
    }
}

/// Shorthand: a candidate with up to four operand kinds.
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub(crate) const fn c(op: Op, k: &[K]) -> Cand {
    let mut kk = [K::None; 4];
    let mut i = 0;
    while i < k.len() && i < 4 {
        kk[i] = k[i];
        i += 1;
    }
    Cand::new(op, kk)
}

/// An opcode map: candidates sorted by opcode and the index of each opcode's first candidate.
pub(crate) struct OpMap {
    /// The candidates in opcode order, without their opcodes (`start` gives them): a `Cand` is
    /// 20 bytes, with the opcode beside it 24.
    pub cands: &'static [Cand],
    /// Per opcode: the index of its first candidate (low 13 bits) and its info bits (top 3: see
    /// `INFO_*`).
    pub start: [u16; 257],
}

/// The candidates of `list` without their opcodes, for [`OpMap::new`].
// Evaluated at compile time: an index out of range or an overflow is a compile error, not a
// panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub(crate) const fn cands_of<const N: usize>(list: &[(u8, Cand)]) -> [Cand; N] {
    assert!(list.len() == N, "wrong candidate count");
    let mut t = [list[0].1; N];
    let mut i = 0;
    while i < N {
        t[i] = list[i].1;
        i += 1;
    }
    t
}

const _: () = assert!(core::mem::size_of::<Cand>() == 20);

/// `pub(crate) static $map: OpMap` of candidate list `$list`, its candidates in a static of
/// their own (see [`cands_of`]).
macro_rules! op_map {
    ($(#[$attr:meta])* $map:ident, $list:ident) => {
        $(#[$attr])*
        pub(crate) static $map: OpMap = {
            static CANDS: [Cand; $list.len()] = cands_of($list);
            OpMap::new($list, &CANDS)
        };
    };
}
pub(crate) use op_map;

/// The opcode has a ModRM byte for Intel processors.
pub(crate) const INFO_MODRM_INTEL: u16 = 1 << 13;
/// The opcode has a ModRM byte for AMD processors.
pub(crate) const INFO_MODRM_AMD: u16 = 1 << 14;
/// The opcode has candidates.
pub(crate) const INFO_ANY: u16 = 1 << 15;
pub(crate) const START_MASK: u16 = (1 << 13) - 1;

impl OpMap {
    /// The map of `list`, whose candidates without their opcodes are `cands` (see
    /// [`cands_of`]).
    // Evaluated at compile time: a failed assertion is a compile error, not a panic.
    pub(crate) const fn new(list: &[(u8, Cand)], cands: &'static [Cand]) -> OpMap {
        assert!(list.len() == cands.len(), "candidates not of their list");
        OpMap {
            cands,
            start: Self::index(list),
        }
    }

    /// The `start` index of `list`; fails to compile when the candidates are not sorted by
    /// opcode or when candidates of one opcode disagree about having a ModRM byte.
    // Evaluated at compile time: an index out of range or an overflow is a compile error, not a
    // panic.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    pub(crate) const fn index(cands: &[(u8, Cand)]) -> [u16; 257] {
        let n = cands.len();
        let mut start = [0u16; 257];
        let mut i = 1;
        while i < n {
            assert!(cands[i - 1].0 <= cands[i].0, "opcode map not sorted");
            if cands[i - 1].0 == cands[i].0 {
                // Only candidates for different vendors may differ (UD0: Intel reads ModRM).
                let va = (cands[i - 1].1.sel >> S_VENDOR_SHIFT) & 3;
                let vb = (cands[i].1.sel >> S_VENDOR_SHIFT) & 3;
                assert!(
                    (cands[i - 1].1.attr & A_MODRM) == (cands[i].1.attr & A_MODRM)
                        || (va != 0 && vb != 0 && va != vb),
                    "candidates of one opcode disagree on ModRM"
                );
            }
            i += 1;
        }
        let mut op = 0usize;
        let mut j = 0usize;
        while op < 257 {
            while j < n && (cands[j].0 as usize) < op {
                j += 1;
            }
            start[op] = j as u16;
            op += 1;
        }
        // ModRM presence is per opcode, except where vendors differ (UD0): then the first
        // candidate for the vendor decides.
        assert!(n <= START_MASK as usize, "opcode map too large");
        let mut info = [0u16; 256];
        let mut op = 0usize;
        while op < 256 {
            let lo = start[op] as usize;
            let hi = start[op + 1] as usize;
            if lo < hi {
                info[op] |= INFO_ANY;
                let mut v = 1;
                while v <= 2 {
                    let mut pick = lo;
                    let mut i = lo;
                    while i < hi {
                        let cv = (cands[i].1.sel >> S_VENDOR_SHIFT) & 3;
                        if cv == 0 || cv == v {
                            pick = i;
                            break;
                        }
                        i += 1;
                    }
                    if cands[pick].1.attr & A_MODRM != 0 {
                        info[op] |= if v == 1 {
                            INFO_MODRM_INTEL
                        } else {
                            INFO_MODRM_AMD
                        };
                    }
                    v += 1;
                }
            }
            op += 1;
        }
        let mut op = 0usize;
        while op < 256 {
            start[op] |= info[op];
            op += 1;
        }
        start
    }

    /// The candidates of one opcode and its info bits (`INFO_*`).
    #[inline]
    pub(crate) fn lookup(&self, opcode: u8) -> (&'static [Cand], u16) {
        let a = self.start.get(opcode as usize).copied().unwrap_or(0);
        let b = self
            .start
            .get(usize::from(opcode).wrapping_add(1))
            .copied()
            .unwrap_or(0);
        let lo = (a & START_MASK) as usize;
        let hi = (b & START_MASK) as usize;
        (self.cands.get(lo..hi).unwrap_or(&[]), a)
    }
}
