//! Data movement: MOV (all forms, moffs included), MOVZX, MOVSX, MOVSXD, MOVBE, XCHG, XLAT,
//! LEA, PUSH and POP (register, memory, immediate, segment), CMOVcc and SETcc.

use super::alu::cond;
use super::operand::{Dest, is_gpr};
use crate::decode::{Instruction, Mode, Op, Operand, RegClass, Seg};
use crate::emulator::{Machine, Refusal, Stop};
use crate::mem::Intent;
use crate::regs::Slot;

/// Size in bytes of operand `idx` (a register's width, the memory operand's access size, or the
/// operand size for immediates).
fn operand_size(insn: &Instruction, idx: usize) -> u8 {
    match insn.operands.get(idx) {
        Some(Operand::Reg(r)) => r.size().min(8) as u8,
        Some(Operand::Mem) => insn.mem.size.min(8) as u8,
        _ => insn.op_size,
    }
}

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    match insn.op {
        Op::Mov => mov(m, insn),
        Op::Movzx | Op::Movsx | Op::Movsxd => {
            let mut src_size = operand_size(insn, 1);
            // AMD's MOVSXD r16 reads a doubleword (of which it keeps the low word).
            if insn.op == Op::Movsxd
                && m.config.vendor == crate::decode::Vendor::Amd
                && matches!(insn.operands[1], Operand::Mem)
            {
                src_size = 4;
            }
            let v = m.read_src(insn, 1, src_size)?;
            let v = if insn.op == Op::Movzx {
                v
            } else {
                super::alu::sign_extend(src_size, v) as u64
            };
            let d = m.dest(insn, 0, size, Intent::Write)?;
            m.write_dest(&d, v)
        }
        Op::Movbe => {
            let v = m.read_src(insn, 1, size)?;
            let d = m.dest(insn, 0, size, Intent::Write)?;
            m.write_dest(&d, super::alu::bits::movbe(size, v))
        }
        Op::Xchg => {
            // XCHG with memory is implicitly locked: a read then a write of the same bytes.
            let (mem_idx, reg_idx) = if matches!(insn.operands[0], Operand::Mem) {
                (0, 1)
            } else {
                (1, 0)
            };
            let Some(Operand::Reg(r)) = insn.operands.get(reg_idx).copied() else {
                return Err(Refusal::Unsupported(insn.op).into());
            };
            let d = m.dest(insn, mem_idx, size, Intent::ReadWrite)?;
            let old = m.read_dest(&d)?;
            let reg_val = m.gpr(r);
            m.write_dest(&d, reg_val)?;
            m.set_gpr(r, old);
            Ok(())
        }
        Op::Xlat => {
            let p = m.prepare_operand(insn, 1, Intent::Read)?;
            let v = m.read_value(&p)?;
            m.set_gpr_sized(0, 1, v);
            Ok(())
        }
        Op::Lea => {
            let ea = m.effective_address(insn);
            let d = m.dest(insn, 0, size, Intent::Write)?;
            m.write_dest(&d, ea)
        }
        Op::Les | Op::Lds | Op::Lss | Op::Lfs | Op::Lgs => load_far_pointer(m, insn),
        Op::Push => push(m, insn),
        Op::Pop => pop(m, insn),
        op => Err(Refusal::Unsupported(op).into()),
    }
}

fn mov<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    match (insn.operands[0], insn.operands[1]) {
        // MOV r/m, Sreg stores the 16-bit selector (zero-extended into a 32/64-bit register).
        (_, Operand::Reg(s)) if s.class == RegClass::Seg => {
            let sel = Seg::from_num(s.num).map_or(0, |s| m.segment(s).selector) as u64;
            let width = if matches!(insn.operands[0], Operand::Mem) {
                2
            } else {
                size
            };
            let d = m.dest(insn, 0, width, Intent::Write)?;
            m.write_dest(&d, sel)
        }
        (Operand::Reg(s), _) if s.class == RegClass::Seg => {
            if m.mode != Mode::Real {
                // Loading a segment register in protected mode reads descriptor tables.
                return Err(Refusal::Unsupported(insn.op).into());
            }
            let sel = m.read_src(insn, 1, 2)? & 0xffff;
            let i = s.num;
            if let Some(seg) = m.regs.seg.get_mut(i as usize) {
                seg.selector = sel as u16;
                seg.base = sel << 4;
            }
            m.regs.mark_dirty(Slot::Seg0.nth(i));
            Ok(())
        }
        (Operand::Reg(r), _) | (_, Operand::Reg(r)) if !is_gpr(r.class) => {
            Err(Refusal::Unsupported(insn.op).into())
        }
        _ => {
            let d = m.dest(insn, 0, size, Intent::Write)?;
            let v = m.read_src(insn, 1, size)?;
            m.write_dest(&d, v)
        }
    }
}

/// LES, LDS, LSS, LFS, LGS: a register and a segment from a far pointer in memory. Only where
/// loading a segment needs no descriptor (real and virtual-8086 mode).
fn load_far_pointer<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    if m.vp.cr0_pe && !m.vm86 {
        return Err(Refusal::Unsupported(insn.op).into());
    }
    let seg = match insn.op {
        Op::Les => Seg::Es,
        Op::Lds => Seg::Ds,
        Op::Lss => Seg::Ss,
        Op::Lfs => Seg::Fs,
        _ => Seg::Gs,
    };
    let Some(Operand::Reg(r)) = insn.operands.first().copied() else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let size = insn.op_size;
    // The offset, then the 2-byte selector.
    let len = (size as usize).wrapping_add(2);
    let p = m.prepare_operand(insn, len as u16, Intent::Read)?;
    let mut buf = [0u8; 16];
    m.read_prepared(&p, buf.get_mut(..len).unwrap_or(&mut []))?;
    let raw = u128::from_le_bytes(buf);
    let offset = raw as u64;
    let selector = (raw >> (size as u32).wrapping_mul(8)) as u16;
    m.set_gpr(r, offset);
    if let Some(s) = m.regs.seg.get_mut(seg as usize) {
        s.selector = selector;
        s.base = (selector as u64) << 4;
    }
    m.regs.mark_dirty(Slot::Seg0.nth(seg as u8));
    Ok(())
}

/// The stack pointer's width: 8 in 64-bit mode, else 4 or 2 by SS.B.
fn stack_size<C: ?Sized>(m: &Machine<'_, C>) -> u8 {
    if m.mode == Mode::Long64 {
        8
    } else if m.segment(Seg::Ss).default_big() {
        4
    } else {
        2
    }
}

fn wrap(v: u64, size: u8) -> u64 {
    match size {
        2 => v & 0xffff,
        4 => v & 0xffff_ffff,
        _ => v,
    }
}

fn push<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let ss = stack_size(m);
    let sp = m.gpr64(4);
    let new_sp = wrap(sp.wrapping_sub(size as u64), ss);
    // The bytes written: the operand size, but for a selector pushed with a 32-bit operand size
    // on Intel, whose recent cores write it with a 16-bit move, the slot's upper half keeping
    // its bytes (SDM, PUSH; AMD zero-extends it).
    let mut width = size;
    let value = match insn.operands[0] {
        Operand::Reg(r) if r.class == RegClass::Seg => {
            if size == 4 && m.config.vendor == crate::decode::Vendor::Intel {
                width = 2;
            }
            Seg::from_num(r.num).map_or(0, |s| m.segment(s).selector) as u64
        }
        Operand::Mem => {
            let src = m.prepare_operand(insn, size as u16, Intent::Read)?;
            let dst = m.prepare(Seg::Ss, new_sp, size as u16, Intent::Write)?;
            let v = m.read_value(&src)?;
            m.write_value(&dst, v)?;
            m.set_gpr_sized(4, ss, new_sp);
            return Ok(());
        }
        _ => m.read_src(insn, 0, size)?,
    };
    let dst = m.prepare(Seg::Ss, new_sp, width as u16, Intent::Write)?;
    m.write_value(&dst, value)?;
    m.set_gpr_sized(4, ss, new_sp);
    Ok(())
}

fn pop<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let ss = stack_size(m);
    let sp = wrap(m.gpr64(4), ss);
    let new_sp = wrap(sp.wrapping_add(size as u64), ss);
    let src = m.prepare(Seg::Ss, sp, size as u16, Intent::Read)?;
    match insn.operands[0] {
        Operand::Reg(r) if is_gpr(r.class) => {
            let v = m.read_value(&src)?;
            m.set_gpr_sized(4, ss, new_sp);
            m.set_gpr(r, v);
            Ok(())
        }
        Operand::Mem => {
            // The destination address is computed with RSP already incremented.
            let saved = m.gpr64(4);
            m.set_gpr_sized(4, ss, new_sp);
            let dst = m.prepare_operand(insn, size as u16, Intent::Write);
            if let Some(r) = m.regs.gpr.get_mut(4) {
                *r = saved;
            }
            let dst = dst?;
            let v = m.read_value(&src)?;
            m.write_dest(&Dest::Mem(dst), v)?;
            m.set_gpr_sized(4, ss, new_sp);
            Ok(())
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// The condition code (0..15, as in the low nibble of Jcc/SETcc/CMOVcc) of an operation.
fn condition_code(op: Op) -> u8 {
    use Op::*;
    match op {
        Cmovo | Seto => 0,
        Cmovno | Setno => 1,
        Cmovb | Setb => 2,
        Cmovae | Setae => 3,
        Cmove | Sete => 4,
        Cmovne | Setne => 5,
        Cmovbe | Setbe => 6,
        Cmova | Seta => 7,
        Cmovs | Sets => 8,
        Cmovns | Setns => 9,
        Cmovp | Setp => 10,
        Cmovnp | Setnp => 11,
        Cmovl | Setl => 12,
        Cmovge | Setge => 13,
        Cmovle | Setle => 14,
        _ => 15,
    }
}

/// CMOVcc (the source is read even when the condition is false; a 32-bit destination is
/// zero-extended either way) and SETcc.
pub(crate) fn conditional<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
) -> Result<(), Stop> {
    let taken = cond::holds(condition_code(insn.op), m.regs.rflags);
    let is_set = matches!(insn.operands[1], Operand::None);
    if is_set {
        let d = m.dest(insn, 0, 1, Intent::Write)?;
        return m.write_dest(&d, taken as u64);
    }
    let size = insn.op_size;
    let v = m.read_src(insn, 1, size)?;
    let Some(Operand::Reg(r)) = insn.operands.first().copied() else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let old = m.gpr(r);
    m.set_gpr(r, if taken { v } else { old });
    Ok(())
}
