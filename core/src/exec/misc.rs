//! Register-only odds and ends a VMM may meet at RIP: CBW/CWDE/CDQE, CWD/CDQ/CQO, LAHF, SAHF,
//! CLC STC CMC CLD STD, NOP.

use crate::decode::{Instruction, Op};
use crate::emulator::{Machine, Refusal, Stop};
use crate::flags::{AF, CF, DF, PF, SF, ZF};
use crate::regs::Slot;

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rax = m.gpr64(0);
    match insn.op {
        Op::Cbw | Op::Cwde | Op::Cdqe => {
            let v = match size {
                2 => rax as u8 as i8 as i64 as u64,
                4 => rax as u16 as i16 as i64 as u64,
                _ => rax as u32 as i32 as i64 as u64,
            };
            m.set_gpr_sized(0, size, v);
        }
        Op::Cwd | Op::Cdq | Op::Cqo => {
            let sign = match size {
                2 => rax & 0x8000 != 0,
                4 => rax & 0x8000_0000 != 0,
                _ => rax >> 63 != 0,
            };
            m.set_gpr_sized(2, size, if sign { u64::MAX } else { 0 });
        }
        Op::Lahf => {
            let ah = (m.regs.rflags & (SF | ZF | AF | PF | CF)) | 2;
            m.set_gpr_sized(0, 2, (rax & 0xff) | (ah << 8));
        }
        Op::Sahf => {
            let ah = (rax >> 8) & (SF | ZF | AF | PF | CF);
            let f = (m.regs.rflags & !(SF | ZF | AF | PF | CF)) | ah;
            m.set_status_flags(f);
        }
        Op::Clc | Op::Stc | Op::Cmc => {
            let f = m.regs.rflags;
            let new = match insn.op {
                Op::Clc => f & !CF,
                Op::Stc => f | CF,
                _ => f ^ CF,
            };
            m.set_status_flags(new);
        }
        Op::Cld | Op::Std => {
            let f = if insn.op == Op::Cld {
                m.regs.rflags & !DF
            } else {
                m.regs.rflags | DF
            };
            if f != m.regs.rflags {
                m.regs.rflags = f;
                m.regs.mark_dirty(Slot::Rflags as u8);
            }
        }
        Op::Nop => {}
        op => return Err(Refusal::Unsupported(op).into()),
    }
    Ok(())
}
