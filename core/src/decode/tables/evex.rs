//! EVEX-encoded maps 0F, 0F38, 0F3A, 5 and 6.

use crate::decode::table::{Cand, OpMap};

const LIST_0F: &[(u8, Cand)] = &[];
const LIST_0F38: &[(u8, Cand)] = &[];
const LIST_0F3A: &[(u8, Cand)] = &[];
const LIST_5: &[(u8, Cand)] = &[];
const LIST_6: &[(u8, Cand)] = &[];

/// EVEX map 1 (0F).
pub(crate) static MAP_0F: OpMap = OpMap::new(LIST_0F);
/// EVEX map 2 (0F 38).
pub(crate) static MAP_0F38: OpMap = OpMap::new(LIST_0F38);
/// EVEX map 3 (0F 3A).
pub(crate) static MAP_0F3A: OpMap = OpMap::new(LIST_0F3A);
/// EVEX map 5 (FP16).
pub(crate) static MAP_5: OpMap = OpMap::new(LIST_5);
/// EVEX map 6 (FP16).
pub(crate) static MAP_6: OpMap = OpMap::new(LIST_6);
