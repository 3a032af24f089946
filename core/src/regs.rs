//! The register file: a fixed struct with a known/dirty bit per register, and the WinHv
//! register names and value layout the host interface uses.

/// A register name, numbered as `WHV_REGISTER_NAME` numbers it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct RegName(pub u32);

#[allow(missing_docs)]
impl RegName {
    pub const RAX: RegName = RegName(0x00);
    pub const RCX: RegName = RegName(0x01);
    pub const RDX: RegName = RegName(0x02);
    pub const RBX: RegName = RegName(0x03);
    pub const RSP: RegName = RegName(0x04);
    pub const RBP: RegName = RegName(0x05);
    pub const RSI: RegName = RegName(0x06);
    pub const RDI: RegName = RegName(0x07);
    pub const R8: RegName = RegName(0x08);
    pub const R15: RegName = RegName(0x0f);
    pub const RIP: RegName = RegName(0x10);
    pub const RFLAGS: RegName = RegName(0x11);
    pub const ES: RegName = RegName(0x12);
    pub const CS: RegName = RegName(0x13);
    pub const SS: RegName = RegName(0x14);
    pub const DS: RegName = RegName(0x15);
    pub const FS: RegName = RegName(0x16);
    pub const GS: RegName = RegName(0x17);
    pub const LDTR: RegName = RegName(0x18);
    pub const TR: RegName = RegName(0x19);
    pub const IDTR: RegName = RegName(0x1a);
    pub const GDTR: RegName = RegName(0x1b);
    pub const CR0: RegName = RegName(0x1c);
    pub const CR2: RegName = RegName(0x1d);
    pub const CR3: RegName = RegName(0x1e);
    pub const CR4: RegName = RegName(0x1f);
    pub const CR8: RegName = RegName(0x20);
    pub const XCR0: RegName = RegName(0x27);
    pub const XMM0: RegName = RegName(0x1000);
    /// MM0 (x87 register slot 0 of the FXSAVE image); `FP_MMX0 + i` is slot `i`.
    pub const FP_MMX0: RegName = RegName(0x1010);
    /// FCW, FSW, abridged FTW, FOP and the last FPU instruction pointer.
    pub const FP_CONTROL_STATUS: RegName = RegName(0x1018);
    /// The last FPU data pointer, MXCSR (bytes 8..12) and MXCSR_MASK.
    pub const XMM_CONTROL_STATUS: RegName = RegName(0x1019);
    pub const EFER: RegName = RegName(0x2001);

    /// First of hvemu's extension names, which WinHv does not have: the parts of YMM/ZMM
    /// registers above XMM, ZMM16..ZMM31, and the opmask registers. A host serves them only
    /// when it says so with [`VectorState`](crate::emulator::VectorState).
    pub const EXTENSION: RegName = RegName(0xe000_0000);

    /// Bits `128 * part .. 128 * part + 128` of ZMM`n` (`n` 0..=31, `part` 0..=3) under an
    /// extension name. Part 0 of ZMM0..ZMM15 is XMM0..XMM15, which keep their WinHv names.
    pub const fn zmm_part(n: u8, part: u8) -> RegName {
        RegName(Self::EXTENSION.0 | ((n as u32 & 31) << 2) | (part as u32 & 3))
    }

    /// Opmask register K`n` (`n` 0..=7), an extension name; the value is its 64 bits.
    pub const fn k(n: u8) -> RegName {
        RegName(Self::EXTENSION.0 | 0x100 | (n as u32 & 7))
    }

    /// The general-purpose register with number `n` (0 = RAX .. 15 = R15).
    pub const fn gpr(n: u8) -> RegName {
        RegName(n as u32 & 15)
    }
}

/// A 128-bit register value with the layout of `WHV_REGISTER_VALUE`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegValue {
    /// Bytes 0..8.
    pub lo: u64,
    /// Bytes 8..16.
    pub hi: u64,
}

impl RegValue {
    /// A 64-bit value.
    pub const fn from_u64(v: u64) -> RegValue {
        RegValue { lo: v, hi: 0 }
    }
    /// A segment register (`WHV_X64_SEGMENT_REGISTER`: base, limit, selector, attributes).
    pub const fn from_segment(s: Segment) -> RegValue {
        RegValue {
            lo: s.base,
            hi: s.limit as u64 | (s.selector as u64) << 32 | (s.attributes as u64) << 48,
        }
    }
    /// The value read as a segment register.
    pub const fn segment(self) -> Segment {
        Segment {
            base: self.lo,
            limit: self.hi as u32,
            selector: (self.hi >> 32) as u16,
            attributes: (self.hi >> 48) as u16,
        }
    }
    /// A descriptor-table register (`WHV_X64_TABLE_REGISTER`: limit at byte 6, base at 8).
    pub const fn from_table(t: Table) -> RegValue {
        RegValue {
            lo: (t.limit as u64) << 48,
            hi: t.base,
        }
    }
    /// The value read as a descriptor-table register.
    pub const fn table(self) -> Table {
        Table {
            base: self.hi,
            limit: (self.lo >> 48) as u16,
        }
    }
    /// A 128-bit value.
    pub const fn from_u128(v: u128) -> RegValue {
        RegValue {
            lo: v as u64,
            hi: (v >> 64) as u64,
        }
    }
    /// The value as 128 bits.
    pub const fn u128(self) -> u128 {
        self.lo as u128 | (self.hi as u128) << 64
    }
}

/// A segment register with its hidden part.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Segment {
    /// Base address.
    pub base: u64,
    /// Limit in bytes (already scaled by the granularity bit).
    pub limit: u32,
    /// Selector.
    pub selector: u16,
    /// Attributes as in `WHV_X64_SEGMENT_REGISTER`: type 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13,
    /// D/B 14, G 15.
    pub attributes: u16,
}

impl Segment {
    /// Segment type (bits 0-3).
    pub const fn kind(self) -> u16 {
        self.attributes & 0xf
    }
    /// Code or data segment (S = 1) rather than a system segment.
    pub const fn is_code_or_data(self) -> bool {
        self.attributes & 0x10 != 0
    }
    /// Descriptor privilege level.
    pub const fn dpl(self) -> u8 {
        ((self.attributes >> 5) & 3) as u8
    }
    /// Present.
    pub const fn present(self) -> bool {
        self.attributes & 0x80 != 0
    }
    /// L: 64-bit code segment.
    pub const fn long(self) -> bool {
        self.attributes & 0x2000 != 0
    }
    /// D/B: 32-bit default size (code) or 32-bit stack / upper bound (data).
    pub const fn default_big(self) -> bool {
        self.attributes & 0x4000 != 0
    }
    /// A code segment (type bit 3).
    pub const fn is_code(self) -> bool {
        self.attributes & 0x8 != 0
    }
}

/// A descriptor-table register (GDTR, IDTR).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Table {
    /// Base address.
    pub base: u64,
    /// Limit.
    pub limit: u16,
}

/// Index of a register in the file's known/dirty bit sets.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Slot {
    Gpr0 = 0,
    Rip = 16,
    Rflags = 17,
    /// ES; the six segment registers follow in WinHv order (ES CS SS DS FS GS).
    Seg0 = 18,
    Ldtr = 24,
    Tr = 25,
    Idtr = 26,
    Gdtr = 27,
    Cr0 = 28,
    Cr2 = 29,
    Cr3 = 30,
    Cr4 = 31,
    Cr8 = 32,
    Efer = 33,
    Xcr0 = 34,
    /// XMM0; XMM1..XMM15 follow.
    Xmm0 = 35,
    /// FpControlStatus (FCW, FSW, FTW, FOP, FIP).
    FpControlStatus = 51,
    /// XmmControlStatus (FDP, MXCSR).
    XmmControlStatus = 52,
    /// FpMmx0 (the FXSAVE register slot ST(0)); FpMmx1..FpMmx7 follow.
    FpMmx0 = 53,
}

impl Slot {
    /// The slot `n` places after this one: segment register `n` after [`Slot::Seg0`], XMM`n`
    /// after [`Slot::Xmm0`], ST(`n`) after [`Slot::FpMmx0`] (`n` is small: no overflow).
    pub(crate) const fn nth(self, n: u8) -> u8 {
        (self as u8).wrapping_add(n)
    }
}

/// Number of slots.
pub const SLOTS: u8 = 61;

/// Extension slots (the register file's second known/dirty bit sets): bits 0..=3 are the four
/// 128-bit parts of the one wide vector register an instruction uses
/// ([`RegisterFile::wide_reg`]), bits 4..=11 the opmask registers K0..K7.
pub const EXT_SLOTS: u8 = 12;

/// Bit of extension slot for opmask register `n`.
pub const fn ext_k(n: u8) -> u16 {
    (1 << 4) << (n & 7)
}

/// The WinHv name of slot `i`.
pub const fn slot_name(i: u8) -> RegName {
    match i {
        0..=15 => RegName(i as u32),
        16 => RegName::RIP,
        17 => RegName::RFLAGS,
        18..=23 => RegName(0x12u32.wrapping_add(i.wrapping_sub(18) as u32)),
        24 => RegName::LDTR,
        25 => RegName::TR,
        26 => RegName::IDTR,
        27 => RegName::GDTR,
        28 => RegName::CR0,
        29 => RegName::CR2,
        30 => RegName::CR3,
        31 => RegName::CR4,
        32 => RegName::CR8,
        33 => RegName::EFER,
        34 => RegName::XCR0,
        35..=50 => RegName(0x1000u32.wrapping_add(i.wrapping_sub(35) as u32)),
        51 => RegName::FP_CONTROL_STATUS,
        52 => RegName::XMM_CONTROL_STATUS,
        // FP_MMX0's low four bits are clear: OR adds.
        _ => RegName(RegName::FP_MMX0.0 | (i.saturating_sub(53) & 7) as u32),
    }
}

/// The register file of one emulation: values plus a known and a dirty bit per slot.
#[derive(Copy, Clone, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegisterFile {
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// RIP.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
    /// ES, CS, SS, DS, FS, GS.
    pub seg: [Segment; 6],
    /// LDTR.
    pub ldtr: Segment,
    /// TR.
    pub tr: Segment,
    /// IDTR.
    pub idtr: Table,
    /// GDTR.
    pub gdtr: Table,
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
    /// XMM0..XMM15.
    pub xmm: [u128; 16],
    /// FpControlStatus in WinHv layout (FCW bits 0..16, FSW 16..32, abridged FTW 32..40 of
    /// `lo`).
    pub fp_control: RegValue,
    /// XmmControlStatus in WinHv layout (MXCSR in bits 0..32 of `hi`).
    pub xmm_control: RegValue,
    /// The eight x87/MMX register slots of the FXSAVE image (ST(0)..ST(7)): mantissa in `lo`,
    /// sign and exponent in the low 16 bits of `hi`.
    pub fp_mmx: [RegValue; 8],
    /// The vector register whose upper parts [`wide`](Self::wide) holds (0..=31).
    pub wide_reg: u8,
    /// ZMM`wide_reg` as four 128-bit parts, low first. Part 0 is used only for ZMM16..ZMM31
    /// (XMM0..XMM15 live in [`xmm`](Self::xmm)).
    pub wide: [u128; 4],
    /// K0..K7.
    pub k: [u64; 8],
    known: u64,
    dirty: u64,
    ext_known: u16,
    ext_dirty: u16,
}

impl RegisterFile {
    /// True when slot `i` holds a value from the host or the exit context.
    pub const fn is_known(&self, i: u8) -> bool {
        self.known & (1 << i) != 0
    }
    /// True when slot `i` was changed by the instruction.
    pub const fn is_dirty(&self, i: u8) -> bool {
        self.dirty & (1 << i) != 0
    }
    /// Marks slot `i` known.
    pub fn mark_known(&mut self, i: u8) {
        self.known |= 1 << (i & 63);
    }
    /// Marks slot `i` changed (and so known).
    pub fn mark_dirty(&mut self, i: u8) {
        self.known |= 1 << (i & 63);
        self.dirty |= 1 << (i & 63);
    }
    /// Bit set of dirty slots.
    pub const fn dirty_set(&self) -> u64 {
        self.dirty
    }
    /// Bit set of known slots.
    pub const fn known_set(&self) -> u64 {
        self.known
    }
    /// Bit set of dirty extension slots.
    pub const fn ext_dirty_set(&self) -> u16 {
        self.ext_dirty
    }
    /// Bit set of known extension slots.
    pub const fn ext_known_set(&self) -> u16 {
        self.ext_known
    }
    /// True when extension slot `i` (see [`EXT_SLOTS`]) holds a value from the host.
    pub const fn is_ext_known(&self, i: u8) -> bool {
        self.ext_known & (1 << (i & 15)) != 0
    }
    /// True when extension slot `i` was changed by the instruction.
    pub const fn is_ext_dirty(&self, i: u8) -> bool {
        self.ext_dirty & (1 << (i & 15)) != 0
    }
    /// Marks extension slot `i` changed (and so known).
    pub fn mark_ext_dirty(&mut self, i: u8) {
        self.ext_known |= 1 << (i & 15);
        self.ext_dirty |= 1 << (i & 15);
    }
    /// The name of extension slot `i`.
    pub const fn ext_name(&self, i: u8) -> RegName {
        if i < 4 {
            RegName::zmm_part(self.wide_reg, i)
        } else {
            RegName::k(i.wrapping_sub(4))
        }
    }
    /// The value of extension slot `i`.
    pub fn ext_value(&self, i: u8) -> RegValue {
        if i < 4 {
            RegValue::from_u128(self.wide.get(i as usize).copied().unwrap_or(0))
        } else {
            RegValue::from_u64(self.k.get(i.wrapping_sub(4) as usize).copied().unwrap_or(0))
        }
    }
    /// Stores a value from the host into extension slot `i` and marks it known.
    pub fn load_ext(&mut self, i: u8, v: RegValue) {
        if i < 4 {
            if let Some(p) = self.wide.get_mut(i as usize) {
                *p = v.u128();
            }
        } else if let Some(k) = self.k.get_mut(i.wrapping_sub(4) as usize) {
            *k = v.lo;
        }
        self.ext_known |= 1 << (i & 15);
    }

    /// The value of slot `i` in WinHv layout.
    pub fn value(&self, i: u8) -> RegValue {
        let seg = |n: u8| self.seg.get(n as usize).copied().unwrap_or_default();
        match i {
            0..=15 => RegValue::from_u64(self.gpr.get(i as usize).copied().unwrap_or(0)),
            16 => RegValue::from_u64(self.rip),
            17 => RegValue::from_u64(self.rflags),
            18..=23 => RegValue::from_segment(seg(i.wrapping_sub(18))),
            24 => RegValue::from_segment(self.ldtr),
            25 => RegValue::from_segment(self.tr),
            26 => RegValue::from_table(self.idtr),
            27 => RegValue::from_table(self.gdtr),
            28 => RegValue::from_u64(self.cr0),
            29 => RegValue::from_u64(self.cr2),
            30 => RegValue::from_u64(self.cr3),
            31 => RegValue::from_u64(self.cr4),
            32 => RegValue::from_u64(self.cr8),
            33 => RegValue::from_u64(self.efer),
            34 => RegValue::from_u64(self.xcr0),
            35..=50 => RegValue::from_u128(
                self.xmm
                    .get(i.wrapping_sub(35) as usize)
                    .copied()
                    .unwrap_or(0),
            ),
            51 => self.fp_control,
            52 => self.xmm_control,
            _ => self
                .fp_mmx
                .get(i.saturating_sub(53) as usize)
                .copied()
                .unwrap_or_default(),
        }
    }

    /// Stores a value from the host into slot `i` and marks it known.
    pub fn load(&mut self, i: u8, v: RegValue) {
        match i {
            0..=15 => {
                if let Some(r) = self.gpr.get_mut(i as usize) {
                    *r = v.lo;
                }
            }
            16 => self.rip = v.lo,
            17 => self.rflags = v.lo,
            18..=23 => {
                if let Some(s) = self.seg.get_mut(i.wrapping_sub(18) as usize) {
                    *s = v.segment();
                }
            }
            24 => self.ldtr = v.segment(),
            25 => self.tr = v.segment(),
            26 => self.idtr = v.table(),
            27 => self.gdtr = v.table(),
            28 => self.cr0 = v.lo,
            29 => self.cr2 = v.lo,
            30 => self.cr3 = v.lo,
            31 => self.cr4 = v.lo,
            32 => self.cr8 = v.lo,
            33 => self.efer = v.lo,
            34 => self.xcr0 = v.lo,
            35..=50 => {
                if let Some(x) = self.xmm.get_mut(i.wrapping_sub(35) as usize) {
                    *x = v.u128();
                }
            }
            51 => self.fp_control = v,
            52 => self.xmm_control = v,
            _ => {
                if let Some(x) = self.fp_mmx.get_mut(i.saturating_sub(53) as usize) {
                    *x = v;
                }
            }
        }
        self.mark_known(i);
    }
}
