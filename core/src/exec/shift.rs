//! ROL ROR RCL RCR SHL SAL SHR SAR, SHLD SHRD.

use super::alu::{AluOut, Vendor, shift};
use crate::decode::{Instruction, Op, Operand};
use crate::emulator::{Machine, Refusal, Stop};
use crate::mem::Intent;

/// The raw count operand: an immediate, CL, or the constant 1.
fn count<C: ?Sized>(m: &Machine<'_, C>, insn: &Instruction, idx: usize) -> u8 {
    match insn.operands.get(idx) {
        Some(Operand::Reg(r)) => m.gpr(*r) as u8,
        Some(Operand::One) => 1,
        _ => insn.imm as u8,
    }
}

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    let vendor = m.config.vendor;
    match insn.op {
        Op::Rol | Op::Ror | Op::Rcl | Op::Rcr | Op::Shl | Op::Sal | Op::Shr | Op::Sar => {
            let n = count(m, insn, 1);
            let f: fn(u8, u64, u8, u64, Vendor) -> AluOut = match insn.op {
                Op::Rol => shift::rol,
                Op::Ror => shift::ror,
                Op::Rcl => shift::rcl,
                Op::Rcr => shift::rcr,
                Op::Shr => shift::shr,
                Op::Sar => shift::sar,
                _ => shift::shl,
            };
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            let old = m.update_dest(insn, &d, |a| f(size, a, n, rf, vendor).value)?;
            let mut out = f(size, old, n, rf, vendor);
            // Intel's OF of ROL and ROR differs for a register rotated by an immediate.
            if matches!(insn.op, Op::Rol | Op::Ror)
                && matches!(insn.operands.get(1), Some(Operand::Imm { .. }))
                && matches!(insn.operands.first(), Some(Operand::Reg(_)))
            {
                out = shift::imm_rotate(out, size, n, rf, vendor);
            }
            m.set_status_flags(out.rflags);
            Ok(())
        }
        Op::Shld | Op::Shrd => {
            let n = count(m, insn, 2);
            let src = m.read_src(insn, 1, size)?;
            let f: fn(u8, u64, u64, u8, u64, Vendor) -> AluOut = if insn.op == Op::Shld {
                shift::shld
            } else {
                shift::shrd
            };
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            let old = m.update_dest(insn, &d, |a| f(size, a, src, n, rf, vendor).value)?;
            m.set_status_flags(f(size, old, src, n, rf, vendor).rflags);
            Ok(())
        }
        op => Err(Refusal::Unsupported(op).into()),
    }
}
