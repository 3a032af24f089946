//! The decoded instruction record.

use super::op::Op;
use super::reg::{Reg, Seg};

/// Processor mode as far as decoding is concerned.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// Real-address mode (16-bit code; VEX, EVEX and XOP are not recognised).
    Real,
    /// 16-bit protected mode (CS.D = 0).
    Prot16,
    /// 32-bit protected mode (CS.D = 1).
    Prot32,
    /// Compatibility mode: 32-bit code under long mode.
    Compat32,
    /// 64-bit mode (CS.L = 1).
    Long64,
}

impl Mode {
    /// The default operand and address size in bytes: 2, 4 or 8.
    pub const fn code_size(self) -> u8 {
        match self {
            Mode::Real | Mode::Prot16 => 2,
            Mode::Prot32 | Mode::Compat32 => 4,
            Mode::Long64 => 8,
        }
    }

    /// True in 64-bit mode.
    pub const fn is_64(self) -> bool {
        matches!(self, Mode::Long64)
    }
}

/// Which processor family's decoding to follow where Intel and AMD differ.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Vendor {
    /// Intel processors.
    Intel,
    /// AMD processors.
    #[default]
    Amd,
}

/// Instruction-set extensions the decoder recognizes only when asked: they change what bytes
/// mean, so they follow the processor (and the guest's enabling) the caller decodes for. All off
/// by default, as [`decode`](crate::decode::decode) decodes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Extensions {
    /// Intel APX's REX2 prefix: D5 in 64-bit mode (otherwise #UD there) followed by a payload
    /// byte, giving the legacy maps 0 and 1 the registers R16..R31, PUSHP/POPP and JMPABS. (APX's
    /// EVEX forms, map 4 and R16..R31 in EVEX instructions, are not decoded yet.)
    pub apx: bool,
}

/// Why bytes are not an instruction the processor would execute.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// The input ends inside the instruction.
    Truncated,
    /// The instruction would be longer than 15 bytes (#GP).
    TooLong,
    /// The processor raises #UD for this encoding; the reason says which rule.
    Invalid(Invalid),
}

/// The rule an invalid encoding breaks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Invalid {
    /// No instruction has this opcode (with these mandatory prefixes and ModRM fields).
    Opcode,
    /// The opcode exists but not in this processor mode.
    Mode,
    /// LOCK on an instruction or operand form that does not allow it.
    Lock,
    /// The instruction needs a memory operand but ModRM.mod is 3 (or the reverse).
    ModRm,
    /// A prefix (66, F2, F3, REX) placed before VEX, EVEX or XOP.
    PrefixBeforeVex,
    /// A reserved field of VEX, EVEX or XOP is set (vvvv, L, W, V', reserved bits).
    ReservedField,
    /// EVEX masking, zeroing, broadcast or rounding the instruction does not allow.
    EvexFeature,
    /// A register number outside the class (segment 6 or 7, CR1, ...).
    Register,
    /// APX: an opcode REX2 reserves (or no opcode after it: an escape or another prefix), or
    /// REX before REX2.
    Rex2,
}

impl DecodeError {
    /// Short machine-friendly name: `truncated`, `too_long` or `invalid`.
    pub const fn kind(self) -> &'static str {
        match self {
            DecodeError::Truncated => "truncated",
            DecodeError::TooLong => "too_long",
            DecodeError::Invalid(_) => "invalid",
        }
    }

    /// A human explanation of the error.
    pub const fn reason(self) -> &'static str {
        match self {
            DecodeError::Truncated => "the input ends inside the instruction",
            DecodeError::TooLong => "the instruction is longer than 15 bytes",
            DecodeError::Invalid(r) => match r {
                Invalid::Opcode => "no instruction has this opcode",
                Invalid::Mode => "not valid in this processor mode",
                Invalid::Lock => "LOCK prefix not allowed here",
                Invalid::ModRm => "operand form (register or memory) not allowed",
                Invalid::PrefixBeforeVex => "66, F2, F3, LOCK or REX before VEX/EVEX/XOP",
                Invalid::ReservedField => "reserved VEX/EVEX/XOP field set",
                Invalid::EvexFeature => "EVEX masking, broadcast or rounding not allowed",
                Invalid::Register => "reserved register encoding",
                Invalid::Rex2 => "not allowed with the REX2 prefix",
            },
        }
    }
}

/// How the opcode was encoded.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Encoding {
    /// Legacy (optionally REX) encoding.
    #[default]
    Legacy,
    /// VEX (C4/C5).
    Vex,
    /// EVEX (62).
    Evex,
    /// AMD XOP (8F).
    Xop,
    /// AMD 3DNow! (0F 0F with the opcode in the last byte).
    Now3d,
}

/// Opcode map of the instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Map {
    /// One-byte opcodes.
    #[default]
    Primary,
    /// 0F xx.
    M0F,
    /// 0F 38 xx.
    M0F38,
    /// 0F 3A xx.
    M0F3A,
    /// EVEX map 5 (AVX512-FP16).
    M5,
    /// EVEX map 6 (AVX512-FP16).
    M6,
    /// XOP map 8.
    Xop8,
    /// XOP map 9.
    Xop9,
    /// XOP map 0A.
    XopA,
}

/// Prefix flags seen on the instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Prefixes(pub u16);

impl Prefixes {
    /// F0.
    pub const LOCK: u16 = 1 << 0;
    /// F3 (REP/REPE) when it acts as a repeat prefix (not a mandatory prefix).
    pub const REP: u16 = 1 << 1;
    /// F2 (REPNE) when it acts as a repeat prefix (not a mandatory prefix).
    pub const REPNE: u16 = 1 << 2;
    /// 66 present.
    pub const OPSIZE: u16 = 1 << 3;
    /// 67 present.
    pub const ADDRSIZE: u16 = 1 << 4;
    /// A REX prefix is in effect.
    pub const REX: u16 = 1 << 5;
    /// REX.W (or VEX/EVEX/XOP W) is set.
    pub const W: u16 = 1 << 6;
    /// F3 present anywhere in the prefixes.
    pub const F3: u16 = 1 << 7;
    /// F2 present anywhere in the prefixes.
    pub const F2: u16 = 1 << 8;
    /// An APX REX2 prefix is in effect (decoded only with [`Extensions::apx`]).
    ///
    /// [`Extensions::apx`]: crate::decode::Extensions::apx
    pub const REX2: u16 = 1 << 9;

    /// True when every bit of `bits` is set.
    pub const fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }
}

/// The memory operand of an instruction (x86 instructions have at most one explicit one).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemOperand {
    /// Effective segment (the override, or the default for the base register).
    pub seg: Seg,
    /// Base register, [`Reg::RIP`]/[`Reg::EIP`] for instruction-relative addressing.
    pub base: Option<Reg>,
    /// Index register (a vector register for VSIB).
    pub index: Option<Reg>,
    /// Scale of the index: 1, 2, 4 or 8 (as encoded in the SIB byte, even without an index).
    pub scale: u8,
    /// Displacement, sign-extended to 64 bits (already multiplied by N for EVEX disp8×N).
    /// For RIP-relative operands it is relative to the end of the instruction.
    pub disp: i64,
    /// Size of the encoded displacement in bytes (0, 1, 2, 4 or 8).
    pub disp_size: u8,
    /// Bytes accessed (0 when the instruction does not access memory through it, as LEA).
    pub size: u16,
}

impl MemOperand {
    pub(crate) const EMPTY: MemOperand = MemOperand {
        seg: Seg::Ds,
        base: None,
        index: None,
        scale: 1,
        disp: 0,
        disp_size: 0,
        size: 0,
    };
}

/// One operand of a decoded instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operand {
    /// No operand in this slot.
    #[default]
    None,
    /// A register.
    Reg(Reg),
    /// The instruction's memory operand ([`Instruction::mem`]).
    Mem,
    /// The immediate [`Instruction::imm`], `size` bytes as encoded.
    Imm {
        /// Encoded size in bytes.
        size: u8,
    },
    /// The second immediate byte [`Instruction::imm2`] (ENTER, EXTRQ, INSERTQ).
    Imm2,
    /// A relative branch target: next RIP plus the signed [`Instruction::imm`].
    Rel {
        /// Encoded size of the displacement in bytes.
        size: u8,
    },
    /// A far pointer `imm2:imm` (selector in [`Instruction::imm2`]).
    FarPtr,
    /// String source `seg:[rSI]` of `size` bytes (segment in [`Instruction::mem`]).
    StrSrc {
        /// Element size in bytes.
        size: u8,
    },
    /// String destination `es:[rDI]` of `size` bytes.
    StrDst {
        /// Element size in bytes.
        size: u8,
    },
    /// The constant 1 (shift by one).
    One,
}

/// A decoded instruction: a small `Copy` record.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instruction {
    /// Length in bytes, prefixes included (1..=15).
    pub len: u8,
    /// The operation.
    pub op: Op,
    /// Operand size in bytes (1, 2, 4, 8; for vector operations the vector length).
    pub op_size: u8,
    /// Address size in bytes (2, 4 or 8).
    pub addr_size: u8,
    /// How the opcode was encoded.
    pub encoding: Encoding,
    /// Opcode map.
    pub map: Map,
    /// The opcode byte within its map.
    pub opcode: u8,
    /// The ModRM byte (0 when there is none).
    pub modrm: u8,
    /// Prefix flags.
    pub prefixes: Prefixes,
    /// The segment override prefix that takes effect, if any.
    pub seg_override: Option<Seg>,
    /// Operands in Intel order (destination first).
    pub operands: [Operand; 4],
    /// The memory operand, valid when an operand is [`Operand::Mem`] (its segment also applies to
    /// [`Operand::StrSrc`]).
    pub mem: MemOperand,
    /// The immediate, sign- or zero-extended as the instruction defines it; for relative branches
    /// the signed displacement.
    pub imm: u64,
    /// The second immediate (ENTER level, EXTRQ/INSERTQ index, far pointer selector).
    pub imm2: u16,
    /// Vector length in bytes (16, 32, 64) for VEX/EVEX/XOP instructions, 0 otherwise.
    pub vl: u8,
    /// EVEX opmask register number (0 = no masking).
    pub mask: u8,
    /// EVEX zeroing-masking.
    pub zeroing: bool,
    /// EVEX embedded broadcast of the memory operand.
    pub broadcast: bool,
    /// EVEX static rounding (1..=4: rn, rd, ru, rz) or 5 for SAE only; 0 for none.
    pub rounding: u8,
}

impl Instruction {
    /// The record the decoder starts from.
    pub(crate) const BLANK: Instruction = Instruction {
        len: 0,
        op: Op::Invalid,
        op_size: 0,
        addr_size: 0,
        encoding: Encoding::Legacy,
        map: Map::Primary,
        opcode: 0,
        modrm: 0,
        prefixes: Prefixes(0),
        seg_override: None,
        operands: [Operand::None; 4],
        mem: MemOperand::EMPTY,
        imm: 0,
        imm2: 0,
        vl: 0,
        mask: 0,
        zeroing: false,
        broadcast: false,
        rounding: 0,
    };

    /// The number of operands.
    pub fn operand_count(&self) -> usize {
        self.operands
            .iter()
            .take_while(|o| !matches!(o, Operand::None))
            .count()
    }

    /// True if the instruction has the LOCK prefix.
    pub const fn has_lock(&self) -> bool {
        self.prefixes.has(Prefixes::LOCK)
    }

    /// Absolute target of a relative branch, given the instruction's own address.
    pub const fn branch_target(&self, ip: u64) -> u64 {
        let next = ip.wrapping_add(self.len as u64).wrapping_add(self.imm);
        match self.op_size {
            2 => next & 0xffff,
            4 => next & 0xffff_ffff,
            _ => next,
        }
    }
}
