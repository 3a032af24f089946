//! AMD XOP maps 8, 9 and 0A.

use crate::decode::table::{Cand, OpMap};

const LIST_8: &[(u8, Cand)] = &[];
const LIST_9: &[(u8, Cand)] = &[];
const LIST_A: &[(u8, Cand)] = &[];

/// XOP map 8.
pub(crate) static MAP_8: OpMap = OpMap::new(LIST_8);
/// XOP map 9.
pub(crate) static MAP_9: OpMap = OpMap::new(LIST_9);
/// XOP map 0A.
pub(crate) static MAP_A: OpMap = OpMap::new(LIST_A);
