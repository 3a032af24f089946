//! AMD 3DNow! (0F 0F /r ib): the operation is selected by the trailing imm8.

use crate::decode::op::Op;

/// (imm8, operation) pairs, sorted by imm8.
pub(crate) const OPS: &[(u8, Op)] = &[];

/// The 3DNow! operation for suffix byte `imm`.
pub(crate) fn lookup(imm: u8) -> Option<Op> {
    OPS.iter().find(|(i, _)| *i == imm).map(|(_, op)| *op)
}
