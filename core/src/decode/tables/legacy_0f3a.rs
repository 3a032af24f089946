//! Legacy-encoded 0F 3A xx map: SSSE3 PALIGNR, SSE4.1, SSE4.2 string compares, PCLMULQDQ, AES,
//! SHA, GFNI and HRESET. Every instruction has an imm8.

use crate::decode::op::Op;
use crate::decode::table::{Cand, K, OpMap, c, cands_of, op_map};

/// The 66-prefixed `xmm1, xmm2/m128, imm8` form.
const fn xmm(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx, K::Ib]).p66()
}

const LIST: &[(u8, Cand)] = &[
    (0x08, xmm(Op::Roundps)),
    (0x09, xmm(Op::Roundpd)),
    (0x0a, c(Op::Roundss, &[K::Vx, K::W4, K::Ib]).p66()),
    (0x0b, c(Op::Roundsd, &[K::Vx, K::W8, K::Ib]).p66()),
    (0x0c, xmm(Op::Blendps)),
    (0x0d, xmm(Op::Blendpd)),
    (0x0e, xmm(Op::Pblendw)),
    (0x0f, c(Op::Palignr, &[K::Pq, K::Qq, K::Ib]).np()),
    (0x0f, xmm(Op::Palignr)),
    // PEXTRB/PEXTRW/EXTRACTPS: a 32-bit (64 with REX.W) register, or memory of the element size.
    (
        0x14,
        c(Op::Pextrb, &[K::Ry, K::V16, K::Ib]).p66().reg_form(),
    ),
    (0x14, c(Op::Pextrb, &[K::Mb, K::V16, K::Ib]).p66().mem()),
    (
        0x15,
        c(Op::Pextrw, &[K::Ry, K::V16, K::Ib]).p66().reg_form(),
    ),
    (0x15, c(Op::Pextrw, &[K::Mw, K::V16, K::Ib]).p66().mem()),
    (0x16, c(Op::Pextrd, &[K::Ed, K::V16, K::Ib]).p66().w0()),
    (0x16, c(Op::Pextrq, &[K::Eq, K::V16, K::Ib]).p66().w1()),
    (
        0x17,
        c(Op::Extractps, &[K::Ry, K::V16, K::Ib]).p66().reg_form(),
    ),
    (0x17, c(Op::Extractps, &[K::Md, K::V16, K::Ib]).p66().mem()),
    (
        0x20,
        c(Op::Pinsrb, &[K::V16, K::Ry, K::Ib]).p66().reg_form(),
    ),
    (0x20, c(Op::Pinsrb, &[K::V16, K::Mb, K::Ib]).p66().mem()),
    (0x21, c(Op::Insertps, &[K::V16, K::W4, K::Ib]).p66()),
    (0x22, c(Op::Pinsrd, &[K::V16, K::Ed, K::Ib]).p66().w0()),
    (0x22, c(Op::Pinsrq, &[K::V16, K::Eq, K::Ib]).p66().w1()),
    (0x40, xmm(Op::Dpps)),
    (0x41, xmm(Op::Dppd)),
    (0x42, xmm(Op::Mpsadbw)),
    (0x44, xmm(Op::Pclmulqdq)),
    (0x60, xmm(Op::Pcmpestrm)),
    (0x61, xmm(Op::Pcmpestri)),
    (0x62, xmm(Op::Pcmpistrm)),
    (0x63, xmm(Op::Pcmpistri)),
    (0xcc, c(Op::Sha1rnds4, &[K::Vx, K::Wx, K::Ib]).np()),
    (0xce, xmm(Op::Gf2p8affineqb)),
    (0xcf, xmm(Op::Gf2p8affineinvqb)),
    (0xdf, xmm(Op::Aeskeygenassist)),
    // HRESET imm8 (EAX implicit): F3 0F 3A F0 C0 ib.
    (0xf0, c(Op::Hreset, &[K::Ib]).pf3().rm(0, 0)),
];

op_map!(
    /// The map.
    MAP,
    LIST
);
