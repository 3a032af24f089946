//! One element in or out of a vector register: PEXTRB/W/D/Q and PINSRB/W/D/Q (MMX, SSE and
//! VEX forms).

use core::num::NonZeroUsize;

use super::moves::{Target, read, write};
use super::state::MmxRegs;
use super::{Family, Form, element, set_element, width};
use crate::decode::{Instruction, Operand};
use crate::emulator::{Machine, Refusal, Stop};

/// The element's byte offset: the immediate selects it, modulo the elements in the register.
fn offset(insn: &Instruction, size: usize, reg_width: usize) -> usize {
    // Non-zero divisors (as 1 for a size of 0): no division by zero to prove impossible.
    let per = NonZeroUsize::new(size).unwrap_or(NonZeroUsize::MIN);
    let count = NonZeroUsize::new(reg_width / per).unwrap_or(NonZeroUsize::MIN);
    // An element within a register of at most 64 bytes.
    (insn.imm as usize % count).wrapping_mul(size)
}

/// PEXTR: the selected element to a general-purpose register (zero-extended) or to memory.
#[inline(never)]
pub(super) fn extract<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let [dst, Operand::Reg(src), ..] = insn.operands else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let size = form.size as usize;
    let whole = m.vec_read(src, mmx);
    let at = offset(insn, size, width(src.class));
    let v = [element(&whole, at, size), 0, 0, 0];
    let to = Target {
        dst,
        zero_upper: false,
        align: 1,
    };
    write(m, insn, to, &v, 0, size, mmx)
}

/// PINSR: the element from a general-purpose register or memory into the selected place; the
/// VEX form takes the other elements from its first source and zeroes the upper bits.
#[inline(never)]
pub(super) fn insert<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    fam: Family,
    mmx: &mut MmxRegs,
) -> Result<(), Stop> {
    let zero_upper = fam.zeroes_upper();
    let (dst, keep, src) = match insn.operands {
        [
            Operand::Reg(d),
            Operand::Reg(k),
            s @ (Operand::Reg(_) | Operand::Mem),
            _,
        ] if zero_upper => (d, k, s),
        [Operand::Reg(d), s, ..] => (d, d, s),
        _ => return Err(Refusal::Unsupported(insn.op).into()),
    };
    let size = form.size as usize;
    let value = read(m, insn, src, size, 1, mmx)?;
    let mut out = m.vec_read(keep, mmx);
    let len = width(dst.class);
    set_element(&mut out, offset(insn, size, len), size, value[0]);
    m.vec_write(dst, &out, len, zero_upper, mmx);
    Ok(())
}
