//! Legacy-encoded opcode map (filled in by the table work of issue 2).

use crate::decode::table::{Cand, OpMap};

const LIST: &[(u8, Cand)] = &[];

/// The map.
pub(crate) static MAP: OpMap = OpMap::new(LIST);
