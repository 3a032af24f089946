//! String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS and OUTS at every element size, with
//! REP, REPE and REPNE.
//!
//! - The source is `seg:rSI` (DS unless overridden), the destination `ES:rDI` (no override);
//!   rSI, rDI and (with a repeat prefix) rCX are the address-size parts of RSI, RDI and RCX:
//!   16-bit updates keep the upper bits, 32-bit updates zero-extend, as on hardware. RFLAGS.DF
//!   makes the offsets go down.
//! - REPE/REPNE stop CMPS and SCAS on ZF; on MOVS, STOS, LODS, INS and OUTS an F2 prefix
//!   repeats as F3 does (measured on the AMD host, and what Bochs models for Intel, so both
//!   vendor settings behave alike). With both F2 and F3 the last one counts. With a repeat
//!   prefix and rCX = 0 nothing is accessed and no register changes, but INS and OUTS still
//!   check the I/O permission first (#GP(0) at CPL > IOPL without permission, as measured).
//! - Work is done in *runs*: the longest stretch of elements from the current one whose source
//!   and destination each stay inside one 4 KiB page, whose offsets do not wrap and whose
//!   segment checks pass for the first and the last element (so for all). A run is translated
//!   once per side and then performed element by element through the memory and port
//!   callbacks with no further checks (tight loops for MOVS, STOS, INS and OUTS), or handed to
//!   the host's bulk entry in one call (REP MOVS/STOS/INS/OUTS) when it has one. An element
//!   that crosses a page is a run of one, prepared in two pieces. Each side is checked in the
//!   processor's order: segment, alignment (#AC before #PF), page.
//! - MOVS whose exit is a write to an unmapped GPA (a device) reads its source in 8-byte pieces
//!   (64 with the wide entry) within the page of the element it exited at: the processor read
//!   that element from there without an exit, so the page is memory, where the number and size
//!   of reads cannot be seen (a processor's fast string operation makes them wider too). The
//!   device still sees every element, in order. Any other source is read element by element.
//! - CMPS compares `seg:rSI` with `ES:rDI` (the flags of source minus destination); the
//!   destination is checked and read first, as the processors do (AMD's but for REPE CMPSB).
//! - Every run is checked before its first access, and the registers are brought up to date
//!   after it, so a fault in the middle of a REP instruction reports exactly the progress of
//!   the elements done before the faulting one (RCX/RSI/RDI and, for CMPS/SCAS, the flags of
//!   the last compare on AMD, the flags the instruction started with on Intel), which is what
//!   the processor leaves ([`Machine::keep_on_fault`]).
//! - At most [`Config::rep_budget`](crate::emulator::Config) elements run per call; then the
//!   instruction hands back [`Stop::Partial`] with RIP on it, and the next call continues.

use core::num::NonZeroU64;

use crate::decode::{Instruction, Mode, Op, Operand, Prefixes, Seg, Vendor};
use crate::emulator::{CallbackKind, ExitAccess, Machine, Refusal, Stop};
use crate::exec::alu::{self, mask};
use crate::flags;
use crate::host::{BulkEnd, BulkTransfer, IoAccess, MemAccess};
use crate::mem::{Intent, Piece, Prepared};

/// The string operations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Movs,
    Cmps,
    Stos,
    Lods,
    Scas,
    Ins,
    Outs,
}

impl Kind {
    const fn of(op: Op) -> Option<Kind> {
        use Op::*;
        Some(match op {
            Movsb | Movsw | Movsd | Movsq => Kind::Movs,
            Cmpsb | Cmpsw | Cmpsd | Cmpsq => Kind::Cmps,
            Stosb | Stosw | Stosd | Stosq => Kind::Stos,
            Lodsb | Lodsw | Lodsd | Lodsq => Kind::Lods,
            Scasb | Scasw | Scasd | Scasq => Kind::Scas,
            Insb | Insw | Insd => Kind::Ins,
            Outsb | Outsw | Outsd => Kind::Outs,
            _ => return None,
        })
    }

    /// Reads memory at `seg:rSI`.
    const fn has_src(self) -> bool {
        matches!(self, Kind::Movs | Kind::Cmps | Kind::Lods | Kind::Outs)
    }

    /// Accesses memory at `ES:rDI`.
    const fn has_dst(self) -> bool {
        matches!(
            self,
            Kind::Movs | Kind::Cmps | Kind::Stos | Kind::Scas | Kind::Ins
        )
    }

    /// The destination is written.
    const fn writes_dst(self) -> bool {
        matches!(self, Kind::Movs | Kind::Stos | Kind::Ins)
    }
}

/// True for the string instructions this module executes.
pub(crate) const fn is_string(op: Op) -> bool {
    Kind::of(op).is_some()
}

/// A repeat prefix (F3 or F2) is in effect.
fn repeats(insn: &Instruction) -> bool {
    insn.prefixes.0 & (Prefixes::REP | Prefixes::REPNE) != 0
}

/// The register slots a string instruction needs beyond its operands: RCX with a repeat prefix.
pub(crate) fn needed(insn: &Instruction) -> u64 {
    if repeats(insn) { 1 << 1 } else { 0 }
}

/// One side's translated run.
#[derive(Copy, Clone, Debug)]
enum Run {
    /// Elements in one page, the first at this GPA, the next ones `size` bytes apart (down
    /// with DF).
    Fast(u64),
    /// A single element that crosses a page.
    Split(Prepared),
}

/// What does not change from run to run.
#[derive(Copy, Clone, Debug)]
struct Shape {
    kind: Kind,
    /// Element size: 1, 2, 4 or 8.
    size: u8,
    /// Address size: 2, 4 or 8.
    asz: u8,
    /// DF: offsets go down.
    down: bool,
    /// A repeat prefix.
    rep: bool,
    /// F2 (REPNE) rather than F3, for CMPS and SCAS.
    repne: bool,
    /// Segment of the source.
    src_seg: Seg,
    /// The port of INS and OUTS.
    port: u16,
    /// CMPS: the destination `ES:rDI` is checked and read before the source. Measured: when
    /// both elements would fault, the processor reports the destination's #PF or #AC, so it
    /// loads it first; AMD (Zen 4) except for REPE CMPSB (F3 A6), which takes the source first;
    /// Intel (5th-generation Xeon) always, although its manual lists the source first.
    dst_first: bool,
    /// REP CMPS and SCAS on Intel: the status flags change only when the instruction ends (a
    /// fault leaves the flags it started with, measured on a 5th-generation Xeon); on AMD every
    /// run leaves the flags of its last compare.
    defer_flags: bool,
}

impl Shape {
    /// The GPA of element `i` of a run whose first element is at `gpa`.
    #[inline(always)]
    fn at(&self, gpa: u64, i: u64) -> u64 {
        let d = i.wrapping_mul(self.size as u64);
        if self.down {
            gpa.wrapping_sub(d)
        } else {
            gpa.wrapping_add(d)
        }
    }

    /// The GPA step from one element to the next.
    #[inline(always)]
    fn step(&self) -> u64 {
        if self.down {
            (self.size as u64).wrapping_neg()
        } else {
            self.size as u64
        }
    }

    /// An offset moved by `n` elements, wrapped to the address size.
    fn advance(&self, off: u64, n: u64) -> u64 {
        let d = n.wrapping_mul(self.size as u64);
        let v = if self.down {
            off.wrapping_sub(d)
        } else {
            off.wrapping_add(d)
        };
        v & mask(self.asz)
    }
}

pub(crate) fn execute<C: ?Sized>(m: &mut Machine<'_, C>, insn: &Instruction) -> Result<(), Stop> {
    let Some(kind) = Kind::of(insn.op) else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let size = insn
        .operands
        .iter()
        .find_map(|o| match o {
            Operand::StrSrc { size } | Operand::StrDst { size } => Some(*size),
            _ => None,
        })
        .unwrap_or(insn.op_size);
    let rep = repeats(insn);
    let mut shape = Shape {
        kind,
        size,
        asz: insn.addr_size,
        down: m.regs.rflags & flags::DF != 0,
        rep,
        repne: insn.prefixes.has(Prefixes::REPNE),
        // In 64-bit mode an ES, CS, SS or DS override is ignored: DS applies (which decides
        // #GP rather than #SS for a non-canonical rSI).
        src_seg: match insn.mem.seg {
            Seg::Fs | Seg::Gs => insn.mem.seg,
            _ if m.mode == Mode::Long64 => Seg::Ds,
            s => s,
        },
        port: 0,
        dst_first: kind == Kind::Cmps
            && !(m.config.vendor == Vendor::Amd
                && size == 1
                && rep
                && !insn.prefixes.has(Prefixes::REPNE)),
        defer_flags: rep
            && matches!(kind, Kind::Cmps | Kind::Scas)
            && m.config.vendor == Vendor::Intel,
    };
    if matches!(kind, Kind::Ins | Kind::Outs) {
        let write = kind == Kind::Outs;
        let idx = if write { 0 } else { 1 };
        shape.port = m.port_operand(insn, idx);
        m.check_io_exit(shape.port, write, size, Some(rep))?;
        // Checked even when rCX = 0 (measured).
        m.check_io_permission(shape.port, size)?;
    }
    let amask = mask(shape.asz);
    let mut count = if rep { m.gpr64(1) & amask } else { 1 };
    let mut si = m.gpr64(6) & amask;
    let mut di = m.gpr64(7) & amask;
    // From here the progress of completed elements is architectural.
    m.keep_on_fault = rep;
    if rep && shape.asz == 4 && m.mode == Mode::Long64 && m.config.vendor == Vendor::Intel {
        zero_extend_first(m, kind, count, si, di);
    }
    if count == 0 {
        return Ok(());
    }
    let budget = u64::from(m.config.rep_budget.max(1));
    let mut used = 0u64;
    loop {
        // `used` stays below `budget` in the loop, and `k` is at most `want`.
        let want = count.min(budget.wrapping_sub(used));
        let (k, stop, status) = m.string_run(&shape, si, di, want, used == 0)?;
        used = used.wrapping_add(k);
        count = count.wrapping_sub(k);
        if kind.has_src() {
            si = shape.advance(si, k);
            m.set_gpr_sized(6, shape.asz, si);
        }
        if kind.has_dst() {
            di = shape.advance(di, k);
            m.set_gpr_sized(7, shape.asz, di);
        }
        if rep {
            m.set_gpr_sized(1, shape.asz, count);
        }
        if stop || count == 0 {
            if shape.defer_flags {
                m.set_status_flags(status);
            }
            return Ok(());
        }
        if used >= budget {
            return Err(Stop::Partial);
        }
    }
}

/// With 32-bit addressing in 64-bit mode Intel writes ECX, and the pointers of MOVS and STOS,
/// zero-extended before the first element: also for a count of 0 or a fault on the first
/// element (measured on a 5th-generation Xeon; AMD leaves them). Out of line: rare.
#[cold]
#[inline(never)]
fn zero_extend_first<C: ?Sized>(m: &mut Machine<'_, C>, kind: Kind, count: u64, si: u64, di: u64) {
    m.set_gpr_sized(1, 4, count);
    if kind == Kind::Movs {
        m.set_gpr_sized(6, 4, si);
    }
    if matches!(kind, Kind::Movs | Kind::Stos) {
        m.set_gpr_sized(7, 4, di);
    }
}

impl<C: ?Sized> Machine<'_, C> {
    /// The port of IN/OUT/INS/OUTS from operand `idx`: the exit's port for the DX forms of a
    /// port exit, else DX or the immediate.
    pub(crate) fn port_operand(&self, insn: &Instruction, idx: usize) -> u16 {
        match (insn.operands.get(idx), self.exit) {
            (Some(Operand::Reg(_)), ExitAccess::Io { port, .. }) => port,
            (Some(Operand::Reg(r)), _) => self.gpr(*r) as u16,
            _ => insn.imm as u16,
        }
    }

    /// Checks and translates one side's run from offset `off`, at most `want` elements.
    /// Returns the run and how many elements it covers (at least 1).
    fn plan_side(
        &mut self,
        sh: &Shape,
        seg: Seg,
        off: u64,
        intent: Intent,
        want: u64,
    ) -> Result<(Run, u64), Stop> {
        // (Non-zero: no division by zero to prove impossible)
        let per = NonZeroU64::new(u64::from(sh.size)).unwrap_or(NonZeroU64::MIN);
        let sz = per.get();
        let linear = self.linearize_checked(seg, off, sh.size as u16, intent)?;
        self.check_alignment(linear, sh.size as u16)?;
        let in_page = linear & 0xfff;
        if in_page.wrapping_add(sz) > 0x1000 {
            return Ok((
                Run::Split(self.prepare_linear(linear, sh.size as u16, intent)?),
                1,
            ));
        }
        // Elements left in the page, and before the offset wraps at the address size.
        let amask = mask(sh.asz);
        let (page_n, wrap_n) = if sh.down {
            // Saturating: with a 64-bit address size the count before the wrap can exceed u64.
            (
                (in_page / per).wrapping_add(1),
                (off / per).saturating_add(1),
            )
        } else {
            // `off` is within the address size, `in_page` below 0x1000 and `sz` at least 1.
            let room = amask.wrapping_sub(off);
            let wrap = if room >= sz.wrapping_sub(1) {
                (room.wrapping_sub(sz.wrapping_sub(1)) / per).saturating_add(1)
            } else {
                1
            };
            (0x1000u64.wrapping_sub(in_page) / per, wrap)
        };
        let mut n = want.min(page_n).min(wrap_n).max(1);
        // Segment checks: the first and the last element pass, so every one between does. (In
        // 64-bit mode a run inside one page is canonical when its first element is.)
        if n > 1 && self.mode != Mode::Long64 {
            let last = sh.advance(off, n.wrapping_sub(1));
            if self.linearize(seg, last, sh.size as u16, intent).is_err() {
                // Go one element at a time up to the one that faults.
                n = 1;
            }
        }
        let gpa = self.translate(linear, intent)?;
        // At most one page: `n` is at most the elements left in the page.
        let span = n.wrapping_mul(sz);
        // The host's GPA may sit at the top of the address space: wrap rather than overflow.
        let lo = if sh.down {
            gpa.wrapping_add(sz).wrapping_sub(span)
        } else {
            gpa
        };
        let whole = Prepared {
            pieces: [
                Piece {
                    gpa: lo,
                    len: span as u16,
                },
                Piece::default(),
            ],
            count: 1,
            size: span as u16,
            linear,
        };
        self.note_exit_match(&whole, intent);
        Ok((Run::Fast(gpa), n))
    }

    /// Performs one run of at most `want` elements (at least one) from offsets `si` and `di`;
    /// `first`: the run starts at the element the call started at. Returns the elements done,
    /// whether REPE/REPNE ended the instruction, and the status flags of its last compare (the
    /// current ones for instructions that compare nothing).
    fn string_run(
        &mut self,
        sh: &Shape,
        si: u64,
        di: u64,
        want: u64,
        first: bool,
    ) -> Result<(u64, bool, u64), Stop> {
        let kind = sh.kind;
        let mut n = want;
        let mut src = Run::Fast(0);
        let mut dst = Run::Fast(0);
        // Each side is checked completely (segment, alignment, page) before the other: the
        // source first, but for CMPS the destination (see `Shape::dst_first`).
        for side in 0..2 {
            if (side == 0) != sh.dst_first {
                if kind.has_src() {
                    let (r, k) = self.plan_side(sh, sh.src_seg, si, Intent::Read, n)?;
                    src = r;
                    n = n.min(k);
                }
            } else if kind.has_dst() {
                let intent = if kind.writes_dst() {
                    Intent::Write
                } else {
                    Intent::Read
                };
                let (r, k) = self.plan_side(sh, Seg::Es, di, intent, n)?;
                dst = r;
                n = n.min(k);
            }
        }
        self.before_perform()?;
        let size = sh.size;
        let m = mask(size);
        // The bulk entry takes whole runs of REP MOVS, STOS, INS and OUTS.
        let mut done = 0u64;
        if sh.rep
            && let Some(bulk) = self.cb.bulk
        {
            let ends = match (kind, src, dst) {
                (Kind::Movs, Run::Fast(s), Run::Fast(d)) => {
                    Some((BulkEnd::Memory(s), BulkEnd::Memory(d)))
                }
                (Kind::Stos, _, Run::Fast(d)) => {
                    Some((BulkEnd::Value(self.gpr64(0) & m), BulkEnd::Memory(d)))
                }
                (Kind::Ins, _, Run::Fast(d)) => Some((BulkEnd::Port(sh.port), BulkEnd::Memory(d))),
                (Kind::Outs, Run::Fast(s), _) => Some((BulkEnd::Memory(s), BulkEnd::Port(sh.port))),
                _ => None,
            };
            if let Some((s, d)) = ends {
                let t = BulkTransfer {
                    src: s,
                    dst: d,
                    size,
                    count: n as u32,
                    descending: sh.down,
                };
                self.performed = true;
                let did =
                    bulk(self.ctx, &t).map_err(|_| Refusal::CallbackFailed(CallbackKind::Bulk))?;
                done = u64::from(did).min(n);
            }
        }
        match (kind, src, dst) {
            // The hot loops: whole runs inside single pages.
            (Kind::Movs, Run::Fast(s), Run::Fast(d)) => {
                if first && self.source_mapped(sh, s, d) {
                    self.movs_run_mapped(sh, s, d, done, n)?;
                } else {
                    self.movs_run(sh, s, d, done, n)?;
                }
            }
            (Kind::Stos, _, Run::Fast(d)) => self.stos_run(sh, d, done, n)?,
            (Kind::Outs, Run::Fast(s), _) => self.outs_run(sh, s, done, n)?,
            (Kind::Ins, _, Run::Fast(d)) => self.ins_run(sh, d, done, n)?,
            (Kind::Movs, ..) => {
                for i in done..n {
                    let v = self.load(sh, &src, i)?;
                    self.store(sh, &dst, i, v)?;
                }
            }
            (Kind::Stos, ..) => {
                let v = self.gpr64(0) & m;
                for i in done..n {
                    self.store(sh, &dst, i, v)?;
                }
            }
            (Kind::Ins, ..) => {
                for i in done..n {
                    let v = self.port_access(sh.port, size, false, 0)?;
                    self.store(sh, &dst, i, u64::from(v) & m)?;
                }
            }
            (Kind::Outs, ..) => {
                for i in done..n {
                    let v = self.load(sh, &src, i)?;
                    self.port_access(sh.port, size, true, v as u32)?;
                }
            }
            (Kind::Lods, ..) => {
                let mut v = 0;
                for i in 0..n {
                    v = self.load(sh, &src, i)?;
                }
                self.set_gpr_sized(0, size, v);
            }
            (Kind::Cmps | Kind::Scas, ..) => {
                let acc = self.gpr64(0) & m;
                let mut f = self.regs.rflags;
                for i in 0..n {
                    let (a, b) = if kind == Kind::Scas {
                        (acc, self.load(sh, &dst, i)?)
                    } else if sh.dst_first {
                        let b = self.load(sh, &dst, i)?;
                        (self.load(sh, &src, i)?, b)
                    } else {
                        let a = self.load(sh, &src, i)?;
                        (a, self.load(sh, &dst, i)?)
                    };
                    f = alu::arith::cmp(size, a, b, f);
                    let zf = f & flags::ZF != 0;
                    if sh.rep && zf == sh.repne {
                        if !sh.defer_flags {
                            self.set_status_flags(f);
                        }
                        return Ok((i.wrapping_add(1), true, f));
                    }
                }
                if !sh.defer_flags {
                    self.set_status_flags(f);
                }
                return Ok((n, false, f));
            }
        }
        Ok((n, false, self.regs.rflags))
    }

    /// MOVS of elements `from..n` of runs at `s` and `d`: a read and a write callback per
    /// element.
    fn movs_run(&mut self, sh: &Shape, s: u64, d: u64, from: u64, n: u64) -> Result<(), Stop> {
        let memory = self.cb.memory;
        let ctx = &mut *self.ctx;
        let step = sh.step();
        let (mut s, mut d) = (sh.at(s, from), sh.at(d, from));
        for _ in from..n {
            let mut a = MemAccess {
                gpa: s,
                size: sh.size,
                write: false,
                data: [0; 8],
            };
            memory(ctx, &mut a).map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
            let mut w = MemAccess {
                gpa: d,
                size: sh.size,
                write: true,
                data: element(&a.data, sh.size).to_le_bytes(),
            };
            memory(ctx, &mut w).map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
            s = s.wrapping_add(step);
            d = d.wrapping_add(step);
        }
        Ok(())
    }

    /// Whether the MOVS exit proves the source page of runs at `s` and `d` to be mapped
    /// memory: the exit is a write to an unmapped GPA inside the first destination element, so
    /// the processor read the first source element, without an exit, before it. Reads there
    /// reach memory, not a device, and may be made wider and fewer, as a processor's own fast
    /// string operation makes them. Only the page of the element the exit was taken at is
    /// known so (the call's first run), and only when it is not the destination's page (a
    /// read-ahead must not miss the copy's own writes).
    fn source_mapped(&self, sh: &Shape, s: u64, d: u64) -> bool {
        match self.exit {
            ExitAccess::Mmio {
                gpa,
                write: true,
                unmapped: true,
            } => gpa.wrapping_sub(d) < u64::from(sh.size) && (s ^ d) >> 12 != 0,
            _ => false,
        }
    }

    /// MOVS of elements `from..n` of runs at `s` and `d` whose source is mapped memory (see
    /// [`Self::source_mapped`]): the source is read 8 bytes at a time (64 with the host's wide
    /// entry), the destination still written element by element, in order; the tail shorter
    /// than 8 bytes element by element.
    fn movs_run_mapped(
        &mut self,
        sh: &Shape,
        s: u64,
        d: u64,
        from: u64,
        n: u64,
    ) -> Result<(), Stop> {
        let memory = self.cb.memory;
        let max = if self.cb.wide_memory.is_some() { 64 } else { 8 };
        let size = NonZeroU64::new(u64::from(sh.size)).unwrap_or(NonZeroU64::MIN);
        let step = sh.step();
        let (mut sp, mut dp) = (sh.at(s, from), sh.at(d, from));
        let mut i = from;
        let m = mask(sh.size);
        // The chunk, with 8 bytes of slack so that every element is one 8-byte load.
        let mut buf = [0u8; 72];
        loop {
            // Run lengths stay within one page: no overflow.
            let left = n.saturating_sub(i).saturating_mul(size.get());
            let chunk = if left >= max {
                max
            } else if left >= 8 {
                8
            } else {
                break;
            };
            let per = chunk / size;
            // The chunk's lowest address: its first element going up, its last going down.
            let span = per.wrapping_sub(1).wrapping_mul(size.get());
            let lo = if sh.down { sp.wrapping_sub(span) } else { sp };
            self.phys_read(lo, buf.get_mut(..chunk as usize).unwrap_or_default())?;
            for j in 0..per {
                let at = if sh.down {
                    per.wrapping_sub(1).wrapping_sub(j)
                } else {
                    j
                };
                let off = at.wrapping_mul(size.get()) as usize;
                let v = buf
                    .get(off..)
                    .and_then(|t| t.first_chunk::<8>())
                    .map_or(0, |e| u64::from_le_bytes(*e));
                // The element as one 8-byte store: a host that loads all of `data` at once
                // then reads what it was just given without a store-forwarding stall.
                let mut a = MemAccess {
                    gpa: dp,
                    size: sh.size,
                    write: true,
                    data: (v & m).to_le_bytes(),
                };
                memory(self.ctx, &mut a)
                    .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
                dp = dp.wrapping_add(step);
            }
            sp = sp.wrapping_add(step.wrapping_mul(per));
            i = i.wrapping_add(per);
        }
        self.movs_run(sh, s, d, i, n)
    }

    /// STOS of elements `from..n` of the run at `d`.
    fn stos_run(&mut self, sh: &Shape, d: u64, from: u64, n: u64) -> Result<(), Stop> {
        let data = (self.gpr64(0) & mask(sh.size)).to_le_bytes();
        let memory = self.cb.memory;
        let ctx = &mut *self.ctx;
        let step = sh.step();
        let mut d = sh.at(d, from);
        for _ in from..n {
            let mut a = MemAccess {
                gpa: d,
                size: sh.size,
                write: true,
                data,
            };
            memory(ctx, &mut a).map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
            d = d.wrapping_add(step);
        }
        Ok(())
    }

    /// OUTS of elements `from..n` of the run at `s`.
    fn outs_run(&mut self, sh: &Shape, s: u64, from: u64, n: u64) -> Result<(), Stop> {
        let memory = self.cb.memory;
        let io_port = self.cb.io_port;
        let ctx = &mut *self.ctx;
        let step = sh.step();
        let mut s = sh.at(s, from);
        for _ in from..n {
            let mut a = MemAccess {
                gpa: s,
                size: sh.size,
                write: false,
                data: [0; 8],
            };
            memory(ctx, &mut a).map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
            let mut io = IoAccess {
                port: sh.port,
                size: sh.size,
                write: true,
                data: element(&a.data, sh.size) as u32,
            };
            io_port(ctx, &mut io).map_err(|_| Refusal::CallbackFailed(CallbackKind::IoPort))?;
            s = s.wrapping_add(step);
        }
        Ok(())
    }

    /// INS of elements `from..n` of the run at `d`.
    fn ins_run(&mut self, sh: &Shape, d: u64, from: u64, n: u64) -> Result<(), Stop> {
        let memory = self.cb.memory;
        let io_port = self.cb.io_port;
        let ctx = &mut *self.ctx;
        let step = sh.step();
        let m = mask(sh.size) as u32;
        let mut d = sh.at(d, from);
        for _ in from..n {
            let mut io = IoAccess {
                port: sh.port,
                size: sh.size,
                write: false,
                data: 0,
            };
            io_port(ctx, &mut io).map_err(|_| Refusal::CallbackFailed(CallbackKind::IoPort))?;
            let mut a = MemAccess {
                gpa: d,
                size: sh.size,
                write: true,
                data: u64::from(io.data & m).to_le_bytes(),
            };
            memory(ctx, &mut a).map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
            d = d.wrapping_add(step);
        }
        Ok(())
    }

    /// Reads element `i` of a run.
    #[inline(never)]
    fn load(&mut self, sh: &Shape, r: &Run, i: u64) -> Result<u64, Stop> {
        match r {
            Run::Fast(gpa) => {
                let mut a = MemAccess {
                    gpa: sh.at(*gpa, i),
                    size: sh.size,
                    write: false,
                    data: [0; 8],
                };
                (self.cb.memory)(self.ctx, &mut a)
                    .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory))?;
                Ok(element(&a.data, sh.size))
            }
            Run::Split(p) => self.read_value(p),
        }
    }

    /// Writes element `i` of a run (`v` already masked to the element size).
    #[inline(never)]
    fn store(&mut self, sh: &Shape, r: &Run, i: u64, v: u64) -> Result<(), Stop> {
        match r {
            Run::Fast(gpa) => {
                let mut a = MemAccess {
                    gpa: sh.at(*gpa, i),
                    size: sh.size,
                    write: true,
                    data: v.to_le_bytes(),
                };
                (self.cb.memory)(self.ctx, &mut a)
                    .map_err(|_| Refusal::CallbackFailed(CallbackKind::Memory).into())
            }
            Run::Split(p) => self.write_value(p, v),
        }
    }
}

/// The element of `size` bytes a read callback left in `d`, by a load of the element's own
/// width: a wider load of bytes the host has just stored one at a time would stall on store
/// forwarding. Passed on as a fresh 8-byte store for the same reason.
#[inline(always)]
fn element(d: &[u8; 8], size: u8) -> u64 {
    match size {
        1 => u64::from(d[0]),
        2 => u64::from(u16::from_le_bytes([d[0], d[1]])),
        4 => u64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]])),
        _ => u64::from_le_bytes(*d),
    }
}
