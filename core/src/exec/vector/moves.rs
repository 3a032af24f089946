//! Whole-register, scalar and half moves, MOVD and MOVQ: MOVUPS MOVAPS MOVUPD MOVAPD MOVDQU
//! MOVDQA MOVNT* LDDQU MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD MOVD MOVQ MOVNTQ and their VEX
//! (and unmasked EVEX) forms.

use super::state::MmxRegs;
use super::{Bytes, Family, is_vec, width};
use crate::decode::{Instruction, Op, Operand, Reg, RegClass};
use crate::emulator::{Machine, Refusal, Stop};
use crate::exec::operand::is_gpr;
use crate::mem::Intent;

/// What kind of move an operation is.
enum Shape {
    /// The whole operand width; `aligned` forms require it as alignment.
    Full { aligned: bool },
    /// The low `size` bytes; loads zero the rest of the register.
    Scalar { size: usize },
    /// 8 bytes at byte `offset` of the XMM register; loads keep the other half.
    Half { offset: usize },
}

fn shape(op: Op) -> Option<Shape> {
    use Op::*;
    Some(match op {
        Movaps | Movapd | Movdqa | Movntdq | Movntps | Movntpd | Movntdqa | Vmovaps | Vmovapd
        | Vmovdqa | Vmovntdq | Vmovntps | Vmovntpd | Vmovntdqa | Vmovdqa32 | Vmovdqa64 => {
            Shape::Full { aligned: true }
        }
        Movups | Movupd | Movdqu | Lddqu | Movntq | Vmovups | Vmovupd | Vmovdqu | Vlddqu
        | Vmovdqu8 | Vmovdqu16 | Vmovdqu32 | Vmovdqu64 => Shape::Full { aligned: false },
        Movss | Movntss | Vmovss | Movd | Vmovd => Shape::Scalar { size: 4 },
        MovsdX | Movntsd | Vmovsd | Movq | Vmovq => Shape::Scalar { size: 8 },
        Movlps | Movlpd | Vmovlps | Vmovlpd => Shape::Half { offset: 0 },
        Movhps | Movhpd | Vmovhps | Vmovhpd => Shape::Half { offset: 8 },
        _ => return None,
    })
}

pub(super) fn execute<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    fam: Family,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let Some(shape) = shape(insn.op) else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let zero_upper = fam != Family::Sse && fam != Family::Mmx;
    let [dst, ..] = insn.operands;
    // A VEX/EVEX three-operand form names the register that supplies the kept bits.
    let (merge_src, src) = match insn.operands {
        [_, Operand::Reg(a), b @ (Operand::Reg(_) | Operand::Mem), _] if zero_upper => (Some(a), b),
        [_, b, ..] => (None, b),
    };
    match shape {
        Shape::Full { aligned } => {
            let len = match (dst, src) {
                (Operand::Reg(r), _) | (_, Operand::Reg(r)) => width(r.class),
                _ => 0,
            };
            let align = if aligned { len as u16 } else { 1 };
            let v = read(m, insn, src, len, align, mmx)?;
            write(m, insn, dst, &v, len, len, align, zero_upper, mmx)?;
        }
        Shape::Scalar { size } => {
            let v = read(m, insn, src, size, 1, mmx)?;
            match (dst, src, merge_src) {
                // Register to register: only the low element moves (the rest is kept, or comes
                // from the first source in the VEX form).
                (Operand::Reg(d), Operand::Reg(s), keep)
                    if is_vec(d.class)
                        && is_vec(s.class)
                        && !matches!(insn.op, Op::Movq | Op::Vmovq) =>
                {
                    let mut out = m.vec_read(keep.unwrap_or(d), mmx);
                    splice(&mut out, &v, 0, size);
                    write(m, insn, dst, &out, 16, 16, 1, zero_upper, mmx)?;
                }
                // A vector register destination is zero-extended from the element.
                (Operand::Reg(d), _, _) if is_vec(d.class) || d.class == RegClass::Mmx => {
                    let len = width(d.class).min(16);
                    write(m, insn, dst, &v, len, len, 1, zero_upper, mmx)?;
                }
                _ => write(m, insn, dst, &v, size, size, 1, zero_upper, mmx)?,
            }
        }
        Shape::Half { offset } => match dst {
            Operand::Mem => {
                let Operand::Reg(s) = src else {
                    return Err(Refusal::Unsupported(insn.op).into());
                };
                let mut v = [0u8; 64];
                let whole = m.vec_read(s, mmx);
                splice(&mut v, whole.get(offset..).unwrap_or(&[]), 0, 8);
                write(m, insn, dst, &v, 8, 8, 1, zero_upper, mmx)?;
            }
            Operand::Reg(d) => {
                let part = read(m, insn, src, 8, 1, mmx)?;
                let mut out = m.vec_read(merge_src.unwrap_or(d), mmx);
                splice(&mut out, &part, offset, 8);
                write(m, insn, dst, &out, 16, 16, 1, zero_upper, mmx)?;
            }
            _ => return Err(Refusal::Unsupported(insn.op).into()),
        },
    }
    Ok(())
}

/// Copies `len` bytes of `from` into `to` at `at`.
fn splice(to: &mut Bytes, from: &[u8], at: usize, len: usize) {
    for (d, s) in to.iter_mut().skip(at).zip(from.iter()).take(len) {
        *d = *s;
    }
}

/// Reads `len` bytes of a source operand: a vector, MMX or general-purpose register, or the
/// memory operand (with `align`).
pub(super) fn read<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    src: Operand,
    len: usize,
    align: u16,
    mmx: &MmxRegs,
) -> Result<Bytes, Stop> {
    match src {
        Operand::Reg(r) if is_gpr(r.class) => {
            let mut out = [0u8; 64];
            splice(&mut out, &m.gpr(r).to_le_bytes(), 0, len.min(8));
            Ok(out)
        }
        Operand::Reg(r) => {
            let mut out = m.vec_read(r, mmx);
            for b in out.iter_mut().skip(len) {
                *b = 0;
            }
            Ok(out)
        }
        Operand::Mem => {
            let p = m.prepare_vector(insn, len as u16, Intent::Read, align)?;
            let mut out = [0u8; 64];
            m.read_prepared(&p, out.get_mut(..len).unwrap_or(&mut []))?;
            Ok(out)
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// Writes `v` to a destination operand: `reg_len` bytes to a vector or MMX register (zeroing
/// above up to MAXVL with `zero_upper`), the low bytes zero-extended to a general-purpose
/// register, or `mem_len` bytes to memory (with `align`).
#[allow(clippy::too_many_arguments)]
pub(super) fn write<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    dst: Operand,
    v: &Bytes,
    reg_len: usize,
    mem_len: usize,
    align: u16,
    zero_upper: bool,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    match dst {
        Operand::Reg(r) if is_gpr(r.class) => {
            let mut b = [0u8; 8];
            splice_gpr(&mut b, v, mem_len.min(8));
            m.set_gpr(widen(r), u64::from_le_bytes(b));
            Ok(())
        }
        Operand::Reg(r) => {
            m.vec_write(r, v, reg_len, zero_upper, mmx);
            Ok(())
        }
        Operand::Mem => {
            let p = m.prepare_vector(insn, mem_len as u16, Intent::Write, align)?;
            m.write_prepared(&p, v.get(..mem_len).unwrap_or(&[]))
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

fn splice_gpr(to: &mut [u8; 8], from: &Bytes, len: usize) {
    for (d, s) in to.iter_mut().zip(from.iter()).take(len) {
        *d = *s;
    }
}

/// A general-purpose destination is written whole: 32-bit writes zero-extend to 64.
fn widen(r: Reg) -> Reg {
    match r.class {
        RegClass::Gpr64 => r,
        _ => Reg::gpr(4, r.num),
    }
}
