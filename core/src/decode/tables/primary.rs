//! The one-byte opcode map.

use crate::decode::table::{Cand, OpMap};

const LIST: &[(u8, Cand)] = &[];

/// The map.
pub(crate) static MAP: OpMap = OpMap::new(LIST);
