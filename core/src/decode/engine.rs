//! The decoding state machine: prefixes, escapes, candidate selection, ModRM and operands.

use super::MAX_LEN;
use super::insn::{
    DecodeError, Encoding, Instruction, Invalid, Map, MemOperand, Mode, Operand, Prefixes, Vendor,
};
use super::op::Op;
use super::reg::{Reg, RegClass, Seg};
use super::table::*;
use super::tables;

type R<T> = Result<T, DecodeError>;

const fn inv(r: Invalid) -> DecodeError {
    DecodeError::Invalid(r)
}

/// `BYTE_CLASS` values: an ordinary one-byte opcode, an opcode needing dispatch (escapes, VEX,
/// EVEX, XOP, x87), a legacy prefix, REX (in 64-bit mode).
const C_SPECIAL: u8 = 1;
const C_PREFIX: u8 = 2;
const C_REX: u8 = 3;

/// The class of each first byte (see `C_*`).
// Evaluated at compile time: an index out of range is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0x40;
    while b < 0x50 {
        t[b] = C_REX;
        b += 1;
    }
    let prefixes = [
        0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3,
    ];
    let mut i = 0;
    while i < prefixes.len() {
        t[prefixes[i]] = C_PREFIX;
        i += 1;
    }
    let special = [
        0x0f, 0xc4, 0xc5, 0x62, 0x8f, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    ];
    let mut i = 0;
    while i < special.len() {
        t[special[i]] = C_SPECIAL;
        i += 1;
    }
    t
};

/// What follows a REX2 prefix (see [`Decoder::rex2`]).
enum Rex2 {
    /// An opcode of the map, decoded from its table.
    Opcode(Map, u8, &'static OpMap),
    /// JMPABS.
    Jmpabs,
    /// An opcode REX2 reserves, or one that cannot follow it (#UD).
    Reserved(Map, u8),
}

/// Decoder state for one instruction.
pub(crate) struct Decoder<'a> {
    /// The input, cut at the 15-byte limit.
    bytes: &'a [u8],
    /// The input reaches the 15-byte limit: running out of bytes means TooLong, not Truncated.
    long: bool,
    pos: usize,
    mode: Mode,
    vendor: Vendor,
    // legacy prefixes
    p66: bool,
    p67: bool,
    lock: bool,
    /// The last of F2/F3 (0 if none).
    last_rep: u8,
    has_f2: bool,
    has_f3: bool,
    seg: Option<Seg>,
    /// Effective FS/GS override in 64-bit mode (takes priority over ES/CS/SS/DS).
    seg_fsgs: Option<Seg>,
    rex: u8,
    /// APX: D5 in 64-bit mode is the REX2 prefix (else AAD, invalid there).
    apx: bool,
    /// A REX2 prefix is in effect: `r`, `x` and `b` then also hold its R4, X4 and B4 as their
    /// bit 1 (R16..R31; vector registers ignore them, control and debug registers do not).
    rex2: bool,
    // VEX/EVEX/XOP fields (already un-inverted)
    enc: Encoding,
    /// Extension bits: R (bits 3 and, with REX2, 4 of reg), X (of the index), B (of base/rm).
    r: u8,
    x: u8,
    b: u8,
    /// EVEX R' (bit 4 of reg) and V' (bit 4 of vvvv / VSIB index).
    r2: u8,
    v2: u8,
    w: bool,
    vvvv: u8,
    /// vvvv as encoded (un-inverted, all four bits) for the unused-must-be-1111 check.
    vvvv_raw: u8,
    /// VEX.L / EVEX L'L.
    l: u8,
    /// VEX/EVEX pp as a Pfx value (Np, P66, Pf3, Pf2).
    pp: Pfx,
    z: bool,
    bcst: bool,
    aaa: u8,
    modrm: Option<u8>,
    /// EVEX tuple type and element-size code of the matched candidate (for disp8×N).
    cur_tuple: Option<(u32, u32)>,
    /// An operand is the memory operand.
    has_mem: bool,
    /// The first rule the encoding breaks before its last byte is read: reported only once the
    /// whole instruction is, since the processor finds an instruction too long (#GP) or cut
    /// short (#PF on the fetch) before it finds it invalid (#UD).
    deferred: Option<Invalid>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(bytes: &'a [u8], mode: Mode, vendor: Vendor) -> Decoder<'a> {
        let long = bytes.len() >= MAX_LEN;
        Decoder {
            bytes: bytes.get(..MAX_LEN).unwrap_or(bytes),
            long,
            pos: 0,
            mode,
            vendor,
            p66: false,
            p67: false,
            lock: false,
            last_rep: 0,
            has_f2: false,
            has_f3: false,
            seg: None,
            seg_fsgs: None,
            rex: 0,
            apx: false,
            rex2: false,
            enc: Encoding::Legacy,
            r: 0,
            x: 0,
            b: 0,
            r2: 0,
            v2: 0,
            w: false,
            vvvv: 0,
            vvvv_raw: 0,
            l: 0,
            pp: Pfx::Np,
            z: false,
            bcst: false,
            aaa: 0,
            modrm: None,
            cur_tuple: None,
            has_mem: false,
            deferred: None,
        }
    }

    /// Decodes D5 in 64-bit mode as the REX2 prefix of Intel APX (see [`Self::rex2`]).
    pub(crate) fn with_apx(mut self, apx: bool) -> Decoder<'a> {
        self.apx = apx;
        self
    }

    #[inline]
    fn byte(&mut self) -> R<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos = self.pos.wrapping_add(1);
                Ok(b)
            }
            None => Err(self.end_error()),
        }
    }

    /// The error for running out of bytes.
    fn end_error(&self) -> DecodeError {
        if self.long {
            DecodeError::TooLong
        } else {
            DecodeError::Truncated
        }
    }

    /// The byte after the current position, without consuming it (None at the end of input or
    /// the length limit).
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Reads an `n`-byte little-endian value (`n` <= 8).
    #[inline]
    fn le(&mut self, n: u8) -> R<u64> {
        // Positions stay within the 15-byte cut: no overflow.
        let end = self.pos.wrapping_add(n as usize);
        if end <= self.bytes.len() {
            // Fast path: eight bytes available (within the 15-byte cut) or a short tail.
            if let Some(Ok(b)) = self
                .bytes
                .get(self.pos..self.pos.wrapping_add(8))
                .map(<[u8; 8]>::try_from)
            {
                self.pos = end;
                let v = u64::from_le_bytes(b);
                return Ok(if n >= 8 {
                    v
                } else {
                    v & ((1u64 << (n << 3)).wrapping_sub(1))
                });
            }
        }
        self.le_slow(n)
    }

    fn le_slow(&mut self, n: u8) -> R<u64> {
        let mut v = 0u64;
        let mut i = 0;
        while i < n {
            v |= (self.byte()? as u64) << (i << 3);
            i = i.wrapping_add(1);
        }
        Ok(v)
    }

    fn is64(&self) -> bool {
        self.mode.is_64()
    }

    // Out of line: one copy of the engine serves every caller.
    #[inline(never)]
    pub(crate) fn run(mut self, insn: &mut Instruction) -> R<()> {
        // Legacy prefixes and REX.
        let mut opcode;
        let mut class;
        loop {
            opcode = self.byte()?;
            class = BYTE_CLASS.get(opcode as usize).copied().unwrap_or(0);
            if class < C_PREFIX {
                break;
            }
            if class == C_REX {
                if !self.is64() {
                    class = 0;
                    break;
                }
                self.rex = opcode;
                continue;
            }
            match opcode {
                0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 => {
                    let s = match opcode {
                        0x26 => Seg::Es,
                        0x2e => Seg::Cs,
                        0x36 => Seg::Ss,
                        0x3e => Seg::Ds,
                        0x64 => Seg::Fs,
                        _ => Seg::Gs,
                    };
                    if matches!(s, Seg::Fs | Seg::Gs) {
                        self.seg_fsgs = Some(s);
                    }
                    self.seg = Some(s);
                }
                0x66 => self.p66 = true,
                0x67 => self.p67 = true,
                0xf0 => self.lock = true,
                0xf2 => {
                    self.last_rep = 0xf2;
                    self.has_f2 = true;
                }
                0xf3 => {
                    self.last_rep = 0xf3;
                    self.has_f3 = true;
                }
                _ => {}
            }
            // A legacy prefix after REX cancels it.
            self.rex = 0;
        }
        if self.rex != 0 {
            self.w = self.rex & 8 != 0;
            self.r = (self.rex >> 2) & 1;
            self.x = (self.rex >> 1) & 1;
            self.b = self.rex & 1;
        }

        let rex2 = opcode == 0xd5 && self.apx && self.is64();
        if class == 0 && !rex2 {
            return self.finish(Map::Primary, opcode, &tables::primary::MAP, insn);
        }
        // With REX2.W, PUSH and POP of a register (50-5F) are PUSHP and POPP.
        let mut ppx = false;
        let (map, tbl, opcode) = match opcode {
            0xd5 if rex2 => match self.rex2()? {
                Rex2::Opcode(map, opcode, tbl) => {
                    ppx = self.w && map == Map::Primary && (0x50..=0x5f).contains(&opcode);
                    (map, tbl, opcode)
                }
                Rex2::Jmpabs => return self.jmpabs(insn),
                Rex2::Reserved(map, opcode) => {
                    return Err(self.invalid_after_rest(map, opcode, Invalid::Rex2));
                }
            },
            0x0f => match self.byte()? {
                0x38 => {
                    let o = self.byte()?;
                    (Map::M0F38, &tables::legacy_0f38::MAP, o)
                }
                0x3a => {
                    let o = self.byte()?;
                    (Map::M0F3A, &tables::legacy_0f3a::MAP, o)
                }
                0x0f => return self.now3d(insn),
                o => (Map::M0F, &tables::legacy_0f::MAP, o),
            },
            0xc4 | 0xc5 if self.vex_follows() => return self.vex(opcode, insn),
            0x62 if self.evex_follows() => return self.evex(insn),
            0x8f if self.xop_follows() => return self.xop(insn),
            0xd8..=0xdf => (Map::Primary, &tables::x87::MAP, opcode),
            _ => (Map::Primary, &tables::primary::MAP, opcode),
        };
        self.finish(map, opcode, tbl, insn)?;
        if ppx {
            insn.op = if opcode < 0x58 { Op::Pushp } else { Op::Popp };
        }
        Ok(())
    }

    /// The REX2 prefix (D5, then its payload: M0 R4 X4 B4 W R3 X3 B3 from bit 7 down) and the
    /// opcode after it: the byte after the payload is the opcode in map 0 (M0 = 0) or map 1
    /// (0F, M0 = 1), never an escape or another prefix. Rows that REX2 reserves are #UD: map 0
    /// 70-7F, A0-AF and E0-EF, map 1 30-37 and 80-8F, except map 0 A1 with W = 0, JMPABS
    /// (a 64-bit absolute address). REX before REX2 is #UD. (The caller finishes the
    /// instruction, so that its frame is the only one below `finish`.)
    #[inline(never)]
    fn rex2(&mut self) -> R<Rex2> {
        if self.rex != 0 {
            self.rex = 0;
            self.defer(Invalid::Rex2);
        }
        let p = self.byte()?;
        self.rex2 = true;
        self.w = p & 8 != 0;
        self.r = (p >> 2) & 1 | (p >> 5) & 2;
        self.x = (p >> 1) & 1 | (p >> 4) & 2;
        self.b = p & 1 | (p >> 3) & 2;
        let opcode = self.byte()?;
        let class = BYTE_CLASS.get(opcode as usize).copied().unwrap_or(0);
        Ok(if p & 0x80 != 0 {
            if matches!(opcode, 0x30..=0x37 | 0x80..=0x8f | 0x0f | 0x38 | 0x3a) {
                Rex2::Reserved(Map::M0F, opcode)
            } else {
                Rex2::Opcode(Map::M0F, opcode, &tables::legacy_0f::MAP)
            }
        } else if opcode == 0xa1 && !self.w {
            Rex2::Jmpabs
        } else if matches!(opcode, 0x70..=0x7f | 0xa0..=0xaf | 0xe0..=0xef | 0x0f)
            || class >= C_PREFIX
        {
            Rex2::Reserved(Map::Primary, opcode)
        } else if (0xd8..=0xdf).contains(&opcode) {
            Rex2::Opcode(Map::Primary, opcode, &tables::x87::MAP)
        } else {
            Rex2::Opcode(Map::Primary, opcode, &tables::primary::MAP)
        })
    }

    /// JMPABS (REX2 with M0 = 0 and W = 0, then A1): a near jump to the 64-bit absolute address
    /// in its immediate. The payload's other bits are ignored; LOCK makes it #UD.
    #[inline(never)]
    fn jmpabs(&mut self, insn: &mut Instruction) -> R<()> {
        let target = self.le(8)?;
        if let Some(why) = self.deferred {
            return Err(inv(why));
        }
        if self.lock {
            return Err(inv(Invalid::Lock));
        }
        let asz = self.addr_size();
        self.start_insn(insn, Map::Primary, 0xa1, asz);
        insn.op = Op::Jmpabs;
        insn.op_size = 8;
        insn.operands[0] = Operand::Imm { size: 8 };
        insn.imm = target;
        insn.prefixes = Prefixes(self.legacy_flags());
        insn.seg_override = self.seg_fsgs.or(self.seg);
        insn.len = self.pos as u8;
        Ok(())
    }

    /// C4/C5 start a VEX prefix in 64-bit mode, and elsewhere (except real mode) when the next
    /// byte would be a register-form ModRM of LES/LDS.
    fn vex_follows(&self) -> bool {
        match self.mode {
            Mode::Long64 => true,
            Mode::Real => false,
            _ => matches!(self.peek(), Some(b) if b >= 0xc0),
        }
    }

    fn evex_follows(&self) -> bool {
        self.vex_follows()
    }

    /// 8F starts XOP when the next byte's map field is 8 or more (POP Ev has ModRM.reg = 0; on
    /// Intel, see `xop`).
    fn xop_follows(&self) -> bool {
        if matches!(self.mode, Mode::Real) {
            return false;
        }
        matches!(self.peek(), Some(b) if b & 0x1f >= 8)
    }

    /// Records `why` as the encoding's error unless an earlier one is (see `deferred`).
    fn defer(&mut self, why: Invalid) {
        self.deferred = self.deferred.or(Some(why));
    }

    /// VEX, EVEX and XOP take no 66, F2, F3, LOCK or REX prefix. The processor raises #UD once
    /// it has the whole instruction (more than 15 bytes is #GP then), but AMD's for REX at once
    /// (measured on Zen 4 and on Emerald Rapids).
    fn check_no_legacy_before_vex(&mut self) -> R<()> {
        if self.rex != 0 {
            if self.vendor == Vendor::Amd {
                return Err(inv(Invalid::PrefixBeforeVex));
            }
            self.defer(Invalid::PrefixBeforeVex);
        }
        if self.p66 || self.has_f2 || self.has_f3 || self.lock {
            self.defer(Invalid::PrefixBeforeVex);
        }
        Ok(())
    }

    /// The error for an encoding found invalid (`why`) before all its bytes are read (`opcode`
    /// the opcode byte, `map` the form of its map). The processor's length decoder reads the
    /// whole instruction first, so where the form is known an instruction that does not fit
    /// the input is the error (TooLong at the 15-byte limit): the VEX, EVEX and XOP maps, 0F 38
    /// and 0F 3A (ModRM, the addressing bytes, the map's immediate). In the one-byte and 0F
    /// maps an undefined opcode's form is the processor's own, and the error is `why` at once;
    /// Intel's length decoder also gives a defined one-byte or 0F opcode whose prefixes or
    /// ModRM make it invalid its form (that of its first candidate), and VEX and EVEX map 1
    /// (and EVEX map 5) the form of the legacy 0F opcode: none but the opcode for an undefined
    /// one, a register-only ModRM for MOV CR/DR, rel16/32 by the code's size for 80-8F
    /// (measured on Emerald Rapids).
    fn invalid_after_rest(&self, map: Map, opcode: u8, why: Invalid) -> DecodeError {
        let why = self.deferred.unwrap_or(why);
        let intel = self.vendor == Vendor::Intel;
        let code16 = self.mode.code_size() == 2;
        // Bytes before ModRM (the third opcode byte of an escape), ModRM, a register-only
        // ModRM, the immediate's size.
        let (skip, modrm, modreg, imm) = match (self.enc, map) {
            (_, Map::M0F38 | Map::M6) => (0, true, false, 0),
            (_, Map::M0F3A | Map::Xop8) => (0, true, false, 1),
            (_, Map::XopA) => (0, true, false, 4),
            (Encoding::Legacy, _) if intel && self.modrm.is_some() => {
                let tbl = if map == Map::M0F {
                    &tables::legacy_0f::MAP
                } else {
                    &tables::primary::MAP
                };
                let osz16 = !self.w && code16 != self.p66;
                let (modreg, imm) = first_form(tbl, opcode, osz16);
                (0, true, modreg, imm)
            }
            (Encoding::Legacy, Map::M0F) if intel => match intel_undefined_0f(opcode) {
                Some(Undefined0f::Escape) => (1, true, false, 0),
                Some(Undefined0f::EscapeIb) => (1, true, false, 1),
                Some(Undefined0f::ModRm) => (0, true, false, 0),
                None => return inv(why),
            },
            (Encoding::Legacy, _) => return inv(why),
            (_, Map::M0F | Map::M5) if intel => {
                let (_, info) = tables::legacy_0f::MAP.lookup(opcode);
                let (modreg, imm) = first_form(&tables::legacy_0f::MAP, opcode, code16);
                let undefined_modrm = intel_undefined_0f(opcode) == Some(Undefined0f::ModRm);
                (
                    0,
                    info & INFO_MODRM_INTEL != 0 || undefined_modrm,
                    modreg,
                    imm,
                )
            }
            // The other VEX, EVEX and XOP maps (AMD's EVEX map 5 among them).
            _ => (0, true, false, 0),
        };
        let at = |i: usize| self.bytes.get(i).copied();
        // The position after the opcode (a ModRM byte read for the map is not one of a form
        // without it). Positions stay within the 15-byte cut plus a few: no overflow.
        let mut end = self
            .pos
            .wrapping_sub(self.modrm.is_some() as usize)
            .wrapping_add(skip);
        if modrm {
            let Some(m) = at(end) else {
                return self.end_error();
            };
            end = end.wrapping_add(1);
            let a16 = self.addr_size() == 2;
            let (md, mut base) = (if modreg { 3 } else { m >> 6 }, m & 7);
            if md != 3 && base == 4 && !a16 {
                match at(end) {
                    Some(sib) => base = sib & 7,
                    None => return self.end_error(),
                }
                end = end.wrapping_add(1);
            }
            end = end.wrapping_add(match md {
                1 => 1,
                2 => 4 >> a16 as u8,
                0 if base == 6 && a16 => 2,
                0 if base == 5 && !a16 => 4,
                _ => 0,
            });
        }
        if end.wrapping_add(imm) > self.bytes.len() {
            self.end_error()
        } else {
            inv(why)
        }
    }

    /// The error for VEX or EVEX map `map`, which has no instructions. AMD processors raise #UD
    /// at once; Intel's decode the length first, by the map's low two bits as the map of that
    /// number (measured on Emerald Rapids: maps 7, 11 and 27 take 0F 3A's form, 14 0F 38's; 0,
    /// 4 and the other multiples of 4 are unmeasured and taken as #UD at once).
    fn invalid_map(&self, map: u8, opcode: u8) -> DecodeError {
        let form = match map & 3 {
            1 => Map::M0F,
            2 => Map::M0F38,
            3 => Map::M0F3A,
            _ => return inv(Invalid::Opcode),
        };
        if self.vendor == Vendor::Amd {
            return inv(Invalid::Opcode);
        }
        self.invalid_after_rest(form, opcode, Invalid::Opcode)
    }

    fn pp_of(bits: u8) -> Pfx {
        match bits & 3 {
            0 => Pfx::Np,
            1 => Pfx::P66,
            2 => Pfx::Pf3,
            _ => Pfx::Pf2,
        }
    }

    fn vex(mut self, first: u8, insn: &mut Instruction) -> R<()> {
        let b1 = self.byte()?;
        let (map_sel, b2) = if first == 0xc5 {
            self.r = (!b1 >> 7) & 1;
            (1, b1)
        } else {
            let b2 = self.byte()?;
            self.r = (!b1 >> 7) & 1;
            self.x = (!b1 >> 6) & 1;
            self.b = (!b1 >> 5) & 1;
            self.w = b2 & 0x80 != 0;
            (b1 & 0x1f, b2)
        };
        self.check_no_legacy_before_vex()?;
        self.enc = Encoding::Vex;
        self.vvvv = (!b2 >> 3) & 15;
        self.vvvv_raw = self.vvvv;
        self.l = (b2 >> 2) & 1;
        self.pp = Self::pp_of(b2);
        if !self.is64() {
            self.r = 0;
            self.x = 0;
            self.b = 0;
            self.vvvv &= 7;
        }
        let opcode = self.byte()?;
        let (map, tbl): (Map, &'static OpMap) = match map_sel {
            1 => (Map::M0F, &tables::vex::MAP_0F),
            2 => (Map::M0F38, &tables::vex::MAP_0F38),
            3 => (Map::M0F3A, &tables::vex::MAP_0F3A),
            m => return Err(self.invalid_map(m, opcode)),
        };
        self.finish(map, opcode, tbl, insn)
    }

    fn xop(mut self, insn: &mut Instruction) -> R<()> {
        // Intel's processors have no XOP: 8F is POP Ev there, whose other ModRM.reg values
        // raise #UD once the ModRM byte, SIB and displacement are fetched (measured).
        if self.vendor == Vendor::Intel {
            return self.finish(Map::Primary, 0x8f, &tables::primary::MAP, insn);
        }
        let b1 = self.byte()?;
        let b2 = self.byte()?;
        self.check_no_legacy_before_vex()?;
        self.enc = Encoding::Xop;
        self.r = (!b1 >> 7) & 1;
        self.x = (!b1 >> 6) & 1;
        self.b = (!b1 >> 5) & 1;
        self.w = b2 & 0x80 != 0;
        self.vvvv = (!b2 >> 3) & 15;
        self.vvvv_raw = self.vvvv;
        self.l = (b2 >> 2) & 1;
        self.pp = Self::pp_of(b2);
        if !self.is64() {
            self.r = 0;
            self.x = 0;
            self.b = 0;
            self.vvvv &= 7;
        }
        if self.pp != Pfx::Np {
            self.defer(Invalid::ReservedField);
        }
        let opcode = self.byte()?;
        let (map, tbl): (Map, &'static OpMap) = match b1 & 0x1f {
            8 => (Map::Xop8, &tables::xop::MAP_8),
            9 => (Map::Xop9, &tables::xop::MAP_9),
            10 => (Map::XopA, &tables::xop::MAP_A),
            _ => return Err(inv(Invalid::Opcode)),
        };
        self.finish(map, opcode, tbl, insn)
    }

    // Inlined, as `vex` is: out of line it copies the decoder to a frame of its own on the
    // deepest path (run, evex, finish, operands).
    #[inline(always)]
    fn evex(mut self, insn: &mut Instruction) -> R<()> {
        let p0 = self.byte()?;
        let p1 = self.byte()?;
        let p2 = self.byte()?;
        self.check_no_legacy_before_vex()?;
        self.enc = Encoding::Evex;
        if p0 & 0x08 != 0 || p1 & 0x04 == 0 {
            self.defer(Invalid::ReservedField);
        }
        self.r = (!p0 >> 7) & 1;
        self.x = (!p0 >> 6) & 1;
        self.b = (!p0 >> 5) & 1;
        self.r2 = (!p0 >> 4) & 1;
        self.w = p1 & 0x80 != 0;
        self.vvvv = (!p1 >> 3) & 15;
        self.vvvv_raw = self.vvvv;
        self.pp = Self::pp_of(p1);
        self.z = p2 & 0x80 != 0;
        self.l = (p2 >> 5) & 3;
        self.bcst = p2 & 0x10 != 0;
        // Outside 64-bit mode AMD processors ignore V' (measured on Zen 4: no #UD for an
        // encoded 0, and the register is the one of vvvv alone); Intel's rule is below.
        self.v2 = if self.is64() || self.vendor == Vendor::Intel {
            (!p2 >> 3) & 1
        } else {
            0
        };
        self.aaa = p2 & 7;
        if !self.is64() {
            self.r = 0;
            self.x = 0;
            self.b = 0;
            self.r2 = 0;
            self.vvvv &= 7;
        }
        let opcode = self.byte()?;
        let (map, tbl): (Map, &'static OpMap) = match p0 & 7 {
            1 => (Map::M0F, &tables::evex::MAP_0F),
            2 => (Map::M0F38, &tables::evex::MAP_0F38),
            3 => (Map::M0F3A, &tables::evex::MAP_0F3A),
            5 => (Map::M5, &tables::evex::MAP_5),
            6 => (Map::M6, &tables::evex::MAP_6),
            m => return Err(self.invalid_map(m, opcode)),
        };
        self.finish(map, opcode, tbl, insn)
    }

    /// 0F 0F /r ib: the ModRM operands come first, the operation is the trailing byte.
    fn now3d(mut self, insn: &mut Instruction) -> R<()> {
        const CAND: Cand = Cand::new(Op::Invalid, [K::Pq, K::Qq, K::None, K::None]);
        // Intel processors raise #UD on 0F 0F before they read further (measured on Emerald
        // Rapids).
        if self.vendor == Vendor::Intel {
            return Err(inv(Invalid::Opcode));
        }
        self.enc = Encoding::Now3d;
        let modrm = self.byte()?;
        self.modrm = Some(modrm);
        self.start_insn(insn, Map::M0F, 0x0f, self.addr_size());
        insn.modrm = modrm;
        self.operands(&CAND, insn)?;
        let suffix = self.byte()?;
        insn.op = tables::now3d::lookup(suffix).ok_or(inv(Invalid::Opcode))?;
        if self.lock {
            return Err(inv(Invalid::Lock));
        }
        insn.len = self.pos as u8;
        Ok(())
    }

    /// The mandatory prefix in effect for legacy encodings: the last F2/F3, else 66.
    fn legacy_pfx(&self) -> Pfx {
        match self.last_rep {
            0xf2 => Pfx::Pf2,
            0xf3 => Pfx::Pf3,
            _ if self.p66 => Pfx::P66,
            _ => Pfx::Np,
        }
    }

    fn op_size(&self, attr: u32) -> u8 {
        if attr & A_BYTE != 0 {
            return 1;
        }
        let rule = (attr >> A_OSZ_SHIFT) & 3;
        if self.is64() {
            match rule {
                1 => {
                    if self.w {
                        8
                    } else if self.p66 {
                        2
                    } else {
                        8
                    }
                }
                2 => match self.vendor {
                    Vendor::Intel => 8,
                    Vendor::Amd => {
                        if self.p66 && !self.w {
                            2
                        } else {
                            8
                        }
                    }
                },
                // Far indirect CALL/JMP, LSS/LFS/LGS: AMD has no m16:64 form; REX.W still
                // overrides 66 and gives m16:32.
                3 if self.vendor == Vendor::Amd => {
                    if self.p66 && !self.w {
                        2
                    } else {
                        4
                    }
                }
                _ => {
                    if self.w {
                        8
                    } else if self.p66 {
                        2
                    } else {
                        4
                    }
                }
            }
        } else {
            let def = self.mode.code_size();
            if self.p66 { 6u8.wrapping_sub(def) } else { def }
        }
    }

    fn addr_size(&self) -> u8 {
        if self.is64() {
            if self.p67 { 4 } else { 8 }
        } else {
            let def = self.mode.code_size();
            if self.p67 { 6u8.wrapping_sub(def) } else { def }
        }
    }

    /// Fills the fields known before the operands (`insn` starts as [`Instruction::BLANK`]).
    #[inline]
    fn start_insn(&self, insn: &mut Instruction, map: Map, opcode: u8, addr_size: u8) {
        insn.addr_size = addr_size;
        insn.encoding = self.enc;
        insn.map = map;
        insn.opcode = opcode;
    }

    /// The bits of the matching key that do not come from ModRM.
    /// Also returns the operand sizes of the normal and d64 rules.
    #[inline]
    fn ctx_key(&self, pfx: Pfx, asz: u8) -> (u64, u8, u8) {
        let is64 = self.is64();
        let mut k = match pfx {
            Pfx::Np => 1,
            Pfx::P66 => 2,
            Pfx::Pf3 => 4,
            Pfx::Pf2 => 8,
            _ => 0,
        } << KB_PFX_SHIFT;
        k |= match (is64, self.w) {
            (true, false) => KB_64 | KB_W0_64,
            (true, true) => KB_64 | KB_W1_64,
            (false, false) => KB_NOT64 | KB_W0_32,
            (false, true) => KB_NOT64 | KB_W1_32,
        };
        if self.mode == Mode::Real {
            k |= KB_REAL;
        }
        k |= match (self.vendor, is64) {
            (Vendor::Intel, true) => KB_INTEL,
            (Vendor::Intel, false) => KB_INTEL | KB_INTEL_NOT64,
            (Vendor::Amd, _) => KB_AMD,
        };
        let osz0 = self.op_size(0);
        let osz1 = self.op_size(1 << A_OSZ_SHIFT);
        k |= size_bit(osz0) << KB_OSZ0_SHIFT;
        k |= size_bit(osz1) << KB_OSZ1_SHIFT;
        k |= size_bit(asz) << KB_ASZ_SHIFT;
        if self.b == 0 {
            k |= KB_NOREXB;
        }
        if self.p66 {
            k |= KB_66;
        }
        if self.enc != Encoding::Legacy {
            // With EVEX register-form rounding, L'L holds the rounding mode.
            let rounding = self.enc == Encoding::Evex
                && self.bcst
                && matches!(self.modrm, Some(m) if m >= 0xc0);
            if !rounding {
                k |= 1 << KB_L_SHIFT.wrapping_add((self.l & 3) as u32);
            }
        }
        (k, osz0, osz1)
    }

    fn finish(
        mut self,
        map: Map,
        opcode: u8,
        tbl: &'static OpMap,
        insn: &mut Instruction,
    ) -> R<()> {
        let (cands, info) = tbl.lookup(opcode);
        if info & INFO_ANY == 0 {
            return Err(self.invalid_after_rest(map, opcode, Invalid::Opcode));
        }
        let vendor_bit = match self.vendor {
            Vendor::Intel => INFO_MODRM_INTEL,
            Vendor::Amd => INFO_MODRM_AMD,
        };
        let mut key = 0;
        if info & vendor_bit != 0 {
            let m = self.byte()?;
            self.modrm = Some(m);
            key = if m >= 0xc0 { KB_REG } else { KB_MEM }
                | 1 << KB_MREG_SHIFT.wrapping_add(((m >> 3) & 7) as u32)
                | 1 << KB_MRM_SHIFT.wrapping_add((m & 7) as u32);
        }
        let vex_like = self.enc != Encoding::Legacy;
        let pfx = if vex_like { self.pp } else { self.legacy_pfx() };
        let asz = self.addr_size();
        let (ctx, osz0, osz1) = self.ctx_key(pfx, asz);
        key |= ctx;
        // EVEX b=1 in a register form: the key leaves out L'L, the rounding mode of operations
        // with rounding or SAE. AMD processors ignore b for operations with broadcast, whose
        // L'L is then their length (measured on Zen 4); see `validate_vex`.
        let amd_ignores_b = self.vendor == Vendor::Amd
            && self.enc == Encoding::Evex
            && self.bcst
            && matches!(self.modrm, Some(m) if m >= 0xc0);
        let l_bit = (amd_ignores_b as u64) << KB_L_SHIFT.wrapping_add((self.l & 3) as u32);
        let found = cands.iter().find(|c| {
            let rounds = c.attr & (A_ER | A_SAE) != 0;
            c.matches(key | l_bit & (!rounds as u64).wrapping_neg())
        });
        let Some(cand) = found else {
            let why = self.why_no_match(cands);
            return Err(self.invalid_after_rest(map, opcode, why));
        };
        self.start_insn(insn, map, opcode, asz);
        insn.op = cand.op;
        insn.modrm = self.modrm.unwrap_or(0);
        // A mandatory 66 is not an operand-size prefix.
        let attr = cand.attr;
        insn.op_size = if !vex_like && cand.pfx_sel() == Pfx::P66 as u32 {
            self.p66 = false;
            self.op_size(attr)
        } else if attr & A_BYTE != 0 {
            1
        } else {
            match (attr >> A_OSZ_SHIFT) & 3 {
                0 => osz0,
                1 => osz1,
                _ => self.op_size(attr),
            }
        };
        if vex_like {
            let lig = cand.attr & A_LIG != 0;
            // EVEX register-form b=1: L'L is the rounding mode and the length is 512 (for an
            // operation without rounding or SAE AMD processors ignore b; Intel's raise #UD).
            let evex_rc = self.enc == Encoding::Evex
                && self.bcst
                && attr & (A_ER | A_SAE) != 0
                && matches!(self.modrm, Some(m) if m >= 0xc0);
            insn.vl = if lig {
                16
            } else if evex_rc {
                64
            } else {
                16 << self.l.min(2)
            };
        }
        if self.enc == Encoding::Evex {
            self.cur_tuple = Some((cand.tuple_type(), (attr >> A_ES_SHIFT) & 7));
        }
        self.operands(cand, insn)?;
        // Port and port-string operations move at most 4 bytes, whatever REX.W says.
        if cand.attr & A_PORT != 0 {
            insn.op_size = insn.op_size.min(4);
        }
        if let Some(why) = self.deferred {
            return Err(inv(why));
        }
        self.validate(cand, insn)?;
        self.prefix_flags(cand, insn);
        insn.len = self.pos as u8;
        Ok(())
    }

    /// Picks the most helpful reason when no candidate matched.
    fn why_no_match(&self, cands: &[Cand]) -> Invalid {
        let mode_only = cands.iter().any(|c| {
            let m = (c.sel >> S_MODE_SHIFT) & 3;
            (m == 1 && self.is64()) || (m == 2 && !self.is64())
        });
        let modrm_only = cands.iter().any(|c| (c.sel >> S_MOD_SHIFT) & 3 != 0);
        if mode_only {
            Invalid::Mode
        } else if modrm_only {
            Invalid::ModRm
        } else {
            Invalid::Opcode
        }
    }

    fn validate(&self, cand: &Cand, insn: &mut Instruction) -> R<()> {
        let mem = self.has_mem;
        if self.lock && (cand.attr & A_LOCK == 0 || !mem) {
            return Err(inv(Invalid::Lock));
        }
        if self.enc == Encoding::Legacy {
            return Ok(());
        }
        self.validate_vex(cand, insn)
    }

    /// The VEX/EVEX/XOP part of [`Self::validate`].
    #[inline(never)]
    fn validate_vex(&self, cand: &Cand, insn: &mut Instruction) -> R<()> {
        let mem = self.has_mem;
        {
            let vsib = cand.attr & A_VSIB != 0;
            let uses_v = cand.attr & A_USES_V != 0;
            let uses_vvvv = uses_v || vsib;
            if !uses_v && self.vvvv_raw != 0 {
                return Err(inv(Invalid::ReservedField));
            }
            // EVEX V' extends vvvv, or the VSIB index; otherwise it must be 1 (encoded).
            if self.enc == Encoding::Evex && !uses_vvvv && !vsib && self.v2 != 0 {
                return Err(inv(Invalid::ReservedField));
            }
        }
        if self.enc == Encoding::Vex && cand.attr & A_VEX_OVL != 0 && vex_regs_overlap(cand, insn) {
            return Err(inv(Invalid::Register));
        }
        if self.enc == Encoding::Evex {
            let a = cand.attr;
            if a & A_EVEX_OVL != 0 && evex_dest_overlaps(cand, insn) {
                return Err(inv(Invalid::Register));
            }
            if self.aaa != 0 && a & A_NOMASK != 0 {
                return Err(inv(Invalid::EvexFeature));
            }
            // AMD processors ignore z where there is no masking (measured on Zen 4).
            let z = self.z && !(self.vendor == Vendor::Amd && a & A_NOMASK != 0);
            if self.aaa == 0 && (a & A_KREQ != 0 || z) {
                return Err(inv(Invalid::EvexFeature));
            }
            // Outside 64-bit mode there are only eight vector registers: V' must be 1 (encoded)
            // on Intel processors (AMD's V' is dropped when the prefix is read).
            if !self.is64() && self.v2 != 0 {
                return Err(inv(Invalid::ReservedField));
            }
            if z && (a & A_NOZ != 0 || (mem && insn.operands[0] == Operand::Mem)) {
                return Err(inv(Invalid::EvexFeature));
            }
            if self.bcst {
                if mem {
                    if a & A_BCST == 0 {
                        return Err(inv(Invalid::EvexFeature));
                    }
                } else if a & A_ER != 0 {
                    insn.rounding = self.l.wrapping_add(1);
                } else if a & A_SAE != 0 {
                    insn.rounding = 5;
                } else if self.vendor == Vendor::Intel || a & A_BCST == 0 {
                    // AMD processors ignore b in the register form of an operation with
                    // broadcast (measured on Zen 4); every other case is #UD.
                    return Err(inv(Invalid::EvexFeature));
                }
            }
            insn.mask = self.aaa;
            insn.zeroing = z;
            insn.broadcast = self.bcst && mem;
            // A broadcast reads one element.
            if insn.broadcast {
                insn.mem.size = self.evex_elem_size();
            }
        }
        Ok(())
    }

    fn prefix_flags(&self, cand: &Cand, insn: &mut Instruction) {
        let mut p = self.legacy_flags();
        let mandatory = cand.pfx_sel() == Pfx::Pf2 as u32 || cand.pfx_sel() == Pfx::Pf3 as u32;
        if self.enc == Encoding::Legacy && !mandatory {
            match self.last_rep {
                0xf3 => p |= Prefixes::REP,
                0xf2 => p |= Prefixes::REPNE,
                _ => {}
            }
        }
        insn.prefixes = Prefixes(p);
        insn.seg_override = if self.is64() {
            self.seg_fsgs.or(self.seg)
        } else {
            self.seg
        };
    }

    /// The `Prefixes` flags of the prefixes seen, REP and REPNE aside.
    fn legacy_flags(&self) -> u16 {
        let mut p = 0u16;
        if self.lock {
            p |= Prefixes::LOCK;
        }
        if self.p66 {
            p |= Prefixes::OPSIZE;
        }
        if self.p67 {
            p |= Prefixes::ADDRSIZE;
        }
        if self.rex != 0 {
            p |= Prefixes::REX;
        }
        if self.w {
            p |= Prefixes::W;
        }
        if self.has_f2 {
            p |= Prefixes::F2;
        }
        if self.has_f3 {
            p |= Prefixes::F3;
        }
        if self.rex2 {
            p |= Prefixes::REX2;
        }
        p
    }

    /// Vector register class for a width in bytes.
    fn vclass(bytes: u16) -> RegClass {
        match bytes {
            0..=16 => RegClass::Xmm,
            17..=32 => RegClass::Ymm,
            _ => RegClass::Zmm,
        }
    }

    fn gpr8(&self, num: u8) -> Reg {
        if self.rex == 0 && !self.rex2 && self.enc == Encoding::Legacy && (4..8).contains(&num) {
            Reg::new(RegClass::Gpr8High, num & 3)
        } else {
            Reg::new(RegClass::Gpr8, num)
        }
    }

    /// VEX/EVEX register-number rules of operand kind `k`.
    fn check_reg(&self, k: K) -> R<()> {
        // EVEX: a general-purpose register in ModRM.reg has no R' extension (it must be
        // clear), and a mask register there has neither R nor R'.
        if self.enc == Encoding::Evex
            && ((matches!(k, K::Gd | K::Gq | K::Gy) && self.r2 != 0)
                || (k == K::KG && (self.r | self.r2) != 0))
        {
            return Err(inv(Invalid::Register));
        }
        // VEX: opmask and tile registers have no R (ModRM.reg) or B (a tile in ModRM.rm)
        // extension, and one in vvvv must be below 8. An opmask in ModRM.rm ignores B. AMD
        // processors ignore R and vvvv bit 3 for opmasks too (measured on Zen 4).
        let kmask_checked = self.vendor == Vendor::Intel;
        if self.enc == Encoding::Vex
            && ((k == K::TmmG && self.r != 0)
                || (k == K::KG && self.r != 0 && kmask_checked)
                || (k == K::TmmR && self.b != 0)
                || (k == K::TmmH && self.vvvv > 7)
                || (k == K::KH && self.vvvv > 7 && kmask_checked))
        {
            return Err(inv(Invalid::Register));
        }
        Ok(())
    }

    /// The operands of a legacy-encoded candidate whose kinds are all `K::is_simple`.
    #[inline(always)]
    fn operands_simple(&mut self, cand: &Cand, insn: &mut Instruction) -> R<()> {
        let modrm = self.modrm.unwrap_or(0);
        let is_reg_form = modrm >= 0xc0 || cand.attr & A_MODREG != 0;
        if cand.attr & A_KMODRM != 0 && !is_reg_form {
            self.mem_operand(modrm, None, insn)?;
        }
        for (slot, &k) in cand.k.iter().enumerate() {
            if k == K::None {
                break;
            }
            let operand = self.simple_operand(k, modrm, is_reg_form, insn)?;
            if let Some(s) = insn.operands.get_mut(slot) {
                *s = operand;
            }
        }
        Ok(())
    }

    /// One operand of [`Self::operands_simple`] (a separate function: inlined in the loop, the
    /// compiler would precompute every kind's values before it).
    #[inline(never)]
    fn simple_operand(
        &mut self,
        k: K,
        modrm: u8,
        is_reg_form: bool,
        insn: &mut Instruction,
    ) -> R<Operand> {
        let osz = insn.op_size;
        // Five bits under REX2 (R16..R31); vector registers take four.
        let reg_n = ((modrm >> 3) & 7) | (self.r << 3);
        let rm_n = (modrm & 7) | (self.b << 3);
        let ysize = if self.w { 8 } else { 4 };
        Ok(match k {
            K::Eb | K::Ew | K::Ed | K::Eq | K::Ev | K::Ey => {
                let size = match k {
                    K::Eb => 1,
                    K::Ew => 2,
                    K::Ed => 4,
                    K::Eq => 8,
                    K::Ev => osz,
                    _ => ysize,
                };
                if !is_reg_form {
                    insn.mem.size = size as u16;
                    self.has_mem = true;
                    Operand::Mem
                } else if size == 1 {
                    Operand::Reg(self.gpr8(rm_n))
                } else {
                    Operand::Reg(Reg::gpr(size, rm_n))
                }
            }
            K::Gb => Operand::Reg(self.gpr8(reg_n)),
            K::Gd => Operand::Reg(Reg::gpr(4, reg_n)),
            K::Gq => Operand::Reg(Reg::gpr(8, reg_n)),
            K::Gv => Operand::Reg(Reg::gpr(osz, reg_n)),
            K::Gy => Operand::Reg(Reg::gpr(ysize, reg_n)),
            K::M | K::Mb | K::Mw | K::Md | K::Mq | K::Mo | K::Mv => {
                if is_reg_form {
                    return Err(inv(Invalid::ModRm));
                }
                insn.mem.size = match k {
                    K::M => 0,
                    K::Mb => 1,
                    K::Mw => 2,
                    K::Md => 4,
                    K::Mq => 8,
                    K::Mo => 16,
                    _ => osz as u16,
                };
                self.has_mem = true;
                Operand::Mem
            }
            K::Ib | K::Ibs => {
                let raw = self.byte()? as u64;
                insn.imm = if k == K::Ibs {
                    sext(raw, 1) & mask(osz)
                } else {
                    raw
                };
                Operand::Imm { size: 1 }
            }
            K::Iw => {
                insn.imm = self.le(2)?;
                Operand::Imm { size: 2 }
            }
            K::Iz => {
                let size = if osz == 2 { 2 } else { 4 };
                insn.imm = sext(self.le(size)?, size) & mask(osz);
                Operand::Imm { size }
            }
            K::Iv => {
                insn.imm = self.le(osz)?;
                Operand::Imm { size: osz }
            }
            K::Jb => {
                insn.imm = self.byte()? as i8 as i64 as u64;
                Operand::Rel { size: 1 }
            }
            K::Jz => {
                let size = if osz == 2 { 2 } else { 4 };
                insn.imm = sext(self.le(size)?, size);
                Operand::Rel { size }
            }
            K::Al => Operand::Reg(Reg::gpr(1, 0)),
            K::Cl => Operand::Reg(Reg::gpr(1, 1)),
            K::RAx => Operand::Reg(Reg::gpr(osz, 0)),
            K::Zb => Operand::Reg(self.gpr8((insn.opcode & 7) | (self.b << 3))),
            K::Zv => Operand::Reg(Reg::gpr(osz, (insn.opcode & 7) | (self.b << 3))),
            K::One => Operand::One,
            K::Vx => Operand::Reg(Reg::new(RegClass::Xmm, reg_n & 15)),
            K::Wx | K::W8 | K::W4 => {
                if is_reg_form {
                    Operand::Reg(Reg::new(RegClass::Xmm, rm_n & 15))
                } else {
                    insn.mem.size = match k {
                        K::Wx => 16,
                        K::W8 => 8,
                        _ => 4,
                    };
                    self.has_mem = true;
                    Operand::Mem
                }
            }
            // Not `K::is_simple`: never reached.
            _ => return Err(inv(Invalid::Opcode)),
        })
    }

    #[inline(always)]
    fn operands(&mut self, cand: &Cand, insn: &mut Instruction) -> R<()> {
        if cand.attr & A_SIMPLE != 0 && self.enc == Encoding::Legacy {
            return self.operands_simple(cand, insn);
        }
        self.operands_general(cand, insn)
    }

    #[inline(never)]
    fn operands_general(&mut self, cand: &Cand, insn: &mut Instruction) -> R<()> {
        let modrm = self.modrm.unwrap_or(0);
        let md = modrm >> 6;
        let reg3 = (modrm >> 3) & 7;
        let rm3 = modrm & 7;
        let is_reg_form = md == 3 || cand.attr & A_MODREG != 0;
        let osz = insn.op_size;
        let vl: u16 = if insn.vl == 0 { 16 } else { insn.vl as u16 };
        // Five bits under REX2 (R16..R31, and control and debug registers, which have none
        // beyond 15); vector registers take four, and EVEX's fifth.
        let reg_n = reg3 | (self.r << 3);
        let rm_n = rm3 | (self.b << 3);
        let vvvv = self.vvvv | (self.v2 << 4);
        let ysize = if self.w && (self.is64() || self.enc == Encoding::Legacy) {
            8
        } else {
            4
        };

        // The memory operand comes before any immediate.
        let needs_mem = cand.attr & A_KMODRM != 0 && !is_reg_form;
        if needs_mem {
            let vsib = if cand.attr & A_VSIB != 0 {
                cand.k.iter().find_map(|k| match k {
                    K::Vsib => Some(vl),
                    K::VsibH => Some((vl / 2).max(16)),
                    _ => None,
                })
            } else {
                None
            };
            self.mem_operand(modrm, vsib, insn)?;
        }
        let check_regs = cand.attr & A_CHECKREG != 0 && self.enc != Encoding::Legacy;

        for (slot, &k) in cand.k.iter().enumerate() {
            if k == K::None {
                break;
            }
            let gpr = |size: u8, n: u8| Reg::gpr(size, n);
            if check_regs {
                self.check_reg(k)?;
            }
            let operand = match k {
                K::None => Operand::None,
                K::Eb | K::Ew | K::Ed | K::Eq | K::Ev | K::Ey => {
                    let size = match k {
                        K::Eb => 1,
                        K::Ew => 2,
                        K::Ed => 4,
                        K::Eq => 8,
                        K::Ev => osz,
                        _ => ysize,
                    };
                    if is_reg_form {
                        if size == 1 {
                            Operand::Reg(self.gpr8(rm_n))
                        } else {
                            Operand::Reg(gpr(size, rm_n))
                        }
                    } else {
                        insn.mem.size = size as u16;
                        Operand::Mem
                    }
                }
                K::Gb => Operand::Reg(self.gpr8(reg_n)),
                K::Gd => Operand::Reg(gpr(4, reg_n)),
                K::Gq => Operand::Reg(gpr(8, reg_n)),
                K::Gv => Operand::Reg(gpr(osz, reg_n)),
                K::Gy => Operand::Reg(gpr(ysize, reg_n)),
                K::Rv | K::Ry | K::Rd | K::Rq | K::Rcr => {
                    let size = match k {
                        K::Rv => osz,
                        K::Ry => ysize,
                        K::Rd => 4,
                        K::Rq => 8,
                        _ => {
                            if self.is64() {
                                8
                            } else {
                                4
                            }
                        }
                    };
                    Operand::Reg(gpr(size, rm_n))
                }
                K::M
                | K::Mb
                | K::Mw
                | K::Md
                | K::Mq
                | K::Mo
                | K::My
                | K::Mv
                | K::Mp
                | K::Ms
                | K::Mt
                | K::Menv
                | K::Mstate
                | K::M512
                | K::Mxsave
                | K::M64b
                | K::Ma
                | K::Mx
                | K::M32b => {
                    if is_reg_form {
                        return Err(inv(Invalid::ModRm));
                    }
                    insn.mem.size = match k {
                        K::M | K::Mxsave => 0,
                        K::Mb => 1,
                        K::Mw => 2,
                        K::Md => 4,
                        K::Mq => 8,
                        K::Mo => 16,
                        K::My => ysize as u16,
                        K::Mv => osz as u16,
                        K::Mp => u16::from(osz).wrapping_add(2),
                        K::Ms => {
                            if self.is64() {
                                10
                            } else {
                                6
                            }
                        }
                        K::Mt => 10,
                        K::Menv => {
                            if osz == 2 {
                                14
                            } else {
                                28
                            }
                        }
                        K::Mstate => {
                            if osz == 2 {
                                94
                            } else {
                                108
                            }
                        }
                        K::M512 => 512,
                        K::M64b => 64,
                        K::Ma => u16::from(osz) << 1,
                        K::Mx => vl,
                        _ => 32,
                    };
                    Operand::Mem
                }
                K::Ib | K::Ibs | K::Iw | K::Iz | K::Iv | K::Id => {
                    let size = match k {
                        K::Ib | K::Ibs => 1,
                        K::Iw => 2,
                        K::Id => 4,
                        K::Iz => {
                            if osz == 2 {
                                2
                            } else {
                                4
                            }
                        }
                        _ => osz,
                    };
                    let raw = self.le(size)?;
                    insn.imm = match k {
                        K::Ibs => sext(raw, 1) & mask(osz),
                        K::Iz => sext(raw, size) & mask(osz),
                        _ => raw,
                    };
                    Operand::Imm { size }
                }
                K::Ib2 => {
                    insn.imm2 = self.byte()? as u16;
                    Operand::Imm2
                }
                K::Lx => {
                    let ib = self.byte()?;
                    insn.imm = ib as u64;
                    let n = if self.is64() { ib >> 4 } else { (ib >> 4) & 7 };
                    Operand::Reg(Reg::new(Self::vclass(vl), n))
                }
                K::Jb | K::Jz => {
                    let size = if k == K::Jb {
                        1
                    } else if osz == 2 {
                        2
                    } else {
                        4
                    };
                    insn.imm = sext(self.le(size)?, size);
                    Operand::Rel { size }
                }
                K::Ap => {
                    let size = if osz == 2 { 2 } else { 4 };
                    insn.imm = self.le(size)?;
                    insn.imm2 = self.le(2)? as u16;
                    Operand::FarPtr
                }
                K::Ob | K::Ov => {
                    let asz = insn.addr_size;
                    insn.mem = MemOperand {
                        seg: self.effective_seg(Seg::Ds),
                        base: None,
                        index: None,
                        scale: 1,
                        disp: self.le(asz)? as i64,
                        disp_size: asz,
                        size: if k == K::Ob { 1 } else { osz as u16 },
                    };
                    Operand::Mem
                }
                K::Al => Operand::Reg(gpr(1, 0)),
                K::Cl => Operand::Reg(gpr(1, 1)),
                K::Dx => Operand::Reg(gpr(2, 2)),
                K::Ax => Operand::Reg(gpr(2, 0)),
                K::RAx => Operand::Reg(gpr(osz, 0)),
                K::EAx => Operand::Reg(gpr(if osz == 2 { 2 } else { 4 }, 0)),
                K::Zb => Operand::Reg(self.gpr8((insn.opcode & 7) | (self.b << 3))),
                K::Zv => Operand::Reg(gpr(osz, (insn.opcode & 7) | (self.b << 3))),
                K::Sw | K::SwDst => {
                    if reg3 > 5 || (k == K::SwDst && reg3 == 1) {
                        return Err(inv(Invalid::Register));
                    }
                    Operand::Reg(Reg::new(RegClass::Seg, reg3))
                }
                K::Es => Operand::Reg(Reg::new(RegClass::Seg, 0)),
                K::Cs => Operand::Reg(Reg::new(RegClass::Seg, 1)),
                K::Ss => Operand::Reg(Reg::new(RegClass::Seg, 2)),
                K::Ds => Operand::Reg(Reg::new(RegClass::Seg, 3)),
                K::Fs => Operand::Reg(Reg::new(RegClass::Seg, 4)),
                K::Gs => Operand::Reg(Reg::new(RegClass::Seg, 5)),
                K::Cd => {
                    // AMD: LOCK MOV CR0 is the alternate encoding of CR8 outside 64-bit mode.
                    let n = if self.lock && self.vendor == Vendor::Amd && reg_n == 0 {
                        self.lock = false;
                        8
                    } else {
                        reg_n
                    };
                    if !matches!(n, 0 | 2 | 3 | 4 | 8) {
                        return Err(inv(Invalid::Register));
                    }
                    Operand::Reg(Reg::new(RegClass::Cr, n))
                }
                K::Dd => {
                    if reg_n > 7 {
                        return Err(inv(Invalid::Register));
                    }
                    Operand::Reg(Reg::new(RegClass::Dr, reg_n))
                }
                K::One => Operand::One,
                K::St0 => Operand::Reg(Reg::new(RegClass::St, 0)),
                K::Sti => Operand::Reg(Reg::new(RegClass::St, rm3)),
                K::Xb | K::Xv | K::Xz => {
                    insn.mem.seg = self.effective_seg(Seg::Ds);
                    Operand::StrSrc {
                        size: str_size(k, osz),
                    }
                }
                K::Yb | K::Yv | K::Yz => {
                    if !matches!(cand.k[0], K::Xb | K::Xv) && !needs_mem {
                        insn.mem.seg = self.effective_seg(Seg::Ds);
                    }
                    Operand::StrDst {
                        size: str_size(k, osz),
                    }
                }
                K::Pq => Operand::Reg(Reg::new(RegClass::Mmx, reg3)),
                K::Qq | K::Qd | K::Nq => {
                    if is_reg_form {
                        Operand::Reg(Reg::new(RegClass::Mmx, rm3))
                    } else if k == K::Nq {
                        return Err(inv(Invalid::ModRm));
                    } else {
                        insn.mem.size = if k == K::Qd { 4 } else { 8 };
                        Operand::Mem
                    }
                }
                K::Vx | K::Vh | K::V16 => {
                    let width = match k {
                        K::Vx => vl,
                        K::Vh => vl / 2,
                        _ => 16,
                    };
                    let n = reg3 | (self.r & 1) << 3 | self.r2 << 4;
                    Operand::Reg(Reg::new(Self::vclass(width), n))
                }
                K::Wx
                | K::Wh
                | K::Wqr
                | K::We
                | K::W16
                | K::W8
                | K::W4
                | K::W2
                | K::W1
                | K::Ux
                | K::U16 => {
                    let (regw, memw) = match k {
                        K::Wx | K::Ux => (vl, vl),
                        K::Wh => (vl / 2, vl / 2),
                        K::Wqr => (vl / 4, vl / 4),
                        K::We => (vl / 8, vl / 8),
                        K::W16 | K::U16 => (16, 16),
                        K::W8 => (16, 8),
                        K::W4 => (16, 4),
                        K::W2 => (16, 2),
                        _ => (16, 1),
                    };
                    if is_reg_form {
                        // EVEX.X extends a register rm to 32 registers; REX.X / VEX.X do not.
                        let x = if self.enc == Encoding::Evex {
                            self.x
                        } else {
                            0
                        };
                        let n = rm3 | (self.b & 1) << 3 | x << 4;
                        Operand::Reg(Reg::new(Self::vclass(regw), n))
                    } else if matches!(k, K::Ux | K::U16) {
                        return Err(inv(Invalid::ModRm));
                    } else {
                        insn.mem.size = memw;
                        Operand::Mem
                    }
                }
                K::Hx => Operand::Reg(Reg::new(Self::vclass(vl), vvvv)),
                K::H16 => Operand::Reg(Reg::new(RegClass::Xmm, vvvv)),
                K::By => Operand::Reg(gpr(ysize, self.vvvv)),
                K::Vsib | K::VsibH => {
                    if is_reg_form {
                        return Err(inv(Invalid::ModRm));
                    }
                    // Gathers and scatters access one element (4 or 8 bytes by W) per index.
                    insn.mem.size = if self.w { 8 } else { 4 };
                    Operand::Mem
                }
                K::KG => Operand::Reg(Reg::new(RegClass::K, reg3)),
                K::KH => Operand::Reg(Reg::new(RegClass::K, self.vvvv & 7)),
                K::KR | K::KEb | K::KEw | K::KEd | K::KEq => {
                    if is_reg_form {
                        Operand::Reg(Reg::new(RegClass::K, rm3))
                    } else if k == K::KR {
                        return Err(inv(Invalid::ModRm));
                    } else {
                        insn.mem.size = match k {
                            K::KEb => 1,
                            K::KEw => 2,
                            K::KEd => 4,
                            _ => 8,
                        };
                        Operand::Mem
                    }
                }
                K::TmmG => Operand::Reg(Reg::new(RegClass::Tmm, reg3)),
                K::TmmR => {
                    if !is_reg_form {
                        return Err(inv(Invalid::ModRm));
                    }
                    Operand::Reg(Reg::new(RegClass::Tmm, rm3))
                }
                K::TmmH => Operand::Reg(Reg::new(RegClass::Tmm, self.vvvv & 7)),
                K::GaEs => Operand::Reg(gpr(insn.addr_size, reg_n)),
                K::Xlat => {
                    insn.mem = MemOperand {
                        seg: self.effective_seg(Seg::Ds),
                        base: Some(gpr(insn.addr_size, 3)),
                        index: Some(gpr(1, 0)),
                        scale: 1,
                        disp: 0,
                        disp_size: 0,
                        size: 1,
                    };
                    Operand::Mem
                }
            };
            if operand == Operand::Mem {
                self.has_mem = true;
            }
            if let Some(s) = insn.operands.get_mut(slot) {
                *s = operand;
            }
        }
        Ok(())
    }

    /// The segment of a memory access whose default is `default`, after any override (in 64-bit
    /// mode an FS or GS prefix wins over any ES/CS/SS/DS prefix, whatever the order).
    fn effective_seg(&self, default: Seg) -> Seg {
        if self.is64() {
            self.seg_fsgs.or(self.seg).unwrap_or(default)
        } else {
            self.seg.unwrap_or(default)
        }
    }

    /// A VSIB operand without a SIB byte (or with 16-bit addressing): #UD, which Intel's
    /// processors raise once they have the whole instruction (measured on Emerald Rapids: more
    /// than 15 bytes is #GP), AMD's at once.
    fn bad_vsib(&mut self) -> R<()> {
        if self.vendor == Vendor::Amd {
            return Err(inv(Invalid::ModRm));
        }
        self.defer(Invalid::ModRm);
        Ok(())
    }

    /// Decodes ModRM (mod != 3), SIB and displacement into `insn.mem`. `vsib` is the width of the
    /// VSIB index vector when the operand is a vector-index one.
    fn mem_operand(&mut self, modrm: u8, vsib: Option<u16>, insn: &mut Instruction) -> R<()> {
        let md = modrm >> 6;
        let rm = modrm & 7;
        let asz = insn.addr_size;
        let mut m = MemOperand::EMPTY;
        let mut default_seg = Seg::Ds;
        if asz == 2 {
            if vsib.is_some() {
                self.bad_vsib()?;
            }
            let (base, index) = match rm {
                0 => (Some(3), Some(6)),
                1 => (Some(3), Some(7)),
                2 => (Some(5), Some(6)),
                3 => (Some(5), Some(7)),
                4 => (Some(6), None),
                5 => (Some(7), None),
                6 => (if md == 0 { None } else { Some(5) }, None),
                _ => (Some(3), None),
            };
            if matches!(base, Some(5)) {
                default_seg = Seg::Ss;
            }
            m.base = base.map(|n| Reg::gpr(2, n));
            m.index = index.map(|n| Reg::gpr(2, n));
            let dsize = match md {
                0 if rm == 6 => 2,
                1 => 1,
                2 => 2,
                _ => 0,
            };
            if dsize > 0 {
                m.disp = sext(self.le(dsize)?, dsize) as i64;
                m.disp_size = dsize;
            }
        } else {
            let mut dsize = match md {
                1 => 1,
                2 => 4,
                _ => 0,
            };
            if rm == 4 {
                let sib = self.byte()?;
                let scale = sib >> 6;
                let idx = ((sib >> 3) & 7) | (self.x << 3);
                let base = (sib & 7) | (self.b << 3);
                m.scale = 1 << scale;
                if let Some(width) = vsib {
                    let n = idx | (self.v2 << 4);
                    m.index = Some(Reg::new(Self::vclass(width), n));
                } else if idx != 4 {
                    m.index = Some(Reg::gpr(asz, idx));
                }
                if sib & 7 == 5 && md == 0 {
                    dsize = 4;
                } else {
                    m.base = Some(Reg::gpr(asz, base));
                    if base & 7 == 4 || (base & 7 == 5 && self.b == 0) {
                        default_seg = if base == 4 || base == 5 {
                            Seg::Ss
                        } else {
                            Seg::Ds
                        };
                    }
                }
            } else if rm == 5 && md == 0 {
                dsize = 4;
                if self.is64() {
                    m.base = Some(if asz == 8 { Reg::RIP } else { Reg::EIP });
                }
                if vsib.is_some() {
                    self.bad_vsib()?;
                }
            } else {
                let base = rm | (self.b << 3);
                m.base = Some(Reg::gpr(asz, base));
                if base == 5 {
                    default_seg = Seg::Ss;
                }
            }
            if vsib.is_some() && m.index.is_none() {
                self.bad_vsib()?;
            }
            if dsize > 0 {
                let raw = sext(self.le(dsize)?, dsize);
                m.disp = raw as i64;
                m.disp_size = dsize;
            }
        }
        if self.enc == Encoding::Evex && m.disp_size == 1 {
            m.disp = m.disp.wrapping_mul(self.disp8_scale(insn) as i64);
        }
        m.seg = self.effective_seg(default_seg);
        insn.mem = m;
        Ok(())
    }

    /// EVEX disp8×N: the scale N of an 8-bit displacement, from the candidate's tuple type.
    /// EVEX element size in bytes of the matched candidate (its tuple's element size, else by W).
    fn evex_elem_size(&self) -> u16 {
        match self.cur_tuple {
            Some((_, 1)) => 1,
            Some((_, 2)) => 2,
            Some((_, 3)) => 4,
            Some((_, 4)) => 8,
            _ => {
                if self.w {
                    8
                } else {
                    4
                }
            }
        }
    }

    fn disp8_scale(&self, insn: &Instruction) -> u16 {
        let Some((tuple, es_code)) = self.cur_tuple else {
            return 1;
        };
        let vl: u16 = insn.vl.max(16) as u16;
        let es: u16 = match es_code {
            1 => 1,
            2 => 2,
            3 => 4,
            4 => 8,
            _ => {
                if self.w {
                    8
                } else {
                    4
                }
            }
        };
        const FULL: u32 = Tuple::Full as u32;
        const HALF: u32 = Tuple::Half as u32;
        const FULLMEM: u32 = Tuple::FullMem as u32;
        const T1S: u32 = Tuple::T1s as u32;
        const T1F: u32 = Tuple::T1f as u32;
        const T2: u32 = Tuple::T2 as u32;
        const T4: u32 = Tuple::T4 as u32;
        const T8: u32 = Tuple::T8 as u32;
        const HALFMEM: u32 = Tuple::HalfMem as u32;
        const QMEM: u32 = Tuple::QuarterMem as u32;
        const EMEM: u32 = Tuple::EighthMem as u32;
        const M128: u32 = Tuple::M128 as u32;
        const DUP: u32 = Tuple::Dup as u32;
        const T1S8: u32 = Tuple::T1s8 as u32;
        const T1S16: u32 = Tuple::T1s16 as u32;
        match tuple {
            FULL => {
                if self.bcst {
                    es
                } else {
                    vl
                }
            }
            HALF => {
                if self.bcst {
                    es
                } else {
                    vl / 2
                }
            }
            FULLMEM => vl,
            T1S | T1F => es,
            T2 => es << 1,
            T4 => es << 2,
            T8 => es << 3,
            HALFMEM => vl / 2,
            // FP16 conversions (VCVTPH2PD...) use the quarter tuple with broadcast.
            QMEM => {
                if self.bcst {
                    es
                } else {
                    vl / 4
                }
            }
            EMEM => vl / 8,
            M128 => 16,
            DUP => {
                if vl == 16 {
                    8
                } else {
                    vl
                }
            }
            T1S8 => 1,
            T1S16 => 2,
            _ => 1,
        }
    }
}

/// VEX encodings that are #UD when registers coincide: gathers (any two of destination, VSIB
/// index and mask) and the AMX tile dot products (any two of their three tiles).
fn vex_regs_overlap(cand: &Cand, insn: &Instruction) -> bool {
    let num = |o: Operand| match o {
        Operand::Reg(r) => Some(r.num),
        _ => None,
    };
    let (a, b, c) = if matches!(cand.k[1], K::Vsib | K::VsibH) {
        (
            num(insn.operands[0]),
            insn.mem.index.map(|r| r.num),
            num(insn.operands[2]),
        )
    } else if matches!(cand.k, [K::TmmG, K::TmmR, K::TmmH, _]) {
        (
            num(insn.operands[0]),
            num(insn.operands[1]),
            num(insn.operands[2]),
        )
    } else {
        return false;
    };
    match (a, b, c) {
        (Some(a), Some(b), Some(c)) => a == b || a == c || b == c,
        _ => false,
    }
}

/// EVEX encodings that are #UD when the destination register is also a source: the FP16
/// complex multiplies (destination equal to either source) and gathers (destination equal to the
/// VSIB index).
fn evex_dest_overlaps(cand: &Cand, insn: &Instruction) -> bool {
    let Operand::Reg(dest) = insn.operands[0] else {
        return false;
    };
    if matches!(
        cand.op,
        Op::Vfmaddcph
            | Op::Vfcmaddcph
            | Op::Vfmulcph
            | Op::Vfcmulcph
            | Op::Vfmaddcsh
            | Op::Vfcmaddcsh
            | Op::Vfmulcsh
            | Op::Vfcmulcsh
    ) {
        return insn
            .operands
            .iter()
            .skip(1)
            .take(2)
            .any(|o| matches!(o, Operand::Reg(r) if r.num == dest.num));
    }
    if matches!(cand.k[1], K::Vsib | K::VsibH) {
        return matches!(insn.mem.index, Some(i) if i.num == dest.num);
    }
    false
}

fn str_size(k: K, osz: u8) -> u8 {
    match k {
        K::Xb | K::Yb => 1,
        K::Xz | K::Yz => {
            if osz == 2 {
                2
            } else {
                4
            }
        }
        _ => osz,
    }
}

/// The one-hot key bit of an operand or address size: 2, 4, 8 give 1, 2, 4.
const fn size_bit(bytes: u8) -> u64 {
    match bytes {
        2 => 1,
        4 => 2,
        8 => 4,
        _ => 0,
    }
}

/// Sign-extends the low `bytes` bytes of `v` to 64 bits.
const fn sext(v: u64, bytes: u8) -> u64 {
    match bytes {
        1 => v as u8 as i8 as i64 as u64,
        2 => v as u16 as i16 as i64 as u64,
        4 => v as u32 as i32 as i64 as u64,
        _ => v,
    }
}

/// All-ones mask of `bytes` bytes.
const fn mask(bytes: u8) -> u64 {
    match bytes {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// A form Intel's length decoder gives undefined legacy 0F opcodes (`intel_undefined_0f`).
#[derive(Copy, Clone, PartialEq, Eq)]
enum Undefined0f {
    /// A ModRM byte.
    ModRm,
    /// A third opcode byte and ModRM, as 0F 38.
    Escape,
    /// The same and an 8-bit immediate, as 0F 3A.
    EscapeIb,
}

/// The form Intel's length decoder gives legacy 0F opcode `opcode`, one with no instruction,
/// where it reads more than the opcode (measured on Emerald Rapids: the others raise #UD at
/// once). In VEX and EVEX map 1 the escapes are no escapes (#UD at once), the ModRM forms are.
fn intel_undefined_0f(opcode: u8) -> Option<Undefined0f> {
    match opcode {
        0x7a | 0x7b | 0xa6 | 0xa7 => Some(Undefined0f::ModRm),
        0x39 | 0x3c | 0x3d => Some(Undefined0f::Escape),
        0x3b | 0x3e | 0x3f => Some(Undefined0f::EscapeIb),
        _ => None,
    }
}

/// The form of the first candidate for Intel of `opcode` in `tbl`, as Intel's length decoder
/// takes it: whether its ModRM is register-only whatever its mod (MOV CR/DR), and the size of
/// its immediate (`osz16`: a 16-bit operand size).
fn first_form(tbl: &OpMap, opcode: u8, osz16: bool) -> (bool, usize) {
    let (cands, _) = tbl.lookup(opcode);
    let z = if osz16 { 2 } else { 4 };
    cands
        .iter()
        .find(|c| (c.sel >> S_VENDOR_SHIFT) & 3 != 2)
        .map_or((false, 0), |c| {
            let imm =
                c.k.iter()
                    .map(|k| match k {
                        K::Ib | K::Ibs | K::Jb => 1,
                        K::Iw => 2,
                        K::Iz | K::Jz | K::Iv => z,
                        K::Id => 4,
                        _ => 0,
                    })
                    .fold(0usize, usize::wrapping_add);
            (c.attr & A_MODREG != 0, imm)
        })
}
