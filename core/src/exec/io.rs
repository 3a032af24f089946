//! IN and OUT (imm8 and DX forms; 1, 2 or 4 bytes).
//!
//! When CPL > IOPL (or in virtual-8086 mode) the access must be allowed by the I/O permission
//! bitmap, which the host checks through its optional entry; without one the access raises
//! #GP(0), as on a processor whose TSS has no bitmap.

use crate::decode::{Instruction, Op, Operand};
use crate::emulator::{CallbackKind, ExitAccess, Fault, Machine, Refusal, Stop};
use crate::flags;
use crate::host::IoAccess;

impl<C: ?Sized> Machine<'_, C> {
    /// #GP(0) unless the current privilege allows a `size`-byte access at `port`.
    pub(crate) fn check_io_permission(&mut self, port: u16, size: u8) -> Result<(), Stop> {
        let iopl = ((self.regs.rflags & flags::IOPL) >> 12) as u8;
        let protected = self.vp.cr0_pe;
        if !protected || (!self.vm86 && self.cpl <= iopl) {
            return Ok(());
        }
        let Some(check) = self.cb.io_permission else {
            return Err(Fault::GP0.into());
        };
        let allowed = check(self.ctx, port, size)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::IoPermission))?;
        if allowed {
            Ok(())
        } else {
            Err(Fault::GP0.into())
        }
    }

    /// One port access through the host.
    pub(crate) fn port_access(
        &mut self,
        port: u16,
        size: u8,
        write: bool,
        data: u32,
    ) -> Result<u32, Stop> {
        self.performed = true;
        let mut io = IoAccess {
            port,
            size,
            write,
            data: if write { data } else { 0 },
        };
        (self.cb.io_port)(self.ctx, &mut io)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::IoPort))?;
        Ok(io.data)
    }

    /// Refuses when a port exit names another port, direction, size or kind (string, REP) than
    /// the instruction (or the exit was a memory access); a matching port exit counts as the
    /// exit's access. `rep` is only compared for string instructions (processors report it for
    /// INS and OUTS).
    pub(crate) fn check_io_exit(
        &mut self,
        port: u16,
        write: bool,
        size: u8,
        rep: Option<bool>,
    ) -> Result<(), Stop> {
        match self.exit {
            ExitAccess::Io {
                port: p,
                write: w,
                size: s,
                string,
                rep: r,
            } if p != port
                || w != write
                || s != size
                || string != rep.is_some()
                || rep.is_some_and(|rep| rep != r) =>
            {
                Err(Refusal::ExitMismatch.into())
            }
            ExitAccess::Io { .. } => {
                self.exit_matched = true;
                Ok(())
            }
            ExitAccess::Mmio { .. } => Err(Refusal::ExitMismatch.into()),
            ExitAccess::None => Ok(()),
        }
    }
}

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let write = insn.op == Op::Out;
    let (port_op, data_op) = if write { (0, 1) } else { (1, 0) };
    // The exit already names the port held in DX.
    let port = m.port_operand(insn, port_op);
    let Some(Operand::Reg(data_reg)) = insn.operands.get(data_op).copied() else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let size = data_reg.size() as u8;
    m.check_io_exit(port, write, size, None)?;
    m.check_io_permission(port, size)?;
    if write {
        let v = m.gpr(data_reg) as u32;
        m.port_access(port, size, true, v)?;
    } else {
        let v = m.port_access(port, size, false, 0)?;
        // IN EAX zero-extends into RAX; IN AL and IN AX keep the other bits.
        m.set_gpr(data_reg, v as u64);
    }
    Ok(())
}
