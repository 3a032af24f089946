//! Stores that bypass or manage the caches: MOVNTI, MOVDIRI, MOVDIR64B, and the cache-line
//! flushes CLFLUSH, CLFLUSHOPT and CLWB (their checks and faults, no data).

use crate::decode::{Instruction, Op, Operand, Seg};
use crate::emulator::{Fault, Machine, Refusal, Stop};
use crate::mem::Intent;

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    match (insn.op, insn.operands) {
        (Op::Movnti | Op::Movdiri, [Operand::Mem, Operand::Reg(r), ..]) => {
            let p = m.prepare_operand(insn, insn.op_size as u16, Intent::Write)?;
            let v = m.gpr(r);
            m.write_value(&p, v)
        }
        // The destination is ES:[register] (the address size picks the register), 64-byte
        // aligned; the source is the memory operand, read whole before the store.
        (Op::Movdir64b, [Operand::Reg(r), Operand::Mem, ..]) => {
            let src = m.prepare_operand(insn, 64, Intent::Read)?;
            let offset = m.gpr(r);
            let es = if m.mode == crate::decode::Mode::Long64 {
                0
            } else {
                m.segment(Seg::Es).base
            };
            if es.wrapping_add(offset) & 63 != 0 {
                return Err(Fault::GP0.into());
            }
            let dst = m.prepare(Seg::Es, offset, 64, Intent::Write)?;
            let mut data = [0u8; 64];
            m.read_prepared(&src, &mut data)?;
            m.write_prepared(&dst, &data)
        }
        (Op::Clflush | Op::Clflushopt | Op::Clwb, [Operand::Mem, ..]) => {
            m.prepare_operand(insn, 1, Intent::Read).map(|_| ())
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}
