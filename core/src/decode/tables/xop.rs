//! AMD XOP maps 8, 9 and 0A: XOP vector operations, TBM and LWP. All AMD only.
//!
//! Operand order often depends on XOP.W: W0 takes the register/memory operand from ModRM.rm and
//! the other source from vvvv (or imm8[7:4]); W1 swaps them.

use crate::decode::op::Op;
use crate::decode::table::{Cand, K, OpMap, c, cands_of, op_map};

/// Multiply-accumulate `xmm1, xmm2 (vvvv), xmm3/m128, xmm4 (is4)` (W0, 128-bit only).
const fn macc(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx, K::Lx]).w0().l0().amd()
}
/// Rotate by immediate `xmm1, xmm2/m128, imm8` (W0, 128-bit only).
const fn roti(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx, K::Ib]).w0().l0().amd()
}
/// Compare `xmm1, xmm2 (vvvv), xmm3/m128, imm8` (W0, 128-bit only).
const fn com(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx, K::Ib]).w0().l0().amd()
}
/// Horizontal add/sub `xmm1, xmm2/m128` (W0, 128-bit only).
const fn hadd(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx]).w0().l0().amd()
}
/// Shift/rotate by vector, W0: `xmm1, xmm2/m128, xmm3 (vvvv)`.
const fn shv_w0(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx, K::Hx]).w0().l0().amd()
}
/// Shift/rotate by vector, W1: `xmm1, xmm2 (vvvv), xmm3/m128`.
const fn shv_w1(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx]).w1().l0().amd()
}
/// TBM `r (vvvv), r/m` group member (128-bit only; W selects 32 or 64 bits in 64-bit mode).
const fn tbm(op: Op, r: u8) -> Cand {
    c(op, &[K::By, K::Ey]).l0().r(r).amd()
}

const LIST_8: &[(u8, Cand)] = &[
    (0x85, macc(Op::Vpmacssww)),
    (0x86, macc(Op::Vpmacsswd)),
    (0x87, macc(Op::Vpmacssdql)),
    (0x8e, macc(Op::Vpmacssdd)),
    (0x8f, macc(Op::Vpmacssdqh)),
    (0x95, macc(Op::Vpmacsww)),
    (0x96, macc(Op::Vpmacswd)),
    (0x97, macc(Op::Vpmacsdql)),
    (0x9e, macc(Op::Vpmacsdd)),
    (0x9f, macc(Op::Vpmacsdqh)),
    (
        0xa2,
        c(Op::Vpcmov, &[K::Vx, K::Hx, K::Wx, K::Lx]).w0().amd(),
    ),
    (
        0xa2,
        c(Op::Vpcmov, &[K::Vx, K::Hx, K::Lx, K::Wx]).w1().amd(),
    ),
    (
        0xa3,
        c(Op::Vpperm, &[K::Vx, K::Hx, K::Wx, K::Lx]).w0().l0().amd(),
    ),
    (
        0xa3,
        c(Op::Vpperm, &[K::Vx, K::Hx, K::Lx, K::Wx]).w1().l0().amd(),
    ),
    (0xa6, macc(Op::Vpmadcsswd)),
    (0xb6, macc(Op::Vpmadcswd)),
    (0xc0, roti(Op::Vprotb)),
    (0xc1, roti(Op::Vprotw)),
    (0xc2, roti(Op::Vprotd)),
    (0xc3, roti(Op::Vprotq)),
    (0xcc, com(Op::Vpcomb)),
    (0xcd, com(Op::Vpcomw)),
    (0xce, com(Op::Vpcomd)),
    (0xcf, com(Op::Vpcomq)),
    (0xec, com(Op::Vpcomub)),
    (0xed, com(Op::Vpcomuw)),
    (0xee, com(Op::Vpcomud)),
    (0xef, com(Op::Vpcomuq)),
];

const LIST_9: &[(u8, Cand)] = &[
    (0x01, tbm(Op::Blcfill, 1)),
    (0x01, tbm(Op::Blsfill, 2)),
    (0x01, tbm(Op::Blcs, 3)),
    (0x01, tbm(Op::Tzmsk, 4)),
    (0x01, tbm(Op::Blcic, 5)),
    (0x01, tbm(Op::Blsic, 6)),
    (0x01, tbm(Op::T1mskc, 7)),
    (0x02, tbm(Op::Blcmsk, 1)),
    (0x02, tbm(Op::Blci, 6)),
    (0x12, c(Op::Llwpcb, &[K::Ry]).l0().r(0).reg_form().amd()),
    (0x12, c(Op::Slwpcb, &[K::Ry]).l0().r(1).reg_form().amd()),
    (0x80, c(Op::Vfrczps, &[K::Vx, K::Wx]).w0().amd()),
    (0x81, c(Op::Vfrczpd, &[K::Vx, K::Wx]).w0().amd()),
    (0x82, c(Op::Vfrczss, &[K::Vx, K::W4]).w0().l0().amd()),
    (0x83, c(Op::Vfrczsd, &[K::Vx, K::W8]).w0().l0().amd()),
    (0x90, shv_w0(Op::Vprotb)),
    (0x90, shv_w1(Op::Vprotb)),
    (0x91, shv_w0(Op::Vprotw)),
    (0x91, shv_w1(Op::Vprotw)),
    (0x92, shv_w0(Op::Vprotd)),
    (0x92, shv_w1(Op::Vprotd)),
    (0x93, shv_w0(Op::Vprotq)),
    (0x93, shv_w1(Op::Vprotq)),
    (0x94, shv_w0(Op::Vpshlb)),
    (0x94, shv_w1(Op::Vpshlb)),
    (0x95, shv_w0(Op::Vpshlw)),
    (0x95, shv_w1(Op::Vpshlw)),
    (0x96, shv_w0(Op::Vpshld)),
    (0x96, shv_w1(Op::Vpshld)),
    (0x97, shv_w0(Op::Vpshlq)),
    (0x97, shv_w1(Op::Vpshlq)),
    (0x98, shv_w0(Op::Vpshab)),
    (0x98, shv_w1(Op::Vpshab)),
    (0x99, shv_w0(Op::Vpshaw)),
    (0x99, shv_w1(Op::Vpshaw)),
    (0x9a, shv_w0(Op::Vpshad)),
    (0x9a, shv_w1(Op::Vpshad)),
    (0x9b, shv_w0(Op::Vpshaq)),
    (0x9b, shv_w1(Op::Vpshaq)),
    (0xc1, hadd(Op::Vphaddbw)),
    (0xc2, hadd(Op::Vphaddbd)),
    (0xc3, hadd(Op::Vphaddbq)),
    (0xc6, hadd(Op::Vphaddwd)),
    (0xc7, hadd(Op::Vphaddwq)),
    (0xcb, hadd(Op::Vphadddq)),
    (0xd1, hadd(Op::Vphaddubw)),
    (0xd2, hadd(Op::Vphaddubd)),
    (0xd3, hadd(Op::Vphaddubq)),
    (0xd6, hadd(Op::Vphadduwd)),
    (0xd7, hadd(Op::Vphadduwq)),
    (0xdb, hadd(Op::Vphaddudq)),
    (0xe1, hadd(Op::Vphsubbw)),
    (0xe2, hadd(Op::Vphsubwd)),
    (0xe3, hadd(Op::Vphsubdq)),
];

const LIST_A: &[(u8, Cand)] = &[
    (0x10, c(Op::Bextr, &[K::Gy, K::Ey, K::Id]).l0().amd()),
    (0x12, c(Op::Lwpins, &[K::By, K::Ed, K::Id]).l0().r(0).amd()),
    (0x12, c(Op::Lwpval, &[K::By, K::Ed, K::Id]).l0().r(1).amd()),
];

op_map!(
    /// XOP map 8.
    MAP_8,
    LIST_8
);
op_map!(
    /// XOP map 9.
    MAP_9,
    LIST_9
);
op_map!(
    /// XOP map 0A.
    MAP_A,
    LIST_A
);
