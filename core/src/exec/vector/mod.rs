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

/// A vector value of up to 512 bits, byte 0 first.
type Bytes = [u8; 64];

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

/// Is `op` one of this family's operations?
pub(crate) fn is_vector(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Movups
            | Movupd
            | Movaps
            | Movapd
            | Movdqu
            | Movdqa
            | Movntdq
            | Movntps
            | Movntpd
            | Movntdqa
            | Lddqu
            | Movss
            | MovsdX
            | Movntss
            | Movntsd
            | Movlps
            | Movhps
            | Movlpd
            | Movhpd
            | Movd
            | Movq
            | Movntq
            | Pextrb
            | Pextrw
            | Pextrd
            | Pextrq
            | Pinsrb
            | Pinsrw
            | Pinsrd
            | Pinsrq
            | Vmovups
            | Vmovupd
            | Vmovaps
            | Vmovapd
            | Vmovdqu
            | Vmovdqa
            | Vmovntdq
            | Vmovntps
            | Vmovntpd
            | Vmovntdqa
            | Vlddqu
            | Vmovss
            | Vmovsd
            | Vmovlps
            | Vmovhps
            | Vmovlpd
            | Vmovhpd
            | Vmovd
            | Vmovq
            | Vpextrb
            | Vpextrw
            | Vpextrd
            | Vpextrq
            | Vpinsrb
            | Vpinsrw
            | Vpinsrd
            | Vpinsrq
            | Vmovdqa32
            | Vmovdqa64
            | Vmovdqu8
            | Vmovdqu16
            | Vmovdqu32
            | Vmovdqu64
    )
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
fn merges(insn: &Instruction) -> bool {
    insn.encoding == Encoding::Evex && insn.mask != 0 && !insn.zeroing && masked::is_masked(insn.op)
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
            main |= 1 << (Slot::Xmm0 as u8 + n);
        }
        let parts = width(r.class) / 16;
        let dest = i == 0;
        // VEX and EVEX writes zero the register above what they write, up to the widest the
        // processor has: the host must serve all of it.
        let touched = if dest && fam != Family::Sse {
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
        if !dest || merges(insn) {
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
    let fam = family(insn);
    m.check_enabled(fam)?;
    let mut mmx = m.mmx_enter(fam);
    dispatch(m, insn, fam, &mut mmx)?;
    m.mmx_leave(mmx);
    Ok(())
}

fn dispatch<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    fam: Family,
    mmx: &mut state::MmxRegs,
) -> Result<(), Stop> {
    use Op::*;
    match insn.op {
        op if fam == Family::Evex && masked::is_masked(op) => masked::execute(m, insn),
        Pextrb | Pextrw | Pextrd | Pextrq | Vpextrb | Vpextrw | Vpextrd | Vpextrq => {
            lanes::extract(m, insn, mmx)
        }
        Pinsrb | Pinsrw | Pinsrd | Pinsrq | Vpinsrb | Vpinsrw | Vpinsrd | Vpinsrq => {
            lanes::insert(m, insn, fam, mmx)
        }
        // Merging and element masking are the masked moves' business; other EVEX forms run
        // only unmasked.
        _ if fam == Family::Evex && (insn.mask != 0 || insn.broadcast) => {
            Err(Refusal::Unsupported(insn.op).into())
        }
        _ => moves::execute(m, insn, fam, mmx),
    }
}
