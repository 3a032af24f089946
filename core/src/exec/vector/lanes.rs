//! One element in or out of a vector register: PEXTRB/W/D/Q and PINSRB/W/D/Q (MMX, SSE and
//! VEX forms).

use super::moves::{read, write};
use super::state::MmxRegs;
use super::{Family, width};
use crate::decode::{Instruction, Op, Operand};
use crate::emulator::{Machine, Refusal, Stop};

/// Element size of a PEXTR/PINSR operation.
fn element(op: Op) -> usize {
    use Op::*;
    match op {
        Pextrb | Vpextrb | Pinsrb | Vpinsrb => 1,
        Pextrw | Vpextrw | Pinsrw | Vpinsrw => 2,
        Pextrd | Vpextrd | Pinsrd | Vpinsrd => 4,
        _ => 8,
    }
}

/// The element's byte offset: the immediate selects it, modulo the elements in the register.
fn offset(insn: &Instruction, reg_width: usize) -> usize {
    let size = element(insn.op);
    let count = (reg_width / size).max(1);
    (insn.imm as usize % count) * size
}

/// PEXTR: the selected element to a general-purpose register (zero-extended) or to memory.
pub(super) fn extract<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let [dst, Operand::Reg(src), ..] = insn.operands else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let size = element(insn.op);
    let whole = m.vec_read(src, mmx);
    let at = offset(insn, width(src.class));
    let mut v = [0u8; 64];
    for (d, s) in v.iter_mut().zip(whole.iter().skip(at)).take(size) {
        *d = *s;
    }
    write(m, insn, dst, &v, 0, size, 1, false, mmx)
}

/// PINSR: the element from a general-purpose register or memory into the selected place; the
/// VEX form takes the other elements from its first source and zeroes the upper bits.
pub(super) fn insert<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    fam: Family,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let (dst, keep, src) = match insn.operands {
        [
            Operand::Reg(d),
            Operand::Reg(k),
            s @ (Operand::Reg(_) | Operand::Mem),
            _,
        ] if fam != Family::Sse && fam != Family::Mmx => (d, k, s),
        [Operand::Reg(d), s, ..] => (d, d, s),
        _ => return Err(Refusal::Unsupported(insn.op).into()),
    };
    let size = element(insn.op);
    let value = read(m, insn, src, size, 1, mmx)?;
    let mut out = m.vec_read(keep, mmx);
    let len = width(dst.class);
    let at = offset(insn, len);
    for (d, s) in out.iter_mut().skip(at).zip(value.iter()).take(size) {
        *d = *s;
    }
    let zero_upper = fam != Family::Sse && fam != Family::Mmx;
    m.vec_write(dst, &out, len, zero_upper, mmx);
    Ok(())
}
