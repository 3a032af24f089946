//! Guest memory: effective address → linear address (segmentation, canonical and alignment
//! checks) → guest-physical pieces (per-page translation with #PF error codes) → callbacks of at
//! most 8 bytes that never cross a page.
//!
//! Every access of an instruction is *prepared* (translated and checked) before the first one is
//! *performed*, so a fault leaves the guest untouched.

mod seg;

use crate::decode::{Instruction, Mode, Seg, Vendor};
use crate::emulator::{ExitAccess, Fault, Machine, Refusal, Stop};
use crate::flags;
use crate::host::{TranslateFlags, TranslateResult};

/// What an access is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Intent {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// A read then a write of the same bytes.
    ReadWrite,
    /// An instruction fetch.
    Fetch,
}

impl Intent {
    const fn writes(self) -> bool {
        matches!(self, Intent::Write | Intent::ReadWrite)
    }
}

/// A small cache of the pages translated during one emulation.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Tlb {
    /// (linear page | 1 if checked for write | 2 if for fetch | 4 valid, gpa page)
    entries: [(u64, u64); 4],
    next: usize,
}

impl Tlb {
    fn lookup(&self, page: u64, tag: u64) -> Option<u64> {
        self.entries
            .iter()
            .find(|(k, _)| *k == (page | tag | 4))
            .map(|(_, g)| *g)
    }
    fn insert(&mut self, page: u64, tag: u64, gpa: u64) {
        if let Some(e) = self.entries.get_mut(self.next % 4) {
            *e = (page | tag | 4, gpa);
        }
        self.next = self.next.wrapping_add(1);
    }
}

/// A contiguous guest-physical run of one access.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Piece {
    pub gpa: u64,
    pub len: u16,
}

/// The data of one performed access.
pub(crate) enum Transfer<'a> {
    /// Read into this buffer.
    Read(&'a mut [u8]),
    /// Write these bytes.
    Write(&'a [u8]),
}

impl Transfer<'_> {
    fn len(&self) -> usize {
        match self {
            Transfer::Read(b) => b.len(),
            Transfer::Write(b) => b.len(),
        }
    }
}

/// A translated and checked access, ready to perform.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Prepared {
    pub pieces: [Piece; 2],
    pub count: u8,
    /// Total bytes.
    pub size: u16,
    /// The linear address (for a later #PF report of REP strings, CR2).
    pub linear: u64,
}

impl<C: ?Sized> Machine<'_, C> {
    /// Translates the linear address for `intent` to a guest-physical address (one page).
    pub(crate) fn translate(&mut self, linear: u64, intent: Intent) -> Result<u64, Stop> {
        let page = linear & !0xfff;
        let tag = match intent {
            Intent::Write | Intent::ReadWrite => 1,
            Intent::Fetch => 2,
            Intent::Read => 0,
        };
        if let Some(gpa) = self.tlb.lookup(page, tag) {
            return Ok(gpa | (linear & 0xfff));
        }
        let f = match intent {
            Intent::Read => TranslateFlags::VALIDATE_READ,
            Intent::Write => TranslateFlags::VALIDATE_WRITE,
            Intent::ReadWrite => TranslateFlags::VALIDATE_READ | TranslateFlags::VALIDATE_WRITE,
            Intent::Fetch => TranslateFlags::VALIDATE_EXECUTE,
        };
        // Supervisor data accesses with RFLAGS.AC set are exempt from SMAP.
        let f = if self.cpl < 3 && intent != Intent::Fetch && self.regs.rflags & flags::AC != 0 {
            f | TranslateFlags::OVERRIDE_SMAP
        } else {
            f
        };
        let (result, gpa) = self.host_translate(page, f)?;
        let user = if self.cpl == 3 { 4 } else { 0 };
        let write = if intent.writes() { 2 } else { 0 };
        let fetch = if intent == Intent::Fetch { 0x10 } else { 0 };
        match result {
            TranslateResult::Success => {}
            TranslateResult::PageNotPresent => {
                return Err(Fault::page_fault(user | write | fetch, linear).into());
            }
            TranslateResult::PrivilegeViolation => {
                return Err(Fault::page_fault(1 | user | write | fetch, linear).into());
            }
            TranslateResult::InvalidPageTableFlags => {
                return Err(Fault::page_fault(1 | 8 | user | write | fetch, linear).into());
            }
            _ => return Err(Refusal::TranslationFailed.into()),
        }
        if gpa & 0xfff != 0 {
            return Err(Refusal::GpaNotAligned.into());
        }
        self.tlb.insert(page, tag, gpa);
        Ok(gpa | (linear & 0xfff))
    }

    /// Prepares an access of `size` bytes at `seg:offset` (offset already wrapped to the address
    /// size): segmentation, translation of every page, alignment check.
    pub(crate) fn prepare(
        &mut self,
        seg: Seg,
        offset: u64,
        size: u16,
        intent: Intent,
    ) -> Result<Prepared, Stop> {
        let linear = self.linearize_checked(seg, offset, size, intent)?;
        self.prepare_linear(linear, size, intent)
    }

    /// [`Machine::linearize`] for an access whose alignment the caller checks next: in 64-bit
    /// mode Intel checks the alignment before the canonical form of the access's last byte, so a
    /// misaligned access whose first byte is canonical and whose last is not raises #AC there,
    /// not #GP/#SS (measured on a 5th-generation Xeon; AMD raises #GP/#SS). A segment limit
    /// comes first on both: a misaligned access whose last byte is past the limit is #GP/#SS
    /// (measured on the same Xeon in compatibility mode and 16-bit code, where Intel has no
    /// limit check at 4 GiB to order: see `wraps_at_4g`).
    #[inline(never)]
    pub(crate) fn linearize_checked(
        &mut self,
        seg: Seg,
        offset: u64,
        size: u16,
        intent: Intent,
    ) -> Result<u64, Stop> {
        match self.linearize(seg, offset, size, intent) {
            Ok(linear) => Ok(linear),
            Err(fault) => self.alignment_then(fault, seg, offset, size, intent),
        }
    }

    /// The fault of a failed [`Machine::linearize_checked`]: #AC first on Intel in 64-bit mode
    /// when the first byte is canonical, else `fault`. Out of line: rare, and kept out of every
    /// caller.
    #[cold]
    #[inline(never)]
    fn alignment_then(
        &mut self,
        fault: Stop,
        seg: Seg,
        offset: u64,
        size: u16,
        intent: Intent,
    ) -> Result<u64, Stop> {
        // Only a segmentation fault: a failed host call (reading CR4) ends the access as it is.
        if self.config.vendor == Vendor::Intel
            && self.mode == Mode::Long64
            && matches!(fault, Stop::Fault(_))
        {
            match self.linearize(seg, offset, 1, intent) {
                Ok(first) => self.check_alignment(first, size)?,
                Err(Stop::Fault(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Err(fault)
    }

    /// Prepares an access at a linear address.
    pub(crate) fn prepare_linear(
        &mut self,
        linear: u64,
        size: u16,
        intent: Intent,
    ) -> Result<Prepared, Stop> {
        self.prepare_pages(linear, size, intent, true)
    }

    /// Translates the pages of an access at a linear address, in address order, without the
    /// alignment check.
    pub(crate) fn translate_range(
        &mut self,
        linear: u64,
        size: u16,
        intent: Intent,
    ) -> Result<Prepared, Stop> {
        self.prepare_pages(linear, size, intent, false)
    }

    #[inline(never)]
    fn prepare_pages(
        &mut self,
        linear: u64,
        size: u16,
        intent: Intent,
        check_ac: bool,
    ) -> Result<Prepared, Stop> {
        let mut p = Prepared {
            size,
            linear,
            ..Prepared::default()
        };
        // #AC comes before #PF (measured on the AMD host: a misaligned access that reaches a
        // not-present page raises #AC).
        if check_ac {
            self.check_alignment(linear, size)?;
        }
        let first_len = 0x1000u64.wrapping_sub(linear & 0xfff).min(size as u64) as u16;
        let gpa0 = self.translate(linear, intent)?;
        p.pieces[0] = Piece {
            gpa: gpa0,
            len: first_len,
        };
        p.count = 1;
        if first_len < size {
            let second = self.wrap_linear(linear.wrapping_add(first_len as u64));
            let gpa1 = self.translate(second, intent)?;
            p.pieces[1] = Piece {
                gpa: gpa1,
                len: size.wrapping_sub(first_len),
            };
            p.count = 2;
        }
        self.note_exit_match(&p, intent);
        Ok(p)
    }

    /// Linear addresses wrap at 4 GiB outside 64-bit mode.
    pub(crate) fn wrap_linear(&self, linear: u64) -> u64 {
        if self.mode == Mode::Long64 {
            linear
        } else {
            linear & 0xffff_ffff
        }
    }

    /// #AC(0): alignment checking is on (CR0.AM, RFLAGS.AC, CPL 3) and the access is misaligned:
    /// an access of 2, 4 or 8 bytes not aligned to its size; on AMD also of 16 bytes not aligned
    /// to 16, or of 32 or 64 bytes not aligned to 16 (measured on Zen 4: VEX.256 and EVEX.512
    /// loads and stores at 16-byte-aligned addresses complete, at 8-byte-aligned ones raise #AC).
    /// Intel checks no access of 16 bytes or more (measured on a 5th-generation Xeon: MOVUPS,
    /// VMOVUPS and VMOVDQU32 at odd addresses complete).
    pub(crate) fn check_alignment(&self, linear: u64, size: u16) -> Result<(), Stop> {
        let max = match self.config.vendor {
            Vendor::Amd => 64,
            Vendor::Intel => 8,
        };
        if self.vp.cr0_am
            && self.regs.rflags & flags::AC != 0
            && self.cpl == 3
            && size.is_power_of_two()
            && size > 1
            && size <= max
            && linear & (size.min(16) as u64).wrapping_sub(1) != 0
        {
            return Err(Fault::AC0.into());
        }
        Ok(())
    }

    pub(crate) fn note_exit_match(&mut self, p: &Prepared, intent: Intent) {
        if let ExitAccess::Mmio { gpa, write, .. } = self.exit {
            let dir_ok = if write {
                intent.writes()
            } else {
                intent != Intent::Write
            };
            let hit = p
                .pieces
                .iter()
                .take(p.count as usize)
                .any(|pc| gpa >= pc.gpa && gpa < pc.gpa.wrapping_add(pc.len as u64));
            if hit && dir_ok {
                self.exit_matched = true;
            }
        }
    }

    /// Before the first guest-visible access: refuse when fetched bytes decode to an
    /// instruction that does not make the exit's access.
    pub(crate) fn before_perform(&mut self) -> Result<(), Stop> {
        if !self.performed {
            // A port exit is matched by the I/O instruction before any memory access (INS/OUTS
            // check the port first); an MMIO exit by a prepared access, when bytes were fetched.
            let mismatch = match self.exit {
                ExitAccess::Io { .. } => !self.exit_matched,
                ExitAccess::Mmio { .. } => self.fetched && !self.exit_matched,
                ExitAccess::None => false,
            };
            if mismatch {
                return Err(Refusal::ExitMismatch.into());
            }
            self.performed = true;
        }
        Ok(())
    }

    /// Performs a prepared read into `out` (its length is `p.size`).
    pub(crate) fn read_prepared(&mut self, p: &Prepared, out: &mut [u8]) -> Result<(), Stop> {
        self.access_range(p, 0, Transfer::Read(out))
    }

    /// Performs a prepared write of `bytes` (its length is `p.size`).
    pub(crate) fn write_prepared(&mut self, p: &Prepared, bytes: &[u8]) -> Result<(), Stop> {
        self.access_range(p, 0, Transfer::Write(bytes))
    }

    /// Reads or writes the bytes `offset..offset + len` of a prepared access, in address order,
    /// in pieces that do not cross a page and hold at most 8 bytes (64 with the host's
    /// wide-memory entry).
    pub(crate) fn access_range(
        &mut self,
        p: &Prepared,
        offset: u16,
        mut data: Transfer<'_>,
    ) -> Result<(), Stop> {
        self.before_perform()?;
        let max = if self.cb.wide_memory.is_some() { 64 } else { 8 };
        let end = offset.saturating_add(data.len() as u16);
        let mut start = 0u16;
        let mut at = 0usize;
        for pc in p.pieces.iter().take(p.count as usize) {
            // The pieces cover at most the access's size; the host's GPA may sit at the top of
            // the address space: wrap rather than overflow.
            let (lo, hi) = (offset.max(start), end.min(start.wrapping_add(pc.len)));
            let mut pos = lo;
            while pos < hi {
                let chunk = hi.wrapping_sub(pos).min(max) as usize;
                let gpa = pc.gpa.wrapping_add(pos.wrapping_sub(start) as u64);
                match &mut data {
                    Transfer::Read(out) => {
                        let dst = out.get_mut(at..at.wrapping_add(chunk)).unwrap_or(&mut []);
                        self.phys_read(gpa, dst)?;
                    }
                    Transfer::Write(bytes) => {
                        let src = bytes.get(at..at.wrapping_add(chunk)).unwrap_or(&[]);
                        self.phys_write(gpa, src)?;
                    }
                }
                pos = pos.wrapping_add(chunk as u16);
                at = at.wrapping_add(chunk);
            }
            start = start.wrapping_add(pc.len);
        }
        Ok(())
    }

    /// Reads a prepared access of at most 8 bytes as a little-endian value.
    pub(crate) fn read_value(&mut self, p: &Prepared) -> Result<u64, Stop> {
        let mut b = [0u8; 8];
        let n = (p.size as usize).min(8);
        self.read_prepared(p, b.get_mut(..n).unwrap_or(&mut []))?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes the low `p.size` (at most 8) bytes of `v`.
    pub(crate) fn write_value(&mut self, p: &Prepared, v: u64) -> Result<(), Stop> {
        let b = v.to_le_bytes();
        let n = (p.size as usize).min(8);
        self.write_prepared(p, b.get(..n).unwrap_or(&[]))
    }

    /// The effective address (offset within the segment) of the instruction's memory operand,
    /// wrapped to the address size.
    pub(crate) fn effective_address(&self, insn: &Instruction) -> u64 {
        let m = &insn.mem;
        let mut ea = m.disp as u64;
        if let Some(b) = m.base {
            ea = ea.wrapping_add(match b.class {
                crate::decode::RegClass::Ip => self.regs.rip.wrapping_add(insn.len as u64),
                _ => self.gpr(b),
            });
        }
        if let Some(i) = m.index {
            ea = ea.wrapping_add(self.gpr(i).wrapping_mul(m.scale as u64));
        }
        match insn.addr_size {
            2 => ea & 0xffff,
            4 => ea & 0xffff_ffff,
            _ => ea,
        }
    }

    /// The segment the memory operand goes through. In 64-bit mode an ES, CS, SS or DS override
    /// is ignored (the bases are 0 and only the #SS-versus-#GP choice depends on the segment):
    /// the default applies, SS for an RSP or RBP base.
    pub(crate) fn operand_segment(&self, insn: &Instruction) -> Seg {
        let seg = insn.mem.seg;
        if self.mode != Mode::Long64 || matches!(seg, Seg::Fs | Seg::Gs) {
            return seg;
        }
        match insn.mem.base {
            Some(b) if b.class != crate::decode::RegClass::Ip && matches!(b.num, 4 | 5) => Seg::Ss,
            _ => Seg::Ds,
        }
    }

    /// Prepares the instruction's memory operand for `size` bytes.
    pub(crate) fn prepare_operand(
        &mut self,
        insn: &Instruction,
        size: u16,
        intent: Intent,
    ) -> Result<Prepared, Stop> {
        let ea = self.effective_address(insn);
        self.prepare(self.operand_segment(insn), ea, size, intent)
    }
}
