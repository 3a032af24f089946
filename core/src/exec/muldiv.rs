//! MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (#DE on a zero divisor or a
//! quotient that does not fit).

use super::alu::muldiv;
use crate::decode::{Instruction, Op, Operand};
use crate::emulator::{Fault, Machine, Refusal, Stop};
use crate::mem::Intent;

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    let vendor = m.config.vendor;
    let two_operand = !matches!(insn.operands[1], Operand::None);
    match insn.op {
        Op::Imul if two_operand => {
            // IMUL r, r/m or IMUL r, r/m, imm: the product truncated to the destination.
            let (a, b) = if matches!(insn.operands[2], Operand::None) {
                let d = m.dest(insn, 0, size, Intent::Read)?;
                (m.read_dest(&d)?, m.read_src(insn, 1, size)?)
            } else {
                (m.read_src(insn, 1, size)?, insn.imm)
            };
            let out = muldiv::imul_trunc(size, a, b, rf, vendor);
            let d = m.dest(insn, 0, size, Intent::Write)?;
            m.write_dest(&d, out.value)?;
            m.set_status_flags(out.rflags);
            Ok(())
        }
        Op::Mul | Op::Imul => {
            let src = m.read_src(insn, 0, size)?;
            let a = m.gpr64(0);
            let out = if insn.op == Op::Mul {
                muldiv::mul(size, a, src, rf, vendor)
            } else {
                muldiv::imul(size, a, src, rf, vendor)
            };
            if size == 1 {
                m.set_gpr_sized(0, 2, (out.hi & 0xff) << 8 | (out.lo & 0xff));
            } else {
                m.set_gpr_sized(0, size, out.lo);
                m.set_gpr_sized(2, size, out.hi);
            }
            m.set_status_flags(out.rflags);
            Ok(())
        }
        Op::Div | Op::Idiv => {
            let divisor = m.read_src(insn, 0, size)?;
            let (hi, lo) = if size == 1 {
                let ax = m.gpr64(0);
                ((ax >> 8) & 0xff, ax & 0xff)
            } else {
                (m.gpr64(2), m.gpr64(0))
            };
            let out = if insn.op == Op::Div {
                muldiv::div(size, hi, lo, divisor, rf, vendor)
            } else {
                muldiv::idiv(size, hi, lo, divisor, rf, vendor)
            }
            .map_err(|_| Fault::DE)?;
            if size == 1 {
                m.set_gpr_sized(0, 2, (out.remainder & 0xff) << 8 | (out.quotient & 0xff));
            } else {
                m.set_gpr_sized(0, size, out.quotient);
                m.set_gpr_sized(2, size, out.remainder);
            }
            m.set_status_flags(out.rflags);
            Ok(())
        }
        op => Err(Refusal::Unsupported(op).into()),
    }
}
