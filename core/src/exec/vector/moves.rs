//! Whole-register, scalar and half moves, MOVD and MOVQ: MOVUPS MOVAPS MOVUPD MOVAPD MOVDQU
//! MOVDQA MOVNT* LDDQU MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD MOVD MOVQ MOVNTQ and their VEX
//! (and unmasked EVEX) forms.

use super::state::MmxRegs;
use super::{
    Family, Form, Shape, Vector, element, from_bytes, is_vec, set_element, to_bytes, truncate,
    width,
};
use crate::decode::{Instruction, Op, Operand, Reg, RegClass};
use crate::emulator::{Machine, Refusal, Stop};
use crate::exec::operand::is_gpr;
use crate::mem::Intent;

#[inline(never)]
pub(super) fn execute<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    fam: Family,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let zero_upper = fam.zeroes_upper();
    let [dst, ..] = insn.operands;
    // A VEX/EVEX three-operand form names the register that supplies the kept bits.
    let (merge_src, src) = match insn.operands {
        [_, Operand::Reg(a), b @ (Operand::Reg(_) | Operand::Mem), _] if zero_upper => (Some(a), b),
        [_, b, ..] => (None, b),
    };
    let to = Target {
        dst,
        zero_upper,
        align: 1,
    };
    let size = form.size as usize;
    match form.shape {
        Shape::Full => {
            let len = match (dst, src) {
                (Operand::Reg(r), _) | (_, Operand::Reg(r)) => width(r.class),
                _ => 0,
            };
            let align = if form.aligned { len as u16 } else { 1 };
            let v = read(m, insn, src, len, align, mmx)?;
            write(m, insn, Target { align, ..to }, &v, len, len, mmx)
        }
        Shape::Scalar => {
            let v = read(m, insn, src, size, 1, mmx)?;
            match (dst, src) {
                // Register to register: only the low element moves (the rest is kept, or comes
                // from the first source in the VEX form).
                (Operand::Reg(d), Operand::Reg(s))
                    if is_vec(d.class)
                        && is_vec(s.class)
                        && !matches!(insn.op, Op::Movq | Op::Vmovq) =>
                {
                    let mut out = m.vec_read(merge_src.unwrap_or(d), mmx);
                    set_element(&mut out, 0, size, v[0]);
                    write(m, insn, to, &out, 16, 16, mmx)
                }
                // A vector register destination is zero-extended from the element.
                (Operand::Reg(d), _) if is_vec(d.class) || d.class == RegClass::Mmx => {
                    let len = width(d.class).min(16);
                    write(m, insn, to, &v, len, len, mmx)
                }
                _ => write(m, insn, to, &v, size, size, mmx),
            }
        }
        Shape::Half => match (dst, src) {
            (Operand::Mem, Operand::Reg(s)) => {
                let whole = m.vec_read(s, mmx);
                let v = [element(&whole, size, 8), 0, 0, 0];
                write(m, insn, to, &v, 8, 8, mmx)
            }
            (Operand::Reg(d), _) => {
                let half = read(m, insn, src, 8, 1, mmx)?;
                let mut out = m.vec_read(merge_src.unwrap_or(d), mmx);
                set_element(&mut out, size, 8, half[0]);
                write(m, insn, to, &out, 16, 16, mmx)
            }
            _ => Err(Refusal::Unsupported(insn.op).into()),
        },
        Shape::Extract | Shape::Insert => Err(Refusal::Unsupported(insn.op).into()),
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
) -> Result<Vector, Stop> {
    match src {
        Operand::Reg(r) if is_gpr(r.class) => Ok(truncate([m.gpr(r) as u128, 0, 0, 0], len)),
        Operand::Reg(r) => Ok(truncate(m.vec_read(r, mmx), len)),
        Operand::Mem => {
            let p = m.prepare_vector(insn, len as u16, Intent::Read, align)?;
            let mut bytes = [0u8; 64];
            m.read_prepared(&p, bytes.get_mut(..len).unwrap_or(&mut []))?;
            Ok(from_bytes(&bytes))
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// Where a move's result goes.
#[derive(Copy, Clone)]
pub(super) struct Target {
    /// The destination operand.
    pub dst: Operand,
    /// VEX/EVEX: a register write zeroes the bits above it up to MAXVL.
    pub zero_upper: bool,
    /// Required alignment of a memory destination.
    pub align: u16,
}

/// Writes `v`: `reg_len` bytes to a vector or MMX register, the low `mem_len` bytes
/// zero-extended to a general-purpose register, or `mem_len` bytes to memory.
pub(super) fn write<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    to: Target,
    v: &Vector,
    reg_len: usize,
    mem_len: usize,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    match to.dst {
        Operand::Reg(r) if is_gpr(r.class) => {
            m.set_gpr(widen(r), element(v, 0, mem_len.min(8)) as u64);
            Ok(())
        }
        Operand::Reg(r) => {
            m.vec_write(r, v, reg_len, to.zero_upper, mmx);
            Ok(())
        }
        Operand::Mem => {
            let p = m.prepare_vector(insn, mem_len as u16, Intent::Write, to.align)?;
            let bytes = to_bytes(v);
            m.write_prepared(&p, bytes.get(..mem_len).unwrap_or(&[]))
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// A general-purpose destination is written whole: 32-bit writes zero-extend to 64.
fn widen(r: Reg) -> Reg {
    match r.class {
        RegClass::Gpr64 => r,
        _ => Reg::gpr(4, r.num),
    }
}
