//! Legacy-encoded 0F 38 xx map: SSSE3, SSE4.1, SSE4.2, AES, SHA, GFNI, Key Locker, MOVBE, CRC32,
//! ADX, CET shadow-stack writes, VMX/PCID invalidations, MOVDIRI/MOVDIR64B, ENQCMD and RAO-INT.
//!
//! Implicit operands (XMM0 of PBLENDVB/BLENDVPS/BLENDVPD/SHA256RNDS2) are not listed.

use crate::decode::op::Op;
use crate::decode::table::{Cand, K, OpMap, Pfx, c, cands_of, op_map};

/// The MMX form (no prefix) `mm1, mm2/m64` of an SSSE3 operation.
const fn mmx(op: Op) -> Cand {
    c(op, &[K::Pq, K::Qq]).np()
}
/// The 66-prefixed XMM form `xmm1, xmm2/m128`.
const fn xmm(op: Op) -> Cand {
    c(op, &[K::Vx, K::Wx]).p66()
}
/// A 66-prefixed PMOVSX/PMOVZX-style `xmm1, xmm2/mN` with a narrower source.
const fn xmm_w(op: Op, src: K) -> Cand {
    c(op, &[K::Vx, src]).p66()
}

const LIST: &[(u8, Cand)] = &[
    (0x00, mmx(Op::Pshufb)),
    (0x00, xmm(Op::Pshufb)),
    (0x01, mmx(Op::Phaddw)),
    (0x01, xmm(Op::Phaddw)),
    (0x02, mmx(Op::Phaddd)),
    (0x02, xmm(Op::Phaddd)),
    (0x03, mmx(Op::Phaddsw)),
    (0x03, xmm(Op::Phaddsw)),
    (0x04, mmx(Op::Pmaddubsw)),
    (0x04, xmm(Op::Pmaddubsw)),
    (0x05, mmx(Op::Phsubw)),
    (0x05, xmm(Op::Phsubw)),
    (0x06, mmx(Op::Phsubd)),
    (0x06, xmm(Op::Phsubd)),
    (0x07, mmx(Op::Phsubsw)),
    (0x07, xmm(Op::Phsubsw)),
    (0x08, mmx(Op::Psignb)),
    (0x08, xmm(Op::Psignb)),
    (0x09, mmx(Op::Psignw)),
    (0x09, xmm(Op::Psignw)),
    (0x0a, mmx(Op::Psignd)),
    (0x0a, xmm(Op::Psignd)),
    (0x0b, mmx(Op::Pmulhrsw)),
    (0x0b, xmm(Op::Pmulhrsw)),
    (0x10, xmm(Op::Pblendvb)),
    (0x14, xmm(Op::Blendvps)),
    (0x15, xmm(Op::Blendvpd)),
    (0x17, xmm(Op::Ptest)),
    (0x1c, mmx(Op::Pabsb)),
    (0x1c, xmm(Op::Pabsb)),
    (0x1d, mmx(Op::Pabsw)),
    (0x1d, xmm(Op::Pabsw)),
    (0x1e, mmx(Op::Pabsd)),
    (0x1e, xmm(Op::Pabsd)),
    (0x20, xmm_w(Op::Pmovsxbw, K::W8)),
    (0x21, xmm_w(Op::Pmovsxbd, K::W4)),
    (0x22, xmm_w(Op::Pmovsxbq, K::W2)),
    (0x23, xmm_w(Op::Pmovsxwd, K::W8)),
    (0x24, xmm_w(Op::Pmovsxwq, K::W4)),
    (0x25, xmm_w(Op::Pmovsxdq, K::W8)),
    (0x28, xmm(Op::Pmuldq)),
    (0x29, xmm(Op::Pcmpeqq)),
    (0x2a, c(Op::Movntdqa, &[K::Vx, K::Mo]).p66()),
    (0x2b, xmm(Op::Packusdw)),
    (0x30, xmm_w(Op::Pmovzxbw, K::W8)),
    (0x31, xmm_w(Op::Pmovzxbd, K::W4)),
    (0x32, xmm_w(Op::Pmovzxbq, K::W2)),
    (0x33, xmm_w(Op::Pmovzxwd, K::W8)),
    (0x34, xmm_w(Op::Pmovzxwq, K::W4)),
    (0x35, xmm_w(Op::Pmovzxdq, K::W8)),
    (0x37, xmm(Op::Pcmpgtq)),
    (0x38, xmm(Op::Pminsb)),
    (0x39, xmm(Op::Pminsd)),
    (0x3a, xmm(Op::Pminuw)),
    (0x3b, xmm(Op::Pminud)),
    (0x3c, xmm(Op::Pmaxsb)),
    (0x3d, xmm(Op::Pmaxsd)),
    (0x3e, xmm(Op::Pmaxuw)),
    (0x3f, xmm(Op::Pmaxud)),
    (0x40, xmm(Op::Pmulld)),
    (0x41, xmm(Op::Phminposuw)),
    // INVEPT/INVVPID/INVPCID: the register is 64-bit in 64-bit mode whatever REX.W says. INVEPT and
    // INVVPID are VMX (Intel only) and, like the CET shadow-stack writes, not in real mode.
    (
        0x80,
        c(Op::Invept, &[K::Gq, K::Mo])
            .p66()
            .only64()
            .intel()
            .not_real(),
    ),
    (
        0x80,
        c(Op::Invept, &[K::Gd, K::Mo])
            .p66()
            .not64()
            .intel()
            .not_real(),
    ),
    (
        0x81,
        c(Op::Invvpid, &[K::Gq, K::Mo])
            .p66()
            .only64()
            .intel()
            .not_real(),
    ),
    (
        0x81,
        c(Op::Invvpid, &[K::Gd, K::Mo])
            .p66()
            .not64()
            .intel()
            .not_real(),
    ),
    (0x82, c(Op::Invpcid, &[K::Gq, K::Mo]).p66().only64()),
    (0x82, c(Op::Invpcid, &[K::Gd, K::Mo]).p66().not64()),
    (0xc8, c(Op::Sha1nexte, &[K::Vx, K::Wx]).np()),
    (0xc9, c(Op::Sha1msg1, &[K::Vx, K::Wx]).np()),
    (0xca, c(Op::Sha1msg2, &[K::Vx, K::Wx]).np()),
    (0xcb, c(Op::Sha256rnds2, &[K::Vx, K::Wx]).np()),
    (0xcc, c(Op::Sha256msg1, &[K::Vx, K::Wx]).np()),
    (0xcd, c(Op::Sha256msg2, &[K::Vx, K::Wx]).np()),
    (0xcf, xmm(Op::Gf2p8mulb)),
    // Key Locker: F3 0F 38 D8 /0../3 (memory handles of 384 or 512 bits).
    (0xd8, c(Op::Aesencwide128kl, &[K::M]).pf3().r(0).mem()),
    (0xd8, c(Op::Aesdecwide128kl, &[K::M]).pf3().r(1).mem()),
    (0xd8, c(Op::Aesencwide256kl, &[K::M64b]).pf3().r(2).mem()),
    (0xd8, c(Op::Aesdecwide256kl, &[K::M64b]).pf3().r(3).mem()),
    (0xdb, xmm(Op::Aesimc)),
    (0xdc, xmm(Op::Aesenc)),
    (0xdc, c(Op::Loadiwkey, &[K::V16, K::U16]).pf3().reg_form()),
    (0xdc, c(Op::Aesenc128kl, &[K::V16, K::M]).pf3().mem()),
    (0xdd, xmm(Op::Aesenclast)),
    (0xdd, c(Op::Aesdec128kl, &[K::V16, K::M]).pf3().mem()),
    (0xde, xmm(Op::Aesdec)),
    (0xde, c(Op::Aesenc256kl, &[K::V16, K::M64b]).pf3().mem()),
    (0xdf, xmm(Op::Aesdeclast)),
    (0xdf, c(Op::Aesdec256kl, &[K::V16, K::M64b]).pf3().mem()),
    // MOVBE (66 is the operand size) and CRC32 (F2; 66 is the operand size of the source).
    (0xf0, c(Op::Movbe, &[K::Gv, K::Mv]).pfx(Pfx::NoRep).mem()),
    (0xf0, c(Op::Crc32, &[K::Gy, K::Eb]).pf2()),
    (0xf1, c(Op::Movbe, &[K::Mv, K::Gv]).pfx(Pfx::NoRep).mem()),
    (0xf1, c(Op::Crc32, &[K::Gy, K::Ev]).pf2()),
    (
        0xf5,
        c(Op::Wrussd, &[K::Md, K::Gd]).p66().w0().mem().not_real(),
    ),
    (
        0xf5,
        c(Op::Wrussq, &[K::Mq, K::Gq]).p66().w1().mem().not_real(),
    ),
    (
        0xf6,
        c(Op::Wrssd, &[K::Md, K::Gd]).np().w0().mem().not_real(),
    ),
    (
        0xf6,
        c(Op::Wrssq, &[K::Mq, K::Gq]).np().w1().mem().not_real(),
    ),
    (0xf6, c(Op::Adcx, &[K::Gy, K::Ey]).p66()),
    (0xf6, c(Op::Adox, &[K::Gy, K::Ey]).pf3()),
    (0xf8, c(Op::Movdir64b, &[K::GaEs, K::M64b]).p66().mem()),
    (0xf8, c(Op::Enqcmds, &[K::GaEs, K::M64b]).pf3().mem()),
    (0xf8, c(Op::Enqcmd, &[K::GaEs, K::M64b]).pf2().mem()),
    (0xf9, c(Op::Movdiri, &[K::My, K::Gy]).np().mem()),
    (0xfa, c(Op::Encodekey128, &[K::Gd, K::Rd]).pf3().reg_form()),
    (0xfb, c(Op::Encodekey256, &[K::Gd, K::Rd]).pf3().reg_form()),
    // RAO-INT atomic operations on memory.
    (0xfc, c(Op::Aadd, &[K::My, K::Gy]).np().mem()),
    (0xfc, c(Op::Aand, &[K::My, K::Gy]).p66().mem()),
    (0xfc, c(Op::Axor, &[K::My, K::Gy]).pf3().mem()),
    (0xfc, c(Op::Aor, &[K::My, K::Gy]).pf2().mem()),
];

op_map!(
    /// The map.
    MAP,
    LIST
);
