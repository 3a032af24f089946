//! The decoder: a pure function of (bytes, mode, vendor) to an [`Instruction`].
//!
//! [`decode`] reads legacy prefixes, REX, VEX, EVEX, XOP and 3DNow! encodings, finds the opcode's
//! candidate in the opcode tables of its `tables` module (matching mandatory prefix, ModRM, W,
//! L, mode and vendor), checks the encoding's validity and fills the operands. It never panics
//! and never reads beyond the 15-byte limit.

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
    DecodeError, Encoding, Extensions, Instruction, Invalid, Map, MemOperand, Mode, Operand,
    Prefixes, Vendor,
};
pub use op::Op;
pub use reg::{Reg, RegClass, Seg};

/// The architectural limit on instruction length.
pub const MAX_LEN: usize = 15;

/// The size of the window [`decode_window`] decodes from.
pub(crate) const WINDOW: usize = fast::WIN;

/// Decodes the first instruction of `bytes` for the given mode and vendor.
///
/// Bytes after the instruction are ignored. The result is an error when the input ends inside
/// the instruction ([`DecodeError::Truncated`]), when the instruction would exceed 15 bytes
/// ([`DecodeError::TooLong`]), or when the processor would raise #UD for the encoding
/// ([`DecodeError::Invalid`]).
#[inline]
pub fn decode(bytes: &[u8], mode: Mode, vendor: Vendor) -> Result<Instruction, DecodeError> {
    let mut insn = Instruction::BLANK;
    decode_into(bytes, mode, vendor, &mut insn)?;
    Ok(insn)
}

/// [`decode`] into a caller's record: the same result, without building and copying a new
/// [`Instruction`] per call (the fastest way to decode many instructions). Returns the
/// instruction's length (its `len`).
///
/// On success `out` holds exactly what [`decode`] would return, whatever it held before; on
/// error its contents are unspecified.
///
/// ```
/// use hvemu::decode::{decode, decode_into, Mode, Op, Vendor};
/// let code = [0x48, 0x89, 0x1f, 0xc3];
/// let mut insn = decode(&[0x90], Mode::Long64, Vendor::Amd).unwrap();
/// let mut ops = [Op::Invalid; 2];
/// let mut pos = 0;
/// for op in ops.iter_mut() {
///     pos += decode_into(&code[pos..], Mode::Long64, Vendor::Amd, &mut insn).unwrap();
///     *op = insn.op;
/// }
/// assert_eq!((ops, pos), ([Op::Mov, Op::Ret], 4));
/// ```
// The length is returned, not only stored: in a sweep, the next decode's position then comes
// from a register, not through a store and a load of the record (measured: about 3% faster).
#[inline(always)]
pub fn decode_into(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    out: &mut Instruction,
) -> Result<usize, DecodeError> {
    // Common instructions take the table-derived fast path in every mode; the engine does the
    // rest.
    let fast = if mode == Mode::Long64 {
        fast::decode64(bytes, vendor, out)
    } else {
        fast::decode_outside64(bytes, mode, vendor, out)
    };
    if fast.is_some() {
        return Ok(out.len as usize);
    }
    decode_engine(bytes, mode, vendor, Extensions::default(), out)
}

/// [`decode`] with the instruction-set extensions `ext` (see [`Extensions`]).
///
/// ```
/// use hvemu::decode::{decode_with, Extensions, Mode, Op, Vendor};
/// // REX2 (D5 18: B4 and W) on MOV r/m, r: mov r16, rcx.
/// let apx = Extensions { apx: true };
/// let insn = decode_with(&[0xd5, 0x18, 0x89, 0xc8], Mode::Long64, Vendor::Intel, apx).unwrap();
/// assert_eq!((insn.op, insn.len), (Op::Mov, 4));
/// assert!(decode_with(&[0xd5, 0x18, 0x89, 0xc8], Mode::Long64, Vendor::Intel, Extensions::default()).is_err());
/// ```
pub fn decode_with(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ext: Extensions,
) -> Result<Instruction, DecodeError> {
    let mut insn = Instruction::BLANK;
    decode_into_with(bytes, mode, vendor, ext, &mut insn)?;
    Ok(insn)
}

/// [`decode_into`] with the instruction-set extensions `ext` (see [`Extensions`]).
pub fn decode_into_with(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ext: Extensions,
    out: &mut Instruction,
) -> Result<usize, DecodeError> {
    // REX2 changes only what D5 means in 64-bit mode, where it is otherwise invalid (at once,
    // before any further byte): bytes valid, truncated or too long without it are so with it.
    match decode_into(bytes, mode, vendor, out) {
        Err(DecodeError::Invalid(_)) if ext.apx && mode == Mode::Long64 => {
            decode_engine(bytes, mode, vendor, ext, out)
        }
        r => r,
    }
}

/// The general engine alone (no fast path) with the extensions `ext`.
#[inline(always)]
pub(crate) fn decode_engine(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ext: Extensions,
    out: &mut Instruction,
) -> Result<usize, DecodeError> {
    *out = Instruction::BLANK;
    engine::Decoder::new(bytes, mode, vendor)
        .with_apx(ext.apx)
        .run(out)?;
    Ok(out.len as usize)
}

/// [`decode_into`] of the first `len` bytes of `win` (the bytes after them are not part of the
/// input, whatever they hold): the same result, but an instruction whose bytes come in a short
/// buffer, as an exit's do, takes the fast path straight from the window instead of through a
/// padded copy.
#[inline(always)]
pub(crate) fn decode_window(
    win: &[u8; WINDOW],
    len: usize,
    mode: Mode,
    vendor: Vendor,
    out: &mut Instruction,
) -> Result<usize, DecodeError> {
    let fast = if mode == Mode::Long64 {
        fast::decode64_window(win, len, vendor, out)
    } else {
        fast::decode_outside64_window(win, len, mode, vendor, out)
    };
    if fast.is_some() {
        return Ok(out.len as usize);
    }
    let bytes = win.get(..len).unwrap_or(win);
    decode_engine(bytes, mode, vendor, Extensions::default(), out)
}
