//! BT BTS BTR BTC (a register bit offset reaches beyond a memory operand), BSF BSR, POPCNT
//! LZCNT TZCNT, BSWAP.

use super::alu::{AluOut, Vendor, bits};
use crate::decode::{Instruction, Op, Operand};
use crate::emulator::{Machine, Refusal, Stop};
use crate::mem::Intent;

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    let vendor = m.config.vendor;
    match insn.op {
        Op::Bt | Op::Bts | Op::Btr | Op::Btc => bit_test(m, insn),
        Op::Bsf | Op::Bsr | Op::Popcnt | Op::Lzcnt | Op::Tzcnt => {
            let src = m.read_src(insn, 1, size)?;
            let Some(Operand::Reg(r)) = insn.operands.first().copied() else {
                return Err(Refusal::Unsupported(insn.op).into());
            };
            let dest = m.gpr(r);
            let out = match insn.op {
                Op::Bsf => bits::bsf(size, dest, src, rf, vendor),
                Op::Bsr => bits::bsr(size, dest, src, rf, vendor),
                Op::Popcnt => bits::popcnt(size, src, rf),
                Op::Lzcnt => bits::lzcnt(size, src, rf, vendor),
                _ => bits::tzcnt(size, src, rf, vendor),
            };
            // BSF/BSR with a zero source leave the destination (all 64 bits) untouched.
            let scan = matches!(insn.op, Op::Bsf | Op::Bsr);
            if !(scan && src & super::alu::mask(size) == 0) {
                m.set_gpr(r, out.value);
            }
            m.set_status_flags(out.rflags);
            Ok(())
        }
        Op::Bswap => {
            let Some(Operand::Reg(r)) = insn.operands.first().copied() else {
                return Err(Refusal::Unsupported(insn.op).into());
            };
            let v = m.gpr(r);
            let out = if size == 2 {
                bits::bswap_r16(v, vendor)
            } else {
                bits::bswap(size, v)
            };
            m.set_gpr(r, out);
            Ok(())
        }
        op => Err(Refusal::Unsupported(op).into()),
    }
}

/// BTS, BTR or BTC: the bit update of a modifying bit test.
type BitUpdate = fn(u8, u64, u64, u64, Vendor) -> AluOut;

fn bit_test<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let size = insn.op_size;
    let rf = m.regs.rflags;
    let vendor = m.config.vendor;
    let offset = m.read_src(insn, 1, size)?;
    let register_offset = matches!(insn.operands[1], Operand::Reg(_));
    let write = insn.op != Op::Bt;
    let intent = if write {
        Intent::ReadWrite
    } else {
        Intent::Read
    };
    let modify: Option<BitUpdate> = match insn.op {
        Op::Bts => Some(bits::bts),
        Op::Btr => Some(bits::btr),
        Op::Btc => Some(bits::btc),
        _ => None,
    };
    let d = match insn.operands[0] {
        Operand::Mem if register_offset => {
            // The register offset is signed and selects an operand-sized unit around the
            // effective address.
            let (delta, _) = bits::bit_mem_offset(size, offset);
            let ea = m.effective_address(insn).wrapping_add(delta as u64);
            let ea = match insn.addr_size {
                2 => ea & 0xffff,
                4 => ea & 0xffff_ffff,
                _ => ea,
            };
            super::operand::Dest::Mem(m.prepare(
                m.operand_segment(insn),
                ea,
                size as u16,
                intent,
            )?)
        }
        _ => m.dest(insn, 0, size, intent)?,
    };
    let index = bits::bit_index(size, offset) as u64;
    let flags = match modify {
        Some(f) => {
            let old = m.update_dest(insn, &d, |v| f(size, v, index, rf, vendor).value)?;
            f(size, old, index, rf, vendor).rflags
        }
        None => {
            let v = m.read_dest(&d)?;
            bits::bt(size, v, index, rf, vendor)
        }
    };
    m.set_status_flags(flags);
    Ok(())
}
