//! x87 escape opcodes D8..DF (candidates are merged into the primary map's lookup).

use crate::decode::table::{Cand, OpMap};

const LIST: &[(u8, Cand)] = &[];

/// D8..DF, indexed by the escape opcode byte.
pub(crate) static MAP: OpMap = OpMap::new(LIST);
