//! Instruction semantics, one module per family.
//!
//! The `alu` functions are pure: operands and RFLAGS in, result and RFLAGS out, exact to the bit
//! for the chosen vendor (including the flags the manuals leave undefined). The family modules
//! apply them to the register file and to guest memory through `mem`.

pub mod alu;
mod arith;
mod bits;
mod io;
mod misc;
mod mov;
mod muldiv;
mod operand;
mod shift;
mod store;
mod string;
mod vector;

use crate::decode::{Instruction, Mode, Op, Operand, RegClass, Seg};
use crate::emulator::{Machine, Refusal, Stop};
use crate::regs::Slot;

/// Executes a decoded instruction on the machine.
pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    use Op::*;
    match insn.op {
        Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test | Inc | Dec | Neg | Not | Xadd
        | Cmpxchg | Cmpxchg8b | Cmpxchg16b => arith::execute(m, insn),
        Rol | Ror | Rcl | Rcr | Shl | Sal | Shr | Sar | Shld | Shrd => shift::execute(m, insn),
        Mul | Imul | Div | Idiv => muldiv::execute(m, insn),
        Bt | Bts | Btr | Btc | Bsf | Bsr | Popcnt | Lzcnt | Tzcnt | Bswap => bits::execute(m, insn),
        Cbw | Cwde | Cdqe | Cwd | Cdq | Cqo | Lahf | Sahf | Clc | Stc | Cmc | Cld | Std | Nop => {
            misc::execute(m, insn)
        }
        In | Out => io::execute(m, insn),
        op if string::is_string(op) => string::execute(m, insn),
        Mov | Movzx | Movsx | Movsxd | Movbe | Xchg | Xlat | Push | Pop | Lea | Les | Lds | Lss
        | Lfs | Lgs => mov::execute(m, insn),
        Cmova | Cmovae | Cmovb | Cmovbe | Cmove | Cmovg | Cmovge | Cmovl | Cmovle | Cmovne
        | Cmovno | Cmovnp | Cmovns | Cmovo | Cmovp | Cmovs | Seta | Setae | Setb | Setbe | Sete
        | Setg | Setge | Setl | Setle | Setne | Setno | Setnp | Setns | Seto | Setp | Sets => {
            mov::conditional(m, insn)
        }
        Movnti | Movdiri | Movdir64b | Clflush | Clflushopt | Clwb => store::execute(m, insn),
        op if vector::is_vector(op) => vector::execute(m, insn),
        op => Err(Refusal::Unsupported(op).into()),
    }
}

/// Registers an instruction needs, for the one Get: main slots and extension slots.
pub(crate) struct Needs {
    pub main: u64,
    pub ext: u16,
}

/// The register slots `insn` reads or writes, so they can be fetched in one Get. Refuses an
/// instruction that needs registers the host does not serve.
pub(crate) fn needed_slots<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
) -> Result<Needs, Stop> {
    use Op::*;
    let mut need = 0u64;
    // The segment registers the instruction names as operands (their selectors).
    let mut named_segs = 0u64;
    let gpr = |n: u8| 1u64 << (n & 15);
    let seg = |s: Seg| 1u64 << Slot::Seg0.nth(s as u8);
    let mut uses_mem = false;
    // A 32- or 64-bit register destination that is only written need not be read first.
    let write_only_dest = matches!(
        insn.op,
        Mov | Movzx | Movsx | Movsxd | Lea | Movbe | Popcnt | Lzcnt | Tzcnt
    );
    for (i, op) in insn.operands.iter().enumerate() {
        if i == 0
            && write_only_dest
            && matches!(op, Operand::Reg(r) if matches!(r.class, RegClass::Gpr32 | RegClass::Gpr64))
        {
            continue;
        }
        match op {
            Operand::Reg(r) => match r.class {
                RegClass::Gpr8High => need |= gpr(r.num),
                RegClass::Gpr8 | RegClass::Gpr16 | RegClass::Gpr32 | RegClass::Gpr64 => {
                    need |= gpr(r.num)
                }
                RegClass::Seg => named_segs |= 1 << Slot::Seg0.nth(r.num),
                _ => {}
            },
            Operand::Mem => uses_mem = true,
            Operand::StrSrc { .. } => need |= gpr(6) | seg(insn.mem.seg),
            Operand::StrDst { .. } => need |= gpr(7) | seg(Seg::Es),
            _ => {}
        }
    }
    if uses_mem {
        if let Some(b) = insn.mem.base
            && b.class != RegClass::Ip
        {
            need |= gpr(b.num);
        }
        if let Some(i) = insn.mem.index {
            need |= gpr(i.num);
        }
        if insn.op != Lea {
            need |= seg(insn.mem.seg);
        }
    }
    need |= match insn.op {
        Mul | Div | Idiv | Cwd | Cdq | Cqo => gpr(0) | gpr(2),
        Imul if insn.operand_count() == 1 => gpr(0) | gpr(2),
        Cbw | Cwde | Cdqe | Cmpxchg | Lahf | Sahf | Xlat => gpr(0),
        Cmpxchg8b | Cmpxchg16b => gpr(0) | gpr(1) | gpr(2) | gpr(3),
        Push | Pop => gpr(4) | seg(Seg::Ss),
        // A real-mode segment load keeps the hidden limit and attributes: read them.
        Les => seg(Seg::Es),
        Lds => seg(Seg::Ds),
        Lss => seg(Seg::Ss),
        Lfs => seg(Seg::Fs),
        Lgs => seg(Seg::Gs),
        // The operands name rSI/rDI, the segments, the accumulator and DX.
        op if string::is_string(op) => string::needed(insn),
        Movdir64b => seg(Seg::Es),
        _ => 0,
    };
    let mut ext = 0;
    if vector::is_vector(insn.op) {
        let (main, e) = vector::needs(m, insn)?;
        need |= main;
        ext = e;
    }
    // A port exit names the port: IN/OUT ... DX need not read RDX.
    if matches!(
        insn.op,
        In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd
    ) && matches!(m.exit, crate::emulator::ExitAccess::Io { .. })
    {
        need &= !gpr(2);
    }
    // In 64-bit mode ES, CS, SS and DS have base 0 and no limit: no need to read them for an
    // address, only for a selector the instruction names (MOV r/m, Sreg).
    if m.mode == Mode::Long64 {
        need &= !(seg(Seg::Es) | seg(Seg::Cs) | seg(Seg::Ss) | seg(Seg::Ds));
    }
    Ok(Needs {
        main: need | named_segs,
        ext,
    })
}
