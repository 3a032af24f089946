//! AMD 3DNow! (0F 0F /r ib): the operation is selected by the trailing imm8.
//!
//! All forms are `mm, mm/m64`. The suffix bytes are those of the AMD 3DNow! and extended 3DNow!
//! technology manuals (K6-2 and Athlon); FEMMS is 0F 0E in the 0F map. The Geode-only PFRCPV /
//! PFRSQRTV (86, 87) are not on any Intel or AMD processor this emulator models.

use crate::decode::op::Op;

/// (imm8, operation) pairs, sorted by imm8.
pub(crate) const OPS: &[(u8, Op)] = &[
    (0x0c, Op::Pi2fw),
    (0x0d, Op::Pi2fd),
    (0x1c, Op::Pf2iw),
    (0x1d, Op::Pf2id),
    (0x8a, Op::Pfnacc),
    (0x8e, Op::Pfpnacc),
    (0x90, Op::Pfcmpge),
    (0x94, Op::Pfmin),
    (0x96, Op::Pfrcp),
    (0x97, Op::Pfrsqrt),
    (0x9a, Op::Pfsub),
    (0x9e, Op::Pfadd),
    (0xa0, Op::Pfcmpgt),
    (0xa4, Op::Pfmax),
    (0xa6, Op::Pfrcpit1),
    (0xa7, Op::Pfrsqit1),
    (0xaa, Op::Pfsubr),
    (0xae, Op::Pfacc),
    (0xb0, Op::Pfcmpeq),
    (0xb4, Op::Pfmul),
    (0xb6, Op::Pfrcpit2),
    (0xb7, Op::Pmulhrw),
    (0xbb, Op::Pswapd),
    (0xbf, Op::Pavgusb),
];

// Compile-time check only: an out-of-range index here is a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const _: () = {
    let mut i = 1;
    while i < OPS.len() {
        assert!(OPS[i - 1].0 < OPS[i].0, "3DNow! suffix table not sorted");
        i += 1;
    }
};

/// The 3DNow! operation for suffix byte `imm`.
pub(crate) fn lookup(imm: u8) -> Option<Op> {
    OPS.binary_search_by_key(&imm, |&(i, _)| i)
        .ok()
        .and_then(|n| OPS.get(n))
        .map(|&(_, op)| op)
}
