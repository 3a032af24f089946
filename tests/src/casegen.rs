//! Random single-instruction cases for the native differential test (`tests/native_diff.rs`):
//! an instruction of a chosen [`Family`], encoded with a random legal choice of prefixes (66,
//! 67, REX.W/R/X/B, LOCK, segment overrides including FS and GS with random bases in 64-bit
//! mode; now and then a prefix the processor ignores: 66 or REX.W on byte opcodes, 66 beside
//! REX.W, a REX followed by a legacy prefix), register and memory forms, and the machine state
//! and memory it starts from. One case in a hundred gets a LOCK prefix whatever its form (#UD
//! unless it is a lockable form with a memory destination); one in ten hands the emulator only
//! part of its bytes ([`Generated::exit_bytes`]).
//!
//! Every memory operand is generated backwards from the address it must reach: the target is
//! picked first (see `Gen::target`: mostly inside the read-write scratch pages, sometimes
//! crossing into the guard page, on or across the read-only page, across the not-present pages
//! around the window, or, in 64-bit mode, non-canonical), then an addressing form (base, index,
//! scale, disp8/disp32, SIB without base or index, absolute, RIP- or EIP-relative, 32-bit
//! addressing with garbage in the upper register halves, wrap-around sums) and the register
//! values that make the effective address hit it. So every case is safe to run natively: it
//! touches the scratch window or faults.
//!
//! 16-bit code ([`Mode::Compat16`]) has 16-bit operands by default (32-bit with 66) and 16-bit
//! addressing (BX/BP + SI/DI + disp8/disp16, wrapping at 64 KiB, with garbage in the upper
//! register halves) or, with 67, 32-bit addressing. The flat data segments reach nothing below
//! 64 KiB in a Linux process, so a 16-bit address goes through FS or GS with a base that puts
//! the target in reach, or through one of the harness's LDT data segments in DS, ES or SS (by
//! override; see `native::DataSeg`): expand-up with its limit at the end of the read-write
//! pages (past it #GP, or #SS through SS), read-only, expand-down, or the null selector. PUSH
//! and POP may run on a stack in one of them. Compatibility mode
//! uses them too (now and then, and with 16-bit addressing, which it takes from 67).
//!
//! Values are edge-biased (0, 1, all ones, sign boundaries, single bits, nibble carries; shift
//! counts 0/1/size-1/size/31/32/63/64...), the status flags, DF and AC are random (AC = 1 in a
//! fifth of the cases: with misaligned operands that is #AC under Linux's CR0.AM).
//!
//! A case also says which status flags the architecture leaves undefined for it
//! ([`Generated::undefined`]), so a runner can tell vendor-specific flag differences from real
//! ones.

pub mod vector;

use crate::native::{
    DataSeg, GUARD_PAGE, INSN_ADDR, Mode, Page, RO_PAGE, SCRATCH_BASE, SCRATCH_END, State, page,
    reg,
};
use crate::randgen::{Rng, edge_bits};
use hvemu::flags::{AC, AF, CF, DF, OF, PF, SF, STATUS, ZF};

/// Instruction families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// MOV: 88-8B, C6/C7, B0-BF, A0-A3 (moffs).
    Mov,
    /// MOVZX, MOVSX, MOVSXD.
    Movx,
    /// ADD OR ADC SBB AND SUB XOR CMP: 00-3D, 80-83.
    Alu,
    /// TEST: 84/85, A8/A9, F6/F7 /0.
    Test,
    /// INC, DEC: FE/FF /0 /1, 40-4F (compatibility mode).
    IncDec,
    /// NEG, NOT: F6/F7 /2 /3.
    NegNot,
    /// XCHG: 86/87, 90+r.
    Xchg,
    /// XADD.
    Xadd,
    /// CMPXCHG.
    Cmpxchg,
    /// CMPXCHG8B, CMPXCHG16B.
    Cmpxchg8b,
    /// BT BTS BTR BTC: register and immediate offsets.
    Bt,
    /// ROL ROR RCL RCR SHL SHR SAL SAR: C0/C1, D0-D3.
    Shift,
    /// SHLD, SHRD.
    Shld,
    /// MUL, IMUL (all three forms), DIV, IDIV.
    MulDiv,
    /// SETcc.
    Setcc,
    /// CMOVcc.
    Cmovcc,
    /// MOVBE.
    Movbe,
    /// BSF BSR POPCNT LZCNT TZCNT.
    BitScan,
    /// PUSH, POP: registers and memory (FF /6, 8F /0).
    PushPop,
    /// XLAT.
    Xlat,
    /// LEA.
    Lea,
    /// CBW, CWDE, CDQE, CWD, CDQ, CQO.
    Convert,
    /// LAHF, SAHF.
    LahfSahf,
    /// CLC STC CMC CLD STD.
    FlagOps,
    /// UD0, UD1, UD2: #UD however encoded (register and memory forms alike).
    Undefined,
}

impl crate::native_report::CaseFamily for Family {
    const ALL: &'static [Family] = &Family::ALL;
    /// Short name.
    fn name(self) -> &'static str {
        match self {
            Family::Mov => "mov",
            Family::Movx => "movzx/movsx/movsxd",
            Family::Alu => "add..cmp",
            Family::Test => "test",
            Family::IncDec => "inc/dec",
            Family::NegNot => "neg/not",
            Family::Xchg => "xchg",
            Family::Xadd => "xadd",
            Family::Cmpxchg => "cmpxchg",
            Family::Cmpxchg8b => "cmpxchg8b/16b",
            Family::Bt => "bt/bts/btr/btc",
            Family::Shift => "rol..sar",
            Family::Shld => "shld/shrd",
            Family::MulDiv => "mul/imul/div/idiv",
            Family::Setcc => "setcc",
            Family::Cmovcc => "cmovcc",
            Family::Movbe => "movbe",
            Family::BitScan => "bsf/bsr/popcnt/lzcnt/tzcnt",
            Family::PushPop => "push/pop",
            Family::Xlat => "xlat",
            Family::Lea => "lea",
            Family::Convert => "cbw..cqo",
            Family::LahfSahf => "lahf/sahf",
            Family::FlagOps => "clc/stc/cmc/cld/std",
            Family::Undefined => "ud0/ud1/ud2",
        }
    }
    /// Relative share of the cases (by the number of forms and sizes the family has).
    fn weight(self) -> u64 {
        match self {
            Family::Alu => 8,
            Family::Shift | Family::Mov => 6,
            Family::Bt | Family::MulDiv => 5,
            Family::PushPop => 4,
            Family::Movx
            | Family::Test
            | Family::IncDec
            | Family::Xchg
            | Family::Cmpxchg
            | Family::Shld
            | Family::BitScan => 3,
            Family::NegNot
            | Family::Xadd
            | Family::Cmpxchg8b
            | Family::Setcc
            | Family::Cmovcc
            | Family::Movbe
            | Family::Lea => 2,
            Family::Xlat
            | Family::Convert
            | Family::LahfSahf
            | Family::FlagOps
            | Family::Undefined => 1,
        }
    }
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 25] = [
        Family::Mov,
        Family::Movx,
        Family::Alu,
        Family::Test,
        Family::IncDec,
        Family::NegNot,
        Family::Xchg,
        Family::Xadd,
        Family::Cmpxchg,
        Family::Cmpxchg8b,
        Family::Bt,
        Family::Shift,
        Family::Shld,
        Family::MulDiv,
        Family::Setcc,
        Family::Cmovcc,
        Family::Movbe,
        Family::BitScan,
        Family::PushPop,
        Family::Xlat,
        Family::Lea,
        Family::Convert,
        Family::LahfSahf,
        Family::FlagOps,
        Family::Undefined,
    ];
}

/// One generated case (of a [`Family`], or of another family enum such as
/// [`vector::VecFamily`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated<F = Family> {
    /// Its family.
    pub family: F,
    /// The mode it runs in.
    pub mode: Mode,
    /// The instruction.
    pub bytes: Vec<u8>,
    /// Registers and RFLAGS (in compatibility mode the upper halves of the GPRs are 0).
    pub state: State,
    /// Initial memory: `(address, bytes)` runs inside the read-write and read-only pages of the
    /// scratch window, applied in order. Every other byte of the window is 0.
    pub mem: Vec<(u64, Vec<u8>)>,
    /// Status flags the architecture leaves undefined for this instruction and these operands.
    pub undefined: u64,
    /// It has a LOCK prefix.
    pub locked: bool,
    /// It has a memory operand (LEA included).
    pub memory: bool,
    /// How many of `bytes` a hypervisor's exit would hand the emulator: all of them mostly,
    /// fewer now and then (the emulator then fetches the rest from guest memory).
    pub exit_bytes: usize,
}

/// The VEX or EVEX prefix of an instruction (see [`vector`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Vex {
    /// EVEX (62) rather than VEX (C4/C5).
    evex: bool,
    /// Opcode map: 1 = 0F, 2 = 0F38, 3 = 0F3A.
    map: u8,
    /// The implied prefix: 0 none, 1 = 66, 2 = F3, 3 = F2.
    pp: u8,
    /// VEX.L, EVEX.L'L.
    l: u8,
    /// VEX.W, EVEX.W.
    w: bool,
    /// The register in vvvv (and EVEX.V'): 0 when the instruction has none (encoded 1111).
    v: u8,
    /// EVEX.aaa: the opmask register.
    aaa: u8,
    /// EVEX.z: zeroing.
    z: bool,
    /// EVEX.b.
    b: bool,
    /// EVEX.R': bit 4 of the ModRM.reg register.
    r_hi: bool,
    /// Bits that compatibility mode ignores, encoded anyway (inverted bits cleared): 1 = VEX.B
    /// / EVEX.B, 2 = vvvv\[3\], 4 = EVEX.R', 8 = EVEX.V'.
    ignored: u8,
}

/// Where the r/m operand ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    Reg(u8),
    Mem(u64),
}

/// Builds one instruction and its state.
struct Gen<'a> {
    rng: &'a mut Rng,
    mode: Mode,
    st: State,
    mem: Vec<(u64, Vec<u8>)>,
    legacy: Vec<u8>,
    mandatory: Option<u8>,
    rex_on: bool,
    rex_w: bool,
    rex_r: bool,
    rex_x: bool,
    rex_b: bool,
    opcode: Vec<u8>,
    /// (mod, reg, rm), low three bits each.
    modrm: Option<(u8, u8, u8)>,
    sib: Option<u8>,
    disp: Vec<u8>,
    /// A RIP-relative operand's target, and whether the sum wraps at 4 GiB (67 prefix).
    rel: Option<(u64, bool)>,
    imm: Vec<u8>,
    undefined: u64,
    locked: bool,
    memory: bool,
    /// Registers the addressing must never use (their values are fixed otherwise).
    hard: u16,
    /// Registers the addressing avoids most of the time (implicit operands).
    soft: u16,
    /// Registers the addressing used.
    addr_used: u16,
    /// The VEX or EVEX prefix, if the instruction has one (REX and the mandatory prefix then
    /// go into it).
    vex: Option<Vex>,
    /// What a disp8 is multiplied by (EVEX: the N of disp8*N), 1 otherwise.
    disp8_scale: u64,
    /// What a vector case's masking does about faulting elements.
    masking: vector::Masking,
    /// Vector cases: also the encodings the decoder is known to get wrong (see
    /// [`vector::generate`]).
    decoder_gaps: bool,
    /// Outside 64-bit mode, memory operands may go through the harness's LDT data segments
    /// (`native::DataSeg`), and compatibility mode may address with 16 bits (the families of
    /// this module; not the vector cases, whose runs describe only the window's edges as not
    /// present).
    data16: bool,
    /// The instruction uses the stack (PUSH, POP): SS is its business, not a memory operand's.
    stack: bool,
}

/// One of the native harness's LDT data segments or the null selector for ES or DS outside
/// 64-bit mode: mostly the writable expand-up one, now and then read-only, expand-down (16- or
/// 32-bit) or null.
pub fn special_data_seg(rng: &mut Rng) -> DataSeg {
    match rng.below(20) {
        0..=11 => DataSeg::Data16,
        12..=14 => DataSeg::ReadOnly16,
        15 | 16 => DataSeg::ExpandDown16,
        17 => DataSeg::ExpandDown32,
        _ => DataSeg::Null,
    }
}

/// One of the native harness's writable LDT data segments for SS outside 64-bit mode: mostly
/// 16-bit ones (stacks of SP), expand-up or expand-down, now and then the 32-bit expand-down
/// one.
pub fn special_stack_seg(rng: &mut Rng) -> DataSeg {
    match rng.below(10) {
        0..=4 => DataSeg::Data16,
        5..=7 => DataSeg::ExpandDown16,
        _ => DataSeg::ExpandDown32,
    }
}

/// Operand-size mask.
pub fn mask(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * u32::from(size))) - 1
    }
}

fn sext(v: u64, size: u8) -> u64 {
    let sh = 64 - 8 * u32::from(size);
    (((v << sh) as i64) >> sh) as u64
}

/// An edge-biased value of `size` bytes (see [`edge_bits`]).
pub fn edge_value(rng: &mut Rng, size: u8) -> u64 {
    edge_bits(rng, size, 22)
}

/// A raw shift or rotate count for an operand of `size` bytes.
fn edge_count(rng: &mut Rng, size: u8) -> u8 {
    let w = 8 * size;
    if rng.chance(20) {
        return rng.byte();
    }
    rng.pick(&[
        0,
        1,
        2,
        3,
        w - 1,
        w,
        w + 1,
        2 * w - 1,
        2 * w,
        7,
        8,
        9,
        15,
        16,
        17,
        31,
        32,
        33,
        63,
        64,
        65,
        96,
        127,
        128,
        255,
    ])
}

impl<'a> Gen<'a> {
    fn new(rng: &'a mut Rng, mode: Mode) -> Gen<'a> {
        let mut st = State::default();
        for r in 0..16 {
            let v = edge_value(rng, 8);
            st.gpr[r] = if mode != Mode::Long64 {
                v & 0xffff_ffff
            } else {
                v
            };
        }
        let mut rflags = 0x2 | (rng.next_u64() & STATUS);
        if rng.chance(50) {
            rflags |= DF;
        }
        if rng.chance(20) {
            rflags |= AC;
        }
        st.rflags = rflags;
        Gen {
            rng,
            mode,
            st,
            mem: Vec::new(),
            legacy: Vec::new(),
            mandatory: None,
            rex_on: false,
            rex_w: false,
            rex_r: false,
            rex_x: false,
            rex_b: false,
            opcode: Vec::new(),
            modrm: None,
            sib: None,
            disp: Vec::new(),
            rel: None,
            imm: Vec::new(),
            undefined: 0,
            locked: false,
            memory: false,
            hard: 0,
            soft: 0,
            addr_used: 0,
            vex: None,
            disp8_scale: 1,
            masking: vector::Masking::None,
            decoder_gaps: false,
            data16: false,
            stack: false,
        }
    }

    fn long(&self) -> bool {
        self.mode == Mode::Long64
    }

    /// 16-bit code ([`Mode::Compat16`]): 66 selects 32-bit operands, 67 32-bit addressing.
    fn code16(&self) -> bool {
        self.mode == Mode::Compat16
    }

    /// Whether operand size `size` (2 or 4; 1 and 8 need none) takes a 66 prefix.
    fn opsize_prefix(&self, size: u8) -> bool {
        if self.code16() { size == 4 } else { size == 2 }
    }

    /// Emits the 67 prefix when address size `asz` is not the mode's default.
    fn addr_prefix(&mut self, asz: u8) {
        let default = match self.mode {
            Mode::Long64 => 8,
            Mode::Compat32 => 4,
            Mode::Compat16 => 2,
        };
        if asz != default {
            self.legacy.push(0x67);
        }
    }

    fn chance(&mut self, pct: u64) -> bool {
        self.rng.chance(pct)
    }

    /// A number in `0..n` for any `n` > 0 (`Rng::below` takes 32-bit bounds).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.rng.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn value(&mut self, size: u8) -> u64 {
        edge_value(self.rng, size)
    }

    /// A random operand size among `sizes` (8 dropped outside 64-bit mode).
    fn pick_size(&mut self, sizes: &[u8]) -> u8 {
        let ok: Vec<u8> = sizes
            .iter()
            .copied()
            .filter(|&s| s != 8 || self.long())
            .collect();
        self.rng.pick(&ok)
    }

    /// Chooses the REX and 66 prefixes for operand size `size` (1 for byte opcodes), with
    /// now and then a prefix the size ignores (66 with REX.W or a byte opcode, REX.W with a
    /// byte opcode).
    fn set_size(&mut self, size: u8) {
        let long = self.long();
        self.rex_on = long && (size == 8 || self.chance(40));
        self.rex_w = size == 8 || (size == 1 && self.rex_on && self.chance(5));
        // Now and then 66 where the size ignores it (a byte opcode, REX.W).
        if self.opsize_prefix(size) || (matches!(size, 1 | 8) && self.chance(3)) {
            self.legacy.push(0x66);
        }
    }

    fn nregs(&self) -> u64 {
        if self.rex_on { 16 } else { 8 }
    }

    /// A register number for an operand (0..16 with REX, 0..8 without).
    fn reg(&mut self) -> u8 {
        self.below(self.nregs()) as u8
    }

    /// A register number that addressing may use: not in `hard`, rarely in `soft`, accepted by
    /// `ok`.
    fn addr_reg(&mut self, ok: impl Fn(u8) -> bool) -> u8 {
        let n = self.nregs() as u8;
        for _ in 0..32 {
            let r = self.below(u64::from(n)) as u8;
            if !ok(r) || self.hard & (1 << r) != 0 {
                continue;
            }
            if self.soft & (1 << r) != 0 && !self.chance(8) {
                continue;
            }
            return r;
        }
        (0..n)
            .find(|&r| ok(r) && self.hard & (1 << r) == 0)
            .expect("an address register")
    }

    /// Sets register `r` as an operand of `size` bytes (AH..BH for 4..7 without REX).
    fn set_reg(&mut self, r: u8, size: u8, v: u64) {
        let (idx, shift) = if size == 1 && !self.rex_on && r >= 4 {
            (usize::from(r - 4), 8)
        } else {
            (usize::from(r), 0)
        };
        let m = mask(size) << shift;
        let g = &mut self.st.gpr[idx];
        *g = (*g & !m) | ((v << shift) & m);
    }

    /// Register `r` as an operand of `size` bytes.
    fn get_reg(&self, r: u8, size: u8) -> u64 {
        if size == 1 && !self.rex_on && r >= 4 {
            (self.st.gpr[usize::from(r - 4)] >> 8) & 0xff
        } else {
            self.st.gpr[usize::from(r)] & mask(size)
        }
    }

    fn modrm_reg(&mut self, field: u8) {
        let (md, _, rm) = self.modrm.unwrap_or((0, 0, 0));
        self.modrm = Some((md, field & 7, rm));
        self.rex_r = field >= 8;
    }

    fn modrm_rm(&mut self, md: u8, rm: u8) {
        let (_, reg, _) = self.modrm.unwrap_or((0, 0, 0));
        self.modrm = Some((md, reg, rm & 7));
    }

    /// Appends an immediate of `n` bytes.
    fn imm(&mut self, n: usize, v: u64) {
        self.imm.extend_from_slice(&v.to_le_bytes()[..n]);
    }

    /// Places bytes in the window's initial memory (the parts on present pages).
    fn put_mem(&mut self, addr: u64, bytes: &[u8]) {
        let mut run: Option<(u64, Vec<u8>)> = None;
        for (i, b) in bytes.iter().enumerate() {
            let a = addr.wrapping_add(i as u64);
            if matches!(page(a), Page::ReadWrite | Page::ReadOnly) {
                match &mut run {
                    Some((start, v)) if *start + v.len() as u64 == a => v.push(*b),
                    _ => {
                        if let Some(r) = run.take() {
                            self.mem.push(r);
                        }
                        run = Some((a, vec![*b]));
                    }
                }
            }
        }
        if let Some(r) = run {
            self.mem.push(r);
        }
    }

    fn put_value(&mut self, addr: u64, size: u8, v: u64) {
        let b = v.to_le_bytes();
        self.put_mem(addr, &b[..usize::from(size)]);
    }

    /// Stores `v` in the r/m operand.
    fn store(&mut self, loc: Loc, size: u8, v: u64) {
        match loc {
            Loc::Reg(r) => self.set_reg(r, size, v),
            Loc::Mem(a) => self.put_value(a, size, v),
        }
    }

    /// The r/m operand's current value (memory: what `put_mem` placed, 0 elsewhere).
    fn load(&self, loc: Loc, size: u8) -> u64 {
        match loc {
            Loc::Reg(r) => self.get_reg(r, size),
            Loc::Mem(a) => {
                let mut v = 0u64;
                for i in 0..u64::from(size) {
                    let addr = a.wrapping_add(i);
                    let byte = self
                        .mem
                        .iter()
                        .rev()
                        .find(|(s, b)| addr >= *s && addr < s + b.len() as u64)
                        .map_or(0, |(s, b)| b[(addr - s) as usize]);
                    v |= u64::from(byte) << (8 * i);
                }
                v
            }
        }
    }

    /// An address to access `size` bytes at: see the module documentation. `canonical_only`
    /// leaves out non-canonical addresses (32-bit addressing).
    fn target(&mut self, size: u64, canonical_only: bool) -> u64 {
        let size = size.max(1);
        let cross = |g: &mut Gen, boundary: u64| {
            if size > 1 {
                boundary - 1 - g.below(size - 1)
            } else {
                boundary - g.below(2)
            }
        };
        let r = self.below(100);
        match r {
            // Ending just before the guard page, or the end of the read-only page: an
            // access wider than the operand faults.
            0..=3 => GUARD_PAGE - size - self.below(8),
            4 => SCRATCH_END - size - self.below(8),
            5..=70 => {
                let span = 0x4000 - size + 1;
                let mut a = if self.chance(15) {
                    // Near an inner page boundary or a cache line.
                    let b = SCRATCH_BASE + 0x1000 * (1 + self.below(3));
                    let b = if self.chance(50) {
                        b + 64 * self.below(8)
                    } else {
                        b
                    };
                    b + self.below(2 * size) - size
                } else {
                    SCRATCH_BASE + self.below(span)
                };
                if size.is_power_of_two() && self.chance(55) {
                    a &= !(size - 1);
                }
                a.clamp(SCRATCH_BASE, GUARD_PAGE - size)
            }
            71..=76 => cross(self, GUARD_PAGE),
            77..=79 => GUARD_PAGE + self.below(0x1000 - size + 1),
            80..=85 => {
                let a = RO_PAGE + self.below(0x1000 - size + 1);
                if size.is_power_of_two() && self.chance(50) {
                    a & !(size - 1)
                } else {
                    a
                }
            }
            86..=87 => cross(self, RO_PAGE),
            88..=89 => cross(self, SCRATCH_END),
            90..=93 => cross(self, SCRATCH_BASE),
            _ if canonical_only || !self.long() => SCRATCH_BASE + self.below(0x4000 - size + 1),
            _ => match self.below(5) {
                0 => 0x0000_8000_0000_0000 + self.below(0x2000),
                1 => 0x8000_0000_0000_0000 | self.rng.next_u64(),
                2 => 0xffff_7fff_ffff_f000 + self.below(0x1000 - size + 1),
                // Straddling the end of the lower canonical half, and the start of the upper
                // (the canonical pages there are the kernel's: present, not user-accessible,
                // which the test host cannot express; a single byte stays non-canonical).
                3 if size > 1 => cross(self, 0x0000_8000_0000_0000),
                3 => 0x0000_8000_0000_0000,
                _ if size > 1 => cross(self, 0xffff_8000_0000_0000),
                _ => 0xffff_7fff_ffff_ffff,
            },
        }
    }

    /// The address size of a memory operand: 8 in 64-bit mode (4 with a 67 prefix now and
    /// then), 4 in 32-bit compatibility mode, 2 or 4 (67) in 16-bit code.
    fn pick_asz(&mut self) -> u8 {
        let mode = self.mode;
        match mode {
            Mode::Long64 if self.chance(88) => 8,
            Mode::Compat16 if self.chance(50) => 2,
            Mode::Compat32 if self.data16 && self.chance(12) => 2,
            _ => 4,
        }
    }

    /// A segment override now and then (ES, CS, SS and DS are flat in 64-bit and compatibility
    /// mode, but a write through CS is #GP in compatibility mode; 16-bit code's CS is its own
    /// segment, so not CS there).
    fn maybe_segment(&mut self) {
        if self.chance(6) {
            let s = if self.code16() {
                self.rng.pick(&[0x26, 0x36, 0x3e])
            } else {
                self.rng.pick(&[0x26, 0x2e, 0x36, 0x3e])
            };
            self.legacy.push(s);
        }
    }

    /// Outside 64-bit mode, now and then one of the LDT's selectors (or null) in ES and DS, for
    /// an instruction that reads the selectors but addresses nothing through them.
    fn maybe_special_es_ds(&mut self) {
        if !self.long() && self.chance(40) {
            self.st.es = special_data_seg(self.rng);
            self.st.ds = special_data_seg(self.rng);
        }
    }

    /// The segment of an access to linear address `t` with address size `asz`, and the
    /// effective address that reaches it: in 64-bit mode now and then FS or GS with a random
    /// base (the linear address is base + effective address, not truncated), else one of the
    /// flat segments now and then ([`Gen::maybe_segment`]).
    fn segment_ea(&mut self, t: u64, asz: u8) -> u64 {
        if self.data16 && !self.long() && (asz == 2 || self.chance(10)) && self.chance(60) {
            // One of the harness's LDT data segments in DS, ES or SS (named by an override, so BP
            // and ESP bases do not make it SS): based below the window, limits inside it
            // (#GP past them), read-only (#GP on writes), expand-down; or the null selector.
            let kind = special_data_seg(self.rng);
            if kind.fits_ss() && !self.stack && self.chance(25) {
                // SS, whose limit and expand-down faults are #SS, not #GP.
                self.legacy.push(0x36);
                self.st.ss = kind;
            } else if self.chance(50) {
                self.legacy.push(0x3e);
                self.st.ds = kind;
            } else {
                self.legacy.push(0x26);
                self.st.es = kind;
            }
            return t.wrapping_sub(kind.base()) & mask(asz);
        }
        if asz == 2 {
            // 16-bit addressing reaches only the first 64 KiB of the flat segments, where
            // nothing is mapped: FS or GS with a base below the target.
            let gs = self.chance(50);
            self.legacy.push(if gs { 0x65 } else { 0x64 });
            let ea = match self.below(4) {
                0 => 0,
                1 => 0xffff - self.below(16),
                _ => self.below(0x1_0000),
            };
            let base = t - ea;
            if gs {
                self.st.gs_base = base;
            } else {
                self.st.fs_base = base;
            }
            return ea;
        }
        if !self.long() || !self.chance(6) {
            self.maybe_segment();
            return t & mask(asz);
        }
        let gs = self.chance(50);
        self.legacy.push(if gs { 0x65 } else { 0x64 });
        let canonical = |v: u64| ((v << 16) as i64 >> 16) as u64;
        let base = if asz == 4 {
            // base + a 32-bit offset must reach t.
            match self.below(3) {
                0 => t,
                1 => t.wrapping_sub(self.below(0x1_0000)),
                _ => t.wrapping_sub(self.rng.next_u64() & 0xffff_ffff),
            }
        } else {
            match self.below(4) {
                0 => 0,
                1 => t.wrapping_sub(self.below(0x1_0000)) & 0x0000_7fff_ffff_ffff,
                2 => self.value(4),
                _ => canonical(self.rng.next_u64()),
            }
        };
        if gs {
            self.st.gs_base = base;
        } else {
            self.st.fs_base = base;
        }
        t.wrapping_sub(base) & mask(asz)
    }

    /// Sets address register `r` so that it contributes `v` (the upper half of a 32-bit
    /// address register is garbage in 64-bit mode now and then).
    fn set_addr(&mut self, r: u8, v: u64, asz: u8) {
        let v = if asz == 2 {
            // The upper half of a 16-bit address register is ignored.
            let hi = if self.chance(40) {
                self.rng.next_u64() & 0xffff_0000
            } else {
                0
            };
            (v & 0xffff) | hi
        } else if asz == 4 {
            let hi = if self.long() && self.chance(40) {
                self.rng.next_u64() << 32
            } else {
                0
            };
            (v & 0xffff_ffff) | hi
        } else {
            v
        };
        self.st.gpr[usize::from(r)] = v;
        self.addr_used |= 1 << r;
    }

    fn disp8(&mut self) -> i64 {
        match self.below(4) {
            0 => 0,
            1 => self.rng.pick(&[-128, 127, -1, 1]),
            _ => i64::from(self.rng.byte() as i8),
        }
    }

    fn disp32(&mut self) -> i64 {
        match self.below(5) {
            0 => 0,
            1 => self
                .rng
                .pick(&[i64::from(i32::MIN), i64::from(i32::MAX), -1, 1]),
            2 => i64::from(self.rng.byte() as i8),
            _ => i64::from(self.rng.next_u64() as i32),
        }
    }

    fn index_value(&mut self, asz: u8) -> u64 {
        match self.below(6) {
            0 => 0,
            1 => self.below(64),
            2 => (self.below(64) + 1).wrapping_neg(),
            3 => self.rng.next_u64() & 0xffff_ffff,
            _ if asz == 8 => self.rng.next_u64(),
            _ => self.below(0x1_0000),
        }
    }

    /// The displacement a disp8 (`md` = 1) stands for: `d` times [`Gen::disp8_scale`].
    fn scaled(&self, d: i64, md: u8) -> i64 {
        if md == 1 {
            d.wrapping_mul(self.disp8_scale as i64)
        } else {
            d
        }
    }

    fn push_disp(&mut self, d: i64, n: usize) {
        self.disp.extend_from_slice(&(d as u64).to_le_bytes()[..n]);
    }

    /// Encodes a memory r/m operand whose effective address is `ea` with address size `asz`
    /// (emits the 67 prefix in 64-bit mode) and sets the registers it uses.
    fn modrm_mem(&mut self, ea: u64, asz: u8) {
        self.memory = true;
        let long = self.long();
        self.addr_prefix(asz);
        if asz == 2 {
            self.modrm_mem16(ea);
            return;
        }
        let am = mask(asz);
        let ea = ea & am;
        let fits32 = |v: u64| asz == 4 || (v as i64) == i64::from(v as i32);
        let mut form = self.below(10);
        // RIP-relative: the displacement reaches `ea` from INSN_ADDR when ea < 2 GiB.
        if (form == 7 && !fits32(ea)) || (form == 9 && (!long || (asz == 8 && ea >= 1 << 31))) {
            form = 0;
        }
        match form {
            // [base]
            0 => {
                let b = self.addr_reg(|r| r & 7 != 4 && r & 7 != 5);
                self.modrm_rm(0, b);
                self.rex_b = b >= 8;
                self.set_addr(b, ea, asz);
            }
            // [base + disp8/32]
            1 | 2 => {
                let b = self.addr_reg(|r| r & 7 != 4);
                let (md, d) = if form == 1 {
                    (1, self.disp8())
                } else {
                    (2, self.disp32())
                };
                self.modrm_rm(md, b);
                self.rex_b = b >= 8;
                self.push_disp(d, if md == 1 { 1 } else { 4 });
                let d = self.scaled(d, md);
                self.set_addr(b, ea.wrapping_sub(d as u64) & am, asz);
            }
            // [base + index * scale (+ disp)], base and index sometimes the same register
            3..=5 => {
                let md = (form - 3) as u8;
                let b = self.addr_reg(|r| md != 0 || r & 7 != 5);
                // (Not with a scaled disp8: the displacement that makes up the difference is
                // small but arbitrary.)
                let same =
                    md != 0 && b != 4 && self.chance(6) && (md != 1 || self.disp8_scale == 1);
                let i = if same {
                    b
                } else {
                    self.addr_reg(|r| r != 4 && r != b)
                };
                let sc = self.below(4) as u8;
                let s = 1u64 << sc;
                self.modrm_rm(md, 4);
                self.sib = Some((sc << 6) | ((i & 7) << 3) | (b & 7));
                self.rex_b = b >= 8;
                self.rex_x = i >= 8;
                if same {
                    let k = self.below(4);
                    let v = (ea / (1 + s)).wrapping_sub(k) & am;
                    let d = ea.wrapping_sub(v.wrapping_mul(1 + s)) & am;
                    self.push_disp(d as i64, if md == 1 { 1 } else { 4 });
                    self.set_addr(b, v, asz);
                } else {
                    let d = match md {
                        0 => 0,
                        1 => self.disp8(),
                        _ => self.disp32(),
                    };
                    if md != 0 {
                        self.push_disp(d, if md == 1 { 1 } else { 4 });
                    }
                    let d = self.scaled(d, md);
                    let iv = self.index_value(asz) & am;
                    self.set_addr(i, iv, asz);
                    let bv = ea.wrapping_sub(iv.wrapping_mul(s)).wrapping_sub(d as u64) & am;
                    self.set_addr(b, bv, asz);
                }
            }
            // [index * scale + disp32]
            6 => {
                let i = self.addr_reg(|r| r != 4);
                let sc = self.below(4) as u8;
                let s = 1u64 << sc;
                self.modrm_rm(0, 4);
                self.sib = Some((sc << 6) | ((i & 7) << 3) | 5);
                self.rex_x = i >= 8;
                self.rex_b = self.rex_on && self.chance(30); // ignored: no base
                let (iv, d) = if asz == 4 {
                    let iv = self.index_value(4) & am;
                    (iv, ea.wrapping_sub(iv.wrapping_mul(s)) & am)
                } else {
                    let k = self.below(1 << 20).wrapping_sub(1 << 19);
                    let iv = (ea >> sc).wrapping_sub(k);
                    (iv, ea.wrapping_sub(iv.wrapping_mul(s)))
                };
                self.push_disp(d as i64, 4);
                self.set_addr(i, iv, asz);
            }
            // [disp32]
            7 => {
                if long {
                    self.modrm_rm(0, 4);
                    self.sib = Some((self.below(4) as u8) << 6 | (4 << 3) | 5);
                    self.rex_b = self.rex_on && self.chance(30);
                } else {
                    self.modrm_rm(0, 5);
                }
                self.push_disp(ea as i64, 4);
            }
            // [base] through a SIB without index (RSP and R12 need one)
            8 => {
                let md = self.below(3) as u8;
                let b = self.addr_reg(|r| md != 0 || r & 7 != 5);
                self.modrm_rm(md, 4);
                self.sib = Some((self.below(4) as u8) << 6 | (4 << 3) | (b & 7));
                self.rex_b = b >= 8;
                let d = match md {
                    0 => 0,
                    1 => self.disp8(),
                    _ => self.disp32(),
                };
                if md != 0 {
                    self.push_disp(d, if md == 1 { 1 } else { 4 });
                }
                let d = self.scaled(d, md);
                self.set_addr(b, ea.wrapping_sub(d as u64) & am, asz);
            }
            // RIP- (EIP-) relative
            _ => {
                self.modrm_rm(0, 5);
                self.rex_b = self.rex_on && self.chance(30); // ignored
                self.push_disp(0, 4);
                self.rel = Some((ea, asz == 4));
            }
        }
    }

    /// The r/m operand of an instruction with ModRM: a register (`mem_pct` percent of the
    /// time memory instead) of `size` bytes, or memory of `access` bytes at a fresh target
    /// holding a random value. Register operands of the instruction must be set before (the
    /// addressing registers overwrite them when they coincide).
    /// [`Gen::modrm_mem`] with 16-bit addressing: BX or BP, plus SI or DI, plus a
    /// displacement (8 bits sign-extended, or 16), the sum wrapped to 16 bits; a 16-bit
    /// displacement alone with mod 0 and r/m 6.
    fn modrm_mem16(&mut self, ea: u64) {
        // The base and index registers of each r/m.
        const FORMS: [(Option<u8>, Option<u8>); 8] = [
            (Some(3), Some(6)),
            (Some(3), Some(7)),
            (Some(5), Some(6)),
            (Some(5), Some(7)),
            (None, Some(6)),
            (None, Some(7)),
            (Some(5), None),
            (Some(3), None),
        ];
        let ea = ea & 0xffff;
        let mut pick = (0u8, 6u8);
        for _ in 0..32 {
            let (md, rm) = (self.below(3) as u8, self.below(8) as u8);
            if md == 0 && rm == 6 {
                pick = (md, rm);
                break;
            }
            let (b, i) = FORMS[usize::from(rm)];
            let regs = b.into_iter().chain(i).fold(0u16, |m, r| m | 1 << r);
            if regs & self.hard != 0 || (regs & self.soft != 0 && !self.chance(8)) {
                continue;
            }
            pick = (md, rm);
            break;
        }
        let (md, rm) = pick;
        self.modrm_rm(md, rm);
        if md == 0 && rm == 6 {
            self.push_disp(ea as i64, 2);
            return;
        }
        let d = match md {
            0 => 0,
            1 => self.disp8() as u64,
            _ => self.below(0x1_0000),
        };
        if md != 0 {
            self.push_disp(d as i64, usize::from(md));
        }
        let (b, i) = FORMS[usize::from(rm)];
        let mut rest = ea.wrapping_sub(d);
        if let (Some(b), Some(i)) = (b, i) {
            let iv = self.index_value(2) & 0xffff;
            self.set_addr(i, iv, 2);
            rest = rest.wrapping_sub(iv);
            self.set_addr(b, rest, 2);
        } else if let Some(r) = b.or(i) {
            self.set_addr(r, rest, 2);
        }
    }

    fn rm(&mut self, size: u8, access: u64, mem_pct: u64) -> Loc {
        if self.chance(mem_pct) {
            let asz = self.pick_asz();
            let t = self.target(access, asz == 4);
            let ea = self.segment_ea(t, asz);
            self.modrm_mem(ea, asz);
            let mut bytes = vec![0u8; access as usize];
            for chunk in bytes.chunks_mut(8) {
                let n = chunk.len() as u8;
                let v = self.value(n.min(8));
                chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
            }
            self.put_mem(t, &bytes);
            Loc::Mem(t)
        } else {
            let r = self.reg();
            self.modrm_rm(3, r);
            self.rex_b = r >= 8;
            let v = self.value(size);
            self.set_reg(r, size, v);
            Loc::Reg(r)
        }
    }

    /// A register operand in the ModRM reg field, with a random value.
    fn reg_operand(&mut self, size: u8) -> u8 {
        let r = self.reg();
        self.modrm_reg(r);
        let v = self.value(size);
        self.set_reg(r, size, v);
        r
    }

    /// A LOCK prefix now and then on a memory form that allows one (and rarely on the
    /// register form, which is #UD).
    fn maybe_lock(&mut self, loc: Loc) {
        let pct = if matches!(loc, Loc::Mem(_)) { 25 } else { 2 };
        if self.chance(pct) {
            self.lock();
        }
    }

    /// A LOCK prefix, rarely, on a form that does not allow one (#UD).
    fn bad_lock(&mut self) {
        if self.chance(1) {
            self.lock();
        }
    }

    fn lock(&mut self) {
        self.legacy.push(0xf0);
        self.locked = true;
    }

    /// The bytes of the VEX (C5 when it can, now and then C4 anyway) or EVEX prefix `v`, with
    /// the REX bits of the instruction (ModRM.reg bit 3, SIB index or r/m bit 4, base or r/m
    /// bit 3).
    fn vex_prefix(&mut self, v: Vex) -> Vec<u8> {
        let inv = |b: bool| u8::from(!b);
        let (r, x, b) = (self.rex_r, self.rex_x, self.rex_b);
        let ign = |bit: u8| v.ignored & bit != 0;
        let vvvv = (!v.v & 0xf) & if ign(2) { 0x7 } else { 0xf };
        if v.evex {
            let p0 = inv(r) << 7
                | inv(x) << 6
                | (inv(b) & u8::from(!ign(1))) << 5
                | (inv(v.r_hi) & u8::from(!ign(4))) << 4
                | v.map;
            let p1 = u8::from(v.w) << 7 | vvvv << 3 | 0x4 | v.pp;
            let p2 = u8::from(v.z) << 7
                | v.l << 5
                | u8::from(v.b) << 4
                | (inv(v.v & 0x10 != 0) & u8::from(!ign(8))) << 3
                | v.aaa;
            return vec![0x62, p0, p1, p2];
        }
        let p = vvvv << 3 | v.l << 2 | v.pp;
        // (Compatibility mode: C5 with vvvv[3] clear is LDS.)
        if !x && !b && !v.w && v.map == 1 && v.ignored == 0 && self.chance(70) {
            vec![0xc5, inv(r) << 7 | p]
        } else {
            let b1 = inv(r) << 7 | inv(x) << 6 | (inv(b) & u8::from(!ign(1))) << 5 | v.map;
            vec![0xc4, b1, u8::from(v.w) << 7 | p]
        }
    }

    /// Assembles the instruction; `None` when it would be longer than 15 bytes even without
    /// its optional prefixes (the flat segment overrides).
    fn finish<F>(mut self, family: F) -> Option<Generated<F>> {
        let mut bytes = Vec::with_capacity(15);
        // Legacy prefixes in random order, the mandatory prefix (F3) usually last.
        let mut legacy = core::mem::take(&mut self.legacy);
        for i in (1..legacy.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            legacy.swap(i, j);
        }
        if let Some(m) = self.mandatory {
            let at = if self.chance(80) {
                legacy.len()
            } else {
                self.below(legacy.len() as u64 + 1) as usize
            };
            legacy.insert(at, m);
        }
        let vex = self.vex;
        let vex = vex.map(|v| self.vex_prefix(v));
        let prefix = match &vex {
            Some(v) => v.len(),
            None => usize::from(self.rex_on),
        };
        let rest = prefix
            + self.opcode.len()
            + usize::from(self.modrm.is_some())
            + usize::from(self.sib.is_some())
            + self.disp.len()
            + self.imm.len();
        while legacy.len() + rest > 15 {
            let at = legacy
                .iter()
                .position(|b| matches!(b, 0x26 | 0x2e | 0x36 | 0x3e))?;
            legacy.remove(at);
        }
        // Now and then a REX prefix that a legacy prefix after it makes the processor ignore.
        if vex.is_none()
            && self.long()
            && !legacy.is_empty()
            && legacy.len() + rest < 15
            && self.chance(3)
        {
            let at = self.below(legacy.len() as u64) as usize;
            legacy.insert(at, 0x40 | self.below(16) as u8);
        }
        bytes.extend_from_slice(&legacy);
        if let Some(v) = vex {
            bytes.extend_from_slice(&v);
        } else if self.rex_on {
            assert!(self.long());
            bytes.push(
                0x40 | u8::from(self.rex_w) << 3
                    | u8::from(self.rex_r) << 2
                    | u8::from(self.rex_x) << 1
                    | u8::from(self.rex_b),
            );
        } else {
            assert!(!(self.rex_w || self.rex_r || self.rex_x || self.rex_b));
        }
        bytes.extend_from_slice(&self.opcode);
        if let Some((md, r, rm)) = self.modrm {
            bytes.push((md << 6) | (r << 3) | rm);
        }
        if let Some(s) = self.sib {
            bytes.push(s);
        }
        let disp_at = bytes.len();
        bytes.extend_from_slice(&self.disp);
        bytes.extend_from_slice(&self.imm);
        if let Some((target, wrap)) = self.rel {
            let next = INSN_ADDR + bytes.len() as u64;
            let d = target.wrapping_sub(next);
            assert!(
                wrap || (d as i64) == i64::from(d as i32),
                "RIP-relative reach"
            );
            bytes[disp_at..disp_at + 4].copy_from_slice(&(d as u32).to_le_bytes());
        }
        assert!(bytes.len() <= 15, "{bytes:02x?} is too long");
        if self.mode != Mode::Long64 {
            for g in &mut self.st.gpr[..8] {
                *g &= 0xffff_ffff;
            }
        }
        let exit_bytes = if self.chance(10) {
            self.below(bytes.len() as u64) as usize
        } else {
            bytes.len()
        };
        Some(Generated {
            family,
            mode: self.mode,
            exit_bytes,
            bytes,
            state: self.st,
            mem: self.mem,
            undefined: self.undefined,
            locked: self.locked,
            memory: self.memory,
        })
    }
}

/// Generates one case of `family` in `mode`.
pub fn generate(rng: &mut Rng, family: Family, mode: Mode) -> Generated {
    loop {
        if let Some(g) = try_generate(rng, family, mode) {
            return g;
        }
    }
}

fn try_generate(rng: &mut Rng, family: Family, mode: Mode) -> Option<Generated> {
    let mut g = Gen::new(rng, mode);
    g.data16 = true;
    match family {
        Family::Mov => mov(&mut g),
        Family::Movx => movx(&mut g),
        Family::Alu => alu(&mut g),
        Family::Test => test(&mut g),
        Family::IncDec => inc_dec(&mut g),
        Family::NegNot => neg_not(&mut g),
        Family::Xchg => xchg(&mut g),
        Family::Xadd => xadd(&mut g),
        Family::Cmpxchg => cmpxchg(&mut g),
        Family::Cmpxchg8b => cmpxchg8b(&mut g),
        Family::Bt => bt(&mut g),
        Family::Shift => shift(&mut g),
        Family::Shld => shld(&mut g),
        Family::MulDiv => muldiv(&mut g),
        Family::Setcc => setcc(&mut g),
        Family::Cmovcc => cmovcc(&mut g),
        Family::Movbe => movbe(&mut g),
        Family::BitScan => bitscan(&mut g),
        Family::PushPop => push_pop(&mut g),
        Family::Xlat => xlat(&mut g),
        Family::Lea => lea(&mut g),
        Family::Convert => convert(&mut g),
        Family::LahfSahf => lahf_sahf(&mut g),
        Family::FlagOps => flag_ops(&mut g),
        Family::Undefined => undefined(&mut g),
    }
    // Rarely a LOCK prefix on any form: #UD unless a lockable form with a memory destination.
    if !g.locked {
        g.bad_lock();
    }
    g.finish(family)
}

/// The immediate of an instruction whose immediate is `size` bytes but at most 4 (iz).
fn imm_z(size: u8) -> usize {
    usize::from(size.min(4))
}

const MEM_PCT: u64 = 65;

fn mov(g: &mut Gen) {
    if g.chance(8) {
        mov_from_sreg(g);
        return;
    }
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    let w = u8::from(size != 1);
    match g.below(10) {
        // 88/89: r/m <- r; 8A/8B: r <- r/m
        0..=2 => {
            let load = g.chance(50);
            g.opcode = vec![0x88 | w | if load { 2 } else { 0 }];
            g.reg_operand(size);
            g.rm(size, u64::from(size), MEM_PCT);
        }
        // C6/C7 /0: r/m <- imm
        3 | 4 => {
            g.opcode = vec![0xc6 | w];
            g.modrm_reg(0);
            g.rm(size, u64::from(size), MEM_PCT);
            let n = imm_z(size);
            let v = g.value(n as u8);
            g.imm(n, v);
        }
        // B0+r / B8+r: r <- imm (imm64 with REX.W)
        5 | 6 => {
            let r = g.reg();
            g.rex_b = r >= 8;
            g.opcode = vec![if size == 1 { 0xb0 } else { 0xb8 } + (r & 7)];
            let v = g.value(size);
            g.imm(usize::from(size), v);
        }
        // A0-A3: AL/eAX <-> moffs
        _ => {
            let store = g.chance(50);
            g.opcode = vec![0xa0 | w | if store { 2 } else { 0 }];
            let asz = g.pick_asz();
            g.addr_prefix(asz);
            let t = g.target(u64::from(size), asz == 4);
            let ea = g.segment_ea(t, asz);
            g.imm(usize::from(asz), ea);
            g.memory = true;
            let v = g.value(size);
            g.put_value(t, size, v);
        }
    }
}

/// 8C /r: MOV r/m, Sreg. A register takes the selector zero-extended to the operand size,
/// memory its two bytes whatever the operand size; reg 6 and 7 name no segment register (#UD).
fn mov_from_sreg(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![0x8c];
    let sreg = if g.chance(3) {
        6 + g.below(2)
    } else {
        g.below(6)
    };
    g.modrm_reg(sreg as u8);
    // With a memory destination ES and DS are only what `segment_ea` picks (the address
    // depends on them).
    if matches!(g.rm(size, 2, MEM_PCT), Loc::Reg(_)) {
        g.maybe_special_es_ds();
    }
}

fn movx(g: &mut Gen) {
    let form = if g.long() { g.below(5) } else { g.below(4) };
    if form == 4 {
        // MOVSXD r, r/m32 (r16 with 66, r32 without REX.W: no sign extension)
        let size = g.pick_size(&[2, 4, 8, 8, 8]);
        g.set_size(size);
        g.opcode = vec![0x63];
        g.reg_operand(size);
        let src = size.min(4);
        g.rm(src, u64::from(src), MEM_PCT);
        return;
    }
    let src = if form & 1 == 0 { 1 } else { 2 };
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let base = if form < 2 { 0xb6 } else { 0xbe };
    g.opcode = vec![0x0f, base | (src - 1)];
    g.reg_operand(size);
    g.rm(src, u64::from(src), MEM_PCT);
}

fn alu(g: &mut Gen) {
    let op = g.below(8) as u8;
    if op >= 4 && op != 5 && op != 7 {
        g.undefined = AF; // AND OR XOR
    }
    if op == 1 {
        g.undefined = AF;
    }
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    let w = u8::from(size != 1);
    let lockable = op != 7;
    match g.below(10) {
        // op r/m, r / op r, r/m
        0..=3 => {
            let load = g.chance(40);
            g.opcode = vec![(op << 3) | w | if load { 2 } else { 0 }];
            g.reg_operand(size);
            let loc = g.rm(size, u64::from(size), MEM_PCT);
            if !load && lockable {
                g.maybe_lock(loc);
            }
        }
        // op AL/eAX, imm
        4 => {
            g.opcode = vec![(op << 3) | 4 | w];
            let v = g.value(size);
            g.set_reg(0, size, v);
            let n = if size == 1 { 1 } else { imm_z(size) };
            let i = g.value(n as u8);
            g.imm(n, i);
        }
        // 80/81/83 (82 in compatibility mode)
        _ => {
            let (opc, n) = if size == 1 {
                let opc = if !g.long() && g.chance(20) {
                    0x82
                } else {
                    0x80
                };
                (opc, 1)
            } else if g.chance(50) {
                (0x83, 1)
            } else {
                (0x81, imm_z(size))
            };
            g.opcode = vec![opc];
            g.modrm_reg(op);
            let loc = g.rm(size, u64::from(size), MEM_PCT);
            if lockable {
                g.maybe_lock(loc);
            }
            let i = g.value(n as u8);
            g.imm(n, i);
        }
    }
}

fn test(g: &mut Gen) {
    g.undefined = AF;
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    let w = u8::from(size != 1);
    match g.below(3) {
        0 => {
            g.opcode = vec![0x84 | w];
            g.reg_operand(size);
            g.rm(size, u64::from(size), MEM_PCT);
        }
        1 => {
            g.opcode = vec![0xa8 | w];
            let v = g.value(size);
            g.set_reg(0, size, v);
            let n = imm_z(size);
            let i = g.value(n as u8);
            g.imm(n, i);
        }
        _ => {
            g.opcode = vec![0xf6 | w];
            g.modrm_reg(0);
            g.rm(size, u64::from(size), MEM_PCT);
            let n = imm_z(size);
            let i = g.value(n as u8);
            g.imm(n, i);
        }
    }
}

fn inc_dec(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    let dec = g.chance(50);
    if !g.long() && size != 1 && g.chance(30) {
        // 40+r / 48+r
        g.set_size(size);
        let r = g.reg();
        g.opcode = vec![if dec { 0x48 } else { 0x40 } + r];
        let v = g.value(size);
        g.set_reg(r, size, v);
        return;
    }
    g.set_size(size);
    g.opcode = vec![if size == 1 { 0xfe } else { 0xff }];
    g.modrm_reg(u8::from(dec));
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    g.maybe_lock(loc);
}

fn neg_not(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![if size == 1 { 0xf6 } else { 0xf7 }];
    let neg = g.chance(50);
    g.modrm_reg(if neg { 3 } else { 2 });
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    g.maybe_lock(loc);
}

fn xchg(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    if size != 1 && g.chance(30) {
        // 90+r: xchg eAX, r (not 90 itself, a NOP, unless REX.B makes it R8)
        g.set_size(size);
        let mut r = g.reg();
        if r == 0 {
            r = if g.rex_on { 8 } else { 1 + g.below(7) as u8 };
        }
        g.rex_b = r >= 8;
        g.opcode = vec![0x90 + (r & 7)];
        let (a, b) = (g.value(size), g.value(size));
        g.set_reg(0, size, a);
        g.set_reg(r, size, b);
        return;
    }
    g.set_size(size);
    g.opcode = vec![0x86 | u8::from(size != 1)];
    g.reg_operand(size);
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    g.maybe_lock(loc);
}

fn xadd(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![0x0f, 0xc0 | u8::from(size != 1)];
    g.reg_operand(size);
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    g.maybe_lock(loc);
}

fn cmpxchg(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![0x0f, 0xb0 | u8::from(size != 1)];
    g.soft = 1 << reg::RAX;
    let a = g.value(size);
    g.set_reg(0, size, a);
    g.reg_operand(size);
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    if g.chance(50) {
        // Equal: the destination takes the source.
        let a = g.get_reg(0, size);
        g.store(loc, size, a);
    }
    g.maybe_lock(loc);
}

fn cmpxchg8b(g: &mut Gen) {
    let wide = g.long() && g.chance(50);
    g.set_size(if wide { 8 } else { 4 });
    g.opcode = vec![0x0f, 0xc7];
    g.modrm_reg(1);
    g.soft = 0xf; // RAX RCX RDX RBX
    let size = if wide { 16 } else { 8 };
    let asz = g.pick_asz();
    let mut t = g.target(size, asz == 4);
    // Mostly 16-byte aligned, unless that would move a straddling access into the canonical
    // page below the non-canonical hole.
    if wide && g.chance(70) && (t & !15) >> 12 != 0x7_ffff_ffff {
        t &= !15;
    }
    let ea = g.segment_ea(t, asz);
    g.modrm_mem(ea, asz);
    let half = if wide { 8 } else { 4 };
    let (lo, hi) = if g.chance(50) {
        (g.get_reg(0, half), g.get_reg(2, half))
    } else {
        (g.value(half), g.value(half))
    };
    g.put_value(t, half, lo);
    g.put_value(t + u64::from(half), half, hi);
    if g.chance(30) {
        g.legacy.push(0xf0);
        g.locked = true;
    }
}

fn bt(g: &mut Gen) {
    g.undefined = OF | SF | AF | PF;
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let op = g.below(4) as u8; // BT BTS BTR BTC
    let bits = 8 * u64::from(size);
    if g.chance(35) {
        // 0F BA /4-7 ib
        g.opcode = vec![0x0f, 0xba];
        g.modrm_reg(4 + op);
        let loc = g.rm(size, u64::from(size), MEM_PCT);
        if op != 0 {
            g.maybe_lock(loc);
        }
        let i = if g.chance(50) {
            g.below(bits)
        } else {
            u64::from(g.rng.byte())
        };
        g.imm(1, i);
        return;
    }
    g.opcode = vec![0x0f, [0xa3, 0xab, 0xb3, 0xbb][usize::from(op)]];
    let r = g.reg();
    g.modrm_reg(r);
    if !g.chance(MEM_PCT) {
        let v = g.value(size);
        g.set_reg(r, size, v);
        let rm = g.reg();
        g.modrm_rm(3, rm);
        g.rex_b = rm >= 8;
        if rm != r {
            let v = g.value(size);
            g.set_reg(rm, size, v);
        }
        return;
    }
    // Memory: the bit offset in the register reaches beyond the operand.
    let asz = g.pick_asz();
    let t = g.target(u64::from(size), asz == 4);
    let off = match g.below(6) {
        0 => g.below(bits),
        1 => g.below(8 * 0x1000),
        2 => g.below(8 * 0x1000).wrapping_neg(),
        _ => g.value(size),
    } & mask(size);
    g.set_reg(r, size, off);
    let soff = sext(off, size) as i64;
    let delta = (soff >> (3 + size.trailing_zeros())) * i64::from(size);
    g.hard = 1 << r;
    let ea = g.segment_ea(t, asz);
    g.modrm_mem(ea.wrapping_sub(delta as u64), asz);
    let v = g.value(size);
    g.put_value(t, size, v);
    if op != 0 {
        g.maybe_lock(Loc::Mem(t));
    }
}

/// The flags a shift or rotate leaves undefined for a raw count.
fn shift_undefined(op: u8, size: u8, count: u8) -> u64 {
    let masked = if size == 8 { count & 63 } else { count & 31 };
    if masked == 0 {
        return 0;
    }
    let of = if masked > 1 { OF } else { 0 };
    match op {
        0..=3 => of,
        _ => of | AF,
    }
}

fn shift(g: &mut Gen) {
    let size = g.pick_size(&[1, 2, 4, 8]);
    g.set_size(size);
    let w = u8::from(size != 1);
    let op = if g.chance(4) {
        6
    } else {
        g.rng.pick(&[0, 1, 2, 3, 4, 5, 7])
    };
    g.soft = 1 << reg::RCX;
    let count = match g.below(3) {
        0 => {
            g.opcode = vec![0xc0 | w];
            let c = edge_count(g.rng, size);
            g.imm.push(c);
            c
        }
        1 => {
            g.opcode = vec![0xd0 | w];
            1
        }
        _ => {
            g.opcode = vec![0xd2 | w];
            let c = edge_count(g.rng, size);
            g.set_reg(1, 1, u64::from(c));
            c
        }
    };
    g.modrm_reg(op);
    g.rm(size, u64::from(size), MEM_PCT);
    let count = if g.opcode[0] & 0xfe == 0xd2 {
        g.get_reg(1, 1) as u8 // CL after the addressing registers (RCX may be one)
    } else {
        count
    };
    g.undefined = shift_undefined(op, size, count);
}

fn shld(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let right = g.chance(50);
    let cl = g.chance(50);
    g.opcode = vec![0x0f, (if right { 0xac } else { 0xa4 }) | u8::from(cl)];
    g.soft = 1 << reg::RCX;
    let c = edge_count(g.rng, size);
    if cl {
        g.set_reg(1, 1, u64::from(c));
    }
    g.reg_operand(size);
    g.rm(size, u64::from(size), MEM_PCT);
    let count = if cl { g.get_reg(1, 1) as u8 } else { c };
    if !cl {
        g.imm.push(c);
    }
    let masked = if size == 8 { count & 63 } else { count & 31 };
    g.undefined = if masked == 0 {
        0
    } else if size == 2 && masked > 16 {
        STATUS
    } else if masked > 1 {
        OF | AF
    } else {
        AF
    };
}

/// Sets the accumulator of MUL/DIV: AX = hi:lo for bytes, else rDX:rAX.
fn set_acc(g: &mut Gen, size: u8, lo: u64, hi: u64) {
    if size == 1 {
        let a = &mut g.st.gpr[reg::RAX];
        *a = (*a & !0xffff) | ((hi & 0xff) << 8) | (lo & 0xff);
    } else {
        g.set_reg(reg::RAX as u8, size, lo);
        g.set_reg(reg::RDX as u8, size, hi);
    }
}

fn muldiv(g: &mut Gen) {
    g.soft = (1 << reg::RAX) | (1 << reg::RDX);
    match g.below(10) {
        // F6/F7 /4-7
        0..=6 => {
            let size = g.pick_size(&[1, 2, 4, 8]);
            g.set_size(size);
            let op = 4 + g.below(4) as u8;
            g.opcode = vec![if size == 1 { 0xf6 } else { 0xf7 }];
            g.modrm_reg(op);
            let (lo, hi) = (g.value(size), g.value(size));
            set_acc(g, size, lo, hi);
            let loc = g.rm(size, u64::from(size), MEM_PCT);
            if op < 6 {
                g.undefined = SF | ZF | AF | PF;
                return;
            }
            g.undefined = STATUS;
            // Mostly divisions that do not overflow, unless the divisor is (part of) the
            // accumulator or the accumulator addresses the divisor.
            let free = match loc {
                Loc::Mem(_) => g.addr_used & ((1 << reg::RAX) | (1 << reg::RDX)) == 0,
                Loc::Reg(r) if size == 1 => r != 0 && (g.rex_on || r != 4),
                Loc::Reg(r) => r != 0 && r != 2,
            };
            if !free {
                return;
            }
            let r = g.below(20);
            if r < 3 {
                g.store(loc, size, 0);
                return;
            }
            if r < 8 {
                return; // random: mostly #DE
            }
            let d = g.load(loc, size);
            let lo = g.value(size);
            let hi = if op == 6 {
                if d == 0 { 0 } else { g.below(d) }
            } else if (sext(lo, size) as i64) < 0 {
                mask(size)
            } else {
                0
            };
            set_acc(g, size, lo, hi);
        }
        // 0F AF: imul r, r/m
        7 => {
            g.undefined = SF | ZF | AF | PF;
            let size = g.pick_size(&[2, 4, 8]);
            g.set_size(size);
            g.opcode = vec![0x0f, 0xaf];
            g.reg_operand(size);
            g.rm(size, u64::from(size), MEM_PCT);
        }
        // 69 / 6B: imul r, r/m, imm
        _ => {
            g.undefined = SF | ZF | AF | PF;
            let size = g.pick_size(&[2, 4, 8]);
            g.set_size(size);
            let short = g.chance(50);
            g.opcode = vec![if short { 0x6b } else { 0x69 }];
            g.reg_operand(size);
            g.rm(size, u64::from(size), MEM_PCT);
            let n = if short { 1 } else { imm_z(size) };
            let i = g.value(n as u8);
            g.imm(n, i);
        }
    }
}

fn setcc(g: &mut Gen) {
    g.set_size(1);
    g.opcode = vec![0x0f, 0x90 + g.below(16) as u8];
    // The reg field is ignored.
    let field = if g.chance(80) { 0 } else { g.below(8) as u8 };
    g.modrm_reg(field);
    g.rex_r = g.rex_on && g.chance(10);
    g.rm(1, 1, MEM_PCT);
}

fn cmovcc(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![0x0f, 0x40 + g.below(16) as u8];
    g.reg_operand(size);
    g.rm(size, u64::from(size), MEM_PCT);
}

fn movbe(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let store = g.chance(50);
    g.opcode = vec![0x0f, 0x38, 0xf0 | u8::from(store)];
    g.reg_operand(size);
    g.rm(size, u64::from(size), 100);
}

fn bitscan(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let which = g.below(5);
    let (op, rep) = match which {
        0 => (0xbc, false), // BSF
        1 => (0xbd, false), // BSR
        2 => (0xb8, true),  // POPCNT
        3 => (0xbd, true),  // LZCNT
        _ => (0xbc, true),  // TZCNT
    };
    if rep {
        g.mandatory = Some(0xf3);
    }
    g.opcode = vec![0x0f, op];
    g.undefined = match which {
        0 | 1 => CF | OF | SF | AF | PF,
        2 => 0,
        _ => OF | SF | AF | PF,
    };
    g.reg_operand(size);
    let loc = g.rm(size, u64::from(size), MEM_PCT);
    if g.chance(15) {
        g.store(loc, size, 0);
    }
}

fn push_pop(g: &mut Gen) {
    let long = g.long();
    let size = if g.chance(20) {
        2
    } else if long {
        8
    } else {
        4
    };
    g.rex_on = long && g.chance(50);
    g.rex_w = g.rex_on && size == 8 && g.chance(40);
    if g.opsize_prefix(size) || (g.rex_w && g.chance(10)) {
        g.legacy.push(0x66); // REX.W wins
    }
    let pop = g.chance(50);
    let s = u64::from(size);
    g.hard = 1 << reg::RSP;
    g.stack = true;
    // The stack slot.
    let slot = g.target(s, false);
    let ss = if g.data16 && !long && g.chance(40) {
        special_stack_seg(g.rng)
    } else {
        DataSeg::Flat
    };
    g.st.ss = ss;
    let offset = slot.wrapping_sub(ss.base());
    let mut rsp = if pop { offset } else { offset.wrapping_add(s) };
    let edge = ss.stack16() && g.chance(10);
    if ss.stack16() {
        if edge {
            // SP wrapping at 64 KiB, or a slot across its end: past the limit (#SS) or on
            // pages nothing maps.
            rsp = g.rng.pick(&[0, 1, 2, 0xfffd, 0xfffe, 0xffff]);
        }
        // A 16-bit stack moves SP alone: the upper half of ESP (which the harness sets:
        // `Output::entry_rsp`) must survive.
        rsp &= 0xffff;
    }
    g.st.gpr[reg::RSP] = rsp;
    if pop && !edge {
        let v = g.value(size);
        g.put_value(slot, size, v);
    }
    if !pop && g.chance(12) {
        // 6A ib, 68 iw/id: the immediate sign-extended to the operand size.
        let wide = g.chance(50);
        g.opcode = vec![if wide { 0x68 } else { 0x6a }];
        let n = match (wide, size) {
            (false, _) => 1,
            (true, 2) => 2,
            _ => 4,
        };
        let v = g.value(n);
        g.imm(usize::from(n), v);
        return;
    }
    if !pop && g.chance(12) {
        // PUSH Sreg: ES, CS, SS and DS outside 64-bit mode, FS and GS everywhere.
        g.maybe_special_es_ds();
        let forms: &[&[u8]] = if long {
            &[&[0x0f, 0xa0], &[0x0f, 0xa8]]
        } else {
            &[
                &[0x06],
                &[0x0e],
                &[0x16],
                &[0x1e],
                &[0x0f, 0xa0],
                &[0x0f, 0xa8],
            ]
        };
        g.opcode = g.rng.pick(forms).to_vec();
        if size == 4 {
            // With a 32-bit operand size Intel writes the selector's two bytes alone, AMD four
            // (zero-extended): a slot holding other bytes shows which. Aligned and away from
            // every page and limit edge, where writing two bytes or four could fault apart
            // (nothing measured there).
            let slot = SCRATCH_BASE + 0x1800 + 4 * g.below(0x200);
            let v = g.value(4);
            g.put_value(slot, 4, v);
            let offset = slot.wrapping_sub(ss.base()).wrapping_add(4);
            g.st.gpr[reg::RSP] = if ss.stack16() {
                offset & 0xffff
            } else {
                offset
            };
        }
        return;
    }
    if g.chance(40) {
        // 50+r / 58+r
        let r = g.reg();
        g.rex_b = r >= 8;
        g.opcode = vec![if pop { 0x58 } else { 0x50 } + (r & 7)];
        if r != 4 {
            let v = g.value(size);
            g.set_reg(r, size, v);
        }
        return;
    }
    // FF /6 (push r/m), 8F /0 (pop r/m)
    g.opcode = vec![if pop { 0x8f } else { 0xff }];
    g.modrm_reg(if pop { 0 } else { 6 });
    if g.chance(20) {
        let r = g.reg();
        g.modrm_rm(3, r);
        g.rex_b = r >= 8;
        if r != 4 {
            let v = g.value(size);
            g.set_reg(r, size, v);
        }
        return;
    }
    let canonical = rsp < 0x0000_8000_0000_0000;
    if canonical && ss == DataSeg::Flat && g.chance(20) {
        // Addressed through RSP itself (POP: after the increment).
        g.memory = true;
        g.addr_prefix(4);
        let t = g.target(s, true);
        let base = if pop { rsp.wrapping_add(s) } else { rsp };
        let d = t.wrapping_sub(base) as i64;
        g.modrm_rm(if d == i64::from(d as i8) { 1 } else { 2 }, 4);
        g.sib = Some((g.below(4) as u8) << 6 | (4 << 3) | 4);
        g.push_disp(d, if d == i64::from(d as i8) { 1 } else { 4 });
        let v = g.value(size);
        if !pop {
            g.put_value(t, size, v);
        }
        return;
    }
    let asz = g.pick_asz();
    let t = g.target(s, asz == 4);
    let ea = g.segment_ea(t, asz);
    if ss != DataSeg::Flat && !g.legacy.iter().any(|&p| SEG_OVERRIDES.contains(&p)) {
        // The operand's own segment must not be SS by default (a BP or ESP base), nor SS by
        // an override: DS, flat.
        g.legacy.push(0x3e);
    }
    g.modrm_mem(ea, asz);
    if !pop {
        let v = g.value(size);
        g.put_value(t, size, v);
    }
}

/// The segment override prefixes.
const SEG_OVERRIDES: [u8; 6] = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

fn xlat(g: &mut Gen) {
    g.set_size(1);
    g.rex_w = g.rex_on && g.chance(50);
    g.opcode = vec![0xd7];
    g.memory = true;
    let asz = g.pick_asz();
    g.addr_prefix(asz);
    let t = g.target(1, asz == 4);
    let ea = g.segment_ea(t, asz);
    let al = g.st.gpr[reg::RAX] & 0xff;
    let rbx = ea.wrapping_sub(al) & mask(asz);
    g.set_addr(reg::RBX as u8, rbx, asz);
    let v = g.value(1);
    g.put_value(t, 1, v);
}

fn lea(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![0x8d];
    g.reg_operand(size);
    if !g.long() && g.chance(25) {
        // 16-bit addressing: no access, so any address will do.
        g.memory = true;
        g.addr_prefix(2);
        let md = g.below(3) as u8;
        let rm = g.below(8) as u8;
        g.modrm_rm(md, rm);
        let d = g.rng.next_u64();
        match md {
            0 if rm == 6 => g.imm(2, d),
            0 => {}
            1 => g.imm(1, d),
            _ => g.imm(2, d),
        }
        return;
    }
    let asz = g.pick_asz();
    let ea = if g.chance(50) {
        g.value(8)
    } else {
        g.target(1, asz == 4)
    };
    g.maybe_segment();
    g.modrm_mem(ea, asz);
}

fn convert(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    g.opcode = vec![if g.chance(50) { 0x98 } else { 0x99 }];
}

fn lahf_sahf(g: &mut Gen) {
    g.set_size(1);
    g.opcode = vec![if g.chance(50) { 0x9e } else { 0x9f }];
}

fn flag_ops(g: &mut Gen) {
    g.set_size(4);
    g.opcode = vec![g.rng.pick(&[0xf8, 0xf9, 0xf5, 0xfc, 0xfd])];
}

/// UD2 (0F 0B), UD1 (0F B9 /r) and UD0 (0F FF, /r on Intel; on AMD the ModRM and what follows
/// are not part of it): the processor raises #UD before any operand is touched, so a memory
/// operand may point anywhere in the window.
fn undefined(g: &mut Gen) {
    let size = g.pick_size(&[2, 4, 8]);
    g.set_size(size);
    let op = g.rng.pick(&[0x0b, 0xb9, 0xff]);
    g.opcode = vec![0x0f, op];
    if op != 0x0b {
        g.reg_operand(size);
        g.rm(size, u64::from(size), MEM_PCT);
    }
}
