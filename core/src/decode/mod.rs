//! The decoder: a pure function of (bytes, mode, vendor) to an [`Instruction`].
//!
//! [`decode`] reads legacy prefixes, REX, VEX, EVEX, XOP and 3DNow! encodings, finds the opcode's
//! candidate in the tables of [`tables`] (matching mandatory prefix, ModRM, W, L, mode and
//! vendor), checks the encoding's validity and fills the operands. It never panics and never
//! reads beyond the 15-byte limit.

mod engine;
mod fast;
mod insn;
mod op;
mod reg;
mod table;
mod tables;
#[cfg(feature = "text")]
pub mod text;

pub use insn::{
    DecodeError, Encoding, Instruction, Invalid, Map, MemOperand, Mode, Operand, Prefixes, Vendor,
};
pub use op::Op;
pub use reg::{Reg, RegClass, Seg};

/// The architectural limit on instruction length.
pub const MAX_LEN: usize = 15;

/// Decodes the first instruction of `bytes` for the given mode and vendor.
///
/// Bytes after the instruction are ignored. The result is an error when the input ends inside
/// the instruction ([`DecodeError::Truncated`]), when the instruction would exceed 15 bytes
/// ([`DecodeError::TooLong`]), or when the processor would raise #UD for the encoding
/// ([`DecodeError::Invalid`]).
#[inline]
pub fn decode(bytes: &[u8], mode: Mode, vendor: Vendor) -> Result<Instruction, DecodeError> {
    // Common 64-bit instructions take the table-derived fast path; the engine does the rest.
    if mode == Mode::Long64 {
        let mut insn = Instruction::BLANK;
        if fast::decode64(bytes, vendor, &mut insn).is_some() {
            return Ok(insn);
        }
    }
    let mut insn = Instruction::BLANK;
    engine::Decoder::new(bytes, mode, vendor).run(&mut insn)?;
    Ok(insn)
}
