//! The state of one emulation call and its fetch → decode → plan → execute → commit loop.

use super::{CallbackKind, Fault, Outcome, Refusal};
use super::{Config, ExitAccess, InstructionBytes, IoExit, VpContext};
use crate::decode::{self, DecodeError, Extensions, Instruction, Mode, Op, Seg};
use crate::flags;
use crate::host::{Callbacks, HostError, TranslateFlags};
use crate::mem::Tlb;
use crate::regs::{EXT_SLOTS, RegName, RegValue, RegisterFile, SLOTS, Slot, slot_name};

/// Why execution stopped early.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Stop {
    /// The instruction faults.
    Fault(Fault),
    /// The emulator declines.
    Refuse(Refusal),
    /// A REP string instruction ran its per-call budget: the registers hold its progress and
    /// are committed, RIP stays on the instruction ([`Outcome::Partial`]).
    Partial,
}

impl From<Fault> for Stop {
    fn from(f: Fault) -> Stop {
        Stop::Fault(f)
    }
}

impl From<Refusal> for Stop {
    fn from(r: Refusal) -> Stop {
        Stop::Refuse(r)
    }
}

/// Most registers one Get or Set names (small arrays on the stack, room to spare).
const BATCH: usize = crate::host::MAX_REGISTERS_PER_CALL;

/// Marks an extension slot among the slot numbers of one Get or Set.
const EXT_FLAG: u8 = 0x80;

/// The bits of the slots and of the extension slots.
const SLOT_MASK: u64 = (1 << SLOTS) - 1;
const EXT_SLOT_MASK: u16 = (1 << EXT_SLOTS) - 1;

/// The slots of `main` then the extension slots of `ext` (marked with `EXT_FLAG`), each lowest
/// first: the order of a Get or Set.
#[inline(always)]
fn slots_of(main: u64, ext: u16) -> impl Iterator<Item = u8> {
    bits(main & SLOT_MASK).chain(bits(u64::from(ext & EXT_SLOT_MASK)).map(|i| i | EXT_FLAG))
}

/// The numbers of the set bits of `m`, lowest first (the slot order of a Get or Set).
fn bits(mut m: u64) -> impl Iterator<Item = u8> {
    core::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let i = m.trailing_zeros() as u8;
        m &= m.wrapping_sub(1);
        Some(i)
    })
}

/// One emulation call.
pub(crate) struct Machine<'a, C: ?Sized> {
    pub cb: &'a Callbacks<C>,
    pub ctx: &'a mut C,
    pub regs: RegisterFile,
    pub vp: VpContext,
    pub config: Config,
    /// Decoding mode derived from CR0.PE, EFER.LMA, CS.L/D and RFLAGS.VM.
    pub mode: Mode,
    /// Virtual-8086 mode.
    pub vm86: bool,
    pub cpl: u8,
    pub exit: ExitAccess,
    /// Instruction bytes had to be fetched from guest memory.
    pub fetched: bool,
    /// A prepared access touched the exit's GPA in the exit's direction.
    pub exit_matched: bool,
    /// A guest-visible access has been performed (after which nothing may fault).
    pub performed: bool,
    pub tlb: Tlb,
    /// The instruction's partial progress is architectural even if it faults (REP strings).
    pub keep_on_fault: bool,
}

impl<'a, C: ?Sized> Machine<'a, C> {
    pub(crate) fn new(
        cb: &'a Callbacks<C>,
        ctx: &'a mut C,
        vp: &VpContext,
        config: Config,
        exit: ExitAccess,
    ) -> Machine<'a, C> {
        let vm86 = vp.cr0_pe && !vp.efer_lma && vp.rflags & flags::VM != 0;
        let mode = if !vp.cr0_pe {
            Mode::Real
        } else if vp.efer_lma && vp.cs.long() {
            Mode::Long64
        } else if vm86 {
            Mode::Real
        } else if vp.cs.default_big() {
            if vp.efer_lma {
                Mode::Compat32
            } else {
                Mode::Prot32
            }
        } else {
            Mode::Prot16
        };
        let cpl = if !vp.cr0_pe {
            0
        } else if vm86 {
            3
        } else {
            vp.cpl & 3
        };
        // The literal is built where it is returned; the registers the context gives are filled
        // in by `run` (a register file assembled here first would be zeroed, then copied).
        Machine {
            cb,
            ctx,
            regs: RegisterFile::default(),
            vp: *vp,
            config,
            mode,
            vm86,
            cpl,
            exit,
            fetched: false,
            exit_matched: false,
            performed: false,
            tlb: Tlb::default(),
            keep_on_fault: false,
        }
    }

    /// Takes RIP, RFLAGS, CS and CR8 from the context.
    fn seed_vp(&mut self) {
        let (vp, regs) = (&self.vp, &mut self.regs);
        regs.rip = vp.rip;
        regs.mark_known(Slot::Rip as u8);
        regs.rflags = vp.rflags;
        regs.mark_known(Slot::Rflags as u8);
        if let Some(cs) = regs.seg.get_mut(Seg::Cs as usize) {
            *cs = vp.cs;
        }
        regs.mark_known(Slot::Seg0.nth(Seg::Cs as u8));
        regs.cr8 = vp.cr8 as u64;
        regs.mark_known(Slot::Cr8 as u8);
    }

    /// Takes RAX, RCX, RSI, RDI, DS and ES from a port exit.
    pub(crate) fn seed_io(&mut self, exit: &IoExit) {
        for (n, v) in [(0u8, exit.rax), (1, exit.rcx), (6, exit.rsi), (7, exit.rdi)] {
            if let Some(r) = self.regs.gpr.get_mut(n as usize) {
                *r = v;
            }
            self.regs.mark_known(n);
        }
        for (s, v) in [(Seg::Ds, exit.ds), (Seg::Es, exit.es)] {
            if let Some(r) = self.regs.seg.get_mut(s as usize) {
                *r = v;
            }
            self.regs.mark_known(Slot::Seg0.nth(s as u8));
        }
    }

    pub(crate) fn run(&mut self, bytes: InstructionBytes) -> Outcome {
        self.seed_vp();
        if self.vp.interruption_pending {
            return Outcome::Refused(Refusal::InterruptionPending);
        }
        match self.step(bytes) {
            Ok(()) => Outcome::Completed,
            Err(Stop::Fault(f)) => {
                // REP progress that hardware keeps is committed with the fault.
                if self.keep_on_fault
                    && self.regs.dirty_set() != 0
                    && let Err(r) = self.commit()
                {
                    return Outcome::Refused(r);
                }
                Outcome::Exception(f)
            }
            Err(Stop::Refuse(r)) => Outcome::Refused(r),
            Err(Stop::Partial) => match self.commit() {
                Ok(()) => Outcome::Partial,
                Err(r) => Outcome::Refused(r),
            },
        }
    }

    fn step(&mut self, bytes: InstructionBytes) -> Result<(), Stop> {
        let insn = self.fetch_decode(bytes)?;
        // A port exit reports the instruction's length: bytes that decode to another length are
        // not the instruction that exited.
        if matches!(self.exit, ExitAccess::Io { .. })
            && self.vp.instruction_length != 0
            && insn.len != self.vp.instruction_length
        {
            return Err(Refusal::BadExitContext.into());
        }
        self.plan(&insn)?;
        let next = self.next_rip(&insn);
        crate::exec::execute(self, &insn)?;
        // The instruction must make the exit's access: always for a port exit, and for an MMIO
        // exit when the bytes came from guest memory (the guest may have rewritten them).
        let port_exit = matches!(self.exit, ExitAccess::Io { .. });
        if (port_exit || (self.fetched && self.exit != ExitAccess::None)) && !self.exit_matched {
            return Err(Refusal::ExitMismatch.into());
        }
        if !self.regs.is_dirty(Slot::Rip as u8) {
            self.regs.rip = next;
            self.regs.mark_dirty(Slot::Rip as u8);
        }
        // A completed instruction clears RF.
        if self.regs.rflags & flags::RF != 0 {
            self.regs.rflags &= !flags::RF;
            self.regs.mark_dirty(Slot::Rflags as u8);
        }
        self.commit().map_err(Stop::Refuse)
    }

    /// RIP after the instruction, wrapped to the operand size of the code segment.
    pub(crate) fn next_rip(&self, insn: &Instruction) -> u64 {
        let next = self.regs.rip.wrapping_add(insn.len as u64);
        match self.mode {
            Mode::Long64 => next,
            Mode::Prot32 | Mode::Compat32 => next & 0xffff_ffff,
            Mode::Real | Mode::Prot16 => next & 0xffff,
        }
    }

    fn fetch_decode(&mut self, bytes: InstructionBytes) -> Result<Instruction, Stop> {
        let mut buf = [0u8; decode::WINDOW];
        let src = bytes.as_slice();
        for (d, s) in buf.iter_mut().zip(src) {
            *d = *s;
        }
        // The bytes the loop copied.
        let mut n = src.len().min(decode::MAX_LEN);
        let mut insn = Instruction::BLANK;
        if self.decode_fetching(&mut buf, &mut n, Extensions::default(), &mut insn)? {
            // UD0, UD1 and UD2 are instructions whose execution is #UD.
            if matches!(insn.op, Op::Ud0 | Op::Ud1 | Op::Ud2) {
                return Err(Fault::UD.into());
            }
            return Ok(insn);
        }
        Err(self.undefined(&mut buf, n))
    }

    /// Decodes the first `*n` bytes of `buf` into `insn` with the extensions `ext`, reading
    /// more instruction bytes from the guest while they end inside the instruction (`*n` then
    /// counts them). `Ok(false)`: the bytes are an invalid encoding.
    #[inline(always)]
    fn decode_fetching(
        &mut self,
        buf: &mut [u8; decode::WINDOW],
        n: &mut usize,
        ext: Extensions,
        insn: &mut Instruction,
    ) -> Result<bool, Stop> {
        let vendor = self.config.vendor;
        loop {
            let decoded = if ext.apx {
                // The engine alone: the fast path, which has no REX2, rejected these bytes.
                let bytes = buf.get(..*n).unwrap_or(&[]);
                decode::decode_engine(bytes, self.mode, vendor, ext, insn)
            } else {
                decode::decode_window(buf, *n, self.mode, vendor, insn)
            };
            match decoded {
                Ok(_) => return Ok(true),
                Err(DecodeError::Truncated) if *n < decode::MAX_LEN => {
                    // `fetch_more` reads at least one byte and at most up to `MAX_LEN`.
                    *n = n.wrapping_add(self.fetch_more(buf, *n)?);
                }
                Err(DecodeError::Truncated) | Err(DecodeError::TooLong) => {
                    return Err(Fault::GP0.into());
                }
                Err(DecodeError::Invalid(_)) => return Ok(false),
            }
        }
    }

    /// #UD for bytes the decoder rejects (the first `n` of `buf`), unless the guest enabled
    /// APX (XCR0 bit 19, which makes D5 the REX2 prefix in 64-bit mode) and they are an
    /// instruction under REX2: the emulator does not run REX2 instructions, so it refuses them
    /// rather than fault. XCR0 is read only for bytes that REX2 could make valid, more bytes only
    /// for an APX guest.
    #[cold]
    fn undefined(&mut self, buf: &mut [u8; decode::WINDOW], mut n: usize) -> Stop {
        const XCR0_APX: u64 = 1 << 19;
        let apx = Extensions { apx: true };
        if self.mode != Mode::Long64 {
            return Fault::UD.into();
        }
        let mut insn = Instruction::BLANK;
        let bytes = buf.get(..n).unwrap_or(&[]);
        let rex2 = decode::decode_engine(bytes, Mode::Long64, self.config.vendor, apx, &mut insn);
        if matches!(rex2, Err(DecodeError::Invalid(_))) {
            return Fault::UD.into();
        }
        if let Err(stop) = self.fetch_one(RegName::XCR0, Slot::Xcr0) {
            return stop;
        }
        if self.regs.xcr0 & XCR0_APX == 0 {
            return Fault::UD.into();
        }
        if rex2.is_ok() {
            return Refusal::Unsupported(insn.op).into();
        }
        // Truncated (more bytes to fetch) or too long.
        match self.decode_fetching(buf, &mut n, apx, &mut insn) {
            Ok(true) => Refusal::Unsupported(insn.op).into(),
            Ok(false) => Fault::UD.into(),
            Err(stop) => stop,
        }
    }

    /// Reads instruction bytes from offset `have` up to the end of the page (and at most to the
    /// 15-byte limit) through translate (execute) and memory. Returns how many were read.
    fn fetch_more(&mut self, buf: &mut [u8; decode::WINDOW], have: usize) -> Result<usize, Stop> {
        self.fetched = true;
        let ip = self.regs.rip.wrapping_add(have as u64);
        let cs = self
            .regs
            .seg
            .get(Seg::Cs as usize)
            .copied()
            .unwrap_or_default();
        let linear = if self.mode == Mode::Long64 {
            ip
        } else {
            let ip = ip & 0xffff_ffff;
            if ip > cs.limit as u64 {
                return Err(Fault::GP0.into());
            }
            cs.base.wrapping_add(ip) & 0xffff_ffff
        };
        // `have` is below `MAX_LEN` (the caller's condition); the host's GPA may sit at the top of
        // the address space: wrap rather than overflow.
        let page_left = 0x1000usize.wrapping_sub((linear & 0xfff) as usize);
        let want = decode::MAX_LEN.wrapping_sub(have).min(page_left);
        let gpa = self.translate(linear, crate::mem::Intent::Fetch)?;
        let mut done = 0usize;
        while done < want {
            let chunk = want.wrapping_sub(done).min(8);
            let mut data = [0u8; 8];
            let at = gpa.wrapping_add(done as u64);
            self.phys_read(at, data.get_mut(..chunk).unwrap_or(&mut []))?;
            for (i, b) in data.iter().take(chunk).enumerate() {
                if let Some(d) = buf.get_mut(have.wrapping_add(done).wrapping_add(i)) {
                    *d = *b;
                }
            }
            done = done.wrapping_add(chunk);
        }
        Ok(done)
    }

    /// Reads the registers the instruction needs that are not yet known, in one Get.
    fn plan(&mut self, insn: &Instruction) -> Result<(), Stop> {
        let need = crate::exec::needed_slots(self, insn)?;
        self.get_slots(need.main, need.ext)
    }

    /// Fetches the slots of `need` and extension slots of `ext` that are not known, in one Get
    /// call.
    pub(crate) fn get_slots(&mut self, need: u64, ext: u16) -> Result<(), Stop> {
        let mut names = [RegName(0); BATCH];
        let mut slots = [0u8; BATCH];
        let mut count = 0;
        for i in slots_of(
            need & !self.regs.known_set(),
            ext & !self.regs.ext_known_set(),
        ) {
            let (Some(n), Some(s)) = (names.get_mut(count), slots.get_mut(count)) else {
                return Err(Refusal::TooManyRegisters.into());
            };
            *n = if i & EXT_FLAG != 0 {
                self.regs.ext_name(i & !EXT_FLAG)
            } else {
                slot_name(i)
            };
            *s = i;
            count = count.wrapping_add(1);
        }
        if count == 0 {
            return Ok(());
        }
        let mut values = [RegValue::default(); BATCH];
        let (Some(n), Some(v)) = (names.get(..count), values.get_mut(..count)) else {
            return Ok(());
        };
        (self.cb.get_registers)(self.ctx, n, v)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::GetRegisters))?;
        for (s, v) in slots.iter().zip(values.iter()).take(count) {
            if s & EXT_FLAG != 0 {
                self.regs.load_ext(s & !EXT_FLAG, *v);
            } else {
                self.regs.load(*s, *v);
            }
        }
        Ok(())
    }

    /// Reads CR4 alone: the rare second Get, for an address that is non-canonical under 4-level
    /// paging (only CR4.LA57 can make it valid).
    pub(crate) fn fetch_cr4(&mut self) -> Result<(), Stop> {
        self.fetch_one(RegName::CR4, Slot::Cr4)
    }

    /// Reads one register in a Get of its own (for rare paths: kept apart from `get_slots`, so
    /// they need no batch arrays on the stack).
    #[inline(never)]
    fn fetch_one(&mut self, name: RegName, slot: Slot) -> Result<(), Stop> {
        let mut value = [RegValue::default()];
        (self.cb.get_registers)(self.ctx, &[name], &mut value)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::GetRegisters))?;
        let [v] = value;
        self.regs.load(slot as u8, v);
        Ok(())
    }

    /// Writes every changed register in one Set call.
    fn commit(&mut self) -> Result<(), Refusal> {
        let mut names = [RegName(0); BATCH];
        let mut values = [RegValue::default(); BATCH];
        let mut count = 0;
        for i in slots_of(self.regs.dirty_set(), self.regs.ext_dirty_set()) {
            let (Some(n), Some(v)) = (names.get_mut(count), values.get_mut(count)) else {
                return Err(Refusal::TooManyRegisters);
            };
            if i & EXT_FLAG != 0 {
                *n = self.regs.ext_name(i & !EXT_FLAG);
                *v = self.regs.ext_value(i & !EXT_FLAG);
            } else {
                *n = slot_name(i);
                *v = self.regs.value(i);
            }
            count = count.wrapping_add(1);
        }
        if count == 0 {
            return Ok(());
        }
        let (Some(n), Some(v)) = (names.get(..count), values.get(..count)) else {
            return Ok(());
        };
        (self.cb.set_registers)(self.ctx, n, v)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::SetRegisters))
    }

    /// Translates a page through the host (no caching).
    pub(crate) fn host_translate(
        &mut self,
        page: u64,
        flags: u32,
    ) -> Result<(crate::host::TranslateResult, u64), Stop> {
        (self.cb.translate_gva_page)(self.ctx, page, TranslateFlags(flags))
            .map_err(|_: HostError| Refusal::CallbackFailed(CallbackKind::TranslateGvaPage).into())
    }

    /// One guest-physical read of up to 8 bytes within a page (up to 64 through the host's
    /// wide-memory entry).
    pub(crate) fn phys_read(&mut self, gpa: u64, out: &mut [u8]) -> Result<(), Stop> {
        if let Some(wide) = self.cb.wide_memory
            && out.len() > 8
        {
            out.fill(0);
            return wide(self.ctx, gpa, false, out)
                .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory).into());
        }
        let mut a = crate::host::MemAccess {
            gpa,
            size: out.len() as u8,
            write: false,
            data: [0; 8],
        };
        (self.cb.memory)(self.ctx, &mut a)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
        for (o, d) in out.iter_mut().zip(a.data.iter()) {
            *o = *d;
        }
        Ok(())
    }

    /// One guest-physical write of up to 8 bytes within a page (up to 64 through the host's
    /// wide-memory entry).
    pub(crate) fn phys_write(&mut self, gpa: u64, bytes: &[u8]) -> Result<(), Stop> {
        if let Some(wide) = self.cb.wide_memory
            && bytes.len() > 8
        {
            let mut data = [0u8; 64];
            for (d, b) in data.iter_mut().zip(bytes) {
                *d = *b;
            }
            let n = bytes.len().min(64);
            return wide(self.ctx, gpa, true, data.get_mut(..n).unwrap_or(&mut []))
                .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory).into());
        }
        let mut data = [0u8; 8];
        for (d, b) in data.iter_mut().zip(bytes) {
            *d = *b;
        }
        let mut a = crate::host::MemAccess {
            gpa,
            size: bytes.len() as u8,
            write: true,
            data,
        };
        (self.cb.memory)(self.ctx, &mut a)
            .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory).into())
    }

    // ----- general-purpose registers -----

    /// Reads general-purpose register `reg` (a decoded register operand).
    pub(crate) fn gpr(&self, reg: decode::Reg) -> u64 {
        use decode::RegClass::*;
        let n = reg.num as usize;
        match reg.class {
            Gpr8High => (self.regs.gpr.get(n).copied().unwrap_or(0) >> 8) & 0xff,
            Gpr8 => self.regs.gpr.get(n).copied().unwrap_or(0) & 0xff,
            Gpr16 => self.regs.gpr.get(n).copied().unwrap_or(0) & 0xffff,
            Gpr32 => self.regs.gpr.get(n).copied().unwrap_or(0) & 0xffff_ffff,
            _ => self.regs.gpr.get(n).copied().unwrap_or(0),
        }
    }

    /// Writes general-purpose register `reg` as the architecture does: 8- and 16-bit writes keep
    /// the other bits, 32-bit writes zero-extend.
    pub(crate) fn set_gpr(&mut self, reg: decode::Reg, v: u64) {
        use decode::RegClass::*;
        let n = reg.num as usize;
        let Some(r) = self.regs.gpr.get_mut(n) else {
            return;
        };
        *r = match reg.class {
            Gpr8High => (*r & !0xff00) | ((v & 0xff) << 8),
            Gpr8 => (*r & !0xff) | (v & 0xff),
            Gpr16 => (*r & !0xffff) | (v & 0xffff),
            Gpr32 => v & 0xffff_ffff,
            _ => v,
        };
        self.regs.mark_dirty(n as u8);
    }

    /// Reads GPR number `n` (full 64 bits).
    pub(crate) fn gpr64(&self, n: u8) -> u64 {
        self.regs.gpr.get(n as usize).copied().unwrap_or(0)
    }

    /// Writes GPR number `n` with `size` bytes of `v` (architectural merge rules).
    pub(crate) fn set_gpr_sized(&mut self, n: u8, size: u8, v: u64) {
        self.set_gpr(decode::Reg::gpr(size, n), v);
    }

    /// Sets the status flags (and only them) from `new`.
    pub(crate) fn set_status_flags(&mut self, new: u64) {
        let f = (self.regs.rflags & !flags::STATUS) | (new & flags::STATUS);
        if f != self.regs.rflags {
            self.regs.rflags = f;
            self.regs.mark_dirty(Slot::Rflags as u8);
        }
    }

    /// The segment register `s`.
    pub(crate) fn segment(&self, s: Seg) -> crate::regs::Segment {
        self.regs.seg.get(s as usize).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::bits;

    /// A Get or Set names its slots in ascending order, as the scan over all slots did.
    #[test]
    fn bits_are_walked_lowest_first() {
        let walk = |m: u64| {
            bits(m).fold((0u64, 0usize, -1i32), |(seen, n, last), i| {
                assert!(i32::from(i) > last, "{m:#x}: {i} after {last}");
                (seen | 1 << i, n + 1, i32::from(i))
            })
        };
        for m in [0, 1, 0xa1, 1 << 63, u64::MAX, 0x8000_0000_0001_0010] {
            let (seen, n, _) = walk(m);
            assert_eq!((seen, n), (m, m.count_ones() as usize), "{m:#x}");
        }
        assert!(bits(0xa1).eq([0u8, 5, 7]));
    }
}
