//! VEX-encoded maps 0F, 0F38, 0F3A.

use crate::decode::table::{Cand, OpMap};

const LIST_0F: &[(u8, Cand)] = &[];
const LIST_0F38: &[(u8, Cand)] = &[];
const LIST_0F3A: &[(u8, Cand)] = &[];

/// VEX map 1 (0F).
pub(crate) static MAP_0F: OpMap = OpMap::new(LIST_0F);
/// VEX map 2 (0F 38).
pub(crate) static MAP_0F38: OpMap = OpMap::new(LIST_0F38);
/// VEX map 3 (0F 3A).
pub(crate) static MAP_0F3A: OpMap = OpMap::new(LIST_0F3A);
