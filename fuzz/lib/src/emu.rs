//! The `emulate` target: a structured input, a simulated host that records every callback, and
//! the oracles.
//!
//! # The input ([`EmuInput`])
//! The entry point (MMIO exit, port exit, or at RIP), the vendor, a mode preset (real,
//! virtual-8086, 16/32-bit protected, compatibility, 64-bit, or the raw CS and control bits),
//! CPL, the REP budget, the exit's instruction bytes and how many of them the exit holds, RIP,
//! RFLAGS, CS, the exit's GPA/GVA/direction or port/size/flags, the bytes guest memory holds at
//! CS:RIP (the exit's own, or other bytes: the guest rewrote the instruction between the exit and
//! the fetch), the page translation, which optional host entries exist, a schedule of callback
//! behaviours (by callback number: fail; translate to not-present, a privilege or reserved-bit
//! fault, an unmapped GPA, an intercept, another code, or a GPA that is not page-aligned; short
//! or dirty reads; garbage in the upper half of register values; a compare-exchange that loses
//! a race; a bulk transfer that does fewer elements, or claims more; a flipped I/O permission),
//! then the full register file and the contents of guest memory, then the vector side
//! ([`vecopt`]: which `Config::vector_state` the host serves, whether it offers the wide memory
//! entry, and whether CR0, CR4 and XCR0 are forced to the values that enable vector
//! instructions), the x87/MMX and MXCSR state, a pattern for the YMM/ZMM parts beyond XMM0..15
//! and the opmask registers. These come last so that inputs written before they existed keep
//! their meaning (their missing tail reads as zeros: the widest state, enabling control
//! registers, which only vector instructions look at, no wide entry).
//!
//! # The oracles ([`check`])
//! - no panic, and no heap allocation inside the emulation call ([`crate::alloc_guard`]);
//! - determinism: the same input twice gives the same outcome, the same callback trace and
//!   the same final host state;
//! - the host's contract: memory accesses of 1..=8 bytes that do not cross a page, wide
//!   accesses of 1..=64 bytes that do not cross a page (reads into a zeroed buffer), port
//!   accesses of 1, 2 or 4 bytes, page-aligned translations, compare-exchanges of 1..=16 bytes
//!   within a page, bulk runs within a page, 1..=`MAX_REGISTERS_PER_CALL` known register
//!   names without duplicates per Get or Set (the extension names only as far as the
//!   configured vector state serves them);
//! - a bounded number of callbacks per call: 64 + 16 per element of the REP budget;
//! - at most one Set, as the last callback; Set only on `Completed` or `Partial` (or with the
//!   progress of a REP string instruction that faults); `Completed` always sets (RIP moves),
//!   `Partial` only for a REP string instruction and never moves RIP;
//! - no guest-visible write (memory or wide write, OUT, compare-exchange, bulk transfer, Set) on a
//!   faulting or refused path, except the progress of a REP string instruction, or writes done
//!   before a host callback that the schedule made fail;
//! - a refusal for a pending interruption makes no callback; a fault's vector carries the error
//!   code and CR2 its vector defines;
//! - with no scheduled host behaviour, offering the wide memory entry or not gives the same
//!   outcome, registers and guest memory (the accesses are only split differently).

use crate::alloc_guard;
use crate::codec::{Codec, Reader, Writer};
use arbitrary::{Arbitrary, Unstructured};
use hvemu::decode::{Mode, Op, Prefixes, Vendor, decode};
use hvemu::emulator::{
    AccessKind, CallbackKind, Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome,
    Refusal, VectorState, VpContext,
};
use hvemu::host::{
    BulkEnd, BulkTransfer, Callbacks, HostError, IoAccess, MemAccess, TranslateFlags,
    TranslateResult,
};
use hvemu::regs::{RegName, RegValue, Segment};

/// Schedule entries per input.
pub const SCHED: usize = 16;
/// Bytes of the guest-memory pattern.
pub const PATTERN: usize = 32;
/// Guest memory: four 4 KiB pages, selected by GPA bits 12-13.
pub const MEM: usize = 4 * 4096;

/// A segment register as the input holds it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Seg {
    /// Base.
    pub base: u64,
    /// Limit (bytes).
    pub limit: u32,
    /// Selector.
    pub selector: u16,
    /// WinHv attributes.
    pub attributes: u16,
}

impl Seg {
    fn visit(&mut self, c: &mut impl Codec) {
        c.u64(&mut self.base);
        c.u32(&mut self.limit);
        c.u16(&mut self.selector);
        c.u16(&mut self.attributes);
    }
    /// As the core's type.
    pub fn segment(self) -> Segment {
        Segment {
            base: self.base,
            limit: self.limit,
            selector: self.selector,
            attributes: self.attributes,
        }
    }
    /// A flat segment with these attributes.
    pub const fn flat(attributes: u16) -> Seg {
        Seg {
            base: 0,
            limit: 0xffff_ffff,
            selector: 0x10,
            attributes,
        }
    }
}

/// One scheduled host behaviour: on callback number `at` (counting every callback of the call
/// from 0), do `action` with `arg` (see the module docs and [`Sim`]).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Sched {
    /// Callback number.
    pub at: u8,
    /// What to do (meaning depends on the callback).
    pub action: u8,
    /// Its argument.
    pub arg: u8,
}

/// Scheduled actions (`Sched::action % 8`).
pub mod act {
    /// Nothing special.
    pub const NONE: u8 = 0;
    /// The callback fails.
    pub const FAIL: u8 = 1;
    /// Translate: a failed result (`arg % 6`: not present, privilege, reserved bits, GPA
    /// unmapped, intercept, other code). Memory or wide read: fill only `arg % size` bytes
    /// (short).
    /// Port read: garbage above the size. Get: garbage in the upper halves (and in the
    /// reserved bits of the x87/MMX slots). Compare-exchange:
    /// lose the race. Bulk: do `arg % count` elements. I/O permission: the other answer.
    pub const ODD: u8 = 2;
    /// Translate: a GPA that is not page-aligned. Memory and port reads: garbage past the
    /// size. Bulk: claim `count + 1 + arg` elements.
    pub const ODDER: u8 = 3;
}

/// Option bits of [`EmuInput::opts`].
pub mod opt {
    /// CR0.AM.
    pub const CR0_AM: u8 = 1 << 0;
    /// The host offers the bulk entry.
    pub const BULK: u8 = 1 << 1;
    /// The host offers compare-exchange.
    pub const CMPXCHG: u8 = 1 << 2;
    /// The host offers the I/O permission check.
    pub const IO_PERM: u8 = 1 << 3;
    /// ... and it allows the access.
    pub const IO_ALLOW: u8 = 1 << 4;
    /// With [`INTR2`]: an interruption was pending at the exit.
    pub const INTR1: u8 = 1 << 5;
    /// See [`INTR1`].
    pub const INTR2: u8 = 1 << 6;
    /// Guest memory at CS:RIP holds [`super::EmuInput::alt`] rather than the exit's bytes.
    pub const CHANGED: u8 = 1 << 7;
}

/// Bits of [`EmuInput::vector`]. Zero (what an input too short to reach the byte gets) is the
/// widest register state, enabling control registers and no wide entry.
pub mod vecopt {
    /// `% 4`: the `Config::vector_state` and what the host serves: 0 and 3 `Zmm` (the upper
    /// parts of ZMM0..31 and K0..K7 by extension name), 1 `Ymm` (the upper halves of
    /// YMM0..15), 2 `Xmm` (WinHv names only).
    pub const STATE: u8 = 3;
    /// The host offers the wide (up to 64 bytes) memory entry.
    pub const WIDE: u8 = 1 << 2;
    /// CR0 as the input gives it; otherwise CR0.TS and CR0.EM are cleared.
    pub const RAW_CR0: u8 = 1 << 3;
    /// CR4 and XCR0 as the input gives them; otherwise CR4.OSFXSR and CR4.OSXSAVE are set and
    /// XCR0 is 0xe7 (x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM).
    pub const RAW_XSTATE: u8 = 1 << 4;
}

/// CR0.EM.
const CR0_EM: u64 = 1 << 2;
/// CR0.TS.
const CR0_TS: u64 = 1 << 3;
/// CR4.OSFXSR and CR4.OSXSAVE.
const CR4_VECTOR: u64 = 1 << 9 | 1 << 18;
/// XCR0 with every state component the vector moves use.
const XCR0_ALL: u64 = 0xe7;

/// Mode presets (`EmuInput::preset % 8`); 6 and 7 use the raw CS, CR0.PE and EFER.LMA.
pub mod preset {
    /// Real mode.
    pub const REAL: u8 = 0;
    /// Virtual-8086 mode.
    pub const VM86: u8 = 1;
    /// 16-bit protected mode.
    pub const PROT16: u8 = 2;
    /// 32-bit protected mode.
    pub const PROT32: u8 = 3;
    /// Compatibility mode.
    pub const COMPAT: u8 = 4;
    /// 64-bit mode.
    pub const LONG64: u8 = 5;
    /// Raw: CR0.PE = `cr0` bit 0, EFER.LMA = `efer` bit 10, CS as given.
    pub const RAW: u8 = 6;
}

/// The entry points (`EmuInput::entry % 3`).
pub mod entry {
    /// `emulate_mmio`.
    pub const MMIO: u8 = 0;
    /// `emulate_io`.
    pub const IO: u8 = 1;
    /// `emulate_at_rip`.
    pub const AT_RIP: u8 = 2;
}

/// One `emulate` input. Every bit pattern is valid; the fields are read in the order of
/// [`EmuInput::visit`], the most influential first.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct EmuInput {
    /// [`entry`].
    pub entry: u8,
    /// Bit 0: AMD rather than Intel.
    pub vendor: u8,
    /// [`preset`].
    pub preset: u8,
    /// CPL (low 2 bits).
    pub cpl: u8,
    /// [`opt`] bits.
    pub opts: u8,
    /// REP budget selector ([`EmuInput::rep_budget`]).
    pub budget: u8,
    /// The instruction length the exit reports (0 = unknown).
    pub insn_len: u8,
    /// How many of [`EmuInput::bytes`] the exit holds (`% 17`).
    pub count: u8,
    /// The exit's instruction bytes.
    pub bytes: [u8; 16],
    /// RIP.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
    /// CS.
    pub cs: Seg,
    /// MMIO exit: GPA.
    pub gpa: u64,
    /// MMIO exit: GVA.
    pub gva: u64,
    /// MMIO exit: `% 3`: read, write, execute.
    pub access: u8,
    /// MMIO exit: bit 0 GPA unmapped, bit 1 GVA valid.
    pub mmio_flags: u8,
    /// Port exit: port.
    pub port: u16,
    /// Port exit: size.
    pub io_size: u8,
    /// Port exit: bit 0 write, bit 1 string, bit 2 rep.
    pub io_flags: u8,
    /// Guest memory at CS:RIP with [`opt::CHANGED`].
    pub alt: [u8; 16],
    /// Translation: GPA page = (GVA page + `xlate`) masked to 52 bits and the page.
    pub xlate: u64,
    /// Schedule entries in use (`% 17`).
    pub nsched: u8,
    /// The schedule.
    pub sched: [Sched; SCHED],
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// ES, CS (unused: [`EmuInput::cs`]), SS, DS, FS, GS.
    pub segs: [Seg; 6],
    /// LDTR.
    pub ldtr: Seg,
    /// TR.
    pub tr: Seg,
    /// IDTR base and limit.
    pub idtr: (u64, u16),
    /// GDTR base and limit.
    pub gdtr: (u64, u16),
    /// CR0 (PE and AM come from the preset and [`opt::CR0_AM`]).
    pub cr0: u64,
    /// CR2.
    pub cr2: u64,
    /// CR3.
    pub cr3: u64,
    /// CR4.
    pub cr4: u64,
    /// CR8 (low 4 bits).
    pub cr8: u8,
    /// EFER (LMA and LME come from the preset).
    pub efer: u64,
    /// XCR0.
    pub xcr0: u64,
    /// Guest memory: this pattern repeated over the four pages (then the code at CS:RIP).
    pub mem: [u8; PATTERN],
    /// XMM0..XMM15.
    pub xmm: [u128; 16],
    /// [`vecopt`] bits.
    pub vector: u8,
    /// FpControlStatus (WinHv layout: FCW, FSW, abridged FTW, FOP in `lo`, FIP in `hi`).
    pub fp_control: u128,
    /// XmmControlStatus (FDP in `lo`, MXCSR and MXCSR_MASK in `hi`).
    pub xmm_control: u128,
    /// FpMmx0..7: the x87/MMX register slots (mantissa, then sign and exponent).
    pub fp_mmx: [u128; 8],
    /// The parts of ZMM`n` beyond XMM0..15: part `p` is this pattern's element `p` rotated by
    /// `8 n` bits ([`zmm_value`]).
    pub zmm: [u128; 4],
    /// K0..K7.
    pub k: [u64; 8],
}

/// Part `part` of ZMM`n` in the host's initial state, from the input's pattern.
pub fn zmm_value(pattern: &[u128; 4], n: u8, part: u8) -> u128 {
    pattern[(part & 3) as usize].rotate_left(8 * n as u32) ^ (n as u128) << 120
}

impl EmuInput {
    /// Reads or writes every field in layout order.
    pub fn visit(&mut self, c: &mut impl Codec) {
        c.u8(&mut self.entry);
        c.u8(&mut self.vendor);
        c.u8(&mut self.preset);
        c.u8(&mut self.cpl);
        c.u8(&mut self.opts);
        c.u8(&mut self.budget);
        c.u8(&mut self.insn_len);
        c.u8(&mut self.count);
        c.bytes(&mut self.bytes);
        c.u64(&mut self.rip);
        c.u64(&mut self.rflags);
        self.cs.visit(c);
        c.u64(&mut self.gpa);
        c.u64(&mut self.gva);
        c.u8(&mut self.access);
        c.u8(&mut self.mmio_flags);
        c.u16(&mut self.port);
        c.u8(&mut self.io_size);
        c.u8(&mut self.io_flags);
        c.bytes(&mut self.alt);
        c.u64(&mut self.xlate);
        c.u8(&mut self.nsched);
        self.nsched %= SCHED as u8 + 1;
        for s in self.sched.iter_mut().take(self.nsched as usize) {
            c.u8(&mut s.at);
            c.u8(&mut s.action);
            c.u8(&mut s.arg);
        }
        for g in &mut self.gpr {
            c.u64(g);
        }
        for s in &mut self.segs {
            s.visit(c);
        }
        self.ldtr.visit(c);
        self.tr.visit(c);
        c.u64(&mut self.idtr.0);
        c.u16(&mut self.idtr.1);
        c.u64(&mut self.gdtr.0);
        c.u16(&mut self.gdtr.1);
        c.u64(&mut self.cr0);
        c.u64(&mut self.cr2);
        c.u64(&mut self.cr3);
        c.u64(&mut self.cr4);
        c.u8(&mut self.cr8);
        c.u64(&mut self.efer);
        c.u64(&mut self.xcr0);
        c.bytes(&mut self.mem);
        for x in &mut self.xmm {
            c.u128(x);
        }
        // The vector side, last: inputs from before it keep their meaning.
        c.u8(&mut self.vector);
        c.u128(&mut self.fp_control);
        c.u128(&mut self.xmm_control);
        for x in &mut self.fp_mmx {
            c.u128(x);
        }
        for x in &mut self.zmm {
            c.u128(x);
        }
        for k in &mut self.k {
            c.u64(k);
        }
    }

    /// The input's bytes (what the seed generator writes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        let mut copy = *self;
        copy.visit(&mut w);
        w.out
    }

    /// Reads an input from bytes (what the target does, through `arbitrary`).
    pub fn from_bytes(data: &[u8]) -> EmuInput {
        let mut u = Unstructured::new(data);
        let mut i = EmuInput::default();
        i.visit(&mut Reader { u: &mut u });
        i
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        if self.vendor & 1 != 0 {
            Vendor::Amd
        } else {
            Vendor::Intel
        }
    }

    /// The vector register state the host serves (`Config::vector_state`).
    pub fn vector_state(&self) -> VectorState {
        match self.vector & vecopt::STATE {
            1 => VectorState::Ymm,
            2 => VectorState::Xmm,
            _ => VectorState::Zmm,
        }
    }

    /// The host offers the wide memory entry.
    pub fn wide(&self) -> bool {
        self.vector & vecopt::WIDE != 0
    }

    /// The input as a WinHv host (the ffi) runs it: XMM state only, no wide entry.
    pub fn winhv(&mut self) {
        self.vector = (self.vector & !(vecopt::STATE | vecopt::WIDE)) | 2;
    }

    /// Elements of a REP string instruction per call.
    pub fn rep_budget(&self) -> u32 {
        if self.budget % 32 == 31 {
            1024
        } else {
            [1, 2, 3, 4, 5, 8, 16, 64][(self.budget & 7) as usize]
        }
    }

    /// Most callbacks one call may make.
    pub fn callback_bound(&self) -> usize {
        64 + 16 * self.rep_budget() as usize
    }

    /// The exit context and the host's initial registers, the preset applied.
    pub fn state(&self) -> (VpContext, HostRegs) {
        let p = self.preset % 8;
        let mut cs = self.cs;
        let mut rflags = self.rflags;
        let mut cpl = self.cpl & 3;
        let (pe, lma) = match p {
            preset::REAL => {
                cs.base = (cs.selector as u64) << 4;
                cs.limit = 0xffff;
                cs.attributes = 0x9b;
                rflags &= !hvemu::flags::VM;
                cpl = 0;
                (false, false)
            }
            preset::VM86 => {
                cs.base = (cs.selector as u64) << 4;
                cs.limit = 0xffff;
                cs.attributes = 0xf3;
                rflags |= hvemu::flags::VM;
                cpl = 3;
                (true, false)
            }
            preset::PROT16 => {
                cs.attributes = (cs.attributes & 0x60) | 0x9b;
                rflags &= !hvemu::flags::VM;
                (true, false)
            }
            preset::PROT32 => {
                cs.attributes = (cs.attributes & 0x60) | 0xc09b;
                rflags &= !hvemu::flags::VM;
                (true, false)
            }
            preset::COMPAT => {
                cs.attributes = (cs.attributes & 0x60) | 0xc09b;
                (true, true)
            }
            preset::LONG64 => {
                cs.attributes = (cs.attributes & 0x60) | 0xa09b;
                (true, true)
            }
            _ => (self.cr0 & 1 != 0, self.efer & (1 << 10) != 0),
        };
        let cr0_am = self.opts & opt::CR0_AM != 0;
        let mut cr0 = self.cr0 & !(1 | 1 << 18);
        cr0 |= u64::from(pe) | u64::from(cr0_am) << 18;
        // Biased toward vector instructions that run: see `vecopt`.
        if self.vector & vecopt::RAW_CR0 == 0 {
            cr0 &= !(CR0_TS | CR0_EM);
        }
        let (mut cr4, mut xcr0) = (self.cr4, self.xcr0);
        if self.vector & vecopt::RAW_XSTATE == 0 {
            cr4 |= CR4_VECTOR;
            xcr0 = XCR0_ALL;
        }
        let mut efer = self.efer & !(1 << 10 | 1 << 8);
        if lma {
            efer |= 1 << 10 | 1 << 8;
        }
        let vp = VpContext {
            cpl,
            cr0_pe: pe,
            cr0_am,
            efer_lma: lma,
            interruption_pending: self.opts & (opt::INTR1 | opt::INTR2) == opt::INTR1 | opt::INTR2,
            instruction_length: self.insn_len,
            cr8: self.cr8 & 15,
            cs: cs.segment(),
            rip: self.rip,
            rflags,
        };
        let mut seg = [Segment::default(); 6];
        for (d, s) in seg.iter_mut().zip(self.segs) {
            *d = s.segment();
        }
        seg[1] = cs.segment();
        let mut zmm = [[0u128; 4]; 32];
        for (n, parts) in zmm.iter_mut().enumerate() {
            // Part 0 of ZMM0..15 is XMM0..15 (WinHv names).
            let first = if n < 16 { 1 } else { 0 };
            for (p, v) in parts.iter_mut().enumerate().skip(first) {
                *v = zmm_value(&self.zmm, n as u8, p as u8);
            }
        }
        let regs = HostRegs {
            gpr: self.gpr,
            rip: self.rip,
            rflags,
            seg,
            ldtr: self.ldtr.segment(),
            tr: self.tr.segment(),
            idtr: self.idtr,
            gdtr: self.gdtr,
            cr0,
            cr2: self.cr2,
            cr3: self.cr3,
            cr4,
            cr8: (self.cr8 & 15) as u64,
            efer,
            xcr0,
            xmm: self.xmm,
            fp_control: self.fp_control,
            xmm_control: self.xmm_control,
            fp_mmx: self.fp_mmx,
            zmm,
            k: self.k,
            served: self.vector_state(),
        };
        (vp, regs)
    }

    /// The decoding mode the emulator derives from the exit context (as the core does).
    pub fn mode(vp: &VpContext) -> Mode {
        let vm86 = vp.cr0_pe && !vp.efer_lma && vp.rflags & hvemu::flags::VM != 0;
        if !vp.cr0_pe {
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
        }
    }

    /// Guest memory at CS:RIP (the exit's bytes, or [`EmuInput::alt`]).
    pub fn code(&self) -> [u8; 16] {
        if self.opts & opt::CHANGED != 0 {
            self.alt
        } else {
            self.bytes
        }
    }

    /// How many instruction bytes the call passes from the exit (none for `emulate_at_rip`).
    pub fn exit_count(&self) -> usize {
        if self.entry % 3 == entry::AT_RIP {
            0
        } else {
            (self.count % 17) as usize
        }
    }

    /// The bytes the emulator decodes: the exit's, then guest memory's.
    pub fn effective_bytes(&self) -> [u8; 16] {
        let n = self.exit_count();
        let mut b = self.code();
        b[..n].copy_from_slice(&self.bytes[..n]);
        b
    }
}

impl<'a> Arbitrary<'a> for EmuInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut i = EmuInput::default();
        i.visit(&mut Reader { u });
        Ok(i)
    }
    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (0, None)
    }
}

/// The registers the simulated host holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostRegs {
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// RIP.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
    /// ES CS SS DS FS GS.
    pub seg: [Segment; 6],
    /// LDTR.
    pub ldtr: Segment,
    /// TR.
    pub tr: Segment,
    /// IDTR.
    pub idtr: (u64, u16),
    /// GDTR.
    pub gdtr: (u64, u16),
    /// CR0.
    pub cr0: u64,
    /// CR2.
    pub cr2: u64,
    /// CR3.
    pub cr3: u64,
    /// CR4.
    pub cr4: u64,
    /// CR8.
    pub cr8: u64,
    /// EFER.
    pub efer: u64,
    /// XCR0.
    pub xcr0: u64,
    /// XMM0..15.
    pub xmm: [u128; 16],
    /// FpControlStatus.
    pub fp_control: u128,
    /// XmmControlStatus.
    pub xmm_control: u128,
    /// FpMmx0..7.
    pub fp_mmx: [u128; 8],
    /// ZMM0..31 by 128-bit part (part 0 of ZMM0..15 unused: that is XMM0..15).
    pub zmm: [[u128; 4]; 32],
    /// K0..K7.
    pub k: [u64; 8],
    /// Which extension names the host serves.
    pub served: VectorState,
}

/// What an extension name names.
enum Ext {
    /// Part `.1` of ZMM`.0`.
    Zmm(usize, usize),
    /// K`.0`.
    K(usize),
}

impl HostRegs {
    /// The extension name `n` as the served vector state allows it.
    fn ext(&self, n: RegName) -> Option<Ext> {
        let x = n.0.checked_sub(RegName::EXTENSION.0)?;
        match x {
            0..=0x7f => {
                let (r, p) = ((x >> 2) as usize, (x & 3) as usize);
                let ok = match self.served {
                    VectorState::Xmm => false,
                    VectorState::Ymm => r < 16 && p == 1,
                    VectorState::Zmm => r >= 16 || p > 0,
                };
                ok.then_some(Ext::Zmm(r, p))
            }
            0x100..=0x107 if self.served == VectorState::Zmm => Some(Ext::K((x & 7) as usize)),
            _ => None,
        }
    }

    fn get(&self, n: RegName) -> Option<RegValue> {
        let seg = |s: Segment| RegValue::from_segment(s);
        let table =
            |(base, limit): (u64, u16)| RegValue::from_table(hvemu::regs::Table { base, limit });
        Some(match n.0 {
            0..=0xf => RegValue::from_u64(self.gpr[n.0 as usize]),
            0x10 => RegValue::from_u64(self.rip),
            0x11 => RegValue::from_u64(self.rflags),
            0x12..=0x17 => seg(self.seg[(n.0 - 0x12) as usize]),
            0x18 => seg(self.ldtr),
            0x19 => seg(self.tr),
            0x1a => table(self.idtr),
            0x1b => table(self.gdtr),
            0x1c => RegValue::from_u64(self.cr0),
            0x1d => RegValue::from_u64(self.cr2),
            0x1e => RegValue::from_u64(self.cr3),
            0x1f => RegValue::from_u64(self.cr4),
            0x20 => RegValue::from_u64(self.cr8),
            0x27 => RegValue::from_u64(self.xcr0),
            0x1000..=0x100f => RegValue::from_u128(self.xmm[(n.0 - 0x1000) as usize]),
            0x1010..=0x1017 => RegValue::from_u128(self.fp_mmx[(n.0 - 0x1010) as usize]),
            0x1018 => RegValue::from_u128(self.fp_control),
            0x1019 => RegValue::from_u128(self.xmm_control),
            0x2001 => RegValue::from_u64(self.efer),
            _ => match self.ext(n)? {
                Ext::Zmm(r, p) => RegValue::from_u128(self.zmm[r][p]),
                Ext::K(k) => RegValue::from_u64(self.k[k]),
            },
        })
    }

    fn set(&mut self, n: RegName, v: RegValue) -> bool {
        match n.0 {
            0..=0xf => self.gpr[n.0 as usize] = v.lo,
            0x10 => self.rip = v.lo,
            0x11 => self.rflags = v.lo,
            0x12..=0x17 => self.seg[(n.0 - 0x12) as usize] = v.segment(),
            0x18 => self.ldtr = v.segment(),
            0x19 => self.tr = v.segment(),
            0x1a => self.idtr = (v.table().base, v.table().limit),
            0x1b => self.gdtr = (v.table().base, v.table().limit),
            0x1c => self.cr0 = v.lo,
            0x1d => self.cr2 = v.lo,
            0x1e => self.cr3 = v.lo,
            0x1f => self.cr4 = v.lo,
            0x20 => self.cr8 = v.lo,
            0x27 => self.xcr0 = v.lo,
            0x1000..=0x100f => self.xmm[(n.0 - 0x1000) as usize] = v.u128(),
            0x1010..=0x1017 => self.fp_mmx[(n.0 - 0x1010) as usize] = v.u128(),
            0x1018 => self.fp_control = v.u128(),
            0x1019 => self.xmm_control = v.u128(),
            0x2001 => self.efer = v.lo,
            _ => match self.ext(n) {
                Some(Ext::Zmm(r, p)) => self.zmm[r][p] = v.u128(),
                Some(Ext::K(k)) => self.k[k] = v.lo,
                None => return false,
            },
        }
        true
    }
}

/// Which callback an [`Ev`] records.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Port I/O.
    Io,
    /// Memory read.
    MemRead,
    /// Memory write.
    MemWrite,
    /// Get registers.
    Get,
    /// Set registers.
    Set,
    /// Translate.
    Translate,
    /// Compare-exchange.
    Cmpxchg,
    /// I/O permission.
    Perm,
    /// Bulk transfer.
    Bulk,
    /// Wide memory read.
    WideRead,
    /// Wide memory write.
    WideWrite,
}

/// One recorded callback: its kind, its arguments and what the host answered (summarised in
/// four words), whether the schedule made it fail, and whether it changed guest-visible state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ev {
    /// The callback.
    pub kind: Kind,
    /// Arguments and answer.
    pub a: u64,
    /// Arguments and answer.
    pub b: u64,
    /// Arguments and answer.
    pub c: u64,
    /// Arguments and answer.
    pub d: u64,
    /// The schedule made it fail.
    pub failed: bool,
    /// It wrote guest-visible state (memory, a port, registers).
    pub wrote: bool,
}

/// The simulated host of one emulation call.
pub struct Sim<'t> {
    /// Registers.
    pub regs: HostRegs,
    /// Guest memory (GPA bits 0-13).
    pub mem: &'t mut [u8; MEM],
    sched: [Sched; SCHED],
    nsched: usize,
    xlate: u64,
    io_allow: bool,
    /// The trace (capacity reserved before the call).
    pub trace: &'t mut Vec<Ev>,
    cap: usize,
    /// The callback bound was hit.
    pub overflow: bool,
    breach: Option<&'static str>,
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// GPA of a guest-virtual page under translation offset `xlate`.
pub fn translate_page(gva_page: u64, xlate: u64) -> u64 {
    gva_page.wrapping_add(xlate) & 0x000f_ffff_ffff_f000
}

fn mem_index(gpa: u64) -> usize {
    (gpa & (MEM as u64 - 1)) as usize
}

impl<'t> Sim<'t> {
    /// The host for `input`, with registers `regs`, guest memory in `mem` (overwritten),
    /// recording into `trace`.
    pub fn new(
        input: &EmuInput,
        regs: HostRegs,
        mem: &'t mut [u8; MEM],
        trace: &'t mut Vec<Ev>,
    ) -> Sim<'t> {
        for chunk in mem.chunks_exact_mut(PATTERN) {
            chunk.copy_from_slice(&input.mem);
        }
        // The code at CS:RIP, each byte at its translated address.
        let code = input.code();
        let (vp, _) = input.state();
        let is64 = EmuInput::mode(&vp) == Mode::Long64;
        for (i, b) in code.iter().enumerate() {
            let ip = input.rip.wrapping_add(i as u64);
            let linear = if is64 {
                ip
            } else {
                vp.cs.base.wrapping_add(ip & 0xffff_ffff) & 0xffff_ffff
            };
            let gpa = translate_page(linear & !0xfff, input.xlate) | (linear & 0xfff);
            mem[mem_index(gpa)] = *b;
        }
        trace.clear();
        let cap = input.callback_bound();
        trace.reserve(cap + 1);
        Sim {
            regs,
            mem,
            sched: input.sched,
            nsched: input.nsched as usize % (SCHED + 1),
            xlate: input.xlate,
            io_allow: input.opts & opt::IO_ALLOW != 0,
            trace,
            cap,
            overflow: false,
            breach: None,
        }
    }

    /// The scheduled action for the next callback, or an error past the callback bound.
    fn begin(&mut self) -> Result<(u8, u8), HostError> {
        let k = self.trace.len();
        if k >= self.cap {
            self.overflow = true;
            return Err(HostError { code: -2 });
        }
        let mut r = (act::NONE, 0);
        for s in self.sched.iter().take(self.nsched) {
            if s.at as usize == k {
                r = (s.action % 4, s.arg);
            }
        }
        Ok(r)
    }

    fn push(&mut self, ev: Ev) {
        // Capacity was reserved: no allocation.
        if self.trace.len() < self.trace.capacity() {
            self.trace.push(ev);
        }
    }

    /// Records a breach of the host contract (the first one is kept).
    pub fn breach(&mut self, what: &'static str) {
        if self.breach.is_none() {
            self.breach = Some(what);
        }
    }

    /// The first contract breach seen, if any.
    pub fn breach_seen(&self) -> Option<&'static str> {
        self.breach
    }

    fn in_data(&self, port: u16, k: usize) -> u64 {
        mix(port as u64 ^ (k as u64) << 20 ^ 0x1f0)
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_io(s: &mut Sim, io: &mut IoAccess) -> Result<(), HostError> {
    let k = s.trace.len();
    let (action, arg) = s.begin()?;
    if !matches!(io.size, 1 | 2 | 4) {
        s.breach("port access size not 1, 2 or 4");
    }
    let fail = action == act::FAIL;
    if !fail && !io.write {
        let v = s.in_data(io.port, k);
        let keep = match io.size {
            1 => 0xff,
            2 => 0xffff,
            _ => 0xffff_ffff,
        };
        io.data = if action == act::ODD || action == act::ODDER {
            (v as u32) | !keep | (arg as u32) << 24
        } else {
            (v as u32) & keep
        };
    }
    let data = if io.write {
        io.data as u64 & ((1u64 << (8 * io.size.clamp(1, 4))) - 1)
    } else {
        io.data as u64
    };
    s.push(Ev {
        kind: Kind::Io,
        a: io.port as u64 | (io.size as u64) << 16 | (io.write as u64) << 24,
        b: data,
        c: 0,
        d: 0,
        failed: fail,
        wrote: !fail && io.write,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(())
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_memory(s: &mut Sim, a: &mut MemAccess) -> Result<(), HostError> {
    let (action, arg) = s.begin()?;
    if !(1..=8).contains(&a.size) {
        s.breach("memory access size not 1..=8");
    } else if (a.gpa & 0xfff) + a.size as u64 > 0x1000 {
        s.breach("memory access crosses a page");
    }
    let size = (a.size as usize).clamp(1, 8);
    let fail = action == act::FAIL;
    if !fail {
        if a.write {
            for (i, b) in a.data.iter().take(size).enumerate() {
                s.mem[mem_index(a.gpa.wrapping_add(i as u64))] = *b;
            }
        } else {
            let fill = if action == act::ODD {
                arg as usize % size
            } else {
                size
            };
            for i in 0..8 {
                a.data[i] = if i < fill {
                    s.mem[mem_index(a.gpa.wrapping_add(i as u64))]
                } else if i >= size && action == act::ODDER {
                    0xa5 ^ arg
                } else {
                    a.data[i]
                };
            }
        }
    }
    // A write's bytes past its size mean nothing (the core may pass on what a read left there).
    let data = u64::from_le_bytes(a.data);
    let data = if a.write && size < 8 {
        data & ((1u64 << (8 * size)) - 1)
    } else {
        data
    };
    s.push(Ev {
        kind: if a.write {
            Kind::MemWrite
        } else {
            Kind::MemRead
        },
        a: a.gpa,
        b: a.size as u64,
        c: data,
        d: 0,
        failed: fail,
        wrote: !fail && a.write,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(())
    }
}

fn fnv(b: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for x in b {
        h = (h ^ *x as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The simulated host's wide memory entry (see [`Sim`]): a failure, or (`act::ODD`) a short
/// read of `arg % len` bytes.
pub fn cb_wide(s: &mut Sim, gpa: u64, write: bool, data: &mut [u8]) -> Result<(), HostError> {
    let (action, arg) = s.begin()?;
    let len = data.len();
    if !(1..=64).contains(&len) {
        s.breach("wide memory access size not 1..=64");
    } else if (gpa & 0xfff) + len as u64 > 0x1000 {
        s.breach("wide memory access crosses a page");
    }
    if !write && data.iter().any(|b| *b != 0) {
        s.breach("wide memory read into a buffer that is not zeroed");
    }
    let fail = action == act::FAIL;
    if !fail {
        if write {
            for (i, b) in data.iter().enumerate() {
                s.mem[mem_index(gpa.wrapping_add(i as u64))] = *b;
            }
        } else {
            let fill = if action == act::ODD {
                arg as usize % len.max(1)
            } else {
                len
            };
            for (i, b) in data.iter_mut().enumerate().take(fill) {
                *b = s.mem[mem_index(gpa.wrapping_add(i as u64))];
            }
        }
    }
    let mut first = [0u8; 8];
    for (d, b) in first.iter_mut().zip(data.iter()) {
        *d = *b;
    }
    s.push(Ev {
        kind: if write {
            Kind::WideWrite
        } else {
            Kind::WideRead
        },
        a: gpa,
        b: len as u64,
        c: u64::from_le_bytes(first),
        d: fnv(data),
        failed: fail,
        wrote: !fail && write,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(())
    }
}

fn hash_names(names: &[RegName], values: &[RegValue]) -> (u64, u64) {
    let mut h1 = 0xcbf2_9ce4_8422_2325u64;
    let mut h2 = h1;
    for n in names {
        h1 = (h1 ^ n.0 as u64).wrapping_mul(0x100_0000_01b3);
    }
    for v in values {
        h2 = (h2 ^ v.lo).wrapping_mul(0x100_0000_01b3);
        h2 = (h2 ^ v.hi).wrapping_mul(0x100_0000_01b3);
    }
    (h1, h2)
}

fn names_ok(s: &mut Sim, names: &[RegName], values_len: usize) {
    if names.len() != values_len {
        s.breach("register names and values of different lengths");
    }
    if names.is_empty() || names.len() > hvemu::host::MAX_REGISTERS_PER_CALL {
        s.breach("a Get or Set of no register or of more than MAX_REGISTERS_PER_CALL");
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            s.breach("a register named twice in one call");
        }
        if s.regs.get(*n).is_none() {
            s.breach("an unknown register name");
        }
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_get(s: &mut Sim, names: &[RegName], values: &mut [RegValue]) -> Result<(), HostError> {
    let (action, arg) = s.begin()?;
    names_ok(s, names, values.len());
    let fail = action == act::FAIL;
    if !fail {
        for (n, v) in names.iter().zip(values.iter_mut()) {
            *v = s.regs.get(*n).unwrap_or_default();
            // Garbage in the upper half of a 64-bit register's value (a GPR, a control
            // register, an opmask), and in the reserved bits of an x87/MMX slot.
            if action == act::ODD {
                let g = mix(n.0 as u64 ^ arg as u64);
                if (n.0 < 0x1000 && !(0x12..=0x1b).contains(&n.0)) || n.0 >= RegName::k(0).0 {
                    v.hi = g;
                } else if (0x1010..=0x1017).contains(&n.0) {
                    v.hi = (v.hi & 0xffff) | g << 16;
                }
            }
        }
    }
    let (h1, h2) = hash_names(names, values);
    s.push(Ev {
        kind: Kind::Get,
        a: names.len() as u64,
        b: h1,
        c: h2,
        d: 0,
        failed: fail,
        wrote: false,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(())
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_set(s: &mut Sim, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
    let (action, _) = s.begin()?;
    names_ok(s, names, values.len());
    let fail = action == act::FAIL;
    let mut rip = 0;
    let mut rip_set = false;
    if !fail {
        for (n, v) in names.iter().zip(values) {
            s.regs.set(*n, *v);
            if *n == RegName::RIP {
                rip = v.lo;
                rip_set = true;
            }
        }
    }
    let (h1, h2) = hash_names(names, values);
    s.push(Ev {
        kind: Kind::Set,
        a: names.len() as u64 | (rip_set as u64) << 32,
        b: h1,
        c: h2,
        d: rip,
        failed: fail,
        wrote: !fail,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(())
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_translate(
    s: &mut Sim,
    gva: u64,
    flags: TranslateFlags,
) -> Result<(TranslateResult, u64), HostError> {
    let (action, arg) = s.begin()?;
    if gva & 0xfff != 0 {
        s.breach("translation of an address that is not page-aligned");
    }
    const KNOWN: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x100 | 0x200;
    if flags.0 & !KNOWN != 0 || flags.0 & 0x7 == 0 {
        s.breach("translation flags: unknown bits, or no access to validate");
    }
    let mut gpa = translate_page(gva & !0xfff, s.xlate);
    let mut result = TranslateResult::Success;
    let fail = action == act::FAIL;
    if action == act::ODD {
        result = match arg % 6 {
            0 => TranslateResult::PageNotPresent,
            1 => TranslateResult::PrivilegeViolation,
            2 => TranslateResult::InvalidPageTableFlags,
            3 => TranslateResult::GpaUnmapped,
            4 => TranslateResult::Intercept,
            _ => TranslateResult::Other(9 + arg as u32),
        };
    } else if action == act::ODDER {
        gpa |= (arg as u64) << 4 | 1;
    }
    let code = match result {
        TranslateResult::Success => 0,
        TranslateResult::PageNotPresent => 1,
        TranslateResult::PrivilegeViolation => 2,
        TranslateResult::InvalidPageTableFlags => 3,
        TranslateResult::GpaUnmapped => 4,
        TranslateResult::Intercept => 8,
        TranslateResult::Other(c) => c as u64,
        _ => 99,
    };
    s.push(Ev {
        kind: Kind::Translate,
        a: gva,
        b: flags.0 as u64,
        c: gpa,
        d: code,
        failed: fail,
        wrote: false,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok((result, gpa))
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_cmpxchg(
    s: &mut Sim,
    gpa: u64,
    size: u8,
    expected: u128,
    new: u128,
) -> Result<u128, HostError> {
    let (action, arg) = s.begin()?;
    if !(1..=16).contains(&size) {
        s.breach("compare-exchange size not 1..=16");
    } else if (gpa & 0xfff) + size as u64 > 0x1000 {
        s.breach("compare-exchange crosses a page");
    }
    let size = (size as usize).clamp(1, 16);
    let mut old = [0u8; 16];
    for (i, b) in old.iter_mut().take(size).enumerate() {
        *b = s.mem[mem_index(gpa.wrapping_add(i as u64))];
    }
    let mut old = u128::from_le_bytes(old);
    let fail = action == act::FAIL;
    let mask = if size == 16 {
        u128::MAX
    } else {
        (1u128 << (size * 8)) - 1
    };
    let mut wrote = false;
    if !fail {
        if action == act::ODD {
            // Another processor got there first.
            old = (old ^ (1 + arg as u128)) & mask;
        } else if old == expected & mask {
            let n = new.to_le_bytes();
            for (i, b) in n.iter().take(size).enumerate() {
                s.mem[mem_index(gpa.wrapping_add(i as u64))] = *b;
            }
            wrote = true;
        }
    }
    s.push(Ev {
        kind: Kind::Cmpxchg,
        a: gpa | (size as u64) << 56,
        b: expected as u64 ^ (expected >> 64) as u64,
        c: new as u64 ^ (new >> 64) as u64,
        d: old as u64,
        failed: fail,
        wrote,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(old)
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_perm(s: &mut Sim, port: u16, size: u8) -> Result<bool, HostError> {
    let (action, _) = s.begin()?;
    if !matches!(size, 1 | 2 | 4) {
        s.breach("I/O permission size not 1, 2 or 4");
    }
    let fail = action == act::FAIL;
    let allow = s.io_allow != (action == act::ODD);
    s.push(Ev {
        kind: Kind::Perm,
        a: port as u64 | (size as u64) << 16,
        b: allow as u64,
        c: 0,
        d: 0,
        failed: fail,
        wrote: false,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(allow)
    }
}

fn end_code(e: BulkEnd) -> (u64, u64) {
    match e {
        BulkEnd::Memory(g) => (1, g),
        BulkEnd::Port(p) => (2, p as u64),
        BulkEnd::Value(v) => (3, v),
    }
}

/// The simulated host's callback (see [`Sim`]).
pub fn cb_bulk(s: &mut Sim, t: &BulkTransfer) -> Result<u32, HostError> {
    let k = s.trace.len();
    let (action, arg) = s.begin()?;
    let port_side = matches!(t.src, BulkEnd::Port(_)) || matches!(t.dst, BulkEnd::Port(_));
    if !matches!(t.size, 1 | 2 | 4 | 8) || (port_side && t.size > 4) {
        s.breach("bulk element size");
    }
    if t.count == 0 || t.count as u64 * t.size.max(1) as u64 > 4096 {
        s.breach("bulk element count");
    }
    if matches!(t.dst, BulkEnd::Value(_)) {
        s.breach("bulk transfer to a value");
    }
    let size = t.size.clamp(1, 8) as u64;
    let count = t.count.min(4096) as u64;
    for end in [t.src, t.dst] {
        if let BulkEnd::Memory(g) = end {
            let (lo, hi) = if t.descending {
                (
                    g.wrapping_sub((count.max(1) - 1) * size),
                    g.wrapping_add(size - 1),
                )
            } else {
                (g, g.wrapping_add(count.max(1) * size - 1))
            };
            if lo & !0xfff != g & !0xfff || hi & !0xfff != g & !0xfff {
                s.breach("bulk run leaves its page");
            }
        }
    }
    let fail = action == act::FAIL;
    let done = match action {
        act::ODD => arg as u64 % count.max(1),
        _ => count,
    };
    if !fail {
        for i in 0..done {
            let step = |g: u64| {
                if t.descending {
                    g.wrapping_sub(i * size)
                } else {
                    g.wrapping_add(i * size)
                }
            };
            let v = match t.src {
                BulkEnd::Memory(g) => {
                    let mut b = [0u8; 8];
                    for (j, x) in b.iter_mut().take(size as usize).enumerate() {
                        *x = s.mem[mem_index(step(g).wrapping_add(j as u64))];
                    }
                    u64::from_le_bytes(b)
                }
                BulkEnd::Port(p) => s.in_data(p, k + i as usize),
                BulkEnd::Value(v) => v,
            };
            if let BulkEnd::Memory(g) = t.dst {
                for (j, x) in v.to_le_bytes().iter().take(size as usize).enumerate() {
                    s.mem[mem_index(step(g).wrapping_add(j as u64))] = *x;
                }
            }
        }
    }
    let claimed = if action == act::ODDER {
        t.count.wrapping_add(1 + arg as u32)
    } else {
        done as u32
    };
    let (sk, sv) = end_code(t.src);
    let (dk, dv) = end_code(t.dst);
    s.push(Ev {
        kind: Kind::Bulk,
        a: sk
            | dk << 2
            | (t.size as u64) << 4
            | (t.descending as u64) << 8
            | (t.count as u64) << 32,
        b: sv,
        c: dv,
        d: claimed as u64,
        failed: fail,
        wrote: !fail && done > 0,
    });
    if fail {
        Err(HostError { code: -1 })
    } else {
        Ok(claimed)
    }
}

/// The vtable for an input (the optional entries as its options say).
pub fn callbacks<'t>(input: &EmuInput) -> Callbacks<Sim<'t>> {
    Callbacks {
        io_port: cb_io,
        memory: cb_memory,
        get_registers: cb_get,
        set_registers: cb_set,
        translate_gva_page: cb_translate,
        compare_exchange: (input.opts & opt::CMPXCHG != 0).then_some(cb_cmpxchg as _),
        io_permission: (input.opts & opt::IO_PERM != 0).then_some(cb_perm as _),
        bulk: (input.opts & opt::BULK != 0).then_some(cb_bulk as _),
        wide_memory: input.wide().then_some(cb_wide as _),
    }
}

/// What one emulation call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The outcome.
    pub outcome: Outcome,
    /// The callback bound was hit.
    pub overflow: bool,
    /// A breach of the host contract.
    pub breach: Option<&'static str>,
    /// The final registers (memory stays in the caller's buffer).
    pub regs: HostRegs,
    /// The host's RIP after the call.
    pub rip: u64,
}

/// The vtable the WinHv ffi gives the core: no compare-exchange, no bulk entry, and a port
/// permission check that allows every access (the exit comes after the processor's own check).
pub fn winhv_callbacks<'t>() -> Callbacks<Sim<'t>> {
    Callbacks {
        io_port: cb_io,
        memory: cb_memory,
        get_registers: cb_get,
        set_registers: cb_set,
        translate_gva_page: cb_translate,
        compare_exchange: None,
        io_permission: Some(|_, _, _| Ok(true)),
        bulk: None,
        wide_memory: None,
    }
}

/// Runs the input once with guest memory in `mem`, recording into `trace`; allocation is
/// forbidden during the call.
pub fn run_once(input: &EmuInput, mem: &mut [u8; MEM], trace: &mut Vec<Ev>) -> Run {
    let config = Config {
        vendor: input.vendor(),
        rep_budget: input.rep_budget(),
        vector_state: input.vector_state(),
    };
    run_with(input, &callbacks(input), config, mem, trace)
}

/// [`run_once`] with a given vtable and configuration.
pub fn run_with<'t>(
    input: &EmuInput,
    cb: &Callbacks<Sim<'t>>,
    config: Config,
    mem: &'t mut [u8; MEM],
    trace: &'t mut Vec<Ev>,
) -> Run {
    let (vp, regs) = input.state();
    let mut sim = Sim::new(input, regs, mem, trace);
    let emulator = Emulator::new(config);
    let bytes = InstructionBytes::new(&input.bytes[..input.exit_count()]);
    let outcome = match input.entry % 3 {
        entry::MMIO => {
            let exit = MmioExit {
                bytes,
                access: match input.access % 3 {
                    0 => AccessKind::Read,
                    1 => AccessKind::Write,
                    _ => AccessKind::Execute,
                },
                gpa_unmapped: input.mmio_flags & 1 != 0,
                gva_valid: input.mmio_flags & 2 != 0,
                gpa: input.gpa,
                gva: input.gva,
            };
            alloc_guard::forbid(|| emulator.emulate_mmio(cb, &mut sim, &vp, &exit))
        }
        entry::IO => {
            let exit = IoExit {
                bytes,
                port: input.port,
                write: input.io_flags & 1 != 0,
                size: input.io_size,
                string: input.io_flags & 2 != 0,
                rep: input.io_flags & 4 != 0,
                rax: regs.gpr[0],
                rcx: regs.gpr[1],
                rsi: regs.gpr[6],
                rdi: regs.gpr[7],
                ds: regs.seg[3],
                es: regs.seg[0],
            };
            alloc_guard::forbid(|| emulator.emulate_io(cb, &mut sim, &vp, &exit))
        }
        _ => alloc_guard::forbid(|| emulator.emulate_at_rip(cb, &mut sim, &vp)),
    };
    Run {
        outcome,
        overflow: sim.overflow,
        breach: sim.breach_seen(),
        regs: sim.regs,
        rip: sim.regs.rip,
    }
}

/// True for the string operations.
pub fn is_string(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Movsb
            | Movsw
            | Movsd
            | Movsq
            | Cmpsb
            | Cmpsw
            | Cmpsd
            | Cmpsq
            | Stosb
            | Stosw
            | Stosd
            | Stosq
            | Lodsb
            | Lodsw
            | Lodsd
            | Lodsq
            | Scasb
            | Scasw
            | Scasd
            | Scasq
            | Insb
            | Insw
            | Insd
            | Outsb
            | Outsw
            | Outsd
    )
}

/// The instruction the emulator sees is a string instruction with a repeat prefix.
pub fn is_rep_string(input: &EmuInput) -> bool {
    let (vp, _) = input.state();
    let b = input.effective_bytes();
    match decode(&b[..15], EmuInput::mode(&vp), input.vendor()) {
        Ok(i) => is_string(i.op) && i.prefixes.0 & (Prefixes::F2 | Prefixes::F3) != 0,
        Err(_) => false,
    }
}

/// Reusable trace and memory buffers of the two runs.
pub struct Buffers {
    /// Trace of the first run.
    pub a: Vec<Ev>,
    /// Trace of the second run.
    pub b: Vec<Ev>,
    /// Guest memory of the first run.
    pub mem_a: Box<[u8; MEM]>,
    /// Guest memory of the second run.
    pub mem_b: Box<[u8; MEM]>,
}

impl Default for Buffers {
    fn default() -> Buffers {
        Buffers {
            a: Vec::with_capacity(64 + 16 * 1024 + 1),
            b: Vec::with_capacity(64 + 16 * 1024 + 1),
            mem_a: Box::new([0; MEM]),
            mem_b: Box::new([0; MEM]),
        }
    }
}

impl Buffers {
    /// Runs the input once into the first buffers.
    pub fn run(&mut self, input: &EmuInput) -> Run {
        run_once(input, &mut self.mem_a, &mut self.a)
    }
}

/// A summary of the input, the outcome and the first callbacks, for reports.
pub fn describe(input: &EmuInput, run: &Run, trace: &[Ev]) -> String {
    let (vp, regs) = input.state();
    let mut s = format!(
        "entry {} mode {:?} vendor {:?} exit bytes {} (count {}), guest memory at rip {}\n\
         vector state {:?}, wide entry {}, cr0 {:#x} cr4 {:#x} xcr0 {:#x}\n\
         outcome {:?}\n{} callbacks:\n",
        ["mmio", "io", "at_rip"][(input.entry % 3) as usize],
        EmuInput::mode(&vp),
        input.vendor(),
        crate::hex(&input.bytes),
        input.exit_count(),
        crate::hex(&input.code()),
        input.vector_state(),
        input.wide(),
        regs.cr0,
        regs.cr4,
        regs.xcr0,
        run.outcome,
        trace.len()
    );
    for (i, e) in trace.iter().enumerate().take(40) {
        s.push_str(&format!("  {i:3} {e:x?}\n"));
    }
    s
}

/// Finding ids the run tolerates: `HVEMU_FUZZ_KNOWN`, comma-separated (see [`check`]), so a
/// campaign can go on past a finding that is reported and not fixed yet.
fn known(id: &str) -> bool {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("HVEMU_FUZZ_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|k| k == id)
}

/// The oracles' verdict on one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// A short stable id of the oracle (and, for writes on a refused path, the refusal).
    pub id: String,
    /// What was seen, with the input's summary and callback trace.
    pub message: String,
}

/// Runs all the oracles on one input; panics with a description on a violation whose id is
/// not listed in `HVEMU_FUZZ_KNOWN`.
pub fn check(input: &EmuInput, bufs: &mut Buffers) {
    if let Err(v) = verdict(input, bufs)
        && !known(&v.id)
    {
        panic!("[finding {}] {}", v.id, v.message);
    }
}

/// Runs all the oracles on one input.
pub fn verdict(input: &EmuInput, bufs: &mut Buffers) -> Result<(), Violation> {
    let r1 = run_once(input, &mut bufs.mem_a, &mut bufs.a);
    let r2 = run_once(input, &mut bufs.mem_b, &mut bufs.b);
    let t = &bufs.a[..];
    let fail = |id: &str, what: &str| -> Result<(), Violation> {
        Err(Violation {
            id: id.to_string(),
            message: format!("{what}\n{}", describe(input, &r1, t)),
        })
    };
    if !(r1 == r2 && bufs.a == bufs.b && bufs.mem_a[..] == bufs.mem_b[..]) {
        return fail(
            "nondeterministic",
            &format!(
                "not deterministic: second run {:?} with {} callbacks",
                r2.outcome,
                bufs.b.len()
            ),
        );
    }
    if let Some(b) = r1.breach {
        return fail("host-contract", &format!("host contract breached: {b}"));
    }
    if r1.overflow {
        return fail(
            "callback-bound",
            &format!(
                "more than {} callbacks (REP budget {})",
                input.callback_bound(),
                input.rep_budget()
            ),
        );
    }
    let (vp, _) = input.state();
    if vp.interruption_pending
        && !(r1.outcome == Outcome::Refused(Refusal::InterruptionPending) && t.is_empty())
    {
        return fail(
            "interruption-pending",
            "an exit with an interruption pending must be refused with no callback",
        );
    }
    let sets: Vec<usize> = (0..t.len()).filter(|&i| t[i].kind == Kind::Set).collect();
    if sets.len() > 1 {
        return fail("set-twice", "more than one Set");
    }
    if let Some(&i) = sets.first()
        && i + 1 != t.len()
    {
        return fail("set-not-last", "a callback after the Set");
    }
    // A failed callback ends the call with a refusal naming it: a host error is never ignored
    // nor reported as something else.
    if let Some(i) = t.iter().position(|e| e.failed)
        && !(i + 1 == t.len() && matches!(r1.outcome, Outcome::Refused(Refusal::CallbackFailed(_))))
    {
        return fail(
            "host-error-ignored",
            &format!("callback {i} failed, but the call went on or did not report it"),
        );
    }
    let set_ok = sets.first().is_some_and(|&i| !t[i].failed);
    let rep = is_rep_string(input);
    match r1.outcome {
        Outcome::Completed => {
            if !set_ok {
                return fail("completed-without-set", "Completed without a Set");
            }
            if t[sets[0]].a >> 32 == 0 {
                return fail("completed-without-rip", "Completed without setting RIP");
            }
        }
        Outcome::Partial => {
            if !rep {
                return fail(
                    "partial-not-rep",
                    "Partial for an instruction that is not a REP string",
                );
            }
            if !set_ok {
                return fail("partial-without-set", "Partial without a Set");
            }
            if r1.rip != vp.rip {
                return fail("partial-moved-rip", "Partial moved RIP");
            }
        }
        Outcome::Exception(f) => {
            if set_ok && !rep {
                return fail(
                    "set-on-fault",
                    "Set on a fault (not a REP string instruction)",
                );
            }
            if set_ok && r1.rip != vp.rip {
                return fail("fault-moved-rip", "RIP moved on a fault");
            }
            let (code, cr2) = match f.vector {
                14 => (true, true),
                8 | 10..=13 | 17 | 21 => (true, false),
                _ => (false, false),
            };
            if f.error_code.is_some() != code || f.cr2.is_some() != cr2 {
                return fail(
                    "fault-fields",
                    "a fault's error code or CR2 does not match its vector",
                );
            }
        }
        Outcome::Refused(_) => {}
    }
    if matches!(r1.outcome, Outcome::Exception(_) | Outcome::Refused(_))
        && !rep
        && let Some(first) = t.iter().position(|e| e.wrote)
    {
        // Writes before a host failure the schedule caused cannot be undone.
        let host_failed = matches!(r1.outcome, Outcome::Refused(Refusal::CallbackFailed(_)))
            && t.last().is_some_and(|e| e.failed)
            && t.len() - 1 > first;
        if !host_failed {
            let id = match r1.outcome {
                Outcome::Refused(Refusal::Unsupported(_)) => {
                    "write-then-refused-Unsupported".into()
                }
                Outcome::Refused(Refusal::CallbackFailed(_)) => {
                    "write-then-refused-CallbackFailed".into()
                }
                Outcome::Refused(r) => format!("write-then-refused-{r:?}"),
                _ => "write-then-fault".to_string(),
            };
            return fail(
                &id,
                &format!("guest-visible write (callback {first}) on a faulting or refused path"),
            );
        }
    }
    // The wide memory entry changes how accesses are split, never what they do: without
    // scheduled host behaviours (which count callbacks), the other choice ends the same.
    if input.nsched == 0 {
        let mut other = *input;
        other.vector ^= vecopt::WIDE;
        let r3 = run_once(&other, &mut bufs.mem_b, &mut bufs.b);
        let same =
            r3.outcome == r1.outcome && r3.regs == r1.regs && bufs.mem_a[..] == bufs.mem_b[..];
        if !same && !r3.overflow {
            return fail(
                "wide-differs",
                &format!(
                    "with the wide memory entry {}: {:?} with {} callbacks, {}",
                    if other.wide() { "offered" } else { "withdrawn" },
                    r3.outcome,
                    bufs.b.len(),
                    if r3.regs == r1.regs {
                        "different guest memory"
                    } else {
                        "different registers"
                    }
                ),
            );
        }
    }
    if let Outcome::Refused(Refusal::CallbackFailed(k)) = r1.outcome {
        let last = t.last();
        let want = match k {
            CallbackKind::IoPort => Kind::Io,
            // The memory and wide entries both report a memory callback failure.
            CallbackKind::Memory => last.map_or(Kind::MemRead, |e| match e.kind {
                Kind::MemWrite | Kind::WideRead | Kind::WideWrite => e.kind,
                _ => Kind::MemRead,
            }),
            CallbackKind::GetRegisters => Kind::Get,
            CallbackKind::SetRegisters => Kind::Set,
            CallbackKind::TranslateGvaPage => Kind::Translate,
            CallbackKind::CompareExchange => Kind::Cmpxchg,
            CallbackKind::IoPermission => Kind::Perm,
            CallbackKind::Bulk => Kind::Bulk,
        };
        if !last.is_some_and(|e| e.failed && e.kind == want) {
            return fail(
                "callback-failed-misnamed",
                "CallbackFailed names a callback that did not fail last",
            );
        }
    }
    Ok(())
}
