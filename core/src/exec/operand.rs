//! Reading and writing decoded operands: registers, the memory operand, immediates.

use crate::decode::{Instruction, Operand, RegClass};
use crate::emulator::{Machine, Refusal, Stop};
use crate::mem::{Intent, Prepared};

/// A destination operand, prepared for writing.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Dest {
    /// A general-purpose register.
    Reg(crate::decode::Reg),
    /// The memory operand, translated and checked.
    Mem(Prepared),
}

impl<C: ?Sized> Machine<'_, C> {
    /// Prepares operand `idx` of `insn` as a destination of `size` bytes (`ReadWrite` for
    /// read-modify-write instructions).
    pub(crate) fn dest(
        &mut self,
        insn: &Instruction,
        idx: usize,
        size: u8,
        intent: Intent,
    ) -> Result<Dest, Stop> {
        match insn.operands.get(idx) {
            Some(Operand::Reg(r)) if is_gpr(r.class) => Ok(Dest::Reg(*r)),
            Some(Operand::Mem) => Ok(Dest::Mem(self.prepare_operand(
                insn,
                size as u16,
                intent,
            )?)),
            _ => Err(Refusal::Unsupported(insn.op).into()),
        }
    }

    /// Reads a prepared destination's current value.
    pub(crate) fn read_dest(&mut self, d: &Dest) -> Result<u64, Stop> {
        match d {
            Dest::Reg(r) => Ok(self.gpr(*r)),
            Dest::Mem(p) => self.read_value(p),
        }
    }

    /// Writes a prepared destination.
    pub(crate) fn write_dest(&mut self, d: &Dest, v: u64) -> Result<(), Stop> {
        match d {
            Dest::Reg(r) => {
                self.set_gpr(*r, v);
                Ok(())
            }
            Dest::Mem(p) => self.write_value(p, v),
        }
    }

    /// Reads source operand `idx` of `insn` as `size` bytes (immediates as decoded, which are
    /// already extended to the operand size).
    pub(crate) fn read_src(
        &mut self,
        insn: &Instruction,
        idx: usize,
        size: u8,
    ) -> Result<u64, Stop> {
        match insn.operands.get(idx) {
            Some(Operand::Reg(r)) if is_gpr(r.class) => Ok(self.gpr(*r)),
            Some(Operand::Mem) => {
                let p = self.prepare_operand(insn, size as u16, Intent::Read)?;
                self.read_value(&p)
            }
            Some(Operand::Imm { .. }) => Ok(insn.imm),
            Some(Operand::One) => Ok(1),
            _ => Err(Refusal::Unsupported(insn.op).into()),
        }
    }
}

/// A general-purpose register class.
pub(crate) const fn is_gpr(c: RegClass) -> bool {
    matches!(
        c,
        RegClass::Gpr8 | RegClass::Gpr8High | RegClass::Gpr16 | RegClass::Gpr32 | RegClass::Gpr64
    )
}
