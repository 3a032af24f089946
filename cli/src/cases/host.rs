//! The test host: a whole virtual machine made from a case, serving the emulator's callbacks and
//! recording every device and port access.
//!
//! Guest-physical memory is sparse RAM (every byte reads 0 until written) except the `mmio`
//! ranges, which are devices: reads consume `mmio_reads`, writes are recorded, nothing is stored.
//! Translation is the identity with `not_present` holes and `read_only` pages (the latter set only
//! by programs that build cases), or a real walk of the page tables in RAM (`"paging": "tables"`)
//! with the permission checks of `WHvTranslateGva`.
//!
//! Registers: everything the emulator may ask for by WinHv name (general-purpose, segment,
//! table and control registers, EFER, XCR0, XMM0..XMM15, the x87 `FpControlStatus` and
//! `FpMmx0..7`, `XmmControlStatus`) and, as far as [`TestHost::vector_state`] says, hvemu's
//! extension names for the upper parts of YMM/ZMM registers, ZMM16..ZMM31 and K0..K7.
//! A name it does not serve is a broken contract, recorded in [`TestHost::violations`].

use super::model::{Access, AccessKind, CS, Case, Paging, Range, State};
use hvemu::emulator::VectorState;
use hvemu::host::{Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult};
use hvemu::regs::{RegName, RegValue};
use std::collections::{BTreeMap, VecDeque};

/// Bytes in a page.
pub const PAGE: u64 = 0x1000;

/// Sparse guest RAM: pages that were never written read as zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ram {
    pages: BTreeMap<u64, Box<[u8; PAGE as usize]>>,
}

impl Ram {
    /// The byte at `addr`.
    pub fn byte(&self, addr: u64) -> u8 {
        self.pages
            .get(&(addr & !(PAGE - 1)))
            .map_or(0, |p| p[(addr & (PAGE - 1)) as usize])
    }

    /// Stores a byte.
    pub fn set_byte(&mut self, addr: u64, v: u8) {
        let page = self
            .pages
            .entry(addr & !(PAGE - 1))
            .or_insert_with(|| Box::new([0; PAGE as usize]));
        page[(addr & (PAGE - 1)) as usize] = v;
    }

    /// Reads `out.len()` bytes from `addr` (wrapping at the end of the address space).
    pub fn read(&self, addr: u64, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.byte(addr.wrapping_add(i as u64));
        }
    }

    /// Writes bytes at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.set_byte(addr.wrapping_add(i as u64), *b);
        }
    }

    /// A little-endian value of `size` bytes.
    pub fn read_le(&self, addr: u64, size: usize) -> u64 {
        let mut b = [0u8; 8];
        self.read(addr, &mut b[..size.min(8)]);
        u64::from_le_bytes(b)
    }

    /// The page at page-aligned `addr`, if it was ever written.
    pub fn page(&self, addr: u64) -> Option<&[u8; PAGE as usize]> {
        self.pages.get(&addr).map(|p| &**p)
    }

    /// The addresses of the pages that were ever written.
    pub fn page_addrs(&self) -> impl Iterator<Item = u64> + '_ {
        self.pages.keys().copied()
    }
}

/// What a translation found: the page and the rights along the way.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Walked {
    /// Page-aligned guest-physical address.
    gpa: u64,
    user: bool,
    writable: bool,
    no_execute: bool,
}

/// The virtual machine of one case.
#[derive(Clone, Debug)]
pub struct TestHost {
    /// Registers.
    pub state: State,
    /// Current privilege level (for user-mode page checks).
    pub cpl: u8,
    /// How translation works.
    pub paging: Paging,
    /// Guest RAM.
    pub ram: Ram,
    /// Device ranges.
    pub mmio: Vec<Range>,
    /// Values still to be returned by device reads.
    pub mmio_reads: VecDeque<u64>,
    /// Values still to be returned by port reads.
    pub io_reads: VecDeque<u64>,
    /// Guest-virtual ranges that are not present (identity paging).
    pub not_present: Vec<Range>,
    /// Guest-virtual ranges that are present but read-only (identity paging).
    pub read_only: Vec<Range>,
    /// Every device and port access, in order.
    pub accesses: Vec<Access>,
    /// Things worth telling (an empty read queue...).
    pub notes: Vec<String>,
    /// Calls the emulator should never make (the host interface's contract broken).
    pub violations: Vec<String>,
    /// Which extension register names the host serves (the runner tells the emulator the same
    /// through `Config::vector_state`): [`VectorState::Zmm`] unless a test says otherwise.
    pub vector_state: VectorState,
    /// Device accesses made through [`TestHost::wide_memory`] (the optional wide-memory
    /// callback, which the runner does not offer: the case format has only accesses of 1, 2, 4
    /// and 8 bytes), in order. They are not in [`TestHost::accesses`].
    pub wide_accesses: Vec<WideAccess>,
}

/// One device access of more than 8 bytes (or of any size) made through the wide-memory
/// callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WideAccess {
    /// A write.
    pub write: bool,
    /// Guest-physical address of the first byte.
    pub gpa: u64,
    /// The bytes, in memory order (written, or returned by the read).
    pub data: Vec<u8>,
}

/// Reserved physical-address bits of paging entries: none with a 52-bit physical address width.
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

impl TestHost {
    /// The machine of `case` before the instruction bytes are placed.
    pub fn new(case: &Case) -> TestHost {
        let mut ram = Ram::default();
        for (addr, bytes) in &case.ram {
            ram.write(*addr, bytes);
        }
        // The privilege of data accesses: 0 in real mode, 3 in virtual-8086 mode.
        let s = &case.initial;
        let cpl = if s.cr0() & 1 == 0 {
            0
        } else if s.efer() & (1 << 10) == 0 && s.reg[super::model::RFLAGS] & (1 << 17) != 0 {
            3
        } else {
            case.cpl
        };
        TestHost {
            state: case.initial.clone(),
            cpl,
            paging: case.paging,
            ram,
            mmio: case.mmio.clone(),
            mmio_reads: case.mmio_reads.iter().copied().collect(),
            io_reads: case.io_reads.iter().copied().collect(),
            not_present: case.not_present.clone(),
            read_only: case.read_only.clone(),
            accesses: Vec::new(),
            notes: Vec::new(),
            violations: Vec::new(),
            vector_state: VectorState::Zmm,
            wide_accesses: Vec::new(),
        }
    }

    /// The wide-memory callback (`Callbacks::wide_memory`): one access of 1..=64 bytes within a
    /// page. A device access is recorded in [`TestHost::wide_accesses`]; a device read consumes
    /// one `mmio_reads` value per 8 bytes or part of 8 (little-endian, concatenated). RAM is read
    /// and written as by [`Host::memory`].
    pub fn wide_memory(&mut self, gpa: u64, write: bool, data: &mut [u8]) -> Result<(), HostError> {
        let len = data.len() as u64;
        if data.is_empty() || data.len() > 64 {
            self.violations.push(format!(
                "wide_memory: access of {} bytes at {gpa:#x}",
                data.len()
            ));
            return Err(HostError { code: -1 });
        }
        if (gpa & (PAGE - 1)) + len > PAGE {
            self.violations.push(format!(
                "wide_memory: access of {len} bytes at {gpa:#x} crosses a page"
            ));
        }
        if self.is_mmio(gpa, len) {
            if !write {
                for chunk in data.chunks_mut(8) {
                    let v = self.mmio_reads.pop_front().unwrap_or_else(|| {
                        self.notes.push(format!(
                            "wide mmio_read {gpa:#x} size {len}: mmio_reads is empty, read 0"
                        ));
                        0
                    });
                    let n = chunk.len();
                    chunk.copy_from_slice(&v.to_le_bytes()[..n]);
                }
            }
            self.wide_accesses.push(WideAccess {
                write,
                gpa,
                data: data.to_vec(),
            });
        } else if write {
            self.ram.write(gpa, data);
        } else {
            self.ram.read(gpa, data);
        }
        Ok(())
    }

    /// True when `[gpa, gpa + len)` touches a device.
    pub fn is_mmio(&self, gpa: u64, len: u64) -> bool {
        self.mmio.iter().any(|r| r.overlaps(gpa, len))
    }

    /// The first device byte of `[gpa, gpa + len)`, if any.
    pub fn first_mmio_byte(&self, gpa: u64, len: u64) -> Option<u64> {
        self.mmio
            .iter()
            .filter(|r| r.overlaps(gpa, len))
            .map(|r| r.base.max(gpa))
            .min()
    }

    /// Translates a guest-virtual address with no permission check (what the runner uses to
    /// place bytes and compute exit addresses). `None` when the page is not mapped.
    pub fn translate_plain(&self, gva: u64) -> Option<u64> {
        self.walk(gva).ok().map(|(w, _)| w.gpa | (gva & (PAGE - 1)))
    }

    /// `WHvTranslateGva` on a page-aligned address: result and page-aligned GPA.
    pub fn translate(&mut self, gva: u64, flags: u32) -> (TranslateResult, u64) {
        let (w, path) = match self.walk(gva) {
            Ok(x) => x,
            Err(r) => return (r, 0),
        };
        let write = flags & TranslateFlags::VALIDATE_WRITE != 0;
        let exec = flags & TranslateFlags::VALIDATE_EXECUTE != 0;
        let data = flags & (TranslateFlags::VALIDATE_READ | TranslateFlags::VALIDATE_WRITE) != 0;
        let user_access = self.cpl == 3 && flags & TranslateFlags::PRIVILEGE_EXEMPT == 0;
        let cr0_wp = self.state.cr0() & (1 << 16) != 0;
        let cr4 = self.state.cr4();
        let (smep, smap) = (cr4 & (1 << 20) != 0, cr4 & (1 << 21) != 0);
        let ac = self.state.reg[super::model::RFLAGS] & (1 << 18) != 0;
        let violation = if user_access {
            !w.user || (write && !w.writable)
        } else {
            (write && !w.writable && cr0_wp)
                || (exec && w.user && smep)
                || (data
                    && w.user
                    && smap
                    && flags & TranslateFlags::OVERRIDE_SMAP == 0
                    && (flags & TranslateFlags::ENFORCE_SMAP != 0 || !ac))
        } || (exec && w.no_execute);
        if violation {
            return (TranslateResult::PrivilegeViolation, 0);
        }
        if flags & TranslateFlags::SET_PAGE_TABLE_BITS != 0 {
            // Accessed on every level, dirty on the leaf of a write.
            let last = path.len().saturating_sub(1);
            for (i, (addr, size)) in path.iter().enumerate() {
                let e = self.ram.read_le(*addr, *size);
                let bits = if i == last && write { 0x60 } else { 0x20 };
                self.ram.write(*addr, &(e | bits).to_le_bytes()[..*size]);
            }
        }
        (TranslateResult::Success, w.gpa)
    }

    /// Paging is on and walks tables.
    fn tables_on(&self) -> bool {
        self.paging == Paging::Tables && self.state.cr0() & (1 << 31) != 0
    }

    /// Walks the translation of the page of `gva`: what it maps to, and the address and size of
    /// every paging entry on the way that has accessed and dirty bits (leaf last).
    #[allow(clippy::type_complexity)]
    fn walk(&self, gva: u64) -> Result<(Walked, Vec<(u64, usize)>), TranslateResult> {
        let page = gva & !(PAGE - 1);
        let mut path = Vec::new();
        if !self.tables_on() {
            if self.paging == Paging::Identity
                && self.not_present.iter().any(|r| r.overlaps(page, PAGE))
            {
                return Err(TranslateResult::PageNotPresent);
            }
            let read_only = self.paging == Paging::Identity
                && self.read_only.iter().any(|r| r.overlaps(page, PAGE));
            return Ok((
                Walked {
                    gpa: page,
                    user: true,
                    writable: !read_only,
                    no_execute: false,
                },
                path,
            ));
        }
        let lma = self.state.efer() & (1 << 10) != 0;
        let nxe = self.state.efer() & (1 << 11) != 0;
        let cr4 = self.state.cr4();
        let mut w = Walked {
            gpa: 0,
            user: true,
            writable: true,
            no_execute: false,
        };
        if lma || cr4 & (1 << 5) != 0 {
            // 4- or 5-level (long mode) or PAE: 8-byte entries, 9 bits a level.
            let va = if lma { gva } else { gva & 0xffff_ffff };
            let (levels, mut table) = if lma {
                (
                    if cr4 & (1 << 12) != 0 { 5 } else { 4 },
                    self.state.cr3() & ADDR_MASK,
                )
            } else {
                let pdpte_addr = (self.state.cr3() & 0xffff_ffe0) + ((va >> 30) & 3) * 8;
                let pdpte = self.ram.read_le(pdpte_addr, 8);
                if pdpte & 1 == 0 {
                    return Err(TranslateResult::PageNotPresent);
                }
                // Reserved: bits 2:1, 8:5 and 63:52 (no NX, no rights at this level).
                if pdpte & 0x1e6 != 0 || pdpte >> 52 != 0 {
                    return Err(TranslateResult::InvalidPageTableFlags);
                }
                (2, pdpte & ADDR_MASK)
            };
            for level in (1..=levels).rev() {
                let addr = table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
                let e = self.ram.read_le(addr, 8);
                if e & 1 == 0 {
                    return Err(TranslateResult::PageNotPresent);
                }
                let large = level > 1 && e & 0x80 != 0;
                let reserved = (e >> 63 != 0 && !nxe)
                    || (large && level > 3)
                    || (large && level == 3 && e & 0x3fff_e000 != 0)
                    || (large && level == 2 && e & 0x001f_e000 != 0);
                if reserved {
                    return Err(TranslateResult::InvalidPageTableFlags);
                }
                w.user &= e & 4 != 0;
                w.writable &= e & 2 != 0;
                w.no_execute |= nxe && e >> 63 != 0;
                path.push((addr, 8));
                if level == 1 || large {
                    let span = (1u64 << (12 + 9 * (level - 1))) - 1;
                    w.gpa = (e & ADDR_MASK & !span) | (va & span & !(PAGE - 1));
                    return Ok((w, path));
                }
                table = e & ADDR_MASK;
            }
            Err(TranslateResult::PageNotPresent)
        } else {
            // 2-level 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE (PSE-36).
            let va = gva & 0xffff_ffff;
            let pde_addr = (self.state.cr3() & 0xffff_f000) + (va >> 22) * 4;
            let pde = self.ram.read_le(pde_addr, 4);
            if pde & 1 == 0 {
                return Err(TranslateResult::PageNotPresent);
            }
            w.user &= pde & 4 != 0;
            w.writable &= pde & 2 != 0;
            path.push((pde_addr, 4));
            if pde & 0x80 != 0 && cr4 & (1 << 4) != 0 {
                if pde & (1 << 21) != 0 {
                    return Err(TranslateResult::InvalidPageTableFlags);
                }
                w.gpa = (pde & 0xffc0_0000) | (((pde >> 13) & 0xff) << 32) | (va & 0x003f_f000);
                return Ok((w, path));
            }
            let pte_addr = (pde & 0xffff_f000) + ((va >> 12) & 0x3ff) * 4;
            let pte = self.ram.read_le(pte_addr, 4);
            if pte & 1 == 0 {
                return Err(TranslateResult::PageNotPresent);
            }
            w.user &= pte & 4 != 0;
            w.writable &= pte & 2 != 0;
            path.push((pte_addr, 4));
            w.gpa = pte & 0xffff_f000;
            Ok((w, path))
        }
    }

    /// The value of a register by its WinHv name.
    pub fn reg(&self, name: RegName) -> Option<RegValue> {
        let s = &self.state;
        Some(match name.0 {
            0x00..=0x11 => RegValue::from_u64(s.reg[name.0 as usize]),
            0x12..=0x19 => RegValue::from_segment(s.seg[(name.0 - 0x12) as usize]),
            0x1a => RegValue::from_table(s.idtr),
            0x1b => RegValue::from_table(s.gdtr),
            0x1c..=0x20 => RegValue::from_u64(s.ctl[(name.0 - 0x1c) as usize]),
            0x27 => RegValue::from_u64(s.xcr0),
            0x1000..=0x100f => RegValue::from_u128(s.zmm[(name.0 - 0x1000) as usize][0]),
            0x1010..=0x1017 => s.fp_mmx[(name.0 - 0x1010) as usize],
            0x1018 => s.fp_control,
            // XmmControlStatus: MXCSR at byte 8, MXCSR_MASK at byte 12.
            0x1019 => RegValue {
                lo: 0,
                hi: u64::from(s.mxcsr) | 0xffff << 32,
            },
            0x2001 => RegValue::from_u64(s.ctl[5]),
            _ => match self.extension(name)? {
                Ext::Part(n, p) => RegValue::from_u128(s.zmm[n][p]),
                Ext::K(n) => RegValue::from_u64(s.k[n]),
            },
        })
    }

    /// The register behind an extension name, if the host serves it under its
    /// [`vector_state`](Self::vector_state): parts 1..=3 of ZMM0..ZMM15 (part 1 only with
    /// [`VectorState::Ymm`]) and parts 0..=3 of ZMM16..ZMM31 and K0..K7 with
    /// [`VectorState::Zmm`]. Part 0 of ZMM0..ZMM15 is XMM0..XMM15, served only by its WinHv name.
    fn extension(&self, name: RegName) -> Option<Ext> {
        let zmm = self.vector_state == VectorState::Zmm;
        for n in 0..32u8 {
            for p in 0..4u8 {
                if RegName::zmm_part(n, p) == name {
                    let served = match (n < 16, p) {
                        (true, 0) => false,
                        (true, 1) => self.vector_state != VectorState::Xmm,
                        _ => zmm,
                    };
                    return served.then_some(Ext::Part(usize::from(n), usize::from(p)));
                }
            }
        }
        (0..8u8)
            .find(|&n| RegName::k(n) == name)
            .filter(|_| zmm)
            .map(|n| Ext::K(usize::from(n)))
    }

    /// Stores a register by its WinHv name; false for a name the host does not have.
    pub fn set_reg(&mut self, name: RegName, v: RegValue) -> bool {
        let ext = self.extension(name);
        let s = &mut self.state;
        match name.0 {
            0x00..=0x11 => s.reg[name.0 as usize] = v.lo,
            0x12..=0x19 => s.seg[(name.0 - 0x12) as usize] = v.segment(),
            0x1a => s.idtr = v.table(),
            0x1b => s.gdtr = v.table(),
            0x1c..=0x20 => s.ctl[(name.0 - 0x1c) as usize] = v.lo,
            0x27 => s.xcr0 = v.lo,
            0x1000..=0x100f => s.zmm[(name.0 - 0x1000) as usize][0] = v.u128(),
            0x1010..=0x1017 => s.fp_mmx[(name.0 - 0x1010) as usize] = v,
            0x1018 => s.fp_control = v,
            0x1019 => s.mxcsr = v.hi as u32,
            0x2001 => s.ctl[5] = v.lo,
            _ => match ext {
                Some(Ext::Part(n, p)) => s.zmm[n][p] = v.u128(),
                Some(Ext::K(n)) => s.k[n] = v.lo,
                None => return false,
            },
        }
        true
    }

    /// CS (for the runner).
    pub fn cs(&self) -> hvemu::regs::Segment {
        self.state.seg[CS]
    }
}

/// A register behind an extension name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Ext {
    /// ZMM`n`, 128-bit part `p`.
    Part(usize, usize),
    /// K`n`.
    K(usize),
}

const fn mask(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size * 8)) - 1
    }
}

impl Host for TestHost {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        if !matches!(io.size, 1 | 2 | 4) {
            self.violations
                .push(format!("io_port: size {} at port {:#x}", io.size, io.port));
            return Err(HostError { code: -1 });
        }
        let m = mask(io.size) as u32;
        if io.write {
            self.accesses.push(Access {
                kind: AccessKind::IoOut,
                addr: u64::from(io.port),
                size: io.size,
                data: u64::from(io.data & m),
            });
        } else {
            let v = self.io_reads.pop_front().unwrap_or_else(|| {
                self.notes.push(format!(
                    "io_in port {:#x} size {}: io_reads is empty, read 0",
                    io.port, io.size
                ));
                0
            });
            io.data = v as u32 & m;
            self.accesses.push(Access {
                kind: AccessKind::IoIn,
                addr: u64::from(io.port),
                size: io.size,
                data: u64::from(io.data),
            });
        }
        Ok(())
    }

    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        let size = u64::from(a.size);
        if a.size == 0 || a.size > 8 {
            self.violations.push(format!(
                "memory: access of {} bytes at {:#x}",
                a.size, a.gpa
            ));
            return Err(HostError { code: -1 });
        }
        if (a.gpa & (PAGE - 1)) + size > PAGE {
            self.violations.push(format!(
                "memory: access of {} bytes at {:#x} crosses a page",
                a.size, a.gpa
            ));
        }
        let n = a.size as usize;
        if self.is_mmio(a.gpa, size) {
            if a.write {
                let mut b = [0u8; 8];
                b[..n].copy_from_slice(&a.data[..n]);
                self.accesses.push(Access {
                    kind: AccessKind::MmioWrite,
                    addr: a.gpa,
                    size: a.size,
                    data: u64::from_le_bytes(b),
                });
            } else {
                let v = self.mmio_reads.pop_front().unwrap_or_else(|| {
                    self.notes.push(format!(
                        "mmio_read {:#x} size {}: mmio_reads is empty, read 0",
                        a.gpa, a.size
                    ));
                    0
                }) & mask(a.size);
                a.data = [0; 8];
                a.data[..n].copy_from_slice(&v.to_le_bytes()[..n]);
                self.accesses.push(Access {
                    kind: AccessKind::MmioRead,
                    addr: a.gpa,
                    size: a.size,
                    data: v,
                });
            }
        } else if a.write {
            self.ram.write(a.gpa, &a.data[..n]);
        } else {
            a.data = [0; 8];
            self.ram.read(a.gpa, &mut a.data[..n]);
        }
        Ok(())
    }

    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError> {
        if names.len() != values.len() {
            self.violations.push(format!(
                "get_registers: {} names for {} values",
                names.len(),
                values.len()
            ));
        }
        for (n, v) in names.iter().zip(values.iter_mut()) {
            match self.reg(*n) {
                Some(x) => *v = x,
                None => {
                    self.violations
                        .push(format!("get_registers: unknown register {:#x}", n.0));
                    return Err(HostError { code: -1 });
                }
            }
        }
        Ok(())
    }

    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
        if names.len() != values.len() {
            self.violations.push(format!(
                "set_registers: {} names for {} values",
                names.len(),
                values.len()
            ));
        }
        // All or nothing, as a hypervisor's batched set.
        if let Some(bad) = names.iter().find(|n| self.reg(**n).is_none()) {
            self.violations
                .push(format!("set_registers: unknown register {:#x}", bad.0));
            return Err(HostError { code: -1 });
        }
        for (n, v) in names.iter().zip(values) {
            self.set_reg(*n, *v);
        }
        Ok(())
    }

    fn translate_gva_page(
        &mut self,
        gva: u64,
        flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        if gva & (PAGE - 1) != 0 {
            self.violations
                .push(format!("translate_gva_page: {gva:#x} is not page-aligned"));
        }
        Ok(self.translate(gva & !(PAGE - 1), flags.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::json::parse;

    const R: u32 = TranslateFlags::VALIDATE_READ;
    const W: u32 = TranslateFlags::VALIDATE_WRITE;
    const X: u32 = TranslateFlags::VALIDATE_EXECUTE;

    /// A long-mode machine with 4-level tables at 0x10000 mapping pages of va 0..2 MiB through
    /// the PT at 0x13000, `pte` giving each mapped page's entry.
    fn machine(cpl: u8, sregs: &str, ptes: &[(u64, u64)]) -> TestHost {
        let q = |a: u64, v: u64| format!("[\"{a:#x}\", \"{}\"]", hex8(v));
        let mut ram = vec![
            q(0x10000, 0x11007),
            q(0x11000, 0x12007),
            q(0x12000, 0x13007),
        ];
        ram.extend(ptes.iter().map(|(va, e)| q(0x13000 + (va >> 12) * 8, *e)));
        let line = format!(
            r#"{{"mode": "long64", "cpl": {cpl}, "bytes": "90", "initial": {{"sregs": {sregs}, "paging": "tables", "ram": [{}]}}}}"#,
            ram.join(", ")
        );
        TestHost::new(&Case::from_json(&parse(&line).unwrap()).unwrap())
    }

    fn hex8(v: u64) -> String {
        v.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rights_nx_smep_smap() {
        let ptes = [
            (0x1000, 0x5000 | 7),
            (0x2000, 0x6000 | 3),
            (0x3000, (1 << 63) | 0x7000 | 7),
        ];
        // NX needs EFER.NXE; without it bit 63 is reserved.
        let mut h = machine(0, r#"{"cr3": "0x10000", "efer": "0xd00"}"#, &ptes);
        assert_eq!(
            h.translate(0x1000, R | W),
            (TranslateResult::Success, 0x5000)
        );
        assert_eq!(h.translate(0x3000, R), (TranslateResult::Success, 0x7000));
        assert_eq!(
            h.translate(0x3000, X).0,
            TranslateResult::PrivilegeViolation
        );
        let mut h = machine(0, r#"{"cr3": "0x10000"}"#, &ptes);
        assert_eq!(
            h.translate(0x3000, R).0,
            TranslateResult::InvalidPageTableFlags
        );
        assert_eq!(h.translate(0x4000, R).0, TranslateResult::PageNotPresent);
        // User accesses to a supervisor page; exempt when asked.
        let mut h = machine(3, r#"{"cr3": "0x10000"}"#, &ptes);
        assert_eq!(
            h.translate(0x2000, R).0,
            TranslateResult::PrivilegeViolation
        );
        let exempt = R | TranslateFlags::PRIVILEGE_EXEMPT;
        assert_eq!(
            h.translate(0x2000, exempt),
            (TranslateResult::Success, 0x6000)
        );
        // SMEP: supervisor fetch from a user page; SMAP: supervisor data access unless AC.
        let mut h = machine(0, r#"{"cr3": "0x10000", "cr4": "0x300020"}"#, &ptes);
        assert_eq!(
            h.translate(0x1000, X).0,
            TranslateResult::PrivilegeViolation
        );
        assert_eq!(
            h.translate(0x1000, R).0,
            TranslateResult::PrivilegeViolation
        );
        assert_eq!(h.translate(0x2000, R | X).0, TranslateResult::Success);
        h.state.reg[crate::cases::model::RFLAGS] |= 1 << 18;
        assert_eq!(h.translate(0x1000, R).0, TranslateResult::Success);
        let enforce = R | TranslateFlags::ENFORCE_SMAP;
        assert_eq!(
            h.translate(0x1000, enforce).0,
            TranslateResult::PrivilegeViolation
        );
    }

    #[test]
    fn accessed_and_dirty_bits_when_asked() {
        let mut h = machine(0, r#"{"cr3": "0x10000"}"#, &[(0x1000, 0x5000 | 3)]);
        let set = TranslateFlags::SET_PAGE_TABLE_BITS;
        assert_eq!(h.translate(0x1000, R).0, TranslateResult::Success);
        assert_eq!(
            h.ram.read_le(0x13008, 8),
            0x5003,
            "no bits without the flag"
        );
        assert_eq!(h.translate(0x1000, R | set).0, TranslateResult::Success);
        assert_eq!(h.ram.read_le(0x13008, 8), 0x5023);
        assert_eq!(h.ram.read_le(0x10000, 8), 0x11027);
        assert_eq!(h.translate(0x1000, W | set).0, TranslateResult::Success);
        assert_eq!(h.ram.read_le(0x13008, 8), 0x5063);
    }

    #[test]
    fn devices_and_ports_are_recorded() {
        let line = r#"{"mode": "long64", "bytes": "90", "initial": {"mmio": [{"base": "0x1000", "size": "0x10"}],
            "mmio_reads": ["0x1122334455667788"], "io_reads": ["0xabcdef"]}}"#;
        let mut h = TestHost::new(&Case::from_json(&parse(line).unwrap()).unwrap());
        let mut a = MemAccess {
            gpa: 0x100e,
            size: 2,
            write: false,
            data: [0xff; 8],
        };
        h.memory(&mut a).unwrap();
        assert_eq!(a.data, [0x88, 0x77, 0, 0, 0, 0, 0, 0]);
        let mut a = MemAccess {
            gpa: 0x100f,
            size: 2,
            write: true,
            data: [1, 2, 3, 4, 5, 6, 7, 8],
        };
        h.memory(&mut a).unwrap();
        let mut a = MemAccess {
            gpa: 0x2000,
            size: 4,
            write: true,
            data: [1, 2, 3, 4, 5, 6, 7, 8],
        };
        h.memory(&mut a).unwrap();
        assert_eq!(h.ram.read_le(0x2000, 8), 0x0403_0201);
        let mut io = IoAccess {
            port: 0x60,
            size: 2,
            write: false,
            data: 0,
        };
        h.io_port(&mut io).unwrap();
        assert_eq!(io.data, 0xcdef);
        let mut io = IoAccess {
            port: 0x61,
            size: 1,
            write: true,
            data: 0x1234,
        };
        h.io_port(&mut io).unwrap();
        assert_eq!(
            h.accesses,
            [
                Access {
                    kind: AccessKind::MmioRead,
                    addr: 0x100e,
                    size: 2,
                    data: 0x7788
                },
                Access {
                    kind: AccessKind::MmioWrite,
                    addr: 0x100f,
                    size: 2,
                    data: 0x0201
                },
                Access {
                    kind: AccessKind::IoIn,
                    addr: 0x60,
                    size: 2,
                    data: 0xcdef
                },
                Access {
                    kind: AccessKind::IoOut,
                    addr: 0x61,
                    size: 1,
                    data: 0x34
                },
            ]
        );
        // The queue is empty now: zeros and a note.
        let mut a = MemAccess {
            gpa: 0x1000,
            size: 1,
            write: false,
            data: [0xff; 8],
        };
        h.memory(&mut a).unwrap();
        assert_eq!(a.data[0], 0);
        assert_eq!(h.notes.len(), 1);
        // Broken contract: recorded as a violation.
        let mut a = MemAccess {
            gpa: 0x2ffc,
            size: 8,
            write: false,
            data: [0; 8],
        };
        h.memory(&mut a).unwrap();
        assert_eq!(h.violations.len(), 1);
    }

    #[test]
    fn registers_by_winhv_name() {
        let line = r#"{"mode": "prot32", "bytes": "90", "initial": {"regs": {"rbx": "0x5"}, "sregs": {"ds": {"selector": "0x10", "base": "0x1000"}, "gdtr": {"base": "0x500", "limit": "0x27"}}, "xmm": {"xmm3": "0x1"}, "mxcsr": "0x1fa0"}}"#;
        let mut h = TestHost::new(&Case::from_json(&parse(line).unwrap()).unwrap());
        assert_eq!(h.reg(RegName::RBX), Some(RegValue::from_u64(5)));
        let ds = h.reg(RegName::DS).unwrap().segment();
        assert_eq!(
            (ds.selector, ds.base, ds.limit, ds.attributes),
            (0x10, 0x1000, 0xffff_ffff, 0xc093)
        );
        assert_eq!(h.reg(RegName::GDTR).unwrap().table().limit, 0x27);
        assert_eq!(h.reg(RegName(0x1003)), Some(RegValue::from_u128(1)));
        assert_eq!(h.reg(RegName(0x1019)).unwrap().hi as u32, 0x1fa0);
        assert_eq!(h.reg(RegName::CR0), Some(RegValue::from_u64(0x11)));
        assert_eq!(h.reg(RegName(0x9999)), None);
        let mut v = [RegValue::default(); 2];
        assert!(
            h.get_registers(&[RegName::RAX, RegName(0x9999)], &mut v)
                .is_err()
        );
        assert!(
            h.set_registers(&[RegName::RAX, RegName(0x9999)], &v)
                .is_err()
        );
        assert_eq!(h.state.reg[0], 0, "a failed set changes nothing");
        assert_eq!(h.violations.len(), 2);
    }
}
