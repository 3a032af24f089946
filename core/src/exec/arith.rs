//! ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC NEG NOT, XADD, CMPXCHG, CMPXCHG8B/16B.
//!
//! Read-modify-write destinations in memory are prepared for reading and writing before the
//! first access. With LOCK (XCHG is implicitly locked) and a host compare-and-exchange entry, the
//! write is an atomic compare-and-exchange retried until the memory did not change under us;
//! without one, a locked operation is a read followed by a write.

use super::alu::{AluOut, arith, logic};
use super::operand::Dest;
use crate::decode::{Instruction, Mode, Op, Operand, Seg};
use crate::emulator::{CallbackKind, Fault, Machine, Refusal, Stop};
use crate::flags;
use crate::mem::Intent;

/// How many times a locked update retries when the memory keeps changing.
const LOCK_RETRIES: u32 = 64;

impl<C: ?Sized> Machine<'_, C> {
    /// Reads the destination, computes with `f` and writes the result back (atomically with LOCK
    /// when the host can). Returns the value the computation saw.
    pub(crate) fn update_dest(
        &mut self,
        insn: &Instruction,
        d: &Dest,
        mut f: impl FnMut(u64) -> u64,
    ) -> Result<u64, Stop> {
        let atomic = match d {
            Dest::Mem(p) if p.count == 1 && (insn.has_lock() || insn.op == Op::Xchg) => self
                .cb
                .compare_exchange
                .map(|cx| (cx, p.pieces[0].gpa, p.size)),
            _ => None,
        };
        let mut old = self.read_dest(d)?;
        let Some((cx, gpa, size)) = atomic else {
            self.write_dest(d, f(old))?;
            return Ok(old);
        };
        self.before_perform()?;
        for _ in 0..LOCK_RETRIES {
            let new = f(old);
            let seen = cx(self.ctx, gpa, size as u8, old as u128, new as u128)
                .map_err(|_| Refusal::CallbackFailed(CallbackKind::CompareExchange))?;
            if seen as u64 == old {
                return Ok(old);
            }
            old = seen as u64;
        }
        Err(Refusal::CallbackFailed(CallbackKind::CompareExchange).into())
    }
}

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    match insn.op {
        Op::Add | Op::Or | Op::Adc | Op::Sbb | Op::And | Op::Sub | Op::Xor => {
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            let src = m.read_src(insn, 1, size)?;
            let op: fn(u8, u64, u64, u64) -> AluOut = match insn.op {
                Op::Add => arith::add,
                Op::Or => logic::or,
                Op::Adc => arith::adc,
                Op::Sbb => arith::sbb,
                Op::And => logic::and,
                Op::Sub => arith::sub,
                _ => logic::xor,
            };
            let old = m.update_dest(insn, &d, |a| op(size, a, src, rf).value)?;
            m.set_status_flags(op(size, old, src, rf).rflags);
            Ok(())
        }
        Op::Cmp | Op::Test => {
            let d = m.dest(insn, 0, size, Intent::Read)?;
            let a = m.read_dest(&d)?;
            let b = m.read_src(insn, 1, size)?;
            let f = if insn.op == Op::Cmp {
                arith::cmp(size, a, b, rf)
            } else {
                logic::test(size, a, b, rf)
            };
            m.set_status_flags(f);
            Ok(())
        }
        Op::Inc | Op::Dec | Op::Neg => {
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            let op: fn(u8, u64, u64) -> AluOut = match insn.op {
                Op::Inc => arith::inc,
                Op::Dec => arith::dec,
                _ => arith::neg,
            };
            let old = m.update_dest(insn, &d, |a| op(size, a, rf).value)?;
            m.set_status_flags(op(size, old, rf).rflags);
            Ok(())
        }
        Op::Not => {
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            m.update_dest(insn, &d, |a| logic::not(size, a))?;
            Ok(())
        }
        Op::Xadd => {
            let Some(Operand::Reg(r)) = insn.operands.get(1).copied() else {
                return Err(Refusal::Unsupported(insn.op).into());
            };
            let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
            let src = m.gpr(r);
            let old = m.update_dest(insn, &d, |a| arith::add(size, a, src, rf).value)?;
            let out = arith::xadd(size, old, src, rf);
            // The register gets the old destination; with a register destination equal to the
            // source register, the sum wins (the destination is written last).
            m.set_gpr(r, old);
            if let Dest::Reg(dr) = d {
                m.set_gpr(dr, out.value);
            }
            m.set_status_flags(out.rflags);
            Ok(())
        }
        Op::Cmpxchg => cmpxchg(m, insn),
        Op::Cmpxchg8b | Op::Cmpxchg16b => cmpxchg_wide(m, insn),
        op => Err(Refusal::Unsupported(op).into()),
    }
}

fn cmpxchg<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    let Some(Operand::Reg(src_reg)) = insn.operands.get(1).copied() else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let d = m.dest(insn, 0, size, Intent::ReadWrite)?;
    let acc = m.gpr64(0) & super::alu::mask(size);
    let src = m.gpr(src_reg);
    let atomic = match d {
        Dest::Mem(p) if p.count == 1 && insn.has_lock() => {
            m.cb.compare_exchange.map(|cx| (cx, p.pieces[0].gpa))
        }
        _ => None,
    };
    let current = if let Some((cx, gpa)) = atomic {
        m.before_perform()?;
        let seen = cx(m.ctx, gpa, size, acc as u128, src as u128)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::CompareExchange))?;
        seen as u64 & super::alu::mask(size)
    } else {
        let cur = m.read_dest(&d)?;
        match d {
            // Memory is written either way (with its own value when the compare fails).
            Dest::Mem(_) => m.write_dest(&d, if cur == acc { src } else { cur })?,
            // A register is left untouched (not even zero-extended) when the compare fails.
            Dest::Reg(_) if cur == acc => m.write_dest(&d, src)?,
            Dest::Reg(_) => {}
        }
        cur
    };
    let (equal, f) = arith::cmpxchg(size, acc, current, rf);
    if !equal {
        m.set_gpr_sized(0, size, current);
    }
    m.set_status_flags(f);
    Ok(())
}

fn cmpxchg_wide<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let (half, bytes): (u8, u16) = if insn.op == Op::Cmpxchg16b {
        (8, 16)
    } else {
        (4, 8)
    };
    let half_bits = super::alu::width(half);
    if half == 8 {
        // CMPXCHG16B: #GP(0) unless the linear address is 16-byte aligned, checked before the
        // canonical, limit and paging checks.
        let seg = m.operand_segment(insn);
        let base = match (m.mode, seg) {
            (Mode::Long64, Seg::Fs | Seg::Gs)
            | (Mode::Real | Mode::Prot16 | Mode::Prot32 | Mode::Compat32, _) => m.segment(seg).base,
            _ => 0,
        };
        if base.wrapping_add(m.effective_address(insn)) & 15 != 0 {
            return Err(Fault::GP0.into());
        }
    }
    let p = m.prepare_operand(insn, bytes, Intent::ReadWrite)?;
    let mask = super::alu::mask(half);
    let expected = (m.gpr64(0) & mask) as u128 | ((m.gpr64(2) & mask) as u128) << half_bits;
    let new = (m.gpr64(3) & mask) as u128 | ((m.gpr64(1) & mask) as u128) << half_bits;
    let current = match m.cb.compare_exchange {
        Some(cx) if p.count == 1 && insn.has_lock() => {
            m.before_perform()?;
            cx(m.ctx, p.pieces[0].gpa, bytes as u8, expected, new)
                .map_err(|_| Refusal::CallbackFailed(CallbackKind::CompareExchange))?
        }
        _ => {
            let mut buf = [0u8; 16];
            m.read_prepared(&p, buf.get_mut(..bytes as usize).unwrap_or(&mut []))?;
            let cur = u128::from_le_bytes(buf);
            let out = if cur == expected { new } else { cur };
            m.write_prepared(&p, out.to_le_bytes().get(..bytes as usize).unwrap_or(&[]))?;
            cur
        }
    };
    let mut f = m.regs.rflags & !flags::ZF;
    if current == expected {
        f |= flags::ZF;
    } else {
        m.set_gpr_sized(0, half, current as u64 & mask);
        m.set_gpr_sized(2, half, (current >> half_bits) as u64 & mask);
    }
    m.set_status_flags(f);
    Ok(())
}
