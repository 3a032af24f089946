//! Vector and MMX moves between registers and memory: the SSE, AVX (VEX) and AVX-512 (EVEX)
//! loads and stores a driver uses on device memory, MOVD/MOVQ, PINSR/PEXTR.
//!
//! Register state: XMM0..XMM15 and the MMX registers go through their WinHv names; the upper
//! parts of YMM/ZMM registers, ZMM16..ZMM31 and the opmask registers through hvemu's extension
//! names, when the host says it serves them ([`VectorState`](crate::emulator::VectorState)).
//! An instruction touches at most one register beyond XMM0..XMM15, held in the register file's
//! wide window.

mod lanes;
mod masked;
mod moves;
mod state;

use crate::decode::{Encoding, Instruction, Op, Operand, RegClass};
use crate::emulator::{Machine, Refusal, Stop, VectorState};
use crate::regs::{EXT_SLOTS, Slot, ext_k};

/// A vector value of up to 512 bits as four 128-bit lanes, lane 0 (bits 0..128) first.
type Vector = [u128; 4];

/// A vector value as bytes in memory order.
fn to_bytes(v: &Vector) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (chunk, lane) in out.as_chunks_mut::<16>().0.iter_mut().zip(v) {
        *chunk = lane.to_le_bytes();
    }
    out
}

/// A vector value from bytes in memory order.
fn from_bytes(b: &[u8; 64]) -> Vector {
    let mut v = [0u128; 4];
    for (lane, chunk) in v.iter_mut().zip(b.as_chunks::<16>().0) {
        *lane = u128::from_le_bytes(*chunk);
    }
    v
}

/// The low `size` bytes (1..=16) set.
const fn low_bytes(size: usize) -> u128 {
    if size >= 16 {
        u128::MAX
    } else {
        (1u128 << size.wrapping_mul(8)).wrapping_sub(1)
    }
}

/// The element of `size` bytes at byte `at` (elements never straddle a lane).
fn element(v: &Vector, at: usize, size: usize) -> u128 {
    let lane = v.get(at / 16).copied().unwrap_or(0);
    (lane >> (at % 16).wrapping_mul(8)) & low_bytes(size)
}

/// Replaces the element of `size` bytes at byte `at`.
fn set_element(v: &mut Vector, at: usize, size: usize, value: u128) {
    if let Some(lane) = v.get_mut(at / 16) {
        let shift = (at % 16).wrapping_mul(8);
        let m = low_bytes(size) << shift;
        *lane = (*lane & !m) | ((value << shift) & m);
    }
}

/// `v` with every byte from `len` on cleared.
fn truncate(mut v: Vector, len: usize) -> Vector {
    for (i, lane) in v.iter_mut().enumerate() {
        // Four lanes: `from` stays small.
        let from = i.wrapping_mul(16);
        *lane &= if len >= from.wrapping_add(16) {
            u128::MAX
        } else if len > from {
            low_bytes(len.wrapping_sub(from))
        } else {
            0
        };
    }
    v
}

/// Which registers and enabling rules an instruction follows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Family {
    /// MMX registers (legacy encoding): CR0.EM, CR0.TS, pending x87 exceptions.
    Mmx,
    /// XMM registers, legacy encoding: CR0.EM, CR4.OSFXSR, CR0.TS.
    Sse,
    /// VEX: CR4.OSXSAVE, XCR0 SSE and AVX state, CR0.TS.
    Vex,
    /// EVEX: also XCR0's opmask and ZMM state.
    Evex,
}

/// How an operation moves data.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// The whole operand width.
    Full,
    /// The low `size` bytes; loads zero the rest of the register (MOVSS, MOVD, ...).
    Scalar,
    /// 8 bytes at byte offset `size` of an XMM register; loads keep the other half.
    Half,
    /// PEXTR: an element of `size` bytes out.
    Extract,
    /// PINSR: an element of `size` bytes in.
    Insert,
}

/// An operation's form: its shape, a size (see [`Shape`]), whether its memory operand must be
/// aligned to the operand width, and its element size under an EVEX opmask (0: no element
/// masking).
#[derive(Copy, Clone, Debug)]
struct Form {
    shape: Shape,
    size: u8,
    aligned: bool,
    mask_element: u8,
}

const fn f(shape: Shape, size: u8, aligned: bool, mask_element: u8) -> Form {
    Form {
        shape,
        size,
        aligned,
        mask_element,
    }
}

const FULL: Form = f(Shape::Full, 0, false, 0);
const ALIGNED: Form = f(Shape::Full, 0, true, 0);
const S4: Form = f(Shape::Scalar, 4, false, 0);
const S8: Form = f(Shape::Scalar, 8, false, 0);
const LOW: Form = f(Shape::Half, 0, false, 0);
const HIGH: Form = f(Shape::Half, 8, false, 0);
const fn ext(size: u8) -> Form {
    f(Shape::Extract, size, false, 0)
}
const fn ins(size: u8) -> Form {
    f(Shape::Insert, size, false, 0)
}
const fn masked(element: u8, aligned: bool) -> Form {
    f(Shape::Full, 0, aligned, element)
}

/// Every operation of the family, sorted by `Op` (a binary search finds them: a `match` over
/// operations this far apart compiles to kilobytes of jump tables).
const FORMS: [(Op, Form); 63] = {
    use Op::*;
    [
        (Movd, S4),
        (Movq, S8),
        (Pextrw, ext(2)),
        (Pinsrw, ins(2)),
        (Movntq, FULL),
        (Movaps, ALIGNED),
        (Movapd, ALIGNED),
        (Movups, FULL),
        (Movupd, FULL),
        (Movss, S4),
        (MovsdX, S8),
        (Movlps, LOW),
        (Movlpd, LOW),
        (Movhps, HIGH),
        (Movhpd, HIGH),
        (Movntps, ALIGNED),
        (Movntpd, ALIGNED),
        (Movntdq, ALIGNED),
        (Movdqa, ALIGNED),
        (Movdqu, FULL),
        (Lddqu, FULL),
        (Movntdqa, ALIGNED),
        (Pextrb, ext(1)),
        (Pextrd, ext(4)),
        (Pextrq, ext(8)),
        (Pinsrb, ins(1)),
        (Pinsrd, ins(4)),
        (Pinsrq, ins(8)),
        (Movntss, S4),
        (Movntsd, S8),
        (Vmovaps, masked(4, true)),
        (Vmovapd, masked(8, true)),
        (Vmovups, masked(4, false)),
        (Vmovupd, masked(8, false)),
        (Vmovss, S4),
        (Vmovsd, S8),
        (Vmovlps, LOW),
        (Vmovlpd, LOW),
        (Vmovhps, HIGH),
        (Vmovhpd, HIGH),
        (Vmovntps, ALIGNED),
        (Vmovntpd, ALIGNED),
        (Vmovntdq, ALIGNED),
        (Vmovntdqa, ALIGNED),
        (Vmovdqa, ALIGNED),
        (Vmovdqu, FULL),
        (Vmovd, S4),
        (Vmovq, S8),
        (Vlddqu, FULL),
        (Vpextrb, ext(1)),
        (Vpextrw, ext(2)),
        (Vpextrd, ext(4)),
        (Vpextrq, ext(8)),
        (Vpinsrb, ins(1)),
        (Vpinsrw, ins(2)),
        (Vpinsrd, ins(4)),
        (Vpinsrq, ins(8)),
        (Vmovdqa32, masked(4, true)),
        (Vmovdqa64, masked(8, true)),
        (Vmovdqu8, masked(1, false)),
        (Vmovdqu16, masked(2, false)),
        (Vmovdqu32, masked(4, false)),
        (Vmovdqu64, masked(8, false)),
    ]
};

/// Evaluated only at compile time (the assertion below), where an index out of range is a build
/// error.
#[allow(clippy::indexing_slicing)]
const fn sorted(forms: &[(Op, Form)]) -> bool {
    let mut i = 1;
    while i < forms.len() {
        if forms[i.wrapping_sub(1)].0 as u16 >= forms[i].0 as u16 {
            return false;
        }
        i = i.wrapping_add(1);
    }
    true
}
const _: () = assert!(
    sorted(&FORMS),
    "FORMS must be sorted by Op for the binary search"
);

/// The form of `op`, if it is one of this family's operations.
fn form(op: Op) -> Option<Form> {
    // Most operations an exit runs lie outside the range of these (all but the general-purpose
    // section's): two compares rule them out before a search.
    if op < FORMS.first()?.0 || op > FORMS.last()?.0 {
        return None;
    }
    FORMS
        .binary_search_by_key(&op, |(o, _)| *o)
        .ok()
        .and_then(|i| FORMS.get(i))
        .map(|(_, f)| *f)
}

/// Is `op` one of this family's operations?
pub(crate) fn is_vector(op: Op) -> bool {
    form(op).is_some()
}

impl Family {
    /// VEX and EVEX register writes zero the register above what they write, up to MAXVL;
    /// legacy SSE and MMX writes keep it.
    fn zeroes_upper(self) -> bool {
        matches!(self, Family::Vex | Family::Evex)
    }
}

fn family(insn: &Instruction) -> Family {
    match insn.encoding {
        Encoding::Vex => Family::Vex,
        Encoding::Evex => Family::Evex,
        _ if insn
            .operands
            .iter()
            .any(|o| matches!(o, Operand::Reg(r) if r.class == RegClass::Mmx)) =>
        {
            Family::Mmx
        }
        _ => Family::Sse,
    }
}

/// Bytes in a vector register of class `c` (0 for other classes).
const fn width(c: RegClass) -> usize {
    match c {
        RegClass::Mmx => 8,
        RegClass::Xmm => 16,
        RegClass::Ymm => 32,
        RegClass::Zmm => 64,
        _ => 0,
    }
}

const fn is_vec(c: RegClass) -> bool {
    matches!(c, RegClass::Xmm | RegClass::Ymm | RegClass::Zmm)
}

/// Merge-masking: an EVEX full move under a mask whose destination keeps its masked elements.
fn merges(insn: &Instruction, form: Form) -> bool {
    insn.encoding == Encoding::Evex && insn.mask != 0 && !insn.zeroing && form.mask_element != 0
}

/// The registers the instruction needs beyond its general-purpose and memory operands: the
/// control registers of the enabling rules, the x87/MMX state, vector register parts and the
/// opmask. Sets the wide window to the one register that needs it; refuses what the host does
/// not serve.
pub(crate) fn needs<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
) -> Result<(u64, u16), Stop> {
    let fam = family(insn);
    let Some(form) = form(insn.op) else {
        return Ok((0, 0));
    };
    let bit = |s: Slot| 1u64 << (s as u8);
    let mut main = bit(Slot::Cr0) | bit(Slot::Cr4);
    let mut ext = 0u16;
    match fam {
        Family::Mmx => {
            main |= bit(Slot::FpControlStatus) | (0xff << Slot::FpMmx0 as u8);
        }
        Family::Sse => {}
        Family::Vex | Family::Evex => main |= bit(Slot::Xcr0),
    }
    let state = m.config.vector_state;
    // Parts of a register the host can serve: XMM only, YMM halves, or everything.
    let served_parts = match state {
        VectorState::Xmm => 1,
        VectorState::Ymm => 2,
        VectorState::Zmm => 4,
    };
    let mut wide: Option<u8> = None;
    for (i, op) in insn.operands.iter().enumerate() {
        let Operand::Reg(r) = op else { continue };
        if !is_vec(r.class) {
            continue;
        }
        let n = r.num & 31;
        if n < 16 {
            main |= 1 << Slot::Xmm0.nth(n);
        }
        let parts = width(r.class) / 16;
        let dest = i == 0;
        // VEX and EVEX writes zero the register above what they write, up to the widest the
        // processor has: the host must serve all of it.
        let touched = if dest && fam.zeroes_upper() {
            let widest = if fam == Family::Evex {
                VectorState::Zmm
            } else {
                VectorState::Ymm
            };
            if state == VectorState::Xmm || (widest == VectorState::Zmm && state != widest) {
                return Err(Refusal::RegisterUnavailable.into());
            }
            served_parts
        } else {
            parts
        };
        if parts > served_parts || (n >= 16 && state != VectorState::Zmm) {
            return Err(Refusal::RegisterUnavailable.into());
        }
        let first = if n < 16 { 1 } else { 0 };
        if touched <= first {
            continue;
        }
        match wide {
            Some(w) if w != n => return Err(Refusal::Unsupported(insn.op).into()),
            _ => wide = Some(n),
        }
        if !dest || merges(insn, form) {
            for p in first..parts {
                ext |= 1 << p;
            }
        }
    }
    if let Some(n) = wide {
        m.regs.wide_reg = n;
    }
    if fam == Family::Evex && insn.mask != 0 {
        if state != VectorState::Zmm {
            return Err(Refusal::RegisterUnavailable.into());
        }
        ext |= ext_k(insn.mask);
    }
    Ok((main, ext & ((1 << EXT_SLOTS) - 1)))
}

/// Executes a vector move.
pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let Some(form) = form(insn.op) else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let fam = family(insn);
    m.check_enabled(fam)?;
    let mut mmx = m.mmx_enter(fam);
    match form.shape {
        _ if fam == Family::Evex && form.mask_element != 0 => masked::execute(m, insn, form)?,
        Shape::Extract => lanes::extract(m, insn, form, &mut mmx)?,
        Shape::Insert => lanes::insert(m, insn, form, fam, &mut mmx)?,
        // Merging and element masking are the masked moves' business; other EVEX forms run
        // only unmasked.
        _ if fam == Family::Evex && (insn.mask != 0 || insn.broadcast) => {
            return Err(Refusal::Unsupported(insn.op).into());
        }
        _ => moves::execute(m, insn, form, fam, &mut mmx)?,
    }
    m.mmx_leave(mmx);
    Ok(())
}
