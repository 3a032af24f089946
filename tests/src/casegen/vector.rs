//! Random vector-move cases for the native differential test of the vector instructions
//! (`tests/native_vector.rs`), built with `Gen`'s addressing, prefixes and state:
//!
//! - the legacy SSE moves (MOVUPS MOVUPD MOVAPS MOVAPD MOVDQU MOVDQA MOVNTPS MOVNTPD MOVNTDQ
//!   MOVNTDQA LDDQU, MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD MOVNTSS MOVNTSD, MOVD MOVQ with XMM
//!   registers, general-purpose registers and memory, PEXTRB/W/D/Q PINSRB/W/D/Q);
//! - their VEX.128 and VEX.256 forms (C5 or C4, VEX.W where it is ignored as well as where it
//!   selects MOVQ or PEXTRQ, the vvvv register of the three-operand forms);
//! - the AVX-512 moves under an opmask (VMOVDQU8/16/32/64, VMOVDQA32/64, VMOVUPS VMOVAPS
//!   VMOVUPD VMOVAPD) at 128, 256 and 512 bits, loads, stores and register moves, with k0..k7,
//!   merging or zeroing, ZMM0..ZMM31 (0..7 in compatibility mode), disp8*N;
//! - MMX stores (MOVD MOVQ MOVNTQ PEXTRW from MM registers: the harness starts every case with
//!   the x87 state in its initial configuration, so MM0..MM7 are 0 and only stores of zeros and
//!   their faults are observable; MMX loads change nothing the harness sees);
//! - MOVNTI, CLFLUSH, CLFLUSHOPT, CLWB.
//!
//! The state: every GPR edge-biased (as in [`super`]), random ZMM0..ZMM31 (ZMM0..ZMM7 in
//! compatibility mode; now and then with the upper parts zero), random K0..K7, AC = 1 in a fifth
//! of the cases. Memory operands come from `Gen::target` (the scratch window, the guard and
//! read-only pages, the pages around the window, non-canonical addresses), more often straddling
//! a boundary into a page that faults; the aligned forms are mostly aligned. The opmask of a
//! masked memory access is chosen knowing which elements would fault: a fifth of those cases
//! mask all of them off, a tenth let exactly one through.
//!
//! Now and then an encoding the processor rejects or ignores: a register operand for a
//! memory-only form, VEX.L = 1 on a 128-bit-only form, a nonzero unused vvvv, EVEX.b, EVEX.L'L =
//! 3, EVEX.z on a store, EVEX.W flipped, LOCK; in compatibility mode the VEX/EVEX bits it
//! ignores (VEX.B, EVEX.B, vvvv\[3\], EVEX.R', EVEX.V').

use super::{Gen, Generated, Vex};
use crate::native::{GUARD_PAGE, Mode, Page, RO_PAGE, SCRATCH_BASE, SCRATCH_END, page};
use crate::randgen::Rng;

/// Vector instruction families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VecFamily {
    /// MOVUPS MOVUPD MOVAPS MOVAPD MOVDQU MOVDQA MOVNTPS MOVNTPD MOVNTDQ MOVNTDQA LDDQU.
    SseFull,
    /// MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD MOVNTSS MOVNTSD.
    SsePart,
    /// MOVD, MOVQ with XMM registers.
    SseMovq,
    /// PEXTRB/W/D/Q, PINSRB/W/D/Q.
    SseLane,
    /// MOVD, MOVQ, MOVNTQ, PEXTRW from MMX registers.
    Mmx,
    /// MOVNTI, CLFLUSH, CLFLUSHOPT, CLWB.
    Cache,
    /// The VEX forms of [`VecFamily::SseFull`], 128 and 256 bits.
    VexFull,
    /// VMOVSS VMOVSD VMOVLPS VMOVHPS VMOVLPD VMOVHPD.
    VexPart,
    /// VMOVD, VMOVQ.
    VexMovq,
    /// VPEXTRB/W/D/Q, VPINSRB/W/D/Q.
    VexLane,
    /// VMOVDQU8/16/32/64 VMOVDQA32/64 VMOVUPS VMOVAPS VMOVUPD VMOVAPD under an opmask.
    Evex,
}

impl crate::native_report::CaseFamily for VecFamily {
    const ALL: &'static [VecFamily] = &VecFamily::ALL;
    /// Short name.
    fn name(self) -> &'static str {
        match self {
            VecFamily::SseFull => "sse movups..lddqu",
            VecFamily::SsePart => "sse movss..movhpd",
            VecFamily::SseMovq => "sse movd/movq",
            VecFamily::SseLane => "sse pextr/pinsr",
            VecFamily::Mmx => "mmx stores",
            VecFamily::Cache => "movnti/clflush/clwb",
            VecFamily::VexFull => "vex vmovups..vlddqu",
            VecFamily::VexPart => "vex vmovss..vmovhpd",
            VecFamily::VexMovq => "vex vmovd/vmovq",
            VecFamily::VexLane => "vex vpextr/vpinsr",
            VecFamily::Evex => "evex masked moves",
        }
    }
    /// Relative share of the cases.
    fn weight(self) -> u64 {
        match self {
            VecFamily::Evex => 9,
            VecFamily::SseFull | VecFamily::SsePart | VecFamily::VexFull => 3,
            VecFamily::SseMovq
            | VecFamily::SseLane
            | VecFamily::Cache
            | VecFamily::VexPart
            | VecFamily::VexLane => 2,
            VecFamily::Mmx | VecFamily::VexMovq => 1,
        }
    }
}

impl VecFamily {
    /// Every family.
    pub const ALL: [VecFamily; 11] = [
        VecFamily::SseFull,
        VecFamily::SsePart,
        VecFamily::SseMovq,
        VecFamily::SseLane,
        VecFamily::Mmx,
        VecFamily::Cache,
        VecFamily::VexFull,
        VecFamily::VexPart,
        VecFamily::VexMovq,
        VecFamily::VexLane,
        VecFamily::Evex,
    ];
}

/// What the opmask of a masked memory access does about the elements that would fault (on a
/// page that is not present, or read-only for a store, or at a non-canonical address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Masking {
    /// No masked memory access, or none of its elements would fault.
    #[default]
    None,
    /// Every element that would fault is masked off (and some are not).
    Suppressed,
    /// Some elements that would fault are not masked off.
    Faulting,
}

/// Generates one case of `family` in `mode`, with what its opmask does.
///
/// `decoder_gaps` adds two encodings where hvemu's decoder and the processor (AMD Zen 4)
/// disagree, in compatibility mode: EVEX.V' = 0 (the processor ignores it; the decoder
/// rejects it as reserved) and VEX.W1 VPEXTRD/VPINSRD (0F3A 16/22: #UD on the processor; the
/// decoder ignores W). Without it they are left out (V' stays 1, W stays 0).
pub fn generate(
    rng: &mut Rng,
    family: VecFamily,
    mode: Mode,
    decoder_gaps: bool,
) -> (Generated<VecFamily>, Masking) {
    loop {
        let mut g = Gen::new(rng, mode);
        g.decoder_gaps = decoder_gaps;
        g.fill_vectors();
        match family {
            VecFamily::SseFull => full(&mut g, false),
            VecFamily::SsePart => part(&mut g, false),
            VecFamily::SseMovq => movq(&mut g, false),
            VecFamily::SseLane => lane(&mut g, false),
            VecFamily::Mmx => mmx(&mut g),
            VecFamily::Cache => cache(&mut g),
            VecFamily::VexFull => full(&mut g, true),
            VecFamily::VexPart => part(&mut g, true),
            VecFamily::VexMovq => movq(&mut g, true),
            VecFamily::VexLane => lane(&mut g, true),
            VecFamily::Evex => evex(&mut g),
        }
        if !g.locked {
            g.bad_lock();
        }
        let masking = g.masking;
        if let Some(c) = g.finish(family) {
            return (c, masking);
        }
    }
}

/// Direction of a move between a register (ModRM.reg) and the r/m operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// reg <- r/m.
    Load,
    /// r/m <- reg.
    Store,
}

/// What the r/m operand may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RegForm {
    /// A register or memory.
    Yes,
    /// Memory only; a register operand is #UD (generated now and then).
    Ud,
    /// Memory only; the register form is another instruction (never generated).
    Never,
}

/// One form of a move: prefix (0 none, 1 = 66, 2 = F3, 3 = F2), map (1 = 0F, 2 = 0F38,
/// 3 = 0F3A), opcode, direction, memory operand size (0: the vector length), alignment
/// required, register forms.
#[derive(Clone, Copy, Debug)]
struct Form {
    pp: u8,
    map: u8,
    op: u8,
    dir: Dir,
    size: u64,
    aligned: bool,
    reg: RegForm,
}

const fn f(pp: u8, map: u8, op: u8, dir: Dir, size: u64, aligned: bool, reg: RegForm) -> Form {
    Form {
        pp,
        map,
        op,
        dir,
        size,
        aligned,
        reg,
    }
}

use Dir::{Load, Store};
use RegForm::{Never, Ud, Yes};

/// MOVUPS MOVUPD MOVAPS MOVAPD MOVDQU MOVDQA MOVNTPS MOVNTPD MOVNTDQ MOVNTDQA LDDQU (and VEX).
const FULL: [Form; 17] = [
    f(0, 1, 0x10, Load, 0, false, Yes),
    f(0, 1, 0x11, Store, 0, false, Yes),
    f(1, 1, 0x10, Load, 0, false, Yes),
    f(1, 1, 0x11, Store, 0, false, Yes),
    f(0, 1, 0x28, Load, 0, true, Yes),
    f(0, 1, 0x29, Store, 0, true, Yes),
    f(1, 1, 0x28, Load, 0, true, Yes),
    f(1, 1, 0x29, Store, 0, true, Yes),
    f(2, 1, 0x6f, Load, 0, false, Yes),
    f(2, 1, 0x7f, Store, 0, false, Yes),
    f(1, 1, 0x6f, Load, 0, true, Yes),
    f(1, 1, 0x7f, Store, 0, true, Yes),
    f(0, 1, 0x2b, Store, 0, true, Ud),
    f(1, 1, 0x2b, Store, 0, true, Ud),
    f(1, 1, 0xe7, Store, 0, true, Ud),
    f(1, 2, 0x2a, Load, 0, true, Ud),
    f(3, 1, 0xf0, Load, 0, false, Ud),
];

/// MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD MOVNTSS MOVNTSD (the last two legacy only).
const PART: [Form; 14] = [
    f(2, 1, 0x10, Load, 4, false, Yes),
    f(2, 1, 0x11, Store, 4, false, Yes),
    f(3, 1, 0x10, Load, 8, false, Yes),
    f(3, 1, 0x11, Store, 8, false, Yes),
    f(0, 1, 0x12, Load, 8, false, Never),
    f(0, 1, 0x13, Store, 8, false, Ud),
    f(0, 1, 0x16, Load, 8, false, Never),
    f(0, 1, 0x17, Store, 8, false, Ud),
    f(1, 1, 0x12, Load, 8, false, Ud),
    f(1, 1, 0x13, Store, 8, false, Ud),
    f(1, 1, 0x16, Load, 8, false, Ud),
    f(1, 1, 0x17, Store, 8, false, Ud),
    f(2, 1, 0x2b, Store, 4, false, Ud),
    f(3, 1, 0x2b, Store, 8, false, Ud),
];

/// The memory-side prefix of a legacy form.
const PP_PREFIX: [Option<u8>; 4] = [None, Some(0x66), Some(0xf3), Some(0xf2)];

/// The escape bytes of a legacy opcode map.
fn escape(map: u8) -> &'static [u8] {
    match map {
        1 => &[0x0f],
        2 => &[0x0f, 0x38],
        _ => &[0x0f, 0x3a],
    }
}

impl Gen<'_> {
    /// Random ZMM and opmask registers (see the module documentation).
    fn fill_vectors(&mut self) {
        let n = if self.long() { 32 } else { 8 };
        // Now and then the upper parts are zero (their XSAVE components in the initial
        // configuration).
        let top = match self.below(10) {
            0 => 1,
            1 => 2,
            _ => 4,
        };
        for r in 0..n {
            let mut v = [0u128; 4];
            let lanes = if r >= 16 && top < 4 { 0 } else { top };
            for lane in v.iter_mut().take(lanes) {
                *lane = self.lane_value();
            }
            self.st.set_zmm(r, v);
        }
        for k in 0..8 {
            self.st.k[k] = self.kvalue();
        }
    }

    /// A random 128-bit value: mostly random bits, sometimes 0, all ones or edge-biased halves.
    fn lane_value(&mut self) -> u128 {
        match self.below(16) {
            0 => 0,
            1 => u128::MAX,
            2 => u128::from(self.value(8)) | u128::from(self.value(8)) << 64,
            _ => u128::from(self.rng.next_u64()) | u128::from(self.rng.next_u64()) << 64,
        }
    }

    /// A random opmask value.
    fn kvalue(&mut self) -> u64 {
        match self.below(10) {
            0 => 0,
            1 => u64::MAX,
            2 => 1 << self.below(64),
            3 => u64::MAX << self.below(64),
            4 => u64::MAX >> self.below(64),
            5 => self.value(8),
            6 => 0x5555_5555_5555_5555 << self.below(2),
            _ => self.rng.next_u64(),
        }
    }

    /// Number of vector registers an operand can name: 8 in compatibility mode, 32 with EVEX,
    /// 16 with VEX or REX.
    fn vregs(&self, evex: bool) -> u64 {
        if !self.long() {
            8
        } else if evex {
            32
        } else if self.rex_on {
            16
        } else {
            8
        }
    }

    fn vreg(&mut self, evex: bool) -> u8 {
        self.below(self.vregs(evex)) as u8
    }

    /// Vector register `r` in ModRM.reg (REX.R / EVEX.R').
    fn vreg_reg(&mut self, r: u8) {
        self.modrm_reg(r & 15);
        self.rex_r = r & 8 != 0;
        if let Some(v) = &mut self.vex {
            v.r_hi = r & 16 != 0;
        }
    }

    /// Vector register `r` as the r/m operand (REX.B / EVEX.X).
    fn vreg_rm(&mut self, r: u8) {
        self.modrm_rm(3, r & 7);
        self.rex_b = r & 8 != 0;
        self.rex_x = r & 16 != 0;
    }

    /// A general-purpose register as the r/m operand, with a random value.
    fn gpr_rm(&mut self) -> u8 {
        let r = self.reg();
        self.modrm_rm(3, r);
        self.rex_b = r >= 8;
        let v = self.value(8);
        self.st.gpr[usize::from(r)] = v;
        r
    }

    /// A general-purpose register in ModRM.reg, with a random value.
    fn gpr_reg(&mut self) -> u8 {
        let r = self.reg();
        self.modrm_reg(r);
        let v = self.value(8);
        self.st.gpr[usize::from(r)] = v;
        r
    }

    /// Legacy SSE encoding: the mandatory prefix, the escape and the opcode; a REX prefix in
    /// 64-bit mode now and then (its W random unless `w` says).
    fn sse(&mut self, pp: u8, map: u8, op: u8, w: Option<bool>) {
        self.rex_on = self.long() && self.chance(45);
        self.rex_w = self.rex_on && w.unwrap_or_else(|| self.chance(30));
        self.mandatory = PP_PREFIX[usize::from(pp)];
        self.opcode = escape(map).to_vec();
        self.opcode.push(op);
    }

    /// VEX (or EVEX) encoding; every GPR is reachable in 64-bit mode. In compatibility mode,
    /// now and then the bits it ignores.
    fn vex(&mut self, evex: bool, pp: u8, map: u8, op: u8, l: u8, w: bool) {
        self.rex_on = self.long();
        let mut ignored = 0;
        if !self.long() && self.chance(8) {
            ignored = 1 + self.below(if evex { 15 } else { 3 }) as u8;
            if !self.decoder_gaps {
                ignored &= !8;
            }
        }
        self.vex = Some(Vex {
            evex,
            map,
            pp,
            l,
            w,
            ignored,
            ..Vex::default()
        });
        self.opcode = vec![op];
    }

    /// Sets the vvvv register.
    fn set_vvvv(&mut self, r: u8) {
        if let Some(v) = &mut self.vex {
            v.v = r;
        }
    }

    /// Rarely a nonzero vvvv on a form without a vvvv operand (#UD).
    fn bad_vvvv(&mut self) {
        if self.chance(1) {
            let r = 1 + self.below(self.vregs(false) - 1) as u8;
            self.set_vvvv(r);
        }
    }

    /// An address for a `size`-byte access of `e`-byte elements: [`Gen::target`], or more often
    /// than there straddling a boundary into a page that faults (element-aligned now and
    /// then).
    fn vtarget(&mut self, size: u64, e: u64, canonical_only: bool) -> u64 {
        // Compatibility mode: across the 4 GiB limit of the flat segments (the page below it
        // is not present).
        if !self.long() && self.chance(3) {
            return if size > 1 {
                0x1_0000_0000 - 1 - self.below(size - 1)
            } else {
                0xffff_ffff - self.below(16)
            };
        }
        if size >= 4 && self.chance(15) {
            let b = match self.below(8) {
                0..=3 => GUARD_PAGE,
                4 | 5 => RO_PAGE,
                6 => SCRATCH_END,
                _ => SCRATCH_BASE,
            };
            let mut t = b - 1 - self.below(size - 1);
            if e > 1 && self.chance(60) {
                t &= !(e - 1);
            }
            return t;
        }
        self.target(size, canonical_only)
    }

    /// A memory r/m operand of `size` bytes (elements of `e` bytes; `align`: mostly aligned)
    /// holding random bytes; returns its linear address.
    fn vmem(&mut self, size: u64, e: u64, align: bool) -> u64 {
        let (t, asz) = self.vaddr(size, e, align);
        self.vplace(t, asz, size);
        t
    }

    /// The linear address and address size of a memory operand for [`Gen::vmem`].
    fn vaddr(&mut self, size: u64, e: u64, align: bool) -> (u64, u8) {
        let asz = self.pick_asz();
        let mut t = self.vtarget(size, e, asz == 4);
        // Not when that would move an access straddling the top of the lower canonical half
        // into the canonical page below it.
        if align && self.chance(75) && (t & !(size - 1)) >> 12 != 0x7_ffff_ffff {
            t &= !(size - 1);
        }
        (t, asz)
    }

    /// Encodes the memory operand at linear address `t` with address size `asz`, holding
    /// `size` random bytes.
    fn vplace(&mut self, t: u64, asz: u8, size: u64) {
        let ea = self.segment_ea(t, asz);
        self.modrm_mem(ea, asz);
        let bytes: Vec<u8> = (0..size).map(|_| self.rng.byte()).collect();
        self.put_mem(t, &bytes);
    }

    /// An 8-bit immediate selecting an element: mostly in range, sometimes any byte.
    fn select_imm(&mut self, count: u64) {
        let i = if self.chance(70) {
            self.below(count)
        } else {
            u64::from(self.rng.byte())
        };
        self.imm(1, i);
    }
}

/// The vector length of a VEX.L / EVEX.L'L.
fn vl_bytes(l: u8) -> u64 {
    16 << l.min(2)
}

/// The r/m operand of a move of `form`: a register (`reg_pct` percent of the time when the
/// form has one; memory-only forms get one in 3% of the cases, #UD) or memory of `size` bytes.
/// `wide`: a VEX or EVEX move of `vl` bytes with register `x` in ModRM.reg (see
/// [`other_reg`]).
fn rm_operand(
    g: &mut Gen,
    form: &Form,
    size: u64,
    reg_pct: u64,
    evex: bool,
    wide: Option<u8>,
    vl: u64,
) {
    let reg = match form.reg {
        Yes => g.chance(reg_pct),
        Ud => g.chance(3),
        Never => false,
    };
    if reg {
        let r = match wide {
            Some(x) => other_reg(g, x, vl, evex),
            None => g.vreg(evex),
        };
        g.vreg_rm(r);
    } else {
        g.vmem(size, size.min(8), form.aligned);
    }
}

/// The second register of a VEX or EVEX register-to-register move of `vl` bytes whose other
/// register is `x`. The emulator holds at most one register beyond XMM0..XMM15 per instruction
/// (a VEX or EVEX destination is one: its upper bits are written), by design: register moves
/// never reach it through an exit. So the second register is `x` itself for YMM and ZMM moves
/// and when `x` is one of XMM16..XMM31, else one of XMM0..XMM15.
fn other_reg(g: &mut Gen, x: u8, vl: u64, evex: bool) -> u8 {
    if vl > 16 || x >= 16 || g.chance(10) {
        return x;
    }
    g.below(g.vregs(evex).min(16)) as u8
}

/// SSE or VEX whole-register moves.
fn full(g: &mut Gen, vex: bool) {
    let form = FULL[g.below(FULL.len() as u64) as usize];
    let size = if vex {
        let l = u8::from(g.chance(50));
        let w = g.chance(20);
        g.vex(false, form.pp, form.map, form.op, l, w);
        g.bad_vvvv();
        vl_bytes(l)
    } else {
        g.sse(form.pp, form.map, form.op, None);
        16
    };
    let x = g.vreg(false);
    g.vreg_reg(x);
    rm_operand(
        g,
        &form,
        size,
        30,
        false,
        if vex { Some(x) } else { None },
        size,
    );
}

/// SSE or VEX scalar and half moves.
fn part(g: &mut Gen, vex: bool) {
    let n = if vex { PART.len() - 2 } else { PART.len() };
    let form = PART[g.below(n as u64) as usize];
    let scalar = form.op & 0xfe == 0x10;
    if vex {
        // VMOVSS/VMOVSD ignore VEX.L; the others are #UD with L = 1.
        let l = u8::from(if scalar { g.chance(50) } else { g.chance(4) });
        let w = g.chance(20);
        g.vex(false, form.pp, form.map, form.op, l, w);
    } else {
        g.sse(form.pp, form.map, form.op, None);
    }
    let x = g.vreg(false);
    g.vreg_reg(x);
    let reg = match form.reg {
        Yes => g.chance(35),
        Ud => g.chance(3),
        Never => false,
    };
    if reg {
        let r = g.vreg(false);
        g.vreg_rm(r);
    } else {
        g.vmem(form.size, form.size, false);
    }
    if vex {
        // The three-operand forms: VMOVSS/VMOVSD between registers, the half loads.
        let three = if scalar { reg } else { form.dir == Load };
        if three {
            let v = g.vreg(false);
            g.set_vvvv(v);
        } else {
            g.bad_vvvv();
        }
    }
}

/// MOVD and MOVQ between XMM registers, GPRs and memory (legacy or VEX).
fn movq(g: &mut Gen, vex: bool) {
    // (pp, opcode, the r/m operand is a GPR or memory sized by W, else an XMM register or
    // m64): MOVD/MOVQ xmm, r/m; MOVD/MOVQ r/m, xmm; MOVQ xmm, xmm/m64; MOVQ xmm/m64, xmm.
    let (pp, op, gpr) = g.rng.pick(&[
        (1, 0x6e, true),
        (1, 0x7e, true),
        (2, 0x7e, false),
        (1, 0xd6, false),
    ]);
    let w = if gpr {
        if vex {
            g.chance(50)
        } else {
            g.long() && g.chance(50)
        }
    } else {
        g.chance(20)
    };
    if vex {
        let l = u8::from(g.chance(4));
        g.vex(false, pp, 1, op, l, w);
        g.bad_vvvv();
    } else {
        g.sse(pp, 1, op, Some(w));
    }
    let x = g.vreg(false);
    g.vreg_reg(x);
    let w = if vex { w } else { g.rex_w };
    let size = if gpr && w && g.long() {
        8
    } else if gpr {
        4
    } else {
        8
    };
    if g.chance(35) {
        if gpr {
            g.gpr_rm();
        } else {
            let r = g.vreg(false);
            g.vreg_rm(r);
        }
    } else {
        g.vmem(size, size, false);
    }
}

/// PEXTRB/W/D/Q and PINSRB/W/D/Q (legacy or VEX).
fn lane(g: &mut Gen, vex: bool) {
    // (map, opcode, element bytes, insert, the GPR or memory operand is in r/m)
    let (map, op, e, insert, in_rm) = g.rng.pick(&[
        (3u8, 0x14u8, 1u64, false, true),
        (3, 0x15, 2, false, true),
        (1, 0xc5, 2, false, false),
        (3, 0x16, 4, false, true),
        (3, 0x20, 1, true, true),
        (1, 0xc4, 2, true, true),
        (3, 0x22, 4, true, true),
    ]);
    let dq = op == 0x16 || op == 0x22;
    let w = if dq {
        if vex {
            (g.long() || g.decoder_gaps) && g.chance(50)
        } else {
            g.long() && g.chance(50)
        }
    } else {
        g.chance(20)
    };
    if vex {
        let l = u8::from(g.chance(4));
        g.vex(false, 1, map, op, l, w);
    } else {
        g.sse(1, map, op, Some(w));
    }
    let w = if vex { w } else { g.rex_w };
    let e = if dq && w && g.long() { 8 } else { e };
    if in_rm {
        let x = g.vreg(false);
        g.vreg_reg(x);
        if g.chance(40) {
            g.gpr_rm();
        } else {
            g.vmem(e, e, false);
        }
    } else {
        // PEXTRW r32, xmm: register operands only (memory is #UD, now and then).
        g.gpr_reg();
        if g.chance(3) {
            g.vmem(2, 2, false);
        } else {
            let r = g.vreg(false);
            g.vreg_rm(r);
        }
    }
    if vex {
        if insert {
            let v = g.vreg(false);
            g.set_vvvv(v);
        } else {
            g.bad_vvvv();
        }
    }
    g.select_imm(16 / e);
}

/// MMX stores: MOVD/MOVQ r/m, mm; MOVQ m64, mm; MOVNTQ; PEXTRW r32, mm.
fn mmx(g: &mut Gen) {
    let which = g.below(4);
    let w = g.long() && which == 0 && g.chance(50);
    let op = [0x7e, 0x7f, 0xe7, 0xc5][which as usize];
    g.sse(0, 1, op, Some(w));
    let w = g.rex_w;
    let mm = g.below(8) as u8;
    match which {
        0 => {
            g.modrm_reg(mm);
            g.rex_r = g.rex_on && g.chance(20); // ignored
            if g.chance(35) {
                g.gpr_rm();
            } else {
                let size = if w { 8 } else { 4 };
                g.vmem(size, size, false);
            }
        }
        1 | 2 => {
            g.modrm_reg(mm);
            g.rex_r = g.rex_on && g.chance(20);
            g.vmem(8, 8, false);
        }
        _ => {
            g.gpr_reg();
            g.modrm_rm(3, mm);
            g.rex_b = g.rex_on && g.chance(20);
            g.select_imm(4);
        }
    }
}

/// MOVNTI m32/m64, r; CLFLUSH, CLFLUSHOPT, CLWB m8.
fn cache(g: &mut Gen) {
    match g.below(4) {
        0 => {
            let w = g.long() && g.chance(50);
            g.sse(0, 1, 0xc3, Some(w));
            let w = g.rex_w;
            g.gpr_reg();
            let size = if w { 8 } else { 4 };
            if g.chance(2) {
                g.gpr_rm(); // #UD
            } else {
                g.vmem(size, size, false);
            }
        }
        k => {
            // CLFLUSH 0F AE /7, CLFLUSHOPT 66 0F AE /7, CLWB 66 0F AE /6.
            let (pp, field) = [(0, 7), (1, 7), (1, 6)][k as usize - 1];
            g.sse(pp, 1, 0xae, None);
            g.modrm_reg(field);
            g.vmem(1, 1, false);
        }
    }
}

/// The elements of a `count` × `e`-byte access at `t` that would fault: not on a read-write
/// page (a store) or not on a present page (a load), or not canonical.
fn faulting(t: u64, count: u64, e: u64, store: bool) -> u64 {
    (0..count)
        .filter(|&i| {
            (0..e).any(|j| match page(t.wrapping_add(i * e + j)) {
                Page::ReadWrite => false,
                Page::ReadOnly => store,
                _ => true,
            })
        })
        .fold(0, |m, i| m | 1 << i)
}

/// VMOVDQU8/16/32/64, VMOVDQA32/64, VMOVUPS, VMOVAPS, VMOVUPD, VMOVAPD under an opmask.
fn evex(g: &mut Gen) {
    // (pp, W, element bytes, aligned, the opcodes of MOVUPS/MOVAPS rather than MOVDQU)
    let (pp, w, e, aligned, ps) = g.rng.pick(&[
        (3, false, 1u64, false, false),
        (3, true, 2, false, false),
        (2, false, 4, false, false),
        (2, true, 8, false, false),
        (1, false, 4, true, false),
        (1, true, 8, true, false),
        (0, false, 4, false, true),
        (1, true, 8, false, true),
        (0, false, 4, true, true),
        (1, true, 8, true, true),
    ]);
    // VMOVUPS/UPD 10/11, VMOVAPS/APD 28/29, VMOVDQ* 6F/7F.
    let store = g.chance(45);
    let op = match (ps, aligned, store) {
        (true, false, _) => 0x10,
        (true, true, _) => 0x28,
        (false, _, false) => 0x6f,
        (false, _, true) => 0x7f,
    } | u8::from(ps && store);
    let l = if g.chance(1) { 3 } else { g.below(3) as u8 };
    let w = if g.chance(2) { !w } else { w };
    // A flipped W makes VMOVDQU8 VMOVDQU16 and so on (VMOVUPS with W1 and the like are #UD).
    let e = match (ps, pp, w) {
        (true, ..) => e,
        (false, 3, false) => 1,
        (false, 3, true) => 2,
        (false, _, false) => 4,
        (false, _, true) => 8,
    };
    g.vex(true, pp, 1, op, l, w);
    let vl = vl_bytes(l);
    g.disp8_scale = vl;
    let aaa = if g.chance(15) {
        0
    } else {
        1 + g.below(7) as u8
    };
    let memory = g.chance(75);
    // Zeroing: on register destinations; rarely on a store to memory (#UD).
    let z = if store && memory {
        g.chance(3)
    } else {
        g.chance(30)
    };
    let b = g.chance(2);
    if let Some(v) = &mut g.vex {
        v.aaa = aaa;
        v.z = z;
        v.b = b;
    }
    let x = g.vreg(true);
    g.vreg_reg(x);
    let count = vl / e;
    if memory {
        let (mut t, asz) = g.vaddr(vl, e, aligned);
        // A 512-bit store without an opmask is checked in 32-byte halves: a low half wholly
        // below the non-canonical hole would reach the kernel's page there (see
        // `kernel_side`). Across the hole from the low half instead.
        let top = 0x0000_8000_0000_0000u64;
        if store && aaa == 0 && vl == 64 && (top - 63..=top - 32).contains(&t) {
            t = top - 31 + g.below(31);
        }
        g.vplace(t, asz, vl);
        if aaa != 0 {
            let k = mask_for(g, t, count, e, store) & !kernel_side(t, count, e);
            g.st.k[usize::from(aaa)] = k;
            let all = u64::MAX >> (64 - count);
            let bad = faulting(t, count, e, store) & all;
            g.masking = match bad & k {
                _ if bad == 0 => Masking::None,
                0 => Masking::Suppressed,
                _ => Masking::Faulting,
            };
        }
    } else {
        let r = other_reg(g, x, vl, true);
        g.vreg_rm(r);
    }
    g.bad_vvvv();
}

/// An opmask for a `count` × `e`-byte access at `t` (see the module documentation); the bits
/// above `count` random half the time.
fn mask_for(g: &mut Gen, t: u64, count: u64, e: u64, store: bool) -> u64 {
    let all = if count >= 64 {
        u64::MAX
    } else {
        (1 << count) - 1
    };
    let bad = faulting(t, count, e, store) & all;
    let good = all & !bad;
    let r = g.below(10);
    let m = if bad != 0 && r < 3 {
        // Every faulting element masked off (mostly with some others on).
        let mut m = g.kvalue() & good;
        if m == 0 && good != 0 && g.chance(80) {
            m = pick_bit(g, good);
        }
        if r == 2 {
            // ... but one.
            m |= pick_bit(g, bad);
        }
        m
    } else {
        g.kvalue()
    };
    if g.chance(50) {
        m & all
    } else {
        m | (g.rng.next_u64() & !all)
    }
}

/// The elements of a `count` × `e`-byte access at `t` that straddles an end of the
/// non-canonical hole and lie wholly on its canonical side. Natively those pages are the
/// kernel's (present, supervisor: #PF with P = 1), which a case cannot express (it has
/// not-present pages), and a masked access reaches them when the elements in the hole are
/// masked off (or come after them: the processor faults on the first unmasked element in
/// address order). So they stay masked off.
fn kernel_side(t: u64, count: u64, e: u64) -> u64 {
    let canonical = |a: u64| ((a << 16) as i64 >> 16) as u64 == a;
    let end = t.wrapping_add(count * e - 1);
    if canonical(t) == canonical(end) {
        return 0;
    }
    (0..count)
        .filter(|&i| {
            let a = t.wrapping_add(i * e);
            canonical(a) && canonical(a.wrapping_add(e - 1))
        })
        .fold(0, |m, i| m | 1 << i)
}

/// One of the set bits of `m` (not 0).
fn pick_bit(g: &mut Gen, m: u64) -> u64 {
    let bits: Vec<u32> = (0..64).filter(|i| m >> i & 1 != 0).collect();
    1 << g.rng.pick(&bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hvemu::decode::{self, Vendor};

    /// Most cases of every family decode in both modes (the deliberate invalid encodings
    /// aside: fewer than 15%), and none is longer than 15 bytes.
    #[test]
    fn cases_decode() {
        for mode in [Mode::Long64, Mode::Compat32] {
            let dm = crate::native_case::decode_mode(mode);
            for fam in VecFamily::ALL {
                let mut rng = Rng::new(fam as u64);
                let mut bad = 0;
                for _ in 0..2000 {
                    let (c, _) = generate(&mut rng, fam, mode, false);
                    assert!(c.bytes.len() <= 15);
                    if decode::decode(&c.bytes, dm, Vendor::Amd).is_err() {
                        bad += 1;
                    }
                }
                assert!(bad < 300, "{fam:?} {mode:?}: {bad} of 2000 do not decode");
            }
        }
    }
}
