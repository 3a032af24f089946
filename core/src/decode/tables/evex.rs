//! EVEX-encoded maps 0F, 0F38, 0F3A, 5 and 6.
//!
//! AVX-512 F/CD/BW/DQ/VL, IFMA, VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ, VP2INTERSECT, BF16, FP16,
//! the EVEX forms of GFNI/VAES/VPCLMULQDQ, and the Xeon Phi extensions (ER, PF, 4FMAPS, 4VNNIW).
//! Tuple types (disp8×N) follow the SDM's "Tuple Type" column of each instruction.

use crate::decode::op::Op;
use crate::decode::table::{Cand, K, OpMap, Tuple as T, c, cands_of, op_map};

// Operand shapes.
const fn vw(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx])
}
const fn wv(op: Op) -> Cand {
    c(op, &[K::Wx, K::Vx])
}
const fn vhw(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx])
}
const fn vwi(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx, K::Ib])
}
const fn vhwi(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx, K::Ib])
}
/// Compare into a mask register.
const fn khw(op: Op) -> Cand {
    c(op, &[K::KG, K::Hx, K::Wx]).noz()
}
const fn khwi(op: Op) -> Cand {
    c(op, &[K::KG, K::Hx, K::Wx, K::Ib]).noz()
}
/// Shift/rotate by immediate: the destination is vvvv.
const fn hwi(op: Op) -> Cand {
    c(op, &[K::Hx, K::Wx, K::Ib])
}
/// Shift by the low quadword of an XMM register or 128-bit memory.
const fn vhw16(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W16]).tuple(T::M128, 0)
}

// Tuple types.
/// Full vector with broadcast of W-sized (4 or 8 byte) elements.
const fn fv(x: Cand) -> Cand {
    x.tuple(T::Full, 0).bcst()
}
/// Full vector with broadcast of 2-byte (FP16) elements.
const fn fv16(x: Cand) -> Cand {
    x.tuple(T::Full, 2).bcst()
}
/// Full vector with broadcast of 4-byte elements whatever W is.
const fn fv32(x: Cand) -> Cand {
    x.tuple(T::Full, 4).bcst()
}
/// Full vector memory without broadcast.
const fn fvm(x: Cand) -> Cand {
    x.tuple(T::FullMem, 0)
}

// Common instruction forms.
/// Packed single: NP W0 Full.
const fn ps(op: Op) -> Cand {
    fv(vhw(op)).np().w0()
}
/// Packed double: 66 W1 Full.
const fn pd(op: Op) -> Cand {
    fv(vhw(op)).p66().w1()
}
/// Packed dword integer: 66 W0 Full.
const fn pid(x: Cand) -> Cand {
    fv(x).p66().w0()
}
/// Packed qword integer: 66 W1 Full.
const fn piq(x: Cand) -> Cand {
    fv(x).p66().w1()
}
/// Packed byte/word integer: 66 WIG FullMem.
const fn pib(x: Cand) -> Cand {
    fvm(x).p66()
}
/// Scalar single: V, H, m32, tuple 1 scalar.
const fn s4(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W4]).lig().tuple(T::T1s, 4)
}
/// Scalar double.
const fn s8(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W8]).lig().tuple(T::T1s, 8)
}
/// Scalar half.
const fn s2(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W2]).lig().tuple(T::T1s16, 2)
}
const fn s4i(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W4, K::Ib]).lig().tuple(T::T1s, 4)
}
const fn s8i(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W8, K::Ib]).lig().tuple(T::T1s, 8)
}
const fn s2i(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::W2, K::Ib])
        .lig()
        .tuple(T::T1s16, 2)
}
/// Scalar conversion to a general-purpose register (no masking).
const fn cvt2gpr(op: Op, src: K, elem: u8) -> Cand {
    c(op, &[K::Gy, src]).lig().tuple(T::T1f, elem).nomask()
}
/// Packed single/double pair of an FP operation with rounding: (ps, pd).
const fn ps_er(op: Op) -> Cand {
    ps(op).er()
}
const fn pd_er(op: Op) -> Cand {
    pd(op).er()
}
/// Down-converting stores (VPMOV*): rm is the destination.
const fn pmov_down(op: Op, k: K, t: T) -> Cand {
    c(op, &[k, K::Vx]).pf3().w0().tuple(t, 0)
}
/// Sign/zero extensions (VPMOVSX/ZX).
const fn pmov_up(op: Op, k: K, t: T) -> Cand {
    c(op, &[K::Vx, k]).p66().tuple(t, 0)
}
/// Gather: destination, VSIB memory; masking required.
const fn gather(op: Op, d: K, m: K) -> Cand {
    c(op, &[d, m]).p66().tuple(T::T1s, 0).kreq()
}
const fn scatter(op: Op, m: K, s: K) -> Cand {
    c(op, &[m, s]).p66().tuple(T::T1s, 0).kreq()
}
/// Xeon Phi gather/scatter prefetch (512-bit only).
const fn gpf(op: Op, m: K, r: u8) -> Cand {
    c(op, &[m]).p66().r(r).l2().tuple(T::T1s, 0).kreq()
}

const LIST_0F: &[(u8, Cand)] = &[
    (0x10, fvm(vw(Op::Vmovups)).np().w0()),
    (0x10, fvm(vw(Op::Vmovupd)).p66().w1()),
    (
        0x10,
        c(Op::Vmovss, &[K::Vx, K::Hx, K::Ux])
            .pf3()
            .w0()
            .lig()
            .reg_form(),
    ),
    (
        0x10,
        c(Op::Vmovss, &[K::Vx, K::W4])
            .pf3()
            .w0()
            .lig()
            .mem()
            .tuple(T::T1s, 4),
    ),
    (
        0x10,
        c(Op::Vmovsd, &[K::Vx, K::Hx, K::Ux])
            .pf2()
            .w1()
            .lig()
            .reg_form(),
    ),
    (
        0x10,
        c(Op::Vmovsd, &[K::Vx, K::W8])
            .pf2()
            .w1()
            .lig()
            .mem()
            .tuple(T::T1s, 8),
    ),
    (0x11, fvm(wv(Op::Vmovups)).np().w0()),
    (0x11, fvm(wv(Op::Vmovupd)).p66().w1()),
    (
        0x11,
        c(Op::Vmovss, &[K::Ux, K::Hx, K::Vx])
            .pf3()
            .w0()
            .lig()
            .reg_form(),
    ),
    (
        0x11,
        c(Op::Vmovss, &[K::W4, K::Vx])
            .pf3()
            .w0()
            .lig()
            .mem()
            .tuple(T::T1s, 4),
    ),
    (
        0x11,
        c(Op::Vmovsd, &[K::Ux, K::Hx, K::Vx])
            .pf2()
            .w1()
            .lig()
            .reg_form(),
    ),
    (
        0x11,
        c(Op::Vmovsd, &[K::W8, K::Vx])
            .pf2()
            .w1()
            .lig()
            .mem()
            .tuple(T::T1s, 8),
    ),
    (
        0x12,
        c(Op::Vmovhlps, &[K::Vx, K::Hx, K::Ux])
            .np()
            .w0()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x12,
        c(Op::Vmovlps, &[K::Vx, K::Hx, K::Mq])
            .np()
            .w0()
            .l0()
            .mem()
            .tuple(T::T2, 4)
            .nomask(),
    ),
    (
        0x12,
        c(Op::Vmovlpd, &[K::Vx, K::Hx, K::Mq])
            .p66()
            .w1()
            .l0()
            .mem()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x12, fvm(vw(Op::Vmovsldup)).pf3().w0()),
    (
        0x12,
        c(Op::Vmovddup, &[K::Vx, K::W8])
            .pf2()
            .w1()
            .l0()
            .tuple(T::Dup, 8),
    ),
    (
        0x12,
        c(Op::Vmovddup, &[K::Vx, K::Wx])
            .pf2()
            .w1()
            .l12()
            .tuple(T::Dup, 8),
    ),
    (
        0x13,
        c(Op::Vmovlps, &[K::Mq, K::Vx])
            .np()
            .w0()
            .l0()
            .tuple(T::T2, 4)
            .nomask(),
    ),
    (
        0x13,
        c(Op::Vmovlpd, &[K::Mq, K::Vx])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x14, ps(Op::Vunpcklps)),
    (0x14, pd(Op::Vunpcklpd)),
    (0x15, ps(Op::Vunpckhps)),
    (0x15, pd(Op::Vunpckhpd)),
    (
        0x16,
        c(Op::Vmovlhps, &[K::Vx, K::Hx, K::Ux])
            .np()
            .w0()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x16,
        c(Op::Vmovhps, &[K::Vx, K::Hx, K::Mq])
            .np()
            .w0()
            .l0()
            .mem()
            .tuple(T::T2, 4)
            .nomask(),
    ),
    (
        0x16,
        c(Op::Vmovhpd, &[K::Vx, K::Hx, K::Mq])
            .p66()
            .w1()
            .l0()
            .mem()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x16, fvm(vw(Op::Vmovshdup)).pf3().w0()),
    (
        0x17,
        c(Op::Vmovhps, &[K::Mq, K::Vx])
            .np()
            .w0()
            .l0()
            .tuple(T::T2, 4)
            .nomask(),
    ),
    (
        0x17,
        c(Op::Vmovhpd, &[K::Mq, K::Vx])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x28, fvm(vw(Op::Vmovaps)).np().w0()),
    (0x28, fvm(vw(Op::Vmovapd)).p66().w1()),
    (0x29, fvm(wv(Op::Vmovaps)).np().w0()),
    (0x29, fvm(wv(Op::Vmovapd)).p66().w1()),
    (
        0x2a,
        c(Op::Vcvtsi2ss, &[K::Vx, K::Hx, K::Ed])
            .pf3()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x2a,
        c(Op::Vcvtsi2ss, &[K::Vx, K::Hx, K::Eq])
            .pf3()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (
        0x2a,
        c(Op::Vcvtsi2sd, &[K::Vx, K::Hx, K::Ed])
            .pf2()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x2a,
        c(Op::Vcvtsi2sd, &[K::Vx, K::Hx, K::Eq])
            .pf2()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (
        0x2b,
        c(Op::Vmovntps, &[K::Mx, K::Vx])
            .np()
            .w0()
            .tuple(T::FullMem, 0)
            .nomask(),
    ),
    (
        0x2b,
        c(Op::Vmovntpd, &[K::Mx, K::Vx])
            .p66()
            .w1()
            .tuple(T::FullMem, 0)
            .nomask(),
    ),
    (0x2c, cvt2gpr(Op::Vcvttss2si, K::W4, 4).pf3().sae()),
    (0x2c, cvt2gpr(Op::Vcvttsd2si, K::W8, 8).pf2().sae()),
    (0x2d, cvt2gpr(Op::Vcvtss2si, K::W4, 4).pf3().er()),
    (0x2d, cvt2gpr(Op::Vcvtsd2si, K::W8, 8).pf2().er()),
    (
        0x2e,
        c(Op::Vucomiss, &[K::Vx, K::W4])
            .np()
            .w0()
            .lig()
            .tuple(T::T1s, 4)
            .sae()
            .nomask(),
    ),
    (
        0x2e,
        c(Op::Vucomisd, &[K::Vx, K::W8])
            .p66()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .sae()
            .nomask(),
    ),
    (
        0x2f,
        c(Op::Vcomiss, &[K::Vx, K::W4])
            .np()
            .w0()
            .lig()
            .tuple(T::T1s, 4)
            .sae()
            .nomask(),
    ),
    (
        0x2f,
        c(Op::Vcomisd, &[K::Vx, K::W8])
            .p66()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .sae()
            .nomask(),
    ),
    (0x51, fv(vw(Op::Vsqrtps)).np().w0().er()),
    (0x51, fv(vw(Op::Vsqrtpd)).p66().w1().er()),
    (0x51, s4(Op::Vsqrtss).pf3().w0().er()),
    (0x51, s8(Op::Vsqrtsd).pf2().w1().er()),
    (0x54, ps(Op::Vandps)),
    (0x54, pd(Op::Vandpd)),
    (0x55, ps(Op::Vandnps)),
    (0x55, pd(Op::Vandnpd)),
    (0x56, ps(Op::Vorps)),
    (0x56, pd(Op::Vorpd)),
    (0x57, ps(Op::Vxorps)),
    (0x57, pd(Op::Vxorpd)),
    (0x58, ps_er(Op::Vaddps)),
    (0x58, pd_er(Op::Vaddpd)),
    (0x58, s4(Op::Vaddss).pf3().w0().er()),
    (0x58, s8(Op::Vaddsd).pf2().w1().er()),
    (0x59, ps_er(Op::Vmulps)),
    (0x59, pd_er(Op::Vmulpd)),
    (0x59, s4(Op::Vmulss).pf3().w0().er()),
    (0x59, s8(Op::Vmulsd).pf2().w1().er()),
    (
        0x5a,
        c(Op::Vcvtps2pd, &[K::Vx, K::Wh])
            .np()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .sae(),
    ),
    (0x5a, fv(c(Op::Vcvtpd2ps, &[K::Vh, K::Wx])).p66().w1().er()),
    (0x5a, s4(Op::Vcvtss2sd).pf3().w0().sae()),
    (0x5a, s8(Op::Vcvtsd2ss).pf2().w1().er()),
    (0x5b, fv(vw(Op::Vcvtdq2ps)).np().w0().er()),
    (0x5b, fv(c(Op::Vcvtqq2ps, &[K::Vh, K::Wx])).np().w1().er()),
    (0x5b, fv(vw(Op::Vcvtps2dq)).p66().w0().er()),
    (0x5b, fv(vw(Op::Vcvttps2dq)).pf3().w0().sae()),
    (0x5c, ps_er(Op::Vsubps)),
    (0x5c, pd_er(Op::Vsubpd)),
    (0x5c, s4(Op::Vsubss).pf3().w0().er()),
    (0x5c, s8(Op::Vsubsd).pf2().w1().er()),
    (0x5d, ps(Op::Vminps).sae()),
    (0x5d, pd(Op::Vminpd).sae()),
    (0x5d, s4(Op::Vminss).pf3().w0().sae()),
    (0x5d, s8(Op::Vminsd).pf2().w1().sae()),
    (0x5e, ps_er(Op::Vdivps)),
    (0x5e, pd_er(Op::Vdivpd)),
    (0x5e, s4(Op::Vdivss).pf3().w0().er()),
    (0x5e, s8(Op::Vdivsd).pf2().w1().er()),
    (0x5f, ps(Op::Vmaxps).sae()),
    (0x5f, pd(Op::Vmaxpd).sae()),
    (0x5f, s4(Op::Vmaxss).pf3().w0().sae()),
    (0x5f, s8(Op::Vmaxsd).pf2().w1().sae()),
    (0x60, pib(vhw(Op::Vpunpcklbw))),
    (0x61, pib(vhw(Op::Vpunpcklwd))),
    (0x62, pid(vhw(Op::Vpunpckldq))),
    (0x63, pib(vhw(Op::Vpacksswb))),
    (0x64, pib(khw(Op::Vpcmpgtb))),
    (0x65, pib(khw(Op::Vpcmpgtw))),
    (0x66, pid(khw(Op::Vpcmpgtd))),
    (0x67, pib(vhw(Op::Vpackuswb))),
    (0x68, pib(vhw(Op::Vpunpckhbw))),
    (0x69, pib(vhw(Op::Vpunpckhwd))),
    (0x6a, pid(vhw(Op::Vpunpckhdq))),
    (0x6b, pid(vhw(Op::Vpackssdw))),
    (0x6c, piq(vhw(Op::Vpunpcklqdq))),
    (0x6d, piq(vhw(Op::Vpunpckhqdq))),
    (
        0x6e,
        c(Op::Vmovd, &[K::Vx, K::Ed])
            .p66()
            .w0()
            .w32ig()
            .l0()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x6e,
        c(Op::Vmovq, &[K::Vx, K::Eq])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x6f, fvm(vw(Op::Vmovdqa32)).p66().w0()),
    (0x6f, fvm(vw(Op::Vmovdqa64)).p66().w1()),
    (0x6f, fvm(vw(Op::Vmovdqu32)).pf3().w0()),
    (0x6f, fvm(vw(Op::Vmovdqu64)).pf3().w1()),
    (0x6f, fvm(vw(Op::Vmovdqu8)).pf2().w0()),
    (0x6f, fvm(vw(Op::Vmovdqu16)).pf2().w1()),
    (0x70, pid(vwi(Op::Vpshufd))),
    (0x70, fvm(vwi(Op::Vpshufhw)).pf3()),
    (0x70, fvm(vwi(Op::Vpshuflw)).pf2()),
    (0x71, pib(hwi(Op::Vpsrlw)).r(2)),
    (0x71, pib(hwi(Op::Vpsraw)).r(4)),
    (0x71, pib(hwi(Op::Vpsllw)).r(6)),
    (0x72, pid(hwi(Op::Vprord)).r(0)),
    (0x72, piq(hwi(Op::Vprorq)).r(0)),
    (0x72, pid(hwi(Op::Vprold)).r(1)),
    (0x72, piq(hwi(Op::Vprolq)).r(1)),
    (0x72, pid(hwi(Op::Vpsrld)).r(2)),
    (0x72, pid(hwi(Op::Vpsrad)).r(4)),
    (0x72, piq(hwi(Op::Vpsraq)).r(4)),
    (0x72, pid(hwi(Op::Vpslld)).r(6)),
    (0x73, piq(hwi(Op::Vpsrlq)).r(2)),
    (0x73, pib(hwi(Op::Vpsrldq)).r(3).nomask()),
    (0x73, piq(hwi(Op::Vpsllq)).r(6)),
    (0x73, pib(hwi(Op::Vpslldq)).r(7).nomask()),
    (0x74, pib(khw(Op::Vpcmpeqb))),
    (0x75, pib(khw(Op::Vpcmpeqw))),
    (0x76, pid(khw(Op::Vpcmpeqd))),
    (0x78, fv(vw(Op::Vcvttps2udq)).np().w0().sae()),
    (
        0x78,
        fv(c(Op::Vcvttpd2udq, &[K::Vh, K::Wx])).np().w1().sae(),
    ),
    (
        0x78,
        c(Op::Vcvttps2uqq, &[K::Vx, K::Wh])
            .p66()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .sae(),
    ),
    (0x78, fv(vw(Op::Vcvttpd2uqq)).p66().w1().sae()),
    (0x78, cvt2gpr(Op::Vcvttss2usi, K::W4, 4).pf3().sae()),
    (0x78, cvt2gpr(Op::Vcvttsd2usi, K::W8, 8).pf2().sae()),
    (0x79, fv(vw(Op::Vcvtps2udq)).np().w0().er()),
    (0x79, fv(c(Op::Vcvtpd2udq, &[K::Vh, K::Wx])).np().w1().er()),
    (
        0x79,
        c(Op::Vcvtps2uqq, &[K::Vx, K::Wh])
            .p66()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .er(),
    ),
    (0x79, fv(vw(Op::Vcvtpd2uqq)).p66().w1().er()),
    (0x79, cvt2gpr(Op::Vcvtss2usi, K::W4, 4).pf3().er()),
    (0x79, cvt2gpr(Op::Vcvtsd2usi, K::W8, 8).pf2().er()),
    (
        0x7a,
        c(Op::Vcvttps2qq, &[K::Vx, K::Wh])
            .p66()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .sae(),
    ),
    (0x7a, fv(vw(Op::Vcvttpd2qq)).p66().w1().sae()),
    (
        0x7a,
        c(Op::Vcvtudq2pd, &[K::Vx, K::Wh])
            .pf3()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .er(),
    ),
    (0x7a, fv(vw(Op::Vcvtuqq2pd)).pf3().w1().er()),
    (0x7a, fv(vw(Op::Vcvtudq2ps)).pf2().w0().er()),
    (0x7a, fv(c(Op::Vcvtuqq2ps, &[K::Vh, K::Wx])).pf2().w1().er()),
    (
        0x7b,
        c(Op::Vcvtps2qq, &[K::Vx, K::Wh])
            .p66()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .er(),
    ),
    (0x7b, fv(vw(Op::Vcvtpd2qq)).p66().w1().er()),
    (
        0x7b,
        c(Op::Vcvtusi2ss, &[K::Vx, K::Hx, K::Ed])
            .pf3()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x7b,
        c(Op::Vcvtusi2ss, &[K::Vx, K::Hx, K::Eq])
            .pf3()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (
        0x7b,
        c(Op::Vcvtusi2sd, &[K::Vx, K::Hx, K::Ed])
            .pf2()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x7b,
        c(Op::Vcvtusi2sd, &[K::Vx, K::Hx, K::Eq])
            .pf2()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (
        0x7e,
        c(Op::Vmovd, &[K::Ed, K::Vx])
            .p66()
            .w0()
            .w32ig()
            .l0()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x7e,
        c(Op::Vmovq, &[K::Eq, K::Vx])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (
        0x7e,
        c(Op::Vmovq, &[K::Vx, K::W8])
            .pf3()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x7f, fvm(wv(Op::Vmovdqa32)).p66().w0()),
    (0x7f, fvm(wv(Op::Vmovdqa64)).p66().w1()),
    (0x7f, fvm(wv(Op::Vmovdqu32)).pf3().w0()),
    (0x7f, fvm(wv(Op::Vmovdqu64)).pf3().w1()),
    (0x7f, fvm(wv(Op::Vmovdqu8)).pf2().w0()),
    (0x7f, fvm(wv(Op::Vmovdqu16)).pf2().w1()),
    (0xc2, fv(khwi(Op::Vcmpps)).np().w0().sae()),
    (0xc2, fv(khwi(Op::Vcmppd)).p66().w1().sae()),
    (
        0xc2,
        c(Op::Vcmpss, &[K::KG, K::Hx, K::W4, K::Ib])
            .pf3()
            .w0()
            .lig()
            .tuple(T::T1s, 4)
            .sae()
            .noz(),
    ),
    (
        0xc2,
        c(Op::Vcmpsd, &[K::KG, K::Hx, K::W8, K::Ib])
            .pf2()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .sae()
            .noz(),
    ),
    (
        0xc4,
        c(Op::Vpinsrw, &[K::Vx, K::Hx, K::Ry, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0xc4,
        c(Op::Vpinsrw, &[K::Vx, K::Hx, K::Mw, K::Ib])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s16, 2)
            .nomask(),
    ),
    (
        0xc5,
        c(Op::Vpextrw, &[K::Gy, K::Ux, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (0xc6, fv(vhwi(Op::Vshufps)).np().w0()),
    (0xc6, fv(vhwi(Op::Vshufpd)).p66().w1()),
    (0xd1, vhw16(Op::Vpsrlw).p66()),
    (0xd2, vhw16(Op::Vpsrld).p66().w0()),
    (0xd3, vhw16(Op::Vpsrlq).p66().w1()),
    (0xd4, piq(vhw(Op::Vpaddq))),
    (0xd5, pib(vhw(Op::Vpmullw))),
    (
        0xd6,
        c(Op::Vmovq, &[K::W8, K::Vx])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0xd8, pib(vhw(Op::Vpsubusb))),
    (0xd9, pib(vhw(Op::Vpsubusw))),
    (0xda, pib(vhw(Op::Vpminub))),
    (0xdb, pid(vhw(Op::Vpandd))),
    (0xdb, piq(vhw(Op::Vpandq))),
    (0xdc, pib(vhw(Op::Vpaddusb))),
    (0xdd, pib(vhw(Op::Vpaddusw))),
    (0xde, pib(vhw(Op::Vpmaxub))),
    (0xdf, pid(vhw(Op::Vpandnd))),
    (0xdf, piq(vhw(Op::Vpandnq))),
    (0xe0, pib(vhw(Op::Vpavgb))),
    (0xe1, vhw16(Op::Vpsraw).p66()),
    (0xe2, vhw16(Op::Vpsrad).p66().w0()),
    (0xe2, vhw16(Op::Vpsraq).p66().w1()),
    (0xe3, pib(vhw(Op::Vpavgw))),
    (0xe4, pib(vhw(Op::Vpmulhuw))),
    (0xe5, pib(vhw(Op::Vpmulhw))),
    (
        0xe6,
        fv(c(Op::Vcvttpd2dq, &[K::Vh, K::Wx])).p66().w1().sae(),
    ),
    (
        0xe6,
        c(Op::Vcvtdq2pd, &[K::Vx, K::Wh])
            .pf3()
            .w0()
            .tuple(T::Half, 4)
            .bcst()
            .er(),
    ),
    (0xe6, fv(vw(Op::Vcvtqq2pd)).pf3().w1().er()),
    (0xe6, fv(c(Op::Vcvtpd2dq, &[K::Vh, K::Wx])).pf2().w1().er()),
    (
        0xe7,
        c(Op::Vmovntdq, &[K::Mx, K::Vx])
            .p66()
            .w0()
            .tuple(T::FullMem, 0)
            .nomask(),
    ),
    (0xe8, pib(vhw(Op::Vpsubsb))),
    (0xe9, pib(vhw(Op::Vpsubsw))),
    (0xea, pib(vhw(Op::Vpminsw))),
    (0xeb, pid(vhw(Op::Vpord))),
    (0xeb, piq(vhw(Op::Vporq))),
    (0xec, pib(vhw(Op::Vpaddsb))),
    (0xed, pib(vhw(Op::Vpaddsw))),
    (0xee, pib(vhw(Op::Vpmaxsw))),
    (0xef, pid(vhw(Op::Vpxord))),
    (0xef, piq(vhw(Op::Vpxorq))),
    (0xf1, vhw16(Op::Vpsllw).p66()),
    (0xf2, vhw16(Op::Vpslld).p66().w0()),
    (0xf3, vhw16(Op::Vpsllq).p66().w1()),
    (0xf4, piq(vhw(Op::Vpmuludq))),
    (0xf5, pib(vhw(Op::Vpmaddwd))),
    (0xf6, pib(vhw(Op::Vpsadbw)).nomask()),
    (0xf8, pib(vhw(Op::Vpsubb))),
    (0xf9, pib(vhw(Op::Vpsubw))),
    (0xfa, pid(vhw(Op::Vpsubd))),
    (0xfb, piq(vhw(Op::Vpsubq))),
    (0xfc, pib(vhw(Op::Vpaddb))),
    (0xfd, pib(vhw(Op::Vpaddw))),
    (0xfe, pid(vhw(Op::Vpaddd))),
];

const LIST_0F38: &[(u8, Cand)] = &[
    (0x00, pib(vhw(Op::Vpshufb))),
    (0x04, pib(vhw(Op::Vpmaddubsw))),
    (0x0b, pib(vhw(Op::Vpmulhrsw))),
    (0x0c, pid(vhw(Op::Vpermilps))),
    (0x0d, piq(vhw(Op::Vpermilpd))),
    (0x10, pib(vhw(Op::Vpsrlvw)).w1()),
    (0x10, pmov_down(Op::Vpmovuswb, K::Wh, T::HalfMem)),
    (0x11, pib(vhw(Op::Vpsravw)).w1()),
    (0x11, pmov_down(Op::Vpmovusdb, K::Wqr, T::QuarterMem)),
    (0x12, pib(vhw(Op::Vpsllvw)).w1()),
    (0x12, pmov_down(Op::Vpmovusqb, K::We, T::EighthMem)),
    (
        0x13,
        c(Op::Vcvtph2ps, &[K::Vx, K::Wh])
            .p66()
            .w0()
            .tuple(T::HalfMem, 0)
            .sae(),
    ),
    (0x13, pmov_down(Op::Vpmovusdw, K::Wh, T::HalfMem)),
    (0x14, pid(vhw(Op::Vprorvd))),
    (0x14, piq(vhw(Op::Vprorvq))),
    (0x14, pmov_down(Op::Vpmovusqw, K::Wqr, T::QuarterMem)),
    (0x15, pid(vhw(Op::Vprolvd))),
    (0x15, piq(vhw(Op::Vprolvq))),
    (0x15, pmov_down(Op::Vpmovusqd, K::Wh, T::HalfMem)),
    (0x16, pid(vhw(Op::Vpermps)).l12()),
    (0x16, piq(vhw(Op::Vpermpd)).l12()),
    (
        0x18,
        c(Op::Vbroadcastss, &[K::Vx, K::W4])
            .p66()
            .w0()
            .tuple(T::T1s, 4),
    ),
    (
        0x19,
        c(Op::Vbroadcastf32x2, &[K::Vx, K::W8])
            .p66()
            .w0()
            .l12()
            .tuple(T::T2, 4),
    ),
    (
        0x19,
        c(Op::Vbroadcastsd, &[K::Vx, K::W8])
            .p66()
            .w1()
            .l12()
            .tuple(T::T1s, 8),
    ),
    (
        0x1a,
        c(Op::Vbroadcastf32x4, &[K::Vx, K::Mo])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x1a,
        c(Op::Vbroadcastf64x2, &[K::Vx, K::Mo])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x1b,
        c(Op::Vbroadcastf32x8, &[K::Vx, K::M32b])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x1b,
        c(Op::Vbroadcastf64x4, &[K::Vx, K::M32b])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (0x1c, pib(vw(Op::Vpabsb))),
    (0x1d, pib(vw(Op::Vpabsw))),
    (0x1e, pid(vw(Op::Vpabsd))),
    (0x1f, piq(vw(Op::Vpabsq))),
    (0x20, pmov_up(Op::Vpmovsxbw, K::Wh, T::HalfMem)),
    (0x20, pmov_down(Op::Vpmovswb, K::Wh, T::HalfMem)),
    (0x21, pmov_up(Op::Vpmovsxbd, K::Wqr, T::QuarterMem)),
    (0x21, pmov_down(Op::Vpmovsdb, K::Wqr, T::QuarterMem)),
    (0x22, pmov_up(Op::Vpmovsxbq, K::We, T::EighthMem)),
    (0x22, pmov_down(Op::Vpmovsqb, K::We, T::EighthMem)),
    (0x23, pmov_up(Op::Vpmovsxwd, K::Wh, T::HalfMem)),
    (0x23, pmov_down(Op::Vpmovsdw, K::Wh, T::HalfMem)),
    (0x24, pmov_up(Op::Vpmovsxwq, K::Wqr, T::QuarterMem)),
    (0x24, pmov_down(Op::Vpmovsqw, K::Wqr, T::QuarterMem)),
    (0x25, pmov_up(Op::Vpmovsxdq, K::Wh, T::HalfMem).w0()),
    (0x25, pmov_down(Op::Vpmovsqd, K::Wh, T::HalfMem)),
    (0x26, pib(khw(Op::Vptestmb)).w0()),
    (0x26, pib(khw(Op::Vptestmw)).w1()),
    (0x26, fvm(khw(Op::Vptestnmb)).pf3().w0()),
    (0x26, fvm(khw(Op::Vptestnmw)).pf3().w1()),
    (0x27, pid(khw(Op::Vptestmd))),
    (0x27, piq(khw(Op::Vptestmq))),
    (0x27, fv(khw(Op::Vptestnmd)).pf3().w0()),
    (0x27, fv(khw(Op::Vptestnmq)).pf3().w1()),
    (0x28, piq(vhw(Op::Vpmuldq))),
    (0x28, c(Op::Vpmovm2b, &[K::Vx, K::KR]).pf3().w0().nomask()),
    (0x28, c(Op::Vpmovm2w, &[K::Vx, K::KR]).pf3().w1().nomask()),
    (0x29, piq(khw(Op::Vpcmpeqq))),
    (0x29, c(Op::Vpmovb2m, &[K::KG, K::Ux]).pf3().w0().nomask()),
    (0x29, c(Op::Vpmovw2m, &[K::KG, K::Ux]).pf3().w1().nomask()),
    (
        0x2a,
        c(Op::Vmovntdqa, &[K::Vx, K::Mx])
            .p66()
            .w0()
            .tuple(T::FullMem, 0)
            .nomask(),
    ),
    (
        0x2a,
        c(Op::Vpbroadcastmb2q, &[K::Vx, K::KR]).pf3().w1().nomask(),
    ),
    (0x2b, pid(vhw(Op::Vpackusdw))),
    (0x2c, pid(vhw(Op::Vscalefps)).er()),
    (0x2c, piq(vhw(Op::Vscalefpd)).er()),
    (0x2d, s4(Op::Vscalefss).p66().w0().er()),
    (0x2d, s8(Op::Vscalefsd).p66().w1().er()),
    (0x30, pmov_up(Op::Vpmovzxbw, K::Wh, T::HalfMem)),
    (0x30, pmov_down(Op::Vpmovwb, K::Wh, T::HalfMem)),
    (0x31, pmov_up(Op::Vpmovzxbd, K::Wqr, T::QuarterMem)),
    (0x31, pmov_down(Op::Vpmovdb, K::Wqr, T::QuarterMem)),
    (0x32, pmov_up(Op::Vpmovzxbq, K::We, T::EighthMem)),
    (0x32, pmov_down(Op::Vpmovqb, K::We, T::EighthMem)),
    (0x33, pmov_up(Op::Vpmovzxwd, K::Wh, T::HalfMem)),
    (0x33, pmov_down(Op::Vpmovdw, K::Wh, T::HalfMem)),
    (0x34, pmov_up(Op::Vpmovzxwq, K::Wqr, T::QuarterMem)),
    (0x34, pmov_down(Op::Vpmovqw, K::Wqr, T::QuarterMem)),
    (0x35, pmov_up(Op::Vpmovzxdq, K::Wh, T::HalfMem).w0()),
    (0x35, pmov_down(Op::Vpmovqd, K::Wh, T::HalfMem)),
    (0x36, pid(vhw(Op::Vpermd)).l12()),
    (0x36, piq(vhw(Op::Vpermq)).l12()),
    (0x37, piq(khw(Op::Vpcmpgtq))),
    (0x38, pib(vhw(Op::Vpminsb))),
    (0x38, c(Op::Vpmovm2d, &[K::Vx, K::KR]).pf3().w0().nomask()),
    (0x38, c(Op::Vpmovm2q, &[K::Vx, K::KR]).pf3().w1().nomask()),
    (0x39, pid(vhw(Op::Vpminsd))),
    (0x39, piq(vhw(Op::Vpminsq))),
    (0x39, c(Op::Vpmovd2m, &[K::KG, K::Ux]).pf3().w0().nomask()),
    (0x39, c(Op::Vpmovq2m, &[K::KG, K::Ux]).pf3().w1().nomask()),
    (0x3a, pib(vhw(Op::Vpminuw))),
    (
        0x3a,
        c(Op::Vpbroadcastmw2d, &[K::Vx, K::KR]).pf3().w0().nomask(),
    ),
    (0x3b, pid(vhw(Op::Vpminud))),
    (0x3b, piq(vhw(Op::Vpminuq))),
    (0x3c, pib(vhw(Op::Vpmaxsb))),
    (0x3d, pid(vhw(Op::Vpmaxsd))),
    (0x3d, piq(vhw(Op::Vpmaxsq))),
    (0x3e, pib(vhw(Op::Vpmaxuw))),
    (0x3f, pid(vhw(Op::Vpmaxud))),
    (0x3f, piq(vhw(Op::Vpmaxuq))),
    (0x40, pid(vhw(Op::Vpmulld))),
    (0x40, piq(vhw(Op::Vpmullq))),
    (0x42, pid(vw(Op::Vgetexpps)).sae()),
    (0x42, piq(vw(Op::Vgetexppd)).sae()),
    (0x43, s4(Op::Vgetexpss).p66().w0().sae()),
    (0x43, s8(Op::Vgetexpsd).p66().w1().sae()),
    (0x44, pid(vw(Op::Vplzcntd))),
    (0x44, piq(vw(Op::Vplzcntq))),
    (0x45, pid(vhw(Op::Vpsrlvd))),
    (0x45, piq(vhw(Op::Vpsrlvq))),
    (0x46, pid(vhw(Op::Vpsravd))),
    (0x46, piq(vhw(Op::Vpsravq))),
    (0x47, pid(vhw(Op::Vpsllvd))),
    (0x47, piq(vhw(Op::Vpsllvq))),
    (0x4c, pid(vw(Op::Vrcp14ps))),
    (0x4c, piq(vw(Op::Vrcp14pd))),
    (0x4d, s4(Op::Vrcp14ss).p66().w0()),
    (0x4d, s8(Op::Vrcp14sd).p66().w1()),
    (0x4e, pid(vw(Op::Vrsqrt14ps))),
    (0x4e, piq(vw(Op::Vrsqrt14pd))),
    (0x4f, s4(Op::Vrsqrt14ss).p66().w0()),
    (0x4f, s8(Op::Vrsqrt14sd).p66().w1()),
    (0x50, pid(vhw(Op::Vpdpbusd))),
    (0x51, pid(vhw(Op::Vpdpbusds))),
    (0x52, pid(vhw(Op::Vpdpwssd))),
    (0x52, fv(vhw(Op::Vdpbf16ps)).pf3().w0()),
    (
        0x52,
        c(Op::Vp4dpwssd, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .l2()
            .tuple(T::M128, 0),
    ),
    (0x53, pid(vhw(Op::Vpdpwssds))),
    (
        0x53,
        c(Op::Vp4dpwssds, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .l2()
            .tuple(T::M128, 0),
    ),
    (0x54, pib(vw(Op::Vpopcntb)).w0()),
    (0x54, pib(vw(Op::Vpopcntw)).w1()),
    (0x55, pid(vw(Op::Vpopcntd))),
    (0x55, piq(vw(Op::Vpopcntq))),
    (
        0x58,
        c(Op::Vpbroadcastd, &[K::Vx, K::W4])
            .p66()
            .w0()
            .tuple(T::T1s, 4),
    ),
    (
        0x59,
        c(Op::Vbroadcasti32x2, &[K::Vx, K::W8])
            .p66()
            .w0()
            .tuple(T::T2, 4),
    ),
    (
        0x59,
        c(Op::Vpbroadcastq, &[K::Vx, K::W8])
            .p66()
            .w1()
            .tuple(T::T1s, 8),
    ),
    (
        0x5a,
        c(Op::Vbroadcasti32x4, &[K::Vx, K::Mo])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x5a,
        c(Op::Vbroadcasti64x2, &[K::Vx, K::Mo])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x5b,
        c(Op::Vbroadcasti32x8, &[K::Vx, K::M32b])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x5b,
        c(Op::Vbroadcasti64x4, &[K::Vx, K::M32b])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (0x62, vw(Op::Vpexpandb).p66().w0().tuple(T::T1s8, 1)),
    (0x62, vw(Op::Vpexpandw).p66().w1().tuple(T::T1s16, 2)),
    (0x63, wv(Op::Vpcompressb).p66().w0().tuple(T::T1s8, 1)),
    (0x63, wv(Op::Vpcompressw).p66().w1().tuple(T::T1s16, 2)),
    (0x64, pid(vhw(Op::Vpblendmd))),
    (0x64, piq(vhw(Op::Vpblendmq))),
    (0x65, pid(vhw(Op::Vblendmps))),
    (0x65, piq(vhw(Op::Vblendmpd))),
    (0x66, pib(vhw(Op::Vpblendmb)).w0()),
    (0x66, pib(vhw(Op::Vpblendmw)).w1()),
    (
        0x68,
        fv(c(Op::Vp2intersectd, &[K::KG, K::Hx, K::Wx]))
            .pf2()
            .w0()
            .nomask(),
    ),
    (
        0x68,
        fv(c(Op::Vp2intersectq, &[K::KG, K::Hx, K::Wx]))
            .pf2()
            .w1()
            .nomask(),
    ),
    (0x70, pib(vhw(Op::Vpshldvw)).w1()),
    (0x71, pid(vhw(Op::Vpshldvd))),
    (0x71, piq(vhw(Op::Vpshldvq))),
    (0x72, pib(vhw(Op::Vpshrdvw)).w1()),
    (0x72, fv(c(Op::Vcvtneps2bf16, &[K::Vh, K::Wx])).pf3().w0()),
    (0x72, fv(vhw(Op::Vcvtne2ps2bf16)).pf2().w0()),
    (0x73, pid(vhw(Op::Vpshrdvd))),
    (0x73, piq(vhw(Op::Vpshrdvq))),
    (0x75, pib(vhw(Op::Vpermi2b)).w0()),
    (0x75, pib(vhw(Op::Vpermi2w)).w1()),
    (0x76, pid(vhw(Op::Vpermi2d))),
    (0x76, piq(vhw(Op::Vpermi2q))),
    (0x77, pid(vhw(Op::Vpermi2ps))),
    (0x77, piq(vhw(Op::Vpermi2pd))),
    (
        0x78,
        c(Op::Vpbroadcastb, &[K::Vx, K::W1])
            .p66()
            .w0()
            .tuple(T::T1s8, 1),
    ),
    (
        0x79,
        c(Op::Vpbroadcastw, &[K::Vx, K::W2])
            .p66()
            .w0()
            .tuple(T::T1s16, 2),
    ),
    (
        0x7a,
        c(Op::Vpbroadcastb, &[K::Vx, K::Rd]).p66().w0().reg_form(),
    ),
    (
        0x7b,
        c(Op::Vpbroadcastw, &[K::Vx, K::Rd]).p66().w0().reg_form(),
    ),
    (
        0x7c,
        c(Op::Vpbroadcastd, &[K::Vx, K::Rd])
            .p66()
            .w0()
            .w32ig()
            .reg_form(),
    ),
    (
        0x7c,
        c(Op::Vpbroadcastq, &[K::Vx, K::Rq]).p66().w1().reg_form(),
    ),
    (0x7d, pib(vhw(Op::Vpermt2b)).w0()),
    (0x7d, pib(vhw(Op::Vpermt2w)).w1()),
    (0x7e, pid(vhw(Op::Vpermt2d))),
    (0x7e, piq(vhw(Op::Vpermt2q))),
    (0x7f, pid(vhw(Op::Vpermt2ps))),
    (0x7f, piq(vhw(Op::Vpermt2pd))),
    (0x83, piq(vhw(Op::Vpmultishiftqb))),
    (0x88, vw(Op::Vexpandps).p66().w0().tuple(T::T1s, 0)),
    (0x88, vw(Op::Vexpandpd).p66().w1().tuple(T::T1s, 0)),
    (0x89, vw(Op::Vpexpandd).p66().w0().tuple(T::T1s, 0)),
    (0x89, vw(Op::Vpexpandq).p66().w1().tuple(T::T1s, 0)),
    (0x8a, wv(Op::Vcompressps).p66().w0().tuple(T::T1s, 0)),
    (0x8a, wv(Op::Vcompresspd).p66().w1().tuple(T::T1s, 0)),
    (0x8b, wv(Op::Vpcompressd).p66().w0().tuple(T::T1s, 0)),
    (0x8b, wv(Op::Vpcompressq).p66().w1().tuple(T::T1s, 0)),
    (0x8d, pib(vhw(Op::Vpermb)).w0()),
    (0x8d, pib(vhw(Op::Vpermw)).w1()),
    (0x8f, pib(khw(Op::Vpshufbitqmb)).w0()),
    (0x90, gather(Op::Vpgatherdd, K::Vx, K::Vsib).w0()),
    (0x90, gather(Op::Vpgatherdq, K::Vx, K::VsibH).w1()),
    (0x91, gather(Op::Vpgatherqd, K::Vh, K::Vsib).w0()),
    (0x91, gather(Op::Vpgatherqq, K::Vx, K::Vsib).w1()),
    (0x92, gather(Op::Vgatherdps, K::Vx, K::Vsib).w0()),
    (0x92, gather(Op::Vgatherdpd, K::Vx, K::VsibH).w1()),
    (0x93, gather(Op::Vgatherqps, K::Vh, K::Vsib).w0()),
    (0x93, gather(Op::Vgatherqpd, K::Vx, K::Vsib).w1()),
    (0x96, pid(vhw(Op::Vfmaddsub132ps)).er()),
    (0x96, piq(vhw(Op::Vfmaddsub132pd)).er()),
    (0x97, pid(vhw(Op::Vfmsubadd132ps)).er()),
    (0x97, piq(vhw(Op::Vfmsubadd132pd)).er()),
    (0x98, pid(vhw(Op::Vfmadd132ps)).er()),
    (0x98, piq(vhw(Op::Vfmadd132pd)).er()),
    (0x99, s4(Op::Vfmadd132ss).p66().w0().er()),
    (0x99, s8(Op::Vfmadd132sd).p66().w1().er()),
    (0x9a, pid(vhw(Op::Vfmsub132ps)).er()),
    (0x9a, piq(vhw(Op::Vfmsub132pd)).er()),
    (
        0x9a,
        c(Op::V4fmaddps, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .l2()
            .tuple(T::M128, 0),
    ),
    (0x9b, s4(Op::Vfmsub132ss).p66().w0().er()),
    (0x9b, s8(Op::Vfmsub132sd).p66().w1().er()),
    (
        0x9b,
        c(Op::V4fmaddss, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .lig()
            .tuple(T::M128, 0),
    ),
    (0x9c, pid(vhw(Op::Vfnmadd132ps)).er()),
    (0x9c, piq(vhw(Op::Vfnmadd132pd)).er()),
    (0x9d, s4(Op::Vfnmadd132ss).p66().w0().er()),
    (0x9d, s8(Op::Vfnmadd132sd).p66().w1().er()),
    (0x9e, pid(vhw(Op::Vfnmsub132ps)).er()),
    (0x9e, piq(vhw(Op::Vfnmsub132pd)).er()),
    (0x9f, s4(Op::Vfnmsub132ss).p66().w0().er()),
    (0x9f, s8(Op::Vfnmsub132sd).p66().w1().er()),
    (0xa0, scatter(Op::Vpscatterdd, K::Vsib, K::Vx).w0()),
    (0xa0, scatter(Op::Vpscatterdq, K::VsibH, K::Vx).w1()),
    (0xa1, scatter(Op::Vpscatterqd, K::Vsib, K::Vh).w0()),
    (0xa1, scatter(Op::Vpscatterqq, K::Vsib, K::Vx).w1()),
    (0xa2, scatter(Op::Vscatterdps, K::Vsib, K::Vx).w0()),
    (0xa2, scatter(Op::Vscatterdpd, K::VsibH, K::Vx).w1()),
    (0xa3, scatter(Op::Vscatterqps, K::Vsib, K::Vh).w0()),
    (0xa3, scatter(Op::Vscatterqpd, K::Vsib, K::Vx).w1()),
    (0xa6, pid(vhw(Op::Vfmaddsub213ps)).er()),
    (0xa6, piq(vhw(Op::Vfmaddsub213pd)).er()),
    (0xa7, pid(vhw(Op::Vfmsubadd213ps)).er()),
    (0xa7, piq(vhw(Op::Vfmsubadd213pd)).er()),
    (0xa8, pid(vhw(Op::Vfmadd213ps)).er()),
    (0xa8, piq(vhw(Op::Vfmadd213pd)).er()),
    (0xa9, s4(Op::Vfmadd213ss).p66().w0().er()),
    (0xa9, s8(Op::Vfmadd213sd).p66().w1().er()),
    (0xaa, pid(vhw(Op::Vfmsub213ps)).er()),
    (0xaa, piq(vhw(Op::Vfmsub213pd)).er()),
    (
        0xaa,
        c(Op::V4fnmaddps, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .l2()
            .tuple(T::M128, 0),
    ),
    (0xab, s4(Op::Vfmsub213ss).p66().w0().er()),
    (0xab, s8(Op::Vfmsub213sd).p66().w1().er()),
    (
        0xab,
        c(Op::V4fnmaddss, &[K::Vx, K::Hx, K::Mo])
            .pf2()
            .w0()
            .lig()
            .tuple(T::M128, 0),
    ),
    (0xac, pid(vhw(Op::Vfnmadd213ps)).er()),
    (0xac, piq(vhw(Op::Vfnmadd213pd)).er()),
    (0xad, s4(Op::Vfnmadd213ss).p66().w0().er()),
    (0xad, s8(Op::Vfnmadd213sd).p66().w1().er()),
    (0xae, pid(vhw(Op::Vfnmsub213ps)).er()),
    (0xae, piq(vhw(Op::Vfnmsub213pd)).er()),
    (0xaf, s4(Op::Vfnmsub213ss).p66().w0().er()),
    (0xaf, s8(Op::Vfnmsub213sd).p66().w1().er()),
    (0xb4, piq(vhw(Op::Vpmadd52luq))),
    (0xb5, piq(vhw(Op::Vpmadd52huq))),
    (0xb6, pid(vhw(Op::Vfmaddsub231ps)).er()),
    (0xb6, piq(vhw(Op::Vfmaddsub231pd)).er()),
    (0xb7, pid(vhw(Op::Vfmsubadd231ps)).er()),
    (0xb7, piq(vhw(Op::Vfmsubadd231pd)).er()),
    (0xb8, pid(vhw(Op::Vfmadd231ps)).er()),
    (0xb8, piq(vhw(Op::Vfmadd231pd)).er()),
    (0xb9, s4(Op::Vfmadd231ss).p66().w0().er()),
    (0xb9, s8(Op::Vfmadd231sd).p66().w1().er()),
    (0xba, pid(vhw(Op::Vfmsub231ps)).er()),
    (0xba, piq(vhw(Op::Vfmsub231pd)).er()),
    (0xbb, s4(Op::Vfmsub231ss).p66().w0().er()),
    (0xbb, s8(Op::Vfmsub231sd).p66().w1().er()),
    (0xbc, pid(vhw(Op::Vfnmadd231ps)).er()),
    (0xbc, piq(vhw(Op::Vfnmadd231pd)).er()),
    (0xbd, s4(Op::Vfnmadd231ss).p66().w0().er()),
    (0xbd, s8(Op::Vfnmadd231sd).p66().w1().er()),
    (0xbe, pid(vhw(Op::Vfnmsub231ps)).er()),
    (0xbe, piq(vhw(Op::Vfnmsub231pd)).er()),
    (0xbf, s4(Op::Vfnmsub231ss).p66().w0().er()),
    (0xbf, s8(Op::Vfnmsub231sd).p66().w1().er()),
    (0xc4, pid(vw(Op::Vpconflictd))),
    (0xc4, piq(vw(Op::Vpconflictq))),
    (0xc6, gpf(Op::Vgatherpf0dps, K::Vsib, 1).w0()),
    (0xc6, gpf(Op::Vgatherpf0dpd, K::VsibH, 1).w1()),
    (0xc6, gpf(Op::Vgatherpf1dps, K::Vsib, 2).w0()),
    (0xc6, gpf(Op::Vgatherpf1dpd, K::VsibH, 2).w1()),
    (0xc6, gpf(Op::Vscatterpf0dps, K::Vsib, 5).w0()),
    (0xc6, gpf(Op::Vscatterpf0dpd, K::VsibH, 5).w1()),
    (0xc6, gpf(Op::Vscatterpf1dps, K::Vsib, 6).w0()),
    (0xc6, gpf(Op::Vscatterpf1dpd, K::VsibH, 6).w1()),
    (0xc7, gpf(Op::Vgatherpf0qps, K::Vsib, 1).w0()),
    (0xc7, gpf(Op::Vgatherpf0qpd, K::Vsib, 1).w1()),
    (0xc7, gpf(Op::Vgatherpf1qps, K::Vsib, 2).w0()),
    (0xc7, gpf(Op::Vgatherpf1qpd, K::Vsib, 2).w1()),
    (0xc7, gpf(Op::Vscatterpf0qps, K::Vsib, 5).w0()),
    (0xc7, gpf(Op::Vscatterpf0qpd, K::Vsib, 5).w1()),
    (0xc7, gpf(Op::Vscatterpf1qps, K::Vsib, 6).w0()),
    (0xc7, gpf(Op::Vscatterpf1qpd, K::Vsib, 6).w1()),
    (0xc8, pid(vw(Op::Vexp2ps)).l2().sae()),
    (0xc8, piq(vw(Op::Vexp2pd)).l2().sae()),
    (0xca, pid(vw(Op::Vrcp28ps)).l2().sae()),
    (0xca, piq(vw(Op::Vrcp28pd)).l2().sae()),
    (0xcb, s4(Op::Vrcp28ss).p66().w0().sae()),
    (0xcb, s8(Op::Vrcp28sd).p66().w1().sae()),
    (0xcc, pid(vw(Op::Vrsqrt28ps)).l2().sae()),
    (0xcc, piq(vw(Op::Vrsqrt28pd)).l2().sae()),
    (0xcd, s4(Op::Vrsqrt28ss).p66().w0().sae()),
    (0xcd, s8(Op::Vrsqrt28sd).p66().w1().sae()),
    (0xcf, pib(vhw(Op::Vgf2p8mulb)).w0()),
    (0xdc, pib(vhw(Op::Vaesenc)).nomask()),
    (0xdd, pib(vhw(Op::Vaesenclast)).nomask()),
    (0xde, pib(vhw(Op::Vaesdec)).nomask()),
    (0xdf, pib(vhw(Op::Vaesdeclast)).nomask()),
];

const LIST_0F3A: &[(u8, Cand)] = &[
    (0x00, piq(vwi(Op::Vpermq)).l12()),
    (0x01, piq(vwi(Op::Vpermpd)).l12()),
    (0x03, pid(vhwi(Op::Valignd))),
    (0x03, piq(vhwi(Op::Valignq))),
    (0x04, pid(vwi(Op::Vpermilps))),
    (0x05, piq(vwi(Op::Vpermilpd))),
    (0x08, pid(vwi(Op::Vrndscaleps)).sae()),
    (0x08, fv16(vwi(Op::Vrndscaleph)).np().w0().sae()),
    (0x09, piq(vwi(Op::Vrndscalepd)).sae()),
    (0x0a, s4i(Op::Vrndscaless).p66().w0().sae()),
    (0x0a, s2i(Op::Vrndscalesh).np().w0().sae()),
    (0x0b, s8i(Op::Vrndscalesd).p66().w1().sae()),
    (0x0f, pib(vhwi(Op::Vpalignr))),
    (
        0x14,
        c(Op::Vpextrb, &[K::Ry, K::Vx, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x14,
        c(Op::Vpextrb, &[K::Mb, K::Vx, K::Ib])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s8, 1)
            .nomask(),
    ),
    (
        0x15,
        c(Op::Vpextrw, &[K::Ry, K::Vx, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x15,
        c(Op::Vpextrw, &[K::Mw, K::Vx, K::Ib])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s16, 2)
            .nomask(),
    ),
    (
        0x16,
        c(Op::Vpextrd, &[K::Ed, K::Vx, K::Ib])
            .p66()
            .w0()
            .w32ig()
            .l0()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x16,
        c(Op::Vpextrq, &[K::Eq, K::Vx, K::Ib])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (
        0x17,
        c(Op::Vextractps, &[K::Ry, K::Vx, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x17,
        c(Op::Vextractps, &[K::Md, K::Vx, K::Ib])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x18,
        c(Op::Vinsertf32x4, &[K::Vx, K::Hx, K::W16, K::Ib])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x18,
        c(Op::Vinsertf64x2, &[K::Vx, K::Hx, K::W16, K::Ib])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x19,
        c(Op::Vextractf32x4, &[K::W16, K::Vx, K::Ib])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x19,
        c(Op::Vextractf64x2, &[K::W16, K::Vx, K::Ib])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x1a,
        c(Op::Vinsertf32x8, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x1a,
        c(Op::Vinsertf64x4, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (
        0x1b,
        c(Op::Vextractf32x8, &[K::Wh, K::Vx, K::Ib])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x1b,
        c(Op::Vextractf64x4, &[K::Wh, K::Vx, K::Ib])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (
        0x1d,
        c(Op::Vcvtps2ph, &[K::Wh, K::Vx, K::Ib])
            .p66()
            .w0()
            .tuple(T::HalfMem, 0)
            .sae(),
    ),
    (0x1e, pid(khwi(Op::Vpcmpud))),
    (0x1e, piq(khwi(Op::Vpcmpuq))),
    (0x1f, pid(khwi(Op::Vpcmpd))),
    (0x1f, piq(khwi(Op::Vpcmpq))),
    (
        0x20,
        c(Op::Vpinsrb, &[K::Vx, K::Hx, K::Ry, K::Ib])
            .p66()
            .l0()
            .reg_form()
            .nomask(),
    ),
    (
        0x20,
        c(Op::Vpinsrb, &[K::Vx, K::Hx, K::Mb, K::Ib])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s8, 1)
            .nomask(),
    ),
    (
        0x21,
        c(Op::Vinsertps, &[K::Vx, K::Hx, K::W4, K::Ib])
            .p66()
            .w0()
            .l0()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x22,
        c(Op::Vpinsrd, &[K::Vx, K::Hx, K::Ed, K::Ib])
            .p66()
            .w0()
            .w32ig()
            .l0()
            .tuple(T::T1s, 4)
            .nomask(),
    ),
    (
        0x22,
        c(Op::Vpinsrq, &[K::Vx, K::Hx, K::Eq, K::Ib])
            .p66()
            .w1()
            .l0()
            .tuple(T::T1s, 8)
            .nomask(),
    ),
    (0x23, pid(vhwi(Op::Vshuff32x4)).l12()),
    (0x23, piq(vhwi(Op::Vshuff64x2)).l12()),
    (0x25, pid(vhwi(Op::Vpternlogd))),
    (0x25, piq(vhwi(Op::Vpternlogq))),
    (0x26, pid(vwi(Op::Vgetmantps)).sae()),
    (0x26, piq(vwi(Op::Vgetmantpd)).sae()),
    (0x26, fv16(vwi(Op::Vgetmantph)).np().w0().sae()),
    (0x27, s4i(Op::Vgetmantss).p66().w0().sae()),
    (0x27, s8i(Op::Vgetmantsd).p66().w1().sae()),
    (0x27, s2i(Op::Vgetmantsh).np().w0().sae()),
    (
        0x38,
        c(Op::Vinserti32x4, &[K::Vx, K::Hx, K::W16, K::Ib])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x38,
        c(Op::Vinserti64x2, &[K::Vx, K::Hx, K::W16, K::Ib])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x39,
        c(Op::Vextracti32x4, &[K::W16, K::Vx, K::Ib])
            .p66()
            .w0()
            .l12()
            .tuple(T::T4, 4),
    ),
    (
        0x39,
        c(Op::Vextracti64x2, &[K::W16, K::Vx, K::Ib])
            .p66()
            .w1()
            .l12()
            .tuple(T::T2, 8),
    ),
    (
        0x3a,
        c(Op::Vinserti32x8, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x3a,
        c(Op::Vinserti64x4, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (
        0x3b,
        c(Op::Vextracti32x8, &[K::Wh, K::Vx, K::Ib])
            .p66()
            .w0()
            .l2()
            .tuple(T::T8, 4),
    ),
    (
        0x3b,
        c(Op::Vextracti64x4, &[K::Wh, K::Vx, K::Ib])
            .p66()
            .w1()
            .l2()
            .tuple(T::T4, 8),
    ),
    (0x3e, pib(khwi(Op::Vpcmpub)).w0()),
    (0x3e, pib(khwi(Op::Vpcmpuw)).w1()),
    (0x3f, pib(khwi(Op::Vpcmpb)).w0()),
    (0x3f, pib(khwi(Op::Vpcmpw)).w1()),
    (0x42, pib(vhwi(Op::Vdbpsadbw)).w0()),
    (0x43, pid(vhwi(Op::Vshufi32x4)).l12()),
    (0x43, piq(vhwi(Op::Vshufi64x2)).l12()),
    (0x44, pib(vhwi(Op::Vpclmulqdq)).nomask()),
    (0x50, pid(vhwi(Op::Vrangeps)).sae()),
    (0x50, piq(vhwi(Op::Vrangepd)).sae()),
    (0x51, s4i(Op::Vrangess).p66().w0().sae()),
    (0x51, s8i(Op::Vrangesd).p66().w1().sae()),
    (0x54, pid(vhwi(Op::Vfixupimmps)).sae()),
    (0x54, piq(vhwi(Op::Vfixupimmpd)).sae()),
    (0x55, s4i(Op::Vfixupimmss).p66().w0().sae()),
    (0x55, s8i(Op::Vfixupimmsd).p66().w1().sae()),
    (0x56, pid(vwi(Op::Vreduceps)).sae()),
    (0x56, piq(vwi(Op::Vreducepd)).sae()),
    (0x56, fv16(vwi(Op::Vreduceph)).np().w0().sae()),
    (0x57, s4i(Op::Vreducess).p66().w0().sae()),
    (0x57, s8i(Op::Vreducesd).p66().w1().sae()),
    (0x57, s2i(Op::Vreducesh).np().w0().sae()),
    (0x66, pid(c(Op::Vfpclassps, &[K::KG, K::Wx, K::Ib])).noz()),
    (0x66, piq(c(Op::Vfpclasspd, &[K::KG, K::Wx, K::Ib])).noz()),
    (
        0x66,
        fv16(c(Op::Vfpclassph, &[K::KG, K::Wx, K::Ib]))
            .np()
            .w0()
            .noz(),
    ),
    (
        0x67,
        c(Op::Vfpclassss, &[K::KG, K::W4, K::Ib])
            .p66()
            .w0()
            .lig()
            .tuple(T::T1s, 4)
            .noz(),
    ),
    (
        0x67,
        c(Op::Vfpclasssd, &[K::KG, K::W8, K::Ib])
            .p66()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .noz(),
    ),
    (
        0x67,
        c(Op::Vfpclasssh, &[K::KG, K::W2, K::Ib])
            .np()
            .w0()
            .lig()
            .tuple(T::T1s16, 2)
            .noz(),
    ),
    (0x70, pib(vhwi(Op::Vpshldw)).w1()),
    (0x71, pid(vhwi(Op::Vpshldd))),
    (0x71, piq(vhwi(Op::Vpshldq))),
    (0x72, pib(vhwi(Op::Vpshrdw)).w1()),
    (0x73, pid(vhwi(Op::Vpshrdd))),
    (0x73, piq(vhwi(Op::Vpshrdq))),
    (0xc2, fv16(khwi(Op::Vcmpph)).np().w0().sae()),
    (
        0xc2,
        c(Op::Vcmpsh, &[K::KG, K::Hx, K::W2, K::Ib])
            .pf3()
            .w0()
            .lig()
            .tuple(T::T1s16, 2)
            .sae()
            .noz(),
    ),
    (0xce, piq(vhwi(Op::Vgf2p8affineqb))),
    (0xcf, piq(vhwi(Op::Vgf2p8affineinvqb))),
];

/// Packed FP16: Full vector with 2-byte broadcast.
const fn ph(x: Cand) -> Cand {
    fv16(x).w0()
}
/// FP16 conversions whose source is a half (Half tuple, 2-byte broadcast).
const fn ph_half(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wh]).w0().tuple(T::Half, 2).bcst()
}
/// FP16 conversions whose source is a quarter (2-byte broadcast).
const fn ph_quarter(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wqr]).w0().tuple(T::QuarterMem, 2).bcst()
}
/// Scalar FP16 to integer conversion.
const fn sh2gpr(op: Op) -> Cand {
    c(op, &[K::Gy, K::W2])
        .pf3()
        .lig()
        .tuple(T::T1s16, 2)
        .nomask()
}

const LIST_5: &[(u8, Cand)] = &[
    (
        0x10,
        c(Op::Vmovsh, &[K::Vx, K::Hx, K::Ux])
            .pf3()
            .w0()
            .lig()
            .reg_form(),
    ),
    (
        0x10,
        c(Op::Vmovsh, &[K::Vx, K::W2])
            .pf3()
            .w0()
            .lig()
            .mem()
            .tuple(T::T1s16, 2),
    ),
    (
        0x11,
        c(Op::Vmovsh, &[K::Ux, K::Hx, K::Vx])
            .pf3()
            .w0()
            .lig()
            .reg_form(),
    ),
    (
        0x11,
        c(Op::Vmovsh, &[K::W2, K::Vx])
            .pf3()
            .w0()
            .lig()
            .mem()
            .tuple(T::T1s16, 2),
    ),
    (
        0x1d,
        fv32(c(Op::Vcvtps2phx, &[K::Vh, K::Wx])).p66().w0().er(),
    ),
    (0x1d, s4(Op::Vcvtss2sh).np().w0().er()),
    (
        0x2a,
        c(Op::Vcvtsi2sh, &[K::Vx, K::Hx, K::Ed])
            .pf3()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x2a,
        c(Op::Vcvtsi2sh, &[K::Vx, K::Hx, K::Eq])
            .pf3()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (0x2c, sh2gpr(Op::Vcvttsh2si).sae()),
    (0x2d, sh2gpr(Op::Vcvtsh2si).er()),
    (
        0x2e,
        c(Op::Vucomish, &[K::Vx, K::W2])
            .np()
            .w0()
            .lig()
            .tuple(T::T1s16, 2)
            .sae()
            .nomask(),
    ),
    (
        0x2f,
        c(Op::Vcomish, &[K::Vx, K::W2])
            .np()
            .w0()
            .lig()
            .tuple(T::T1s16, 2)
            .sae()
            .nomask(),
    ),
    (0x51, ph(vw(Op::Vsqrtph)).np().er()),
    (0x51, s2(Op::Vsqrtsh).pf3().w0().er()),
    (0x58, ph(vhw(Op::Vaddph)).np().er()),
    (0x58, s2(Op::Vaddsh).pf3().w0().er()),
    (0x59, ph(vhw(Op::Vmulph)).np().er()),
    (0x59, s2(Op::Vmulsh).pf3().w0().er()),
    (0x5a, ph_quarter(Op::Vcvtph2pd).np().sae()),
    (0x5a, fv(c(Op::Vcvtpd2ph, &[K::V16, K::Wx])).p66().w1().er()),
    (0x5a, s2(Op::Vcvtsh2sd).pf3().w0().sae()),
    (0x5a, s8(Op::Vcvtsd2sh).pf2().w1().er()),
    (0x5b, fv32(c(Op::Vcvtdq2ph, &[K::Vh, K::Wx])).np().w0().er()),
    (0x5b, fv(c(Op::Vcvtqq2ph, &[K::V16, K::Wx])).np().w1().er()),
    (0x5b, ph_half(Op::Vcvtph2dq).p66().er()),
    (0x5b, ph_half(Op::Vcvttph2dq).pf3().sae()),
    (0x5c, ph(vhw(Op::Vsubph)).np().er()),
    (0x5c, s2(Op::Vsubsh).pf3().w0().er()),
    (0x5d, ph(vhw(Op::Vminph)).np().sae()),
    (0x5d, s2(Op::Vminsh).pf3().w0().sae()),
    (0x5e, ph(vhw(Op::Vdivph)).np().er()),
    (0x5e, s2(Op::Vdivsh).pf3().w0().er()),
    (0x5f, ph(vhw(Op::Vmaxph)).np().sae()),
    (0x5f, s2(Op::Vmaxsh).pf3().w0().sae()),
    (
        0x6e,
        c(Op::Vmovw, &[K::Vx, K::Ry]).p66().l0().reg_form().nomask(),
    ),
    (
        0x6e,
        c(Op::Vmovw, &[K::Vx, K::Mw])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s16, 2)
            .nomask(),
    ),
    (0x78, ph_half(Op::Vcvttph2udq).np().sae()),
    (0x78, ph_quarter(Op::Vcvttph2uqq).p66().sae()),
    (0x78, sh2gpr(Op::Vcvttsh2usi).sae()),
    (0x79, ph_half(Op::Vcvtph2udq).np().er()),
    (0x79, ph_quarter(Op::Vcvtph2uqq).p66().er()),
    (0x79, sh2gpr(Op::Vcvtsh2usi).er()),
    (0x7a, ph_quarter(Op::Vcvttph2qq).p66().sae()),
    (
        0x7a,
        fv32(c(Op::Vcvtudq2ph, &[K::Vh, K::Wx])).pf2().w0().er(),
    ),
    (
        0x7a,
        fv(c(Op::Vcvtuqq2ph, &[K::V16, K::Wx])).pf2().w1().er(),
    ),
    (0x7b, ph_quarter(Op::Vcvtph2qq).p66().er()),
    (
        0x7b,
        c(Op::Vcvtusi2sh, &[K::Vx, K::Hx, K::Ed])
            .pf3()
            .w0()
            .w32ig()
            .lig()
            .tuple(T::T1s, 4)
            .er()
            .nomask(),
    ),
    (
        0x7b,
        c(Op::Vcvtusi2sh, &[K::Vx, K::Hx, K::Eq])
            .pf3()
            .w1()
            .lig()
            .tuple(T::T1s, 8)
            .er()
            .nomask(),
    ),
    (0x7c, ph(vw(Op::Vcvttph2uw)).np().sae()),
    (0x7c, ph(vw(Op::Vcvttph2w)).p66().sae()),
    (0x7d, ph(vw(Op::Vcvtph2uw)).np().er()),
    (0x7d, ph(vw(Op::Vcvtph2w)).p66().er()),
    (0x7d, ph(vw(Op::Vcvtuw2ph)).pf2().er()),
    (0x7d, ph(vw(Op::Vcvtw2ph)).pf3().er()),
    (
        0x7e,
        c(Op::Vmovw, &[K::Ry, K::Vx]).p66().l0().reg_form().nomask(),
    ),
    (
        0x7e,
        c(Op::Vmovw, &[K::Mw, K::Vx])
            .p66()
            .l0()
            .mem()
            .tuple(T::T1s16, 2)
            .nomask(),
    ),
];

/// FP16 fused multiply-add family (66 W0).
const fn fma_ph(op: Op) -> Cand {
    ph(vhw(op)).p66().er()
}
const fn fma_sh(op: Op) -> Cand {
    s2(op).p66().w0().er()
}

const LIST_6: &[(u8, Cand)] = &[
    (0x13, ph_half(Op::Vcvtph2psx).p66().sae()),
    (0x13, s2(Op::Vcvtsh2ss).np().w0().sae()),
    (0x2c, ph(vhw(Op::Vscalefph)).p66().er()),
    (0x2d, s2(Op::Vscalefsh).p66().w0().er()),
    (0x42, ph(vw(Op::Vgetexpph)).p66().sae()),
    (0x43, s2(Op::Vgetexpsh).p66().w0().sae()),
    (0x4c, ph(vw(Op::Vrcpph)).p66()),
    (0x4d, s2(Op::Vrcpsh).p66().w0()),
    (0x4e, ph(vw(Op::Vrsqrtph)).p66()),
    (0x4f, s2(Op::Vrsqrtsh).p66().w0()),
    (0x56, fv32(vhw(Op::Vfmaddcph)).pf3().w0().er()),
    (0x56, fv32(vhw(Op::Vfcmaddcph)).pf2().w0().er()),
    (0x57, s4(Op::Vfmaddcsh).pf3().w0().er()),
    (0x57, s4(Op::Vfcmaddcsh).pf2().w0().er()),
    (0x96, fma_ph(Op::Vfmaddsub132ph)),
    (0x97, fma_ph(Op::Vfmsubadd132ph)),
    (0x98, fma_ph(Op::Vfmadd132ph)),
    (0x99, fma_sh(Op::Vfmadd132sh)),
    (0x9a, fma_ph(Op::Vfmsub132ph)),
    (0x9b, fma_sh(Op::Vfmsub132sh)),
    (0x9c, fma_ph(Op::Vfnmadd132ph)),
    (0x9d, fma_sh(Op::Vfnmadd132sh)),
    (0x9e, fma_ph(Op::Vfnmsub132ph)),
    (0x9f, fma_sh(Op::Vfnmsub132sh)),
    (0xa6, fma_ph(Op::Vfmaddsub213ph)),
    (0xa7, fma_ph(Op::Vfmsubadd213ph)),
    (0xa8, fma_ph(Op::Vfmadd213ph)),
    (0xa9, fma_sh(Op::Vfmadd213sh)),
    (0xaa, fma_ph(Op::Vfmsub213ph)),
    (0xab, fma_sh(Op::Vfmsub213sh)),
    (0xac, fma_ph(Op::Vfnmadd213ph)),
    (0xad, fma_sh(Op::Vfnmadd213sh)),
    (0xae, fma_ph(Op::Vfnmsub213ph)),
    (0xaf, fma_sh(Op::Vfnmsub213sh)),
    (0xb6, fma_ph(Op::Vfmaddsub231ph)),
    (0xb7, fma_ph(Op::Vfmsubadd231ph)),
    (0xb8, fma_ph(Op::Vfmadd231ph)),
    (0xb9, fma_sh(Op::Vfmadd231sh)),
    (0xba, fma_ph(Op::Vfmsub231ph)),
    (0xbb, fma_sh(Op::Vfmsub231sh)),
    (0xbc, fma_ph(Op::Vfnmadd231ph)),
    (0xbd, fma_sh(Op::Vfnmadd231sh)),
    (0xbe, fma_ph(Op::Vfnmsub231ph)),
    (0xbf, fma_sh(Op::Vfnmsub231sh)),
    (0xd6, fv32(vhw(Op::Vfmulcph)).pf3().w0().er()),
    (0xd6, fv32(vhw(Op::Vfcmulcph)).pf2().w0().er()),
    (0xd7, s4(Op::Vfmulcsh).pf3().w0().er()),
    (0xd7, s4(Op::Vfcmulcsh).pf2().w0().er()),
];

op_map!(
    /// EVEX map 1 (0F).
    MAP_0F,
    LIST_0F
);
op_map!(
    /// EVEX map 2 (0F 38).
    MAP_0F38,
    LIST_0F38
);
op_map!(
    /// EVEX map 3 (0F 3A).
    MAP_0F3A,
    LIST_0F3A
);
op_map!(
    /// EVEX map 5 (FP16).
    MAP_5,
    LIST_5
);
op_map!(
    /// EVEX map 6 (FP16).
    MAP_6,
    LIST_6
);
