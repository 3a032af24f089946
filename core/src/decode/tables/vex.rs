//! VEX-encoded maps 0F, 0F38, 0F3A: AVX, AVX2, FMA, FMA4 and VPERMIL2 (AMD), F16C, BMI1/BMI2,
//! AVX-VNNI(-INT8/INT16), AVX-IFMA, AVX-NE-CONVERT, VAES, VPCLMULQDQ, GFNI, SHA512, SM3, SM4,
//! the opmask (K*) instructions, AMX and CMPccXADD.
//!
//! W and L selectors follow the SDM's VEX.W/VEX.L columns: WIG has no W selector, LIG is `.lig()`,
//! `VEX.128` only is `.l0()` and `VEX.256` only is `.l1()`. Implicit operands (rDI of
//! VMASKMOVDQU) are not listed.

use crate::decode::op::Op;
use crate::decode::table::{Cand, K, OpMap, c, cands_of, op_map};

/// `xmm1, xmm2/m` (or ymm): Vx, Wx.
const fn vw(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx])
}
/// `xmm2/m, xmm1`: Wx, Vx.
const fn wv(op: Op) -> Cand {
    c(op, &[K::Wx, K::Vx])
}
/// `xmm1, xmm2 (vvvv), xmm3/m`: Vx, Hx, Wx.
const fn vhw(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx])
}
/// `xmm1, xmm2/m, imm8`.
const fn vwi(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx, K::Ib])
}
/// `xmm1, xmm2 (vvvv), xmm3/m, imm8`.
const fn vhwi(op: Op) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Wx, K::Ib])
}
/// Scalar `xmm1, xmm2 (vvvv), xmm3/mN` with the vector length ignored.
const fn sc(op: Op, src: K) -> Cand {
    c(op, &[K::Vx, K::Hx, src]).lig()
}
/// Scalar `xmm1, xmm2/mN` with the vector length ignored.
const fn sc2(op: Op, src: K) -> Cand {
    c(op, &[K::Vx, src]).lig()
}
/// Shift by an immediate: `xmm1 (vvvv), xmm2, imm8` (register form only, 66 0F 71..73 /r).
const fn shi(op: Op, r: u8) -> Cand {
    c(op, &[K::Hx, K::Ux, K::Ib]).p66().r(r).reg_form()
}
/// Three-operand opmask operation `k1, k2 (vvvv), k3` (VEX.L1).
const fn k3(op: Op) -> Cand {
    c(op, &[K::KG, K::KH, K::KR]).l1().reg_form()
}
/// Two-operand opmask operation `k1, k2` (VEX.L0).
const fn k2(op: Op) -> Cand {
    c(op, &[K::KG, K::KR]).l0().reg_form()
}
/// FMA (66, W0 packed single / W1 packed double).
const fn fma_p(op: Op) -> Cand {
    vhw(op).p66()
}
/// FMA scalar (66, LIG).
const fn fma_s(op: Op, src: K) -> Cand {
    sc(op, src).p66()
}
/// FMA4 (AMD), W0: `xmm1, xmm2 (vvvv), xmm3/m, xmm4 (is4)`.
const fn fma4_w0(op: Op, src: K) -> Cand {
    c(op, &[K::Vx, K::Hx, src, K::Lx]).p66().w0().amd()
}
/// FMA4 (AMD), W1: `xmm1, xmm2 (vvvv), xmm3 (is4), xmm4/m`.
const fn fma4_w1(op: Op, src: K) -> Cand {
    c(op, &[K::Vx, K::Hx, K::Lx, src]).p66().w1().amd()
}
/// BMI `r, r/m, r (vvvv)` (VEX.L0).
const fn g_e_b(op: Op) -> Cand {
    c(op, &[K::Gy, K::Ey, K::By]).l0()
}
/// BMI `r, r (vvvv), r/m` (VEX.L0).
const fn g_b_e(op: Op) -> Cand {
    c(op, &[K::Gy, K::By, K::Ey]).l0()
}
/// BMI1 group 17 `r (vvvv), r/m` (VEX.L0).
const fn b_e(op: Op, r: u8) -> Cand {
    c(op, &[K::By, K::Ey]).np().l0().r(r)
}
/// CMPccXADD `m, r, r (vvvv)` (66, VEX.L0, 64-bit mode only; W selects 32 or 64 bits).
const fn cmpxadd(op: Op) -> Cand {
    c(op, &[K::My, K::Gy, K::By]).p66().l0().only64().mem()
}
/// AMX tile operation `tmm1, tmm2, tmm3 (vvvv)` (VEX.L0.W0, 64-bit mode only).
const fn tile3(op: Op) -> Cand {
    c(op, &[K::TmmG, K::TmmR, K::TmmH])
        .l0()
        .w0()
        .only64()
        .reg_form()
}

const LIST_0F: &[(u8, Cand)] = &[
    (0x10, vw(Op::Vmovups).np()),
    (0x10, vw(Op::Vmovupd).p66()),
    (
        0x10,
        c(Op::Vmovss, &[K::Vx, K::Hx, K::Ux]).pf3().lig().reg_form(),
    ),
    (0x10, c(Op::Vmovss, &[K::Vx, K::Md]).pf3().lig().mem()),
    (
        0x10,
        c(Op::Vmovsd, &[K::Vx, K::Hx, K::Ux]).pf2().lig().reg_form(),
    ),
    (0x10, c(Op::Vmovsd, &[K::Vx, K::Mq]).pf2().lig().mem()),
    (0x11, wv(Op::Vmovups).np()),
    (0x11, wv(Op::Vmovupd).p66()),
    (
        0x11,
        c(Op::Vmovss, &[K::Ux, K::Hx, K::Vx]).pf3().lig().reg_form(),
    ),
    (0x11, c(Op::Vmovss, &[K::Md, K::Vx]).pf3().lig().mem()),
    (
        0x11,
        c(Op::Vmovsd, &[K::Ux, K::Hx, K::Vx]).pf2().lig().reg_form(),
    ),
    (0x11, c(Op::Vmovsd, &[K::Mq, K::Vx]).pf2().lig().mem()),
    (
        0x12,
        c(Op::Vmovhlps, &[K::Vx, K::Hx, K::Ux]).np().l0().reg_form(),
    ),
    (0x12, c(Op::Vmovlps, &[K::Vx, K::Hx, K::Mq]).np().l0().mem()),
    (
        0x12,
        c(Op::Vmovlpd, &[K::Vx, K::Hx, K::Mq]).p66().l0().mem(),
    ),
    (0x12, vw(Op::Vmovsldup).pf3()),
    (0x12, c(Op::Vmovddup, &[K::Vx, K::W8]).pf2().l0()),
    (0x12, vw(Op::Vmovddup).pf2().l1()),
    (0x13, c(Op::Vmovlps, &[K::Mq, K::Vx]).np().l0().mem()),
    (0x13, c(Op::Vmovlpd, &[K::Mq, K::Vx]).p66().l0().mem()),
    (0x14, vhw(Op::Vunpcklps).np()),
    (0x14, vhw(Op::Vunpcklpd).p66()),
    (0x15, vhw(Op::Vunpckhps).np()),
    (0x15, vhw(Op::Vunpckhpd).p66()),
    (
        0x16,
        c(Op::Vmovlhps, &[K::Vx, K::Hx, K::Ux]).np().l0().reg_form(),
    ),
    (0x16, c(Op::Vmovhps, &[K::Vx, K::Hx, K::Mq]).np().l0().mem()),
    (
        0x16,
        c(Op::Vmovhpd, &[K::Vx, K::Hx, K::Mq]).p66().l0().mem(),
    ),
    (0x16, vw(Op::Vmovshdup).pf3()),
    (0x17, c(Op::Vmovhps, &[K::Mq, K::Vx]).np().l0().mem()),
    (0x17, c(Op::Vmovhpd, &[K::Mq, K::Vx]).p66().l0().mem()),
    (0x28, vw(Op::Vmovaps).np()),
    (0x28, vw(Op::Vmovapd).p66()),
    (0x29, wv(Op::Vmovaps).np()),
    (0x29, wv(Op::Vmovapd).p66()),
    (0x2a, sc(Op::Vcvtsi2ss, K::Ey).pf3()),
    (0x2a, sc(Op::Vcvtsi2sd, K::Ey).pf2()),
    (0x2b, c(Op::Vmovntps, &[K::Mx, K::Vx]).np().mem()),
    (0x2b, c(Op::Vmovntpd, &[K::Mx, K::Vx]).p66().mem()),
    (0x2c, c(Op::Vcvttss2si, &[K::Gy, K::W4]).pf3().lig()),
    (0x2c, c(Op::Vcvttsd2si, &[K::Gy, K::W8]).pf2().lig()),
    (0x2d, c(Op::Vcvtss2si, &[K::Gy, K::W4]).pf3().lig()),
    (0x2d, c(Op::Vcvtsd2si, &[K::Gy, K::W8]).pf2().lig()),
    (0x2e, sc2(Op::Vucomiss, K::W4).np()),
    (0x2e, sc2(Op::Vucomisd, K::W8).p66()),
    (0x2f, sc2(Op::Vcomiss, K::W4).np()),
    (0x2f, sc2(Op::Vcomisd, K::W8).p66()),
    (0x41, k3(Op::Kandw).np().w0()),
    (0x41, k3(Op::Kandq).np().w1()),
    (0x41, k3(Op::Kandb).p66().w0()),
    (0x41, k3(Op::Kandd).p66().w1()),
    (0x42, k3(Op::Kandnw).np().w0()),
    (0x42, k3(Op::Kandnq).np().w1()),
    (0x42, k3(Op::Kandnb).p66().w0()),
    (0x42, k3(Op::Kandnd).p66().w1()),
    (0x44, k2(Op::Knotw).np().w0()),
    (0x44, k2(Op::Knotq).np().w1()),
    (0x44, k2(Op::Knotb).p66().w0()),
    (0x44, k2(Op::Knotd).p66().w1()),
    (0x45, k3(Op::Korw).np().w0()),
    (0x45, k3(Op::Korq).np().w1()),
    (0x45, k3(Op::Korb).p66().w0()),
    (0x45, k3(Op::Kord).p66().w1()),
    (0x46, k3(Op::Kxnorw).np().w0()),
    (0x46, k3(Op::Kxnorq).np().w1()),
    (0x46, k3(Op::Kxnorb).p66().w0()),
    (0x46, k3(Op::Kxnord).p66().w1()),
    (0x47, k3(Op::Kxorw).np().w0()),
    (0x47, k3(Op::Kxorq).np().w1()),
    (0x47, k3(Op::Kxorb).p66().w0()),
    (0x47, k3(Op::Kxord).p66().w1()),
    (0x4a, k3(Op::Kaddw).np().w0()),
    (0x4a, k3(Op::Kaddq).np().w1()),
    (0x4a, k3(Op::Kaddb).p66().w0()),
    (0x4a, k3(Op::Kaddd).p66().w1()),
    (0x4b, k3(Op::Kunpckwd).np().w0()),
    (0x4b, k3(Op::Kunpckdq).np().w1()),
    (0x4b, k3(Op::Kunpckbw).p66().w0()),
    (0x50, c(Op::Vmovmskps, &[K::Gy, K::Ux]).np().reg_form()),
    (0x50, c(Op::Vmovmskpd, &[K::Gy, K::Ux]).p66().reg_form()),
    (0x51, vw(Op::Vsqrtps).np()),
    (0x51, vw(Op::Vsqrtpd).p66()),
    (0x51, sc(Op::Vsqrtss, K::W4).pf3()),
    (0x51, sc(Op::Vsqrtsd, K::W8).pf2()),
    (0x52, vw(Op::Vrsqrtps).np()),
    (0x52, sc(Op::Vrsqrtss, K::W4).pf3()),
    (0x53, vw(Op::Vrcpps).np()),
    (0x53, sc(Op::Vrcpss, K::W4).pf3()),
    (0x54, vhw(Op::Vandps).np()),
    (0x54, vhw(Op::Vandpd).p66()),
    (0x55, vhw(Op::Vandnps).np()),
    (0x55, vhw(Op::Vandnpd).p66()),
    (0x56, vhw(Op::Vorps).np()),
    (0x56, vhw(Op::Vorpd).p66()),
    (0x57, vhw(Op::Vxorps).np()),
    (0x57, vhw(Op::Vxorpd).p66()),
    (0x58, vhw(Op::Vaddps).np()),
    (0x58, vhw(Op::Vaddpd).p66()),
    (0x58, sc(Op::Vaddss, K::W4).pf3()),
    (0x58, sc(Op::Vaddsd, K::W8).pf2()),
    (0x59, vhw(Op::Vmulps).np()),
    (0x59, vhw(Op::Vmulpd).p66()),
    (0x59, sc(Op::Vmulss, K::W4).pf3()),
    (0x59, sc(Op::Vmulsd, K::W8).pf2()),
    (0x5a, c(Op::Vcvtps2pd, &[K::Vx, K::Wh]).np()),
    (0x5a, c(Op::Vcvtpd2ps, &[K::Vh, K::Wx]).p66()),
    (0x5a, sc(Op::Vcvtss2sd, K::W4).pf3()),
    (0x5a, sc(Op::Vcvtsd2ss, K::W8).pf2()),
    (0x5b, vw(Op::Vcvtdq2ps).np()),
    (0x5b, vw(Op::Vcvtps2dq).p66()),
    (0x5b, vw(Op::Vcvttps2dq).pf3()),
    (0x5c, vhw(Op::Vsubps).np()),
    (0x5c, vhw(Op::Vsubpd).p66()),
    (0x5c, sc(Op::Vsubss, K::W4).pf3()),
    (0x5c, sc(Op::Vsubsd, K::W8).pf2()),
    (0x5d, vhw(Op::Vminps).np()),
    (0x5d, vhw(Op::Vminpd).p66()),
    (0x5d, sc(Op::Vminss, K::W4).pf3()),
    (0x5d, sc(Op::Vminsd, K::W8).pf2()),
    (0x5e, vhw(Op::Vdivps).np()),
    (0x5e, vhw(Op::Vdivpd).p66()),
    (0x5e, sc(Op::Vdivss, K::W4).pf3()),
    (0x5e, sc(Op::Vdivsd, K::W8).pf2()),
    (0x5f, vhw(Op::Vmaxps).np()),
    (0x5f, vhw(Op::Vmaxpd).p66()),
    (0x5f, sc(Op::Vmaxss, K::W4).pf3()),
    (0x5f, sc(Op::Vmaxsd, K::W8).pf2()),
    (0x60, vhw(Op::Vpunpcklbw).p66()),
    (0x61, vhw(Op::Vpunpcklwd).p66()),
    (0x62, vhw(Op::Vpunpckldq).p66()),
    (0x63, vhw(Op::Vpacksswb).p66()),
    (0x64, vhw(Op::Vpcmpgtb).p66()),
    (0x65, vhw(Op::Vpcmpgtw).p66()),
    (0x66, vhw(Op::Vpcmpgtd).p66()),
    (0x67, vhw(Op::Vpackuswb).p66()),
    (0x68, vhw(Op::Vpunpckhbw).p66()),
    (0x69, vhw(Op::Vpunpckhwd).p66()),
    (0x6a, vhw(Op::Vpunpckhdq).p66()),
    (0x6b, vhw(Op::Vpackssdw).p66()),
    (0x6c, vhw(Op::Vpunpcklqdq).p66()),
    (0x6d, vhw(Op::Vpunpckhqdq).p66()),
    (0x6e, c(Op::Vmovd, &[K::Vx, K::Ed]).p66().l0().w0().w32ig()),
    (0x6e, c(Op::Vmovq, &[K::Vx, K::Eq]).p66().l0().w1()),
    (0x6f, vw(Op::Vmovdqa).p66()),
    (0x6f, vw(Op::Vmovdqu).pf3()),
    (0x70, vwi(Op::Vpshufd).p66()),
    (0x70, vwi(Op::Vpshufhw).pf3()),
    (0x70, vwi(Op::Vpshuflw).pf2()),
    (0x71, shi(Op::Vpsrlw, 2)),
    (0x71, shi(Op::Vpsraw, 4)),
    (0x71, shi(Op::Vpsllw, 6)),
    (0x72, shi(Op::Vpsrld, 2)),
    (0x72, shi(Op::Vpsrad, 4)),
    (0x72, shi(Op::Vpslld, 6)),
    (0x73, shi(Op::Vpsrlq, 2)),
    (0x73, shi(Op::Vpsrldq, 3)),
    (0x73, shi(Op::Vpsllq, 6)),
    (0x73, shi(Op::Vpslldq, 7)),
    (0x74, vhw(Op::Vpcmpeqb).p66()),
    (0x75, vhw(Op::Vpcmpeqw).p66()),
    (0x76, vhw(Op::Vpcmpeqd).p66()),
    (0x77, c(Op::Vzeroupper, &[]).np().l0()),
    (0x77, c(Op::Vzeroall, &[]).np().l1()),
    (0x7c, vhw(Op::Vhaddpd).p66()),
    (0x7c, vhw(Op::Vhaddps).pf2()),
    (0x7d, vhw(Op::Vhsubpd).p66()),
    (0x7d, vhw(Op::Vhsubps).pf2()),
    (0x7e, c(Op::Vmovd, &[K::Ed, K::Vx]).p66().l0().w0().w32ig()),
    (0x7e, c(Op::Vmovq, &[K::Eq, K::Vx]).p66().l0().w1()),
    (0x7e, c(Op::Vmovq, &[K::Vx, K::W8]).pf3().l0()),
    (0x7f, wv(Op::Vmovdqa).p66()),
    (0x7f, wv(Op::Vmovdqu).pf3()),
    (0x90, c(Op::Kmovw, &[K::KG, K::KEw]).np().l0().w0()),
    (0x90, c(Op::Kmovq, &[K::KG, K::KEq]).np().l0().w1()),
    (0x90, c(Op::Kmovb, &[K::KG, K::KEb]).p66().l0().w0()),
    (0x90, c(Op::Kmovd, &[K::KG, K::KEd]).p66().l0().w1()),
    (0x91, c(Op::Kmovw, &[K::KEw, K::KG]).np().l0().w0().mem()),
    (0x91, c(Op::Kmovq, &[K::KEq, K::KG]).np().l0().w1().mem()),
    (0x91, c(Op::Kmovb, &[K::KEb, K::KG]).p66().l0().w0().mem()),
    (0x91, c(Op::Kmovd, &[K::KEd, K::KG]).p66().l0().w1().mem()),
    (
        0x92,
        c(Op::Kmovw, &[K::KG, K::Rd]).np().l0().w0().reg_form(),
    ),
    (
        0x92,
        c(Op::Kmovb, &[K::KG, K::Rd]).p66().l0().w0().reg_form(),
    ),
    (
        0x92,
        c(Op::Kmovd, &[K::KG, K::Rd])
            .pf2()
            .l0()
            .w0()
            .w32ig()
            .reg_form(),
    ),
    (
        0x92,
        c(Op::Kmovq, &[K::KG, K::Rq]).pf2().l0().w1().reg_form(),
    ),
    (
        0x93,
        c(Op::Kmovw, &[K::Gd, K::KR]).np().l0().w0().reg_form(),
    ),
    (
        0x93,
        c(Op::Kmovb, &[K::Gd, K::KR]).p66().l0().w0().reg_form(),
    ),
    (
        0x93,
        c(Op::Kmovd, &[K::Gd, K::KR])
            .pf2()
            .l0()
            .w0()
            .w32ig()
            .reg_form(),
    ),
    (
        0x93,
        c(Op::Kmovq, &[K::Gq, K::KR]).pf2().l0().w1().reg_form(),
    ),
    (0x98, k2(Op::Kortestw).np().w0()),
    (0x98, k2(Op::Kortestq).np().w1()),
    (0x98, k2(Op::Kortestb).p66().w0()),
    (0x98, k2(Op::Kortestd).p66().w1()),
    (0x99, k2(Op::Ktestw).np().w0()),
    (0x99, k2(Op::Ktestq).np().w1()),
    (0x99, k2(Op::Ktestb).p66().w0()),
    (0x99, k2(Op::Ktestd).p66().w1()),
    (0xae, c(Op::Vldmxcsr, &[K::Md]).np().l0().r(2).mem()),
    (0xae, c(Op::Vstmxcsr, &[K::Md]).np().l0().r(3).mem()),
    (0xc2, vhwi(Op::Vcmpps).np()),
    (0xc2, vhwi(Op::Vcmppd).p66()),
    (
        0xc2,
        c(Op::Vcmpss, &[K::Vx, K::Hx, K::W4, K::Ib]).pf3().lig(),
    ),
    (
        0xc2,
        c(Op::Vcmpsd, &[K::Vx, K::Hx, K::W8, K::Ib]).pf2().lig(),
    ),
    (
        0xc4,
        c(Op::Vpinsrw, &[K::Vx, K::Hx, K::Ry, K::Ib])
            .p66()
            .l0()
            .reg_form(),
    ),
    (
        0xc4,
        c(Op::Vpinsrw, &[K::Vx, K::Hx, K::Mw, K::Ib])
            .p66()
            .l0()
            .mem(),
    ),
    (
        0xc5,
        c(Op::Vpextrw, &[K::Gy, K::Ux, K::Ib]).p66().l0().reg_form(),
    ),
    (0xc6, vhwi(Op::Vshufps).np()),
    (0xc6, vhwi(Op::Vshufpd).p66()),
    (0xd0, vhw(Op::Vaddsubpd).p66()),
    (0xd0, vhw(Op::Vaddsubps).pf2()),
    (0xd1, c(Op::Vpsrlw, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xd2, c(Op::Vpsrld, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xd3, c(Op::Vpsrlq, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xd4, vhw(Op::Vpaddq).p66()),
    (0xd5, vhw(Op::Vpmullw).p66()),
    (0xd6, c(Op::Vmovq, &[K::W8, K::Vx]).p66().l0()),
    (0xd7, c(Op::Vpmovmskb, &[K::Gy, K::Ux]).p66().reg_form()),
    (0xd8, vhw(Op::Vpsubusb).p66()),
    (0xd9, vhw(Op::Vpsubusw).p66()),
    (0xda, vhw(Op::Vpminub).p66()),
    (0xdb, vhw(Op::Vpand).p66()),
    (0xdc, vhw(Op::Vpaddusb).p66()),
    (0xdd, vhw(Op::Vpaddusw).p66()),
    (0xde, vhw(Op::Vpmaxub).p66()),
    (0xdf, vhw(Op::Vpandn).p66()),
    (0xe0, vhw(Op::Vpavgb).p66()),
    (0xe1, c(Op::Vpsraw, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xe2, c(Op::Vpsrad, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xe3, vhw(Op::Vpavgw).p66()),
    (0xe4, vhw(Op::Vpmulhuw).p66()),
    (0xe5, vhw(Op::Vpmulhw).p66()),
    (0xe6, c(Op::Vcvttpd2dq, &[K::Vh, K::Wx]).p66()),
    (0xe6, c(Op::Vcvtdq2pd, &[K::Vx, K::Wh]).pf3()),
    (0xe6, c(Op::Vcvtpd2dq, &[K::Vh, K::Wx]).pf2()),
    (0xe7, c(Op::Vmovntdq, &[K::Mx, K::Vx]).p66().mem()),
    (0xe8, vhw(Op::Vpsubsb).p66()),
    (0xe9, vhw(Op::Vpsubsw).p66()),
    (0xea, vhw(Op::Vpminsw).p66()),
    (0xeb, vhw(Op::Vpor).p66()),
    (0xec, vhw(Op::Vpaddsb).p66()),
    (0xed, vhw(Op::Vpaddsw).p66()),
    (0xee, vhw(Op::Vpmaxsw).p66()),
    (0xef, vhw(Op::Vpxor).p66()),
    (0xf0, c(Op::Vlddqu, &[K::Vx, K::Mx]).pf2().mem()),
    (0xf1, c(Op::Vpsllw, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xf2, c(Op::Vpslld, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xf3, c(Op::Vpsllq, &[K::Vx, K::Hx, K::W16]).p66()),
    (0xf4, vhw(Op::Vpmuludq).p66()),
    (0xf5, vhw(Op::Vpmaddwd).p66()),
    (0xf6, vhw(Op::Vpsadbw).p66()),
    (
        0xf7,
        c(Op::Vmaskmovdqu, &[K::Vx, K::Ux]).p66().l0().reg_form(),
    ),
    (0xf8, vhw(Op::Vpsubb).p66()),
    (0xf9, vhw(Op::Vpsubw).p66()),
    (0xfa, vhw(Op::Vpsubd).p66()),
    (0xfb, vhw(Op::Vpsubq).p66()),
    (0xfc, vhw(Op::Vpaddb).p66()),
    (0xfd, vhw(Op::Vpaddw).p66()),
    (0xfe, vhw(Op::Vpaddd).p66()),
];

const LIST_0F38: &[(u8, Cand)] = &[
    (0x00, vhw(Op::Vpshufb).p66()),
    (0x01, vhw(Op::Vphaddw).p66()),
    (0x02, vhw(Op::Vphaddd).p66()),
    (0x03, vhw(Op::Vphaddsw).p66()),
    (0x04, vhw(Op::Vpmaddubsw).p66()),
    (0x05, vhw(Op::Vphsubw).p66()),
    (0x06, vhw(Op::Vphsubd).p66()),
    (0x07, vhw(Op::Vphsubsw).p66()),
    (0x08, vhw(Op::Vpsignb).p66()),
    (0x09, vhw(Op::Vpsignw).p66()),
    (0x0a, vhw(Op::Vpsignd).p66()),
    (0x0b, vhw(Op::Vpmulhrsw).p66()),
    (0x0c, vhw(Op::Vpermilps).p66().w0()),
    (0x0d, vhw(Op::Vpermilpd).p66().w0()),
    (0x0e, vw(Op::Vtestps).p66().w0()),
    (0x0f, vw(Op::Vtestpd).p66().w0()),
    (0x13, c(Op::Vcvtph2ps, &[K::Vx, K::Wh]).p66().w0()),
    (0x16, vhw(Op::Vpermps).p66().w0().l1()),
    (0x17, vw(Op::Vptest).p66()),
    (0x18, c(Op::Vbroadcastss, &[K::Vx, K::W4]).p66().w0()),
    (0x19, c(Op::Vbroadcastsd, &[K::Vx, K::W8]).p66().w0().l1()),
    (
        0x1a,
        c(Op::Vbroadcastf128, &[K::Vx, K::Mo]).p66().w0().l1().mem(),
    ),
    (0x1c, vw(Op::Vpabsb).p66()),
    (0x1d, vw(Op::Vpabsw).p66()),
    (0x1e, vw(Op::Vpabsd).p66()),
    (0x20, c(Op::Vpmovsxbw, &[K::Vx, K::Wh]).p66()),
    (0x21, c(Op::Vpmovsxbd, &[K::Vx, K::Wqr]).p66()),
    (0x22, c(Op::Vpmovsxbq, &[K::Vx, K::We]).p66()),
    (0x23, c(Op::Vpmovsxwd, &[K::Vx, K::Wh]).p66()),
    (0x24, c(Op::Vpmovsxwq, &[K::Vx, K::Wqr]).p66()),
    (0x25, c(Op::Vpmovsxdq, &[K::Vx, K::Wh]).p66()),
    (0x28, vhw(Op::Vpmuldq).p66()),
    (0x29, vhw(Op::Vpcmpeqq).p66()),
    (0x2a, c(Op::Vmovntdqa, &[K::Vx, K::Mx]).p66().mem()),
    (0x2b, vhw(Op::Vpackusdw).p66()),
    (
        0x2c,
        c(Op::Vmaskmovps, &[K::Vx, K::Hx, K::Mx]).p66().w0().mem(),
    ),
    (
        0x2d,
        c(Op::Vmaskmovpd, &[K::Vx, K::Hx, K::Mx]).p66().w0().mem(),
    ),
    (
        0x2e,
        c(Op::Vmaskmovps, &[K::Mx, K::Hx, K::Vx]).p66().w0().mem(),
    ),
    (
        0x2f,
        c(Op::Vmaskmovpd, &[K::Mx, K::Hx, K::Vx]).p66().w0().mem(),
    ),
    (0x30, c(Op::Vpmovzxbw, &[K::Vx, K::Wh]).p66()),
    (0x31, c(Op::Vpmovzxbd, &[K::Vx, K::Wqr]).p66()),
    (0x32, c(Op::Vpmovzxbq, &[K::Vx, K::We]).p66()),
    (0x33, c(Op::Vpmovzxwd, &[K::Vx, K::Wh]).p66()),
    (0x34, c(Op::Vpmovzxwq, &[K::Vx, K::Wqr]).p66()),
    (0x35, c(Op::Vpmovzxdq, &[K::Vx, K::Wh]).p66()),
    (0x36, vhw(Op::Vpermd).p66().w0().l1()),
    (0x37, vhw(Op::Vpcmpgtq).p66()),
    (0x38, vhw(Op::Vpminsb).p66()),
    (0x39, vhw(Op::Vpminsd).p66()),
    (0x3a, vhw(Op::Vpminuw).p66()),
    (0x3b, vhw(Op::Vpminud).p66()),
    (0x3c, vhw(Op::Vpmaxsb).p66()),
    (0x3d, vhw(Op::Vpmaxsd).p66()),
    (0x3e, vhw(Op::Vpmaxuw).p66()),
    (0x3f, vhw(Op::Vpmaxud).p66()),
    (0x40, vhw(Op::Vpmulld).p66()),
    (0x41, vw(Op::Vphminposuw).p66().l0()),
    (0x45, vhw(Op::Vpsrlvd).p66().w0()),
    (0x45, vhw(Op::Vpsrlvq).p66().w1()),
    (0x46, vhw(Op::Vpsravd).p66().w0()),
    (0x47, vhw(Op::Vpsllvd).p66().w0()),
    (0x47, vhw(Op::Vpsllvq).p66().w1()),
    // AMX-TILE configuration and loads/stores (the tile memory operand needs a SIB byte: rm = 4).
    (
        0x49,
        c(Op::Ldtilecfg, &[K::M64b])
            .np()
            .l0()
            .w0()
            .only64()
            .r(0)
            .mem(),
    ),
    (
        0x49,
        c(Op::Tilerelease, &[]).np().l0().w0().only64().rm(0, 0),
    ),
    (
        0x49,
        c(Op::Sttilecfg, &[K::M64b])
            .p66()
            .l0()
            .w0()
            .only64()
            .r(0)
            .mem(),
    ),
    (
        0x49,
        c(Op::Tilezero, &[K::TmmG])
            .pf2()
            .l0()
            .w0()
            .only64()
            .reg_form()
            .rm_is(0),
    ),
    (
        0x4b,
        c(Op::Tileloadd, &[K::TmmG, K::M])
            .pf2()
            .l0()
            .w0()
            .only64()
            .mem()
            .rm_is(4),
    ),
    (
        0x4b,
        c(Op::Tileloaddt1, &[K::TmmG, K::M])
            .p66()
            .l0()
            .w0()
            .only64()
            .mem()
            .rm_is(4),
    ),
    (
        0x4b,
        c(Op::Tilestored, &[K::M, K::TmmG])
            .pf3()
            .l0()
            .w0()
            .only64()
            .mem()
            .rm_is(4),
    ),
    (0x50, vhw(Op::Vpdpbuud).np().w0()),
    (0x50, vhw(Op::Vpdpbusd).p66().w0()),
    (0x50, vhw(Op::Vpdpbsud).pf3().w0()),
    (0x50, vhw(Op::Vpdpbssd).pf2().w0()),
    (0x51, vhw(Op::Vpdpbuuds).np().w0()),
    (0x51, vhw(Op::Vpdpbusds).p66().w0()),
    (0x51, vhw(Op::Vpdpbsuds).pf3().w0()),
    (0x51, vhw(Op::Vpdpbssds).pf2().w0()),
    (0x52, vhw(Op::Vpdpwssd).p66().w0()),
    (0x53, vhw(Op::Vpdpwssds).p66().w0()),
    (0x58, c(Op::Vpbroadcastd, &[K::Vx, K::W4]).p66().w0()),
    (0x59, c(Op::Vpbroadcastq, &[K::Vx, K::W8]).p66().w0()),
    (
        0x5a,
        c(Op::Vbroadcasti128, &[K::Vx, K::Mo]).p66().w0().l1().mem(),
    ),
    (0x5c, tile3(Op::Tdpbf16ps).pf3()),
    (0x5c, tile3(Op::Tdpfp16ps).pf2()),
    (0x5e, tile3(Op::Tdpbuud).np()),
    (0x5e, tile3(Op::Tdpbusd).p66()),
    (0x5e, tile3(Op::Tdpbsud).pf3()),
    (0x5e, tile3(Op::Tdpbssd).pf2()),
    (0x6c, tile3(Op::Tcmmrlfp16ps).np()),
    (0x6c, tile3(Op::Tcmmimfp16ps).p66()),
    (0x72, c(Op::Vcvtneps2bf16, &[K::Vh, K::Wx]).pf3().w0()),
    (0x78, c(Op::Vpbroadcastb, &[K::Vx, K::W1]).p66().w0()),
    (0x79, c(Op::Vpbroadcastw, &[K::Vx, K::W2]).p66().w0()),
    (
        0x8c,
        c(Op::Vpmaskmovd, &[K::Vx, K::Hx, K::Mx]).p66().w0().mem(),
    ),
    (
        0x8c,
        c(Op::Vpmaskmovq, &[K::Vx, K::Hx, K::Mx]).p66().w1().mem(),
    ),
    (
        0x8e,
        c(Op::Vpmaskmovd, &[K::Mx, K::Hx, K::Vx]).p66().w0().mem(),
    ),
    (
        0x8e,
        c(Op::Vpmaskmovq, &[K::Mx, K::Hx, K::Vx]).p66().w1().mem(),
    ),
    // Gathers: dword indices with qword elements use half-width index vectors; qword indices
    // with dword elements fill only an xmm destination.
    (
        0x90,
        c(Op::Vpgatherdd, &[K::Vx, K::Vsib, K::Hx]).p66().w0().mem(),
    ),
    (
        0x90,
        c(Op::Vpgatherdq, &[K::Vx, K::VsibH, K::Hx])
            .p66()
            .w1()
            .mem(),
    ),
    (
        0x91,
        c(Op::Vpgatherqd, &[K::V16, K::Vsib, K::H16])
            .p66()
            .w0()
            .mem(),
    ),
    (
        0x91,
        c(Op::Vpgatherqq, &[K::Vx, K::Vsib, K::Hx]).p66().w1().mem(),
    ),
    (
        0x92,
        c(Op::Vgatherdps, &[K::Vx, K::Vsib, K::Hx]).p66().w0().mem(),
    ),
    (
        0x92,
        c(Op::Vgatherdpd, &[K::Vx, K::VsibH, K::Hx])
            .p66()
            .w1()
            .mem(),
    ),
    (
        0x93,
        c(Op::Vgatherqps, &[K::V16, K::Vsib, K::H16])
            .p66()
            .w0()
            .mem(),
    ),
    (
        0x93,
        c(Op::Vgatherqpd, &[K::Vx, K::Vsib, K::Hx]).p66().w1().mem(),
    ),
    (0x96, fma_p(Op::Vfmaddsub132ps).w0()),
    (0x96, fma_p(Op::Vfmaddsub132pd).w1()),
    (0x97, fma_p(Op::Vfmsubadd132ps).w0()),
    (0x97, fma_p(Op::Vfmsubadd132pd).w1()),
    (0x98, fma_p(Op::Vfmadd132ps).w0()),
    (0x98, fma_p(Op::Vfmadd132pd).w1()),
    (0x99, fma_s(Op::Vfmadd132ss, K::W4).w0()),
    (0x99, fma_s(Op::Vfmadd132sd, K::W8).w1()),
    (0x9a, fma_p(Op::Vfmsub132ps).w0()),
    (0x9a, fma_p(Op::Vfmsub132pd).w1()),
    (0x9b, fma_s(Op::Vfmsub132ss, K::W4).w0()),
    (0x9b, fma_s(Op::Vfmsub132sd, K::W8).w1()),
    (0x9c, fma_p(Op::Vfnmadd132ps).w0()),
    (0x9c, fma_p(Op::Vfnmadd132pd).w1()),
    (0x9d, fma_s(Op::Vfnmadd132ss, K::W4).w0()),
    (0x9d, fma_s(Op::Vfnmadd132sd, K::W8).w1()),
    (0x9e, fma_p(Op::Vfnmsub132ps).w0()),
    (0x9e, fma_p(Op::Vfnmsub132pd).w1()),
    (0x9f, fma_s(Op::Vfnmsub132ss, K::W4).w0()),
    (0x9f, fma_s(Op::Vfnmsub132sd, K::W8).w1()),
    (0xa6, fma_p(Op::Vfmaddsub213ps).w0()),
    (0xa6, fma_p(Op::Vfmaddsub213pd).w1()),
    (0xa7, fma_p(Op::Vfmsubadd213ps).w0()),
    (0xa7, fma_p(Op::Vfmsubadd213pd).w1()),
    (0xa8, fma_p(Op::Vfmadd213ps).w0()),
    (0xa8, fma_p(Op::Vfmadd213pd).w1()),
    (0xa9, fma_s(Op::Vfmadd213ss, K::W4).w0()),
    (0xa9, fma_s(Op::Vfmadd213sd, K::W8).w1()),
    (0xaa, fma_p(Op::Vfmsub213ps).w0()),
    (0xaa, fma_p(Op::Vfmsub213pd).w1()),
    (0xab, fma_s(Op::Vfmsub213ss, K::W4).w0()),
    (0xab, fma_s(Op::Vfmsub213sd, K::W8).w1()),
    (0xac, fma_p(Op::Vfnmadd213ps).w0()),
    (0xac, fma_p(Op::Vfnmadd213pd).w1()),
    (0xad, fma_s(Op::Vfnmadd213ss, K::W4).w0()),
    (0xad, fma_s(Op::Vfnmadd213sd, K::W8).w1()),
    (0xae, fma_p(Op::Vfnmsub213ps).w0()),
    (0xae, fma_p(Op::Vfnmsub213pd).w1()),
    (0xaf, fma_s(Op::Vfnmsub213ss, K::W4).w0()),
    (0xaf, fma_s(Op::Vfnmsub213sd, K::W8).w1()),
    (0xb0, c(Op::Vcvtneoph2ps, &[K::Vx, K::Mx]).np().w0().mem()),
    (0xb0, c(Op::Vcvtneeph2ps, &[K::Vx, K::Mx]).p66().w0().mem()),
    (
        0xb0,
        c(Op::Vcvtneebf162ps, &[K::Vx, K::Mx]).pf3().w0().mem(),
    ),
    (
        0xb0,
        c(Op::Vcvtneobf162ps, &[K::Vx, K::Mx]).pf2().w0().mem(),
    ),
    (0xb1, c(Op::Vbcstnesh2ps, &[K::Vx, K::Mw]).p66().w0().mem()),
    (
        0xb1,
        c(Op::Vbcstnebf162ps, &[K::Vx, K::Mw]).pf3().w0().mem(),
    ),
    (0xb4, vhw(Op::Vpmadd52luq).p66().w1()),
    (0xb5, vhw(Op::Vpmadd52huq).p66().w1()),
    (0xb6, fma_p(Op::Vfmaddsub231ps).w0()),
    (0xb6, fma_p(Op::Vfmaddsub231pd).w1()),
    (0xb7, fma_p(Op::Vfmsubadd231ps).w0()),
    (0xb7, fma_p(Op::Vfmsubadd231pd).w1()),
    (0xb8, fma_p(Op::Vfmadd231ps).w0()),
    (0xb8, fma_p(Op::Vfmadd231pd).w1()),
    (0xb9, fma_s(Op::Vfmadd231ss, K::W4).w0()),
    (0xb9, fma_s(Op::Vfmadd231sd, K::W8).w1()),
    (0xba, fma_p(Op::Vfmsub231ps).w0()),
    (0xba, fma_p(Op::Vfmsub231pd).w1()),
    (0xbb, fma_s(Op::Vfmsub231ss, K::W4).w0()),
    (0xbb, fma_s(Op::Vfmsub231sd, K::W8).w1()),
    (0xbc, fma_p(Op::Vfnmadd231ps).w0()),
    (0xbc, fma_p(Op::Vfnmadd231pd).w1()),
    (0xbd, fma_s(Op::Vfnmadd231ss, K::W4).w0()),
    (0xbd, fma_s(Op::Vfnmadd231sd, K::W8).w1()),
    (0xbe, fma_p(Op::Vfnmsub231ps).w0()),
    (0xbe, fma_p(Op::Vfnmsub231pd).w1()),
    (0xbf, fma_s(Op::Vfnmsub231ss, K::W4).w0()),
    (0xbf, fma_s(Op::Vfnmsub231sd, K::W8).w1()),
    (
        0xcb,
        c(Op::Vsha512rnds2, &[K::Vx, K::Hx, K::U16])
            .pf2()
            .w0()
            .l1()
            .reg_form(),
    ),
    (
        0xcc,
        c(Op::Vsha512msg1, &[K::Vx, K::U16])
            .pf2()
            .w0()
            .l1()
            .reg_form(),
    ),
    (
        0xcd,
        c(Op::Vsha512msg2, &[K::Vx, K::Ux])
            .pf2()
            .w0()
            .l1()
            .reg_form(),
    ),
    (0xcf, vhw(Op::Vgf2p8mulb).p66().w0()),
    (0xd2, vhw(Op::Vpdpwuud).np().w0()),
    (0xd2, vhw(Op::Vpdpwusd).p66().w0()),
    (0xd2, vhw(Op::Vpdpwsud).pf3().w0()),
    (0xd3, vhw(Op::Vpdpwuuds).np().w0()),
    (0xd3, vhw(Op::Vpdpwusds).p66().w0()),
    (0xd3, vhw(Op::Vpdpwsuds).pf3().w0()),
    (0xda, vhw(Op::Vsm3msg1).np().w0().l0()),
    (0xda, vhw(Op::Vsm3msg2).p66().w0().l0()),
    (0xda, vhw(Op::Vsm4key4).pf3().w0()),
    (0xda, vhw(Op::Vsm4rnds4).pf2().w0()),
    (0xdb, vw(Op::Vaesimc).p66().l0()),
    (0xdc, vhw(Op::Vaesenc).p66()),
    (0xdd, vhw(Op::Vaesenclast).p66()),
    (0xde, vhw(Op::Vaesdec).p66()),
    (0xdf, vhw(Op::Vaesdeclast).p66()),
    (0xe0, cmpxadd(Op::Cmpoxadd)),
    (0xe1, cmpxadd(Op::Cmpnoxadd)),
    (0xe2, cmpxadd(Op::Cmpbxadd)),
    (0xe3, cmpxadd(Op::Cmpnbxadd)),
    (0xe4, cmpxadd(Op::Cmpzxadd)),
    (0xe5, cmpxadd(Op::Cmpnzxadd)),
    (0xe6, cmpxadd(Op::Cmpbexadd)),
    (0xe7, cmpxadd(Op::Cmpnbexadd)),
    (0xe8, cmpxadd(Op::Cmpsxadd)),
    (0xe9, cmpxadd(Op::Cmpnsxadd)),
    (0xea, cmpxadd(Op::Cmppxadd)),
    (0xeb, cmpxadd(Op::Cmpnpxadd)),
    (0xec, cmpxadd(Op::Cmplxadd)),
    (0xed, cmpxadd(Op::Cmpnlxadd)),
    (0xee, cmpxadd(Op::Cmplexadd)),
    (0xef, cmpxadd(Op::Cmpnlexadd)),
    (0xf2, g_b_e(Op::Andn).np()),
    (0xf3, b_e(Op::Blsr, 1)),
    (0xf3, b_e(Op::Blsmsk, 2)),
    (0xf3, b_e(Op::Blsi, 3)),
    (0xf5, g_e_b(Op::Bzhi).np()),
    (0xf5, g_b_e(Op::Pext).pf3()),
    (0xf5, g_b_e(Op::Pdep).pf2()),
    (0xf6, g_b_e(Op::Mulx).pf2()),
    (0xf7, g_e_b(Op::Bextr).np()),
    (0xf7, g_e_b(Op::Shlx).p66()),
    (0xf7, g_e_b(Op::Sarx).pf3()),
    (0xf7, g_e_b(Op::Shrx).pf2()),
];

const LIST_0F3A: &[(u8, Cand)] = &[
    // AMD processors ignore W here (measured on Zen 4).
    (0x00, vwi(Op::Vpermq).p66().w1().l1()),
    (0x00, vwi(Op::Vpermq).p66().w0().l1().amd()),
    (0x01, vwi(Op::Vpermpd).p66().w1().l1()),
    (0x01, vwi(Op::Vpermpd).p66().w0().l1().amd()),
    (0x02, vhwi(Op::Vpblendd).p66().w0()),
    (0x04, vwi(Op::Vpermilps).p66().w0()),
    (0x05, vwi(Op::Vpermilpd).p66().w0()),
    (0x06, vhwi(Op::Vperm2f128).p66().w0().l1()),
    (0x08, vwi(Op::Vroundps).p66()),
    (0x09, vwi(Op::Vroundpd).p66()),
    (
        0x0a,
        c(Op::Vroundss, &[K::Vx, K::Hx, K::W4, K::Ib]).p66().lig(),
    ),
    (
        0x0b,
        c(Op::Vroundsd, &[K::Vx, K::Hx, K::W8, K::Ib]).p66().lig(),
    ),
    (0x0c, vhwi(Op::Vblendps).p66()),
    (0x0d, vhwi(Op::Vblendpd).p66()),
    (0x0e, vhwi(Op::Vpblendw).p66()),
    (0x0f, vhwi(Op::Vpalignr).p66()),
    (
        0x14,
        c(Op::Vpextrb, &[K::Ry, K::Vx, K::Ib]).p66().l0().reg_form(),
    ),
    (
        0x14,
        c(Op::Vpextrb, &[K::Mb, K::Vx, K::Ib]).p66().l0().mem(),
    ),
    (
        0x15,
        c(Op::Vpextrw, &[K::Ry, K::Vx, K::Ib]).p66().l0().reg_form(),
    ),
    (
        0x15,
        c(Op::Vpextrw, &[K::Mw, K::Vx, K::Ib]).p66().l0().mem(),
    ),
    // W1 outside 64-bit mode: ignored on Intel processors, #UD on AMD's (measured on Zen 4).
    (0x16, c(Op::Vpextrd, &[K::Ed, K::Vx, K::Ib]).p66().l0().w0()),
    (
        0x16,
        c(Op::Vpextrd, &[K::Ed, K::Vx, K::Ib])
            .p66()
            .l0()
            .w1()
            .not64()
            .intel(),
    ),
    (
        0x16,
        c(Op::Vpextrq, &[K::Eq, K::Vx, K::Ib])
            .p66()
            .l0()
            .w1()
            .only64(),
    ),
    (
        0x17,
        c(Op::Vextractps, &[K::Ry, K::Vx, K::Ib])
            .p66()
            .l0()
            .reg_form(),
    ),
    (
        0x17,
        c(Op::Vextractps, &[K::Md, K::Vx, K::Ib]).p66().l0().mem(),
    ),
    (
        0x18,
        c(Op::Vinsertf128, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w0()
            .l1(),
    ),
    (
        0x19,
        c(Op::Vextractf128, &[K::Wh, K::Vx, K::Ib]).p66().w0().l1(),
    ),
    (0x1d, c(Op::Vcvtps2ph, &[K::Wh, K::Vx, K::Ib]).p66().w0()),
    (
        0x20,
        c(Op::Vpinsrb, &[K::Vx, K::Hx, K::Ry, K::Ib])
            .p66()
            .l0()
            .reg_form(),
    ),
    (
        0x20,
        c(Op::Vpinsrb, &[K::Vx, K::Hx, K::Mb, K::Ib])
            .p66()
            .l0()
            .mem(),
    ),
    (
        0x21,
        c(Op::Vinsertps, &[K::Vx, K::Hx, K::W4, K::Ib]).p66().l0(),
    ),
    // W1 outside 64-bit mode: ignored on Intel processors, #UD on AMD's (measured on Zen 4).
    (
        0x22,
        c(Op::Vpinsrd, &[K::Vx, K::Hx, K::Ed, K::Ib])
            .p66()
            .l0()
            .w0(),
    ),
    (
        0x22,
        c(Op::Vpinsrd, &[K::Vx, K::Hx, K::Ed, K::Ib])
            .p66()
            .l0()
            .w1()
            .not64()
            .intel(),
    ),
    (
        0x22,
        c(Op::Vpinsrq, &[K::Vx, K::Hx, K::Eq, K::Ib])
            .p66()
            .l0()
            .w1()
            .only64(),
    ),
    (
        0x30,
        c(Op::Kshiftrb, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w0()
            .reg_form(),
    ),
    (
        0x30,
        c(Op::Kshiftrw, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w1()
            .reg_form(),
    ),
    (
        0x31,
        c(Op::Kshiftrd, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w0()
            .reg_form(),
    ),
    (
        0x31,
        c(Op::Kshiftrq, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w1()
            .reg_form(),
    ),
    (
        0x32,
        c(Op::Kshiftlb, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w0()
            .reg_form(),
    ),
    (
        0x32,
        c(Op::Kshiftlw, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w1()
            .reg_form(),
    ),
    (
        0x33,
        c(Op::Kshiftld, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w0()
            .reg_form(),
    ),
    (
        0x33,
        c(Op::Kshiftlq, &[K::KG, K::KR, K::Ib])
            .p66()
            .l0()
            .w1()
            .reg_form(),
    ),
    (
        0x38,
        c(Op::Vinserti128, &[K::Vx, K::Hx, K::Wh, K::Ib])
            .p66()
            .w0()
            .l1(),
    ),
    (
        0x39,
        c(Op::Vextracti128, &[K::Wh, K::Vx, K::Ib]).p66().w0().l1(),
    ),
    (0x40, vhwi(Op::Vdpps).p66()),
    (0x41, vhwi(Op::Vdppd).p66().l0()),
    (0x42, vhwi(Op::Vmpsadbw).p66()),
    (0x44, vhwi(Op::Vpclmulqdq).p66()),
    (0x46, vhwi(Op::Vperm2i128).p66().w0().l1()),
    // VPERMIL2PS/PD (AMD XOP-era): the is4 byte also holds the 2-bit match control.
    (
        0x48,
        c(Op::Vpermil2ps, &[K::Vx, K::Hx, K::Wx, K::Lx])
            .p66()
            .w0()
            .amd(),
    ),
    (
        0x48,
        c(Op::Vpermil2ps, &[K::Vx, K::Hx, K::Lx, K::Wx])
            .p66()
            .w1()
            .amd(),
    ),
    (
        0x49,
        c(Op::Vpermil2pd, &[K::Vx, K::Hx, K::Wx, K::Lx])
            .p66()
            .w0()
            .amd(),
    ),
    (
        0x49,
        c(Op::Vpermil2pd, &[K::Vx, K::Hx, K::Lx, K::Wx])
            .p66()
            .w1()
            .amd(),
    ),
    (
        0x4a,
        c(Op::Vblendvps, &[K::Vx, K::Hx, K::Wx, K::Lx]).p66().w0(),
    ),
    (
        0x4b,
        c(Op::Vblendvpd, &[K::Vx, K::Hx, K::Wx, K::Lx]).p66().w0(),
    ),
    (
        0x4c,
        c(Op::Vpblendvb, &[K::Vx, K::Hx, K::Wx, K::Lx]).p66().w0(),
    ),
    (0x5c, fma4_w0(Op::Vfmaddsubps, K::Wx)),
    (0x5c, fma4_w1(Op::Vfmaddsubps, K::Wx)),
    (0x5d, fma4_w0(Op::Vfmaddsubpd, K::Wx)),
    (0x5d, fma4_w1(Op::Vfmaddsubpd, K::Wx)),
    (0x5e, fma4_w0(Op::Vfmsubaddps, K::Wx)),
    (0x5e, fma4_w1(Op::Vfmsubaddps, K::Wx)),
    (0x5f, fma4_w0(Op::Vfmsubaddpd, K::Wx)),
    (0x5f, fma4_w1(Op::Vfmsubaddpd, K::Wx)),
    (0x60, vwi(Op::Vpcmpestrm).p66().l0()),
    (0x61, vwi(Op::Vpcmpestri).p66().l0()),
    (0x62, vwi(Op::Vpcmpistrm).p66().l0()),
    (0x63, vwi(Op::Vpcmpistri).p66().l0()),
    (0x68, fma4_w0(Op::Vfmaddps, K::Wx)),
    (0x68, fma4_w1(Op::Vfmaddps, K::Wx)),
    (0x69, fma4_w0(Op::Vfmaddpd, K::Wx)),
    (0x69, fma4_w1(Op::Vfmaddpd, K::Wx)),
    (0x6a, fma4_w0(Op::Vfmaddss, K::W4).lig()),
    (0x6a, fma4_w1(Op::Vfmaddss, K::W4).lig()),
    (0x6b, fma4_w0(Op::Vfmaddsd, K::W8).lig()),
    (0x6b, fma4_w1(Op::Vfmaddsd, K::W8).lig()),
    (0x6c, fma4_w0(Op::Vfmsubps, K::Wx)),
    (0x6c, fma4_w1(Op::Vfmsubps, K::Wx)),
    (0x6d, fma4_w0(Op::Vfmsubpd, K::Wx)),
    (0x6d, fma4_w1(Op::Vfmsubpd, K::Wx)),
    (0x6e, fma4_w0(Op::Vfmsubss, K::W4).lig()),
    (0x6e, fma4_w1(Op::Vfmsubss, K::W4).lig()),
    (0x6f, fma4_w0(Op::Vfmsubsd, K::W8).lig()),
    (0x6f, fma4_w1(Op::Vfmsubsd, K::W8).lig()),
    (0x78, fma4_w0(Op::Vfnmaddps, K::Wx)),
    (0x78, fma4_w1(Op::Vfnmaddps, K::Wx)),
    (0x79, fma4_w0(Op::Vfnmaddpd, K::Wx)),
    (0x79, fma4_w1(Op::Vfnmaddpd, K::Wx)),
    (0x7a, fma4_w0(Op::Vfnmaddss, K::W4).lig()),
    (0x7a, fma4_w1(Op::Vfnmaddss, K::W4).lig()),
    (0x7b, fma4_w0(Op::Vfnmaddsd, K::W8).lig()),
    (0x7b, fma4_w1(Op::Vfnmaddsd, K::W8).lig()),
    (0x7c, fma4_w0(Op::Vfnmsubps, K::Wx)),
    (0x7c, fma4_w1(Op::Vfnmsubps, K::Wx)),
    (0x7d, fma4_w0(Op::Vfnmsubpd, K::Wx)),
    (0x7d, fma4_w1(Op::Vfnmsubpd, K::Wx)),
    (0x7e, fma4_w0(Op::Vfnmsubss, K::W4).lig()),
    (0x7e, fma4_w1(Op::Vfnmsubss, K::W4).lig()),
    (0x7f, fma4_w0(Op::Vfnmsubsd, K::W8).lig()),
    (0x7f, fma4_w1(Op::Vfnmsubsd, K::W8).lig()),
    (0xce, vhwi(Op::Vgf2p8affineqb).p66().w1()),
    (0xcf, vhwi(Op::Vgf2p8affineinvqb).p66().w1()),
    (0xde, vhwi(Op::Vsm3rnds2).p66().w0().l0()),
    (0xdf, vwi(Op::Vaeskeygenassist).p66().l0()),
    (0xf0, c(Op::Rorx, &[K::Gy, K::Ey, K::Ib]).pf2().l0()),
];

op_map!(
    /// VEX map 1 (0F).
    MAP_0F,
    LIST_0F
);
op_map!(
    /// VEX map 2 (0F 38).
    MAP_0F38,
    LIST_0F38
);
op_map!(
    /// VEX map 3 (0F 3A).
    MAP_0F3A,
    LIST_0F3A
);
