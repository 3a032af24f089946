//! The operations the decoder knows, one per mnemonic.
//!
//! `Op` is a plain `u16` enum. Its lower-case Intel mnemonic is `Display`, and [`Op::name`] gives
//! the identifier itself (behind the `text` feature).

macro_rules! ops {
    ($($name:ident)*) => {
        /// An x86 operation (one per Intel mnemonic; VEX/EVEX forms use the `V`-prefixed names).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum Op {
            /// Not an instruction (used only inside the decoder tables).
            Invalid,
            $($name,)*
        }

        #[cfg(feature = "text")]
        const OP_NAMES: &[&str] = &["invalid", $(stringify!($name),)*];
    };
}

#[cfg(feature = "text")]
impl Op {
    /// The operation's identifier (`"Add"`, `"Vpaddd"`); `Display` prints it in lower case.
    pub fn name(self) -> &'static str {
        OP_NAMES.get(self as usize).copied().unwrap_or("invalid")
    }
}

#[cfg(feature = "text")]
impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        // Suffixes `Far` and `X` only tell apart operations that share a mnemonic.
        let name = self.name();
        let name = name
            .strip_suffix("Far")
            .or_else(|| name.strip_suffix('X'))
            .unwrap_or(name);
        for c in name.chars() {
            f.write_char(c.to_ascii_lowercase())?;
        }
        Ok(())
    }
}

ops! {
    // --- section: general purpose ---
    Aaa Aad Aam Aas Adc Adcx Add Adox And Arpl Bound Bsf Bsr Bswap Bt Btc Btr Bts
    Call CallFar Cbw Cwde Cdqe Cwd Cdq Cqo Clc Cld Cli Clts Cmc Cmova Cmovae Cmovb Cmovbe Cmove
    Cmovg Cmovge Cmovl Cmovle Cmovne Cmovno Cmovnp Cmovns Cmovo Cmovp Cmovs Cmp Cmpsb Cmpsw Cmpsd
    Cmpsq Cmpxchg Cmpxchg8b Cmpxchg16b Cpuid Crc32 Daa Das Dec Div Enter Hlt Idiv Imul In Inc
    Insb Insw Insd Int Int1 Int3 Into Invd Invlpg Iret Iretd Iretq Ja Jae Jb Jbe Jcxz Jecxz Jrcxz Je
    Jg Jge Jl Jle Jmp JmpFar Jne Jno Jnp Jns Jo Jp Js Lahf Lar Lea Leave Les Lds Lfs Lgs Lss
    Lodsb Lodsw Lodsd Lodsq Loop Loope Loopne Lsl Mov Movbe Movsb Movsw Movsd Movsq Movsx Movsxd
    Movzx Mul Neg Nop Not Or Out Outsb Outsw Outsd Pop Popa Popad Popf Popfd Popfq Push Pusha
    Pushad Pushf Pushfd Pushfq Rcl Rcr Rol Ror Ret RetFar Sahf Salc Sar Sbb Scasb Scasw Scasd Scasq
    Seta Setae Setb Setbe Sete Setg Setge Setl Setle Setne Setno Setnp Setns Seto Setp Sets Shl Shld
    Shr Shrd Stc Std Sti Stosb Stosw Stosd Stosq Sub Test Ud0 Ud1 Ud2 Wait Xadd Xchg Xlat Xor
    Popcnt Lzcnt Tzcnt Pause Sal
    // --- section: system ---
    Lgdt Sgdt Lidt Sidt Lldt Sldt Ltr Str Lmsw Smsw Verr Verw Clflush Clflushopt Clwb Lfence Mfence
    Sfence Rdtsc Rdtscp Rdmsr Wrmsr Rdpmc Sysenter Sysexit Syscall Sysret Swapgs Wbinvd Wbnoinvd
    Prefetch Prefetchw Prefetchnta Prefetcht0 Prefetcht1 Prefetcht2 Prefetchwt1 Prefetchit0
    Prefetchit1 ReservedNop Fxsave Fxrstor Fxsave64 Fxrstor64 Ldmxcsr Stmxcsr Xsave Xrstor
    Xsave64 Xrstor64 Xsaveopt Xsaveopt64 Xsavec Xsavec64 Xsaves Xsaves64 Xrstors Xrstors64 Xgetbv
    Xsetbv Monitor Mwait Monitorx Mwaitx Clac Stac Encls Enclu Enclv Vmcall Vmlaunch Vmresume
    Vmxoff Vmfunc Vmrun Vmmcall Vmload Vmsave Stgi Clgi Skinit Invlpga Invlpgb Tlbsync Rdpid Rdrand
    Rdseed Rdfsbase Rdgsbase Wrfsbase Wrgsbase Vmptrld Vmptrst Vmclear Vmxon Vmread Vmwrite Invept
    Invvpid Invpcid Getsec Rsm Clzero Rdpkru Wrpkru Ptwrite Incsspd Incsspq Rdsspd Rdsspq
    Saveprevssp Rstorssp Wrssd Wrssq Wrussd Wrussq Setssbsy Clrssbsy Endbr32 Endbr64 Umonitor
    Umwait Tpause Cldemote Movdiri Movdir64b Enqcmd Enqcmds Serialize Xsusldtrk Xresldtrk Uiret
    Testui Clui Stui Senduipi Hreset Xbegin Xabort Xend Xtest Rdpru Mcommit Pconfig Pvalidate
    Rmpadjust Rmpupdate Psmash Rmpquery Rmpread Seamcall Seamret Seamops Tdcall Encodekey128
    Encodekey256 Loadiwkey Aesenc128kl Aesdec128kl Aesenc256kl Aesdec256kl Aesencwide128kl
    Aesdecwide128kl Aesencwide256kl Aesdecwide256kl Erets Eretu Lkgs Wrmsrns Rdmsrlist Wrmsrlist
    Cmpoxadd Cmpnoxadd Cmpbxadd Cmpnbxadd Cmpzxadd Cmpnzxadd Cmpbexadd Cmpnbexadd Cmpsxadd
    Cmpnsxadd Cmppxadd Cmpnpxadd Cmplxadd Cmpnlxadd Cmplexadd Cmpnlexadd Aadd Aand Aor Axor
    Jmpe Bndmk Bndcl Bndcu Bndcn Bndmov Bndldx Bndstx Femms
    // --- section: x87 ---
    F2xm1 Fabs Fadd Faddp Fbld Fbstp Fchs Fclex Fnclex Fcmovb Fcmove Fcmovbe Fcmovu Fcmovnb Fcmovne
    Fcmovnbe Fcmovnu Fcom Fcomp Fcompp Fcomi Fcomip Fcos Fdecstp Fdiv Fdivp Fdivr Fdivrp Ffree
    Ffreep Fiadd Ficom Ficomp Fidiv Fidivr Fild Fimul Fincstp Fninit Fist Fistp Fisttp Fisub Fisubr
    Fld Fld1 Fldcw Fldenv Fldl2e Fldl2t Fldlg2 Fldln2 Fldpi Fldz Fmul Fmulp Fnop Fpatan Fprem
    Fprem1 Fptan Frndint Frstor Fnsave Fscale Fsin Fsincos Fsqrt Fst Fnstcw Fnstenv Fstp Fnstsw
    Fsub Fsubp Fsubr Fsubrp Ftst Fucom Fucomp Fucompp Fucomi Fucomip Fxam Fxch Fxtract Fyl2x
    Fyl2xp1 Fneni Fndisi Fnsetpm Frstpm Fstpnce
    // --- section: mmx, sse, sse2, sse3, ssse3, sse4, aes, sha ---
    Emms Movd Movq Packsswb Packssdw Packuswb Packusdw Paddb Paddw Paddd Paddq Paddsb Paddsw
    Paddusb Paddusw Pand Pandn Por Pxor Pcmpeqb Pcmpeqw Pcmpeqd Pcmpeqq Pcmpgtb Pcmpgtw Pcmpgtd
    Pcmpgtq Pmaddwd Pmulhw Pmullw Pmulhuw Pmuludq Psllw Pslld Psllq Psrlw Psrld Psrlq Psraw Psrad
    Psubb Psubw Psubd Psubq Psubsb Psubsw Psubusb Psubusw Punpckhbw Punpckhwd Punpckhdq Punpckhqdq
    Punpcklbw Punpcklwd Punpckldq Punpcklqdq Pavgb Pavgw Pextrw Pinsrw Pmaxsw Pmaxub Pminsw Pminub
    Pmovmskb Psadbw Pshufw Maskmovq Movntq Pshufd Pshufhw Pshuflw Pslldq Psrldq Maskmovdqu
    Addps Addpd Addss Addsd Subps Subpd Subss Subsd Mulps Mulpd Mulss Mulsd Divps Divpd Divss
    Divsd Minps Minpd Minss Minsd Maxps Maxpd Maxss Maxsd Sqrtps Sqrtpd Sqrtss Sqrtsd Rcpps Rcpss
    Rsqrtps Rsqrtss Andps Andpd Andnps Andnpd Orps Orpd Xorps Xorpd Cmpps Cmppd Cmpss CmpsdX
    Comiss Comisd Ucomiss Ucomisd Shufps Shufpd Unpcklps Unpcklpd Unpckhps Unpckhpd Movaps Movapd
    Movups Movupd Movss MovsdX Movlps Movlpd Movhps Movhpd Movhlps Movlhps Movmskps Movmskpd Movntps
    Movntpd Movnti Movntdq Movdqa Movdqu Movq2dq Movdq2q Cvtpi2ps Cvtps2pi Cvttps2pi Cvtsi2ss
    Cvtss2si Cvttss2si Cvtpi2pd Cvtpd2pi Cvttpd2pi Cvtsi2sd Cvtsd2si Cvttsd2si Cvtps2pd Cvtpd2ps
    Cvtss2sd Cvtsd2ss Cvtdq2ps Cvtps2dq Cvttps2dq Cvtdq2pd Cvtpd2dq Cvttpd2dq Addsubps Addsubpd
    Haddps Haddpd Hsubps Hsubpd Lddqu Movddup Movshdup Movsldup Pabsb Pabsw Pabsd Palignr
    Phaddw Phaddd Phaddsw Phsubw Phsubd Phsubsw Pmaddubsw Pmulhrsw Pshufb Psignb Psignw Psignd
    Blendps Blendpd Blendvps Blendvpd Pblendvb Pblendw Dpps Dppd Extractps Insertps Movntdqa
    Mpsadbw Pextrb Pextrd Pextrq Pinsrb Pinsrd Pinsrq Pmaxsb Pmaxsd Pmaxuw Pmaxud Pminsb Pminsd
    Pminuw Pminud Pmovsxbw Pmovsxbd Pmovsxbq Pmovsxwd Pmovsxwq Pmovsxdq Pmovzxbw Pmovzxbd Pmovzxbq
    Pmovzxwd Pmovzxwq Pmovzxdq Pmuldq Pmulld Ptest Roundps Roundpd Roundss Roundsd Phminposuw
    Pcmpestri Pcmpestrm Pcmpistri Pcmpistrm Aesenc Aesenclast Aesdec Aesdeclast Aesimc
    Aeskeygenassist Pclmulqdq Sha1rnds4 Sha1nexte Sha1msg1 Sha1msg2 Sha256rnds2 Sha256msg1
    Sha256msg2 Extrq Insertq Movntss Movntsd Gf2p8mulb Gf2p8affineqb Gf2p8affineinvqb
    Sha512msg1 Sha512msg2 Sha512rnds2 Sm3msg1 Sm3msg2 Sm3rnds2 Sm4key4 Sm4rnds4
    // --- section: 3dnow ---
    Pavgusb Pf2id Pf2iw Pfacc Pfadd Pfcmpeq Pfcmpge Pfcmpgt Pfmax Pfmin Pfmul Pfnacc Pfpnacc Pfrcp
    Pfrcpit1 Pfrcpit2 Pfrsqit1 Pfrsqrt Pfsub Pfsubr Pi2fd Pi2fw Pmulhrw Pswapd
    // --- section: bmi, tbm, adx and other vex-encoded general purpose ---
    Andn Bextr Blsi Blsmsk Blsr Bzhi Mulx Pdep Pext Rorx Sarx Shlx Shrx Blcfill Blci Blcic Blcmsk
    Blcs Blsfill Blsic T1mskc Tzmsk Llwpcb Slwpcb Lwpins Lwpval
    // --- section: avx, avx2, fma, f16c ---
    Vaddps Vaddpd Vaddss Vaddsd Vsubps Vsubpd Vsubss Vsubsd Vmulps Vmulpd Vmulss Vmulsd Vdivps
    Vdivpd Vdivss Vdivsd Vminps Vminpd Vminss Vminsd Vmaxps Vmaxpd Vmaxss Vmaxsd Vsqrtps Vsqrtpd
    Vsqrtss Vsqrtsd Vrcpps Vrcpss Vrsqrtps Vrsqrtss Vandps Vandpd Vandnps Vandnpd Vorps Vorpd
    Vxorps Vxorpd Vcmpps Vcmppd Vcmpss Vcmpsd Vcomiss Vcomisd Vucomiss Vucomisd Vshufps Vshufpd
    Vunpcklps Vunpcklpd Vunpckhps Vunpckhpd Vmovaps Vmovapd Vmovups Vmovupd Vmovss Vmovsd Vmovlps
    Vmovlpd Vmovhps Vmovhpd Vmovhlps Vmovlhps Vmovmskps Vmovmskpd Vmovntps Vmovntpd Vmovntdq
    Vmovntdqa Vmovdqa Vmovdqu Vmovd Vmovq Vcvtsi2ss Vcvtss2si Vcvttss2si Vcvtsi2sd Vcvtsd2si
    Vcvttsd2si Vcvtps2pd Vcvtpd2ps Vcvtss2sd Vcvtsd2ss Vcvtdq2ps Vcvtps2dq Vcvttps2dq Vcvtdq2pd
    Vcvtpd2dq Vcvttpd2dq Vaddsubps Vaddsubpd Vhaddps Vhaddpd Vhsubps Vhsubpd Vlddqu Vmovddup
    Vmovshdup Vmovsldup Vpabsb Vpabsw Vpabsd Vpalignr Vphaddw Vphaddd Vphaddsw Vphsubw Vphsubd
    Vphsubsw Vpmaddubsw Vpmulhrsw Vpshufb Vpsignb Vpsignw Vpsignd Vblendps Vblendpd Vblendvps
    Vblendvpd Vpblendvb Vpblendw Vdpps Vdppd Vextractps Vinsertps Vmpsadbw Vpextrb Vpextrw Vpextrd
    Vpextrq Vpinsrb Vpinsrw Vpinsrd Vpinsrq Vpmaxsb Vpmaxsw Vpmaxsd Vpmaxub Vpmaxuw Vpmaxud Vpminsb
    Vpminsw Vpminsd Vpminub Vpminuw Vpminud Vpmovsxbw Vpmovsxbd Vpmovsxbq Vpmovsxwd Vpmovsxwq
    Vpmovsxdq Vpmovzxbw Vpmovzxbd Vpmovzxbq Vpmovzxwd Vpmovzxwq Vpmovzxdq Vpmuldq Vpmulld Vptest
    Vroundps Vroundpd Vroundss Vroundsd Vphminposuw Vpcmpestri Vpcmpestrm Vpcmpistri Vpcmpistrm
    Vaesenc Vaesenclast Vaesdec Vaesdeclast Vaesimc Vaeskeygenassist Vpclmulqdq Vpacksswb
    Vpackssdw Vpackuswb Vpackusdw Vpaddb Vpaddw Vpaddd Vpaddq Vpaddsb Vpaddsw Vpaddusb Vpaddusw
    Vpand Vpandn Vpor Vpxor Vpcmpeqb Vpcmpeqw Vpcmpeqd Vpcmpeqq Vpcmpgtb Vpcmpgtw Vpcmpgtd
    Vpcmpgtq Vpmaddwd Vpmulhw Vpmullw Vpmulhuw Vpmuludq Vpsllw Vpslld Vpsllq Vpsrlw Vpsrld Vpsrlq
    Vpsraw Vpsrad Vpsubb Vpsubw Vpsubd Vpsubq Vpsubsb Vpsubsw Vpsubusb Vpsubusw Vpunpckhbw
    Vpunpckhwd Vpunpckhdq Vpunpckhqdq Vpunpcklbw Vpunpcklwd Vpunpckldq Vpunpcklqdq Vpavgb Vpavgw
    Vpmovmskb Vpsadbw Vpshufd Vpshufhw Vpshuflw Vpslldq Vpsrldq Vmaskmovdqu Vldmxcsr Vstmxcsr
    Vzeroupper Vzeroall Vbroadcastss Vbroadcastsd Vbroadcastf128 Vinsertf128 Vextractf128
    Vmaskmovps Vmaskmovpd Vpermilps Vpermilpd Vperm2f128 Vtestps Vtestpd Vcvtph2ps Vcvtps2ph
    Vpbroadcastb Vpbroadcastw Vpbroadcastd Vpbroadcastq Vbroadcasti128 Vinserti128 Vextracti128
    Vpmaskmovd Vpmaskmovq Vperm2i128 Vpermd Vpermps Vpermq Vpermpd Vpblendd Vpsllvd Vpsllvq
    Vpsrlvd Vpsrlvq Vpsravd Vgatherdps Vgatherdpd Vgatherqps Vgatherqpd Vpgatherdd Vpgatherdq
    Vpgatherqd Vpgatherqq Vfmadd132ps Vfmadd213ps Vfmadd231ps Vfmadd132pd Vfmadd213pd Vfmadd231pd
    Vfmadd132ss Vfmadd213ss Vfmadd231ss Vfmadd132sd Vfmadd213sd Vfmadd231sd Vfmsub132ps
    Vfmsub213ps Vfmsub231ps Vfmsub132pd Vfmsub213pd Vfmsub231pd Vfmsub132ss Vfmsub213ss
    Vfmsub231ss Vfmsub132sd Vfmsub213sd Vfmsub231sd Vfnmadd132ps Vfnmadd213ps Vfnmadd231ps
    Vfnmadd132pd Vfnmadd213pd Vfnmadd231pd Vfnmadd132ss Vfnmadd213ss Vfnmadd231ss Vfnmadd132sd
    Vfnmadd213sd Vfnmadd231sd Vfnmsub132ps Vfnmsub213ps Vfnmsub231ps Vfnmsub132pd Vfnmsub213pd
    Vfnmsub231pd Vfnmsub132ss Vfnmsub213ss Vfnmsub231ss Vfnmsub132sd Vfnmsub213sd Vfnmsub231sd
    Vfmaddsub132ps Vfmaddsub213ps Vfmaddsub231ps Vfmaddsub132pd Vfmaddsub213pd Vfmaddsub231pd
    Vfmsubadd132ps Vfmsubadd213ps Vfmsubadd231ps Vfmsubadd132pd Vfmsubadd213pd Vfmsubadd231pd
    Vgf2p8mulb Vgf2p8affineqb Vgf2p8affineinvqb Vpdpbusd Vpdpbusds Vpdpwssd Vpdpwssds
    Vpmadd52luq Vpmadd52huq Vsha512msg1 Vsha512msg2 Vsha512rnds2 Vsm3msg1 Vsm3msg2 Vsm3rnds2
    Vsm4key4 Vsm4rnds4 Vpdpbssd Vpdpbssds Vpdpbsud Vpdpbsuds Vpdpbuud Vpdpbuuds Vpdpwsud
    Vpdpwsuds Vpdpwusd Vpdpwusds Vpdpwuud Vpdpwuuds Vbcstnebf162ps Vbcstnesh2ps Vcvtneebf162ps
    Vcvtneeph2ps Vcvtneobf162ps Vcvtneoph2ps Vcvtneps2bf16
    // --- section: avx-512 ---
    Kaddb Kaddw Kaddd Kaddq Kandb Kandw Kandd Kandq Kandnb Kandnw Kandnd Kandnq Kmovb Kmovw Kmovd
    Kmovq Knotb Knotw Knotd Knotq Korb Korw Kord Korq Kortestb Kortestw Kortestd Kortestq Kshiftlb
    Kshiftlw Kshiftld Kshiftlq Kshiftrb Kshiftrw Kshiftrd Kshiftrq Ktestb Ktestw Ktestd Ktestq
    Kunpckbw Kunpckwd Kunpckdq Kxnorb Kxnorw Kxnord Kxnorq Kxorb Kxorw Kxord Kxorq
    Vmovdqa32 Vmovdqa64 Vmovdqu8 Vmovdqu16 Vmovdqu32 Vmovdqu64 Valignd Valignq Vblendmps
    Vblendmpd Vpblendmb Vpblendmw Vpblendmd Vpblendmq Vbroadcastf32x2 Vbroadcastf32x4
    Vbroadcastf64x2 Vbroadcastf32x8 Vbroadcastf64x4 Vbroadcasti32x2 Vbroadcasti32x4
    Vbroadcasti64x2 Vbroadcasti32x8 Vbroadcasti64x4 Vcompressps Vcompresspd Vpcompressd
    Vpcompressq Vpcompressb Vpcompressw Vexpandps Vexpandpd Vpexpandd Vpexpandq Vpexpandb
    Vpexpandw Vcvtpd2qq Vcvtpd2udq Vcvtpd2uqq Vcvtps2qq Vcvtps2udq Vcvtps2uqq Vcvtqq2pd Vcvtqq2ps
    Vcvtsd2usi Vcvtss2usi Vcvttpd2qq Vcvttpd2udq Vcvttpd2uqq Vcvttps2qq Vcvttps2udq Vcvttps2uqq
    Vcvttsd2usi Vcvttss2usi Vcvtudq2pd Vcvtudq2ps Vcvtuqq2pd Vcvtuqq2ps Vcvtusi2sd Vcvtusi2ss
    Vextractf32x4 Vextractf64x2 Vextractf32x8 Vextractf64x4 Vextracti32x4 Vextracti64x2
    Vextracti32x8 Vextracti64x4 Vinsertf32x4 Vinsertf64x2 Vinsertf32x8 Vinsertf64x4 Vinserti32x4
    Vinserti64x2 Vinserti32x8 Vinserti64x4 Vfixupimmps Vfixupimmpd Vfixupimmss Vfixupimmsd
    Vfpclassps Vfpclasspd Vfpclassss Vfpclasssd Vgetexpps Vgetexppd Vgetexpss Vgetexpsd Vgetmantps
    Vgetmantpd Vgetmantss Vgetmantsd Vpermb Vpermw Vpermi2b Vpermi2w Vpermi2d Vpermi2q Vpermi2ps
    Vpermi2pd Vpermt2b Vpermt2w Vpermt2d Vpermt2q Vpermt2ps Vpermt2pd Vpabsq Vpmaxsq Vpmaxuq
    Vpminsq Vpminuq Vpmullq Vpandd Vpandq Vpandnd Vpandnq Vpord Vporq Vpxord Vpxorq Vpcmpb Vpcmpub
    Vpcmpw Vpcmpuw Vpcmpd Vpcmpud Vpcmpq Vpcmpuq Vptestmb Vptestmw Vptestmd Vptestmq Vptestnmb
    Vptestnmw Vptestnmd Vptestnmq Vpmovb2m Vpmovw2m Vpmovd2m Vpmovq2m Vpmovm2b Vpmovm2w Vpmovm2d
    Vpmovm2q Vpmovdb Vpmovsdb Vpmovusdb Vpmovdw Vpmovsdw Vpmovusdw Vpmovqb Vpmovsqb Vpmovusqb
    Vpmovqw Vpmovsqw Vpmovusqw Vpmovqd Vpmovsqd Vpmovusqd Vpmovwb Vpmovswb Vpmovuswb Vprold Vprolq
    Vprolvd Vprolvq Vprord Vprorq Vprorvd Vprorvq Vpsraq Vpsravq Vpsravw Vpsllvw Vpsrlvw Vpternlogd
    Vpternlogq Vrangeps Vrangepd Vrangess Vrangesd Vrcp14ps Vrcp14pd Vrcp14ss Vrcp14sd Vrsqrt14ps
    Vrsqrt14pd Vrsqrt14ss Vrsqrt14sd Vreduceps Vreducepd Vreducess Vreducesd Vrndscaleps
    Vrndscalepd Vrndscaless Vrndscalesd Vscalefps Vscalefpd Vscalefss Vscalefsd Vscatterdps
    Vscatterdpd Vscatterqps Vscatterqpd Vpscatterdd Vpscatterdq Vpscatterqd Vpscatterqq Vshuff32x4
    Vshuff64x2 Vshufi32x4 Vshufi64x2 Vpconflictd Vpconflictq Vplzcntd Vplzcntq Vpbroadcastmb2q
    Vpbroadcastmw2d Vdbpsadbw Vpshufbitqmb Vpopcntb Vpopcntw Vpopcntd Vpopcntq Vpmultishiftqb
    Vpshldw Vpshldd Vpshldq Vpshldvw Vpshldvd Vpshldvq Vpshrdw Vpshrdd Vpshrdq Vpshrdvw Vpshrdvd
    Vpshrdvq Vp2intersectd Vp2intersectq Vcvtne2ps2bf16 Vdpbf16ps Vexp2ps Vexp2pd Vrcp28ps Vrcp28pd
    Vrcp28ss Vrcp28sd Vrsqrt28ps Vrsqrt28pd Vrsqrt28ss Vrsqrt28sd Vgatherpf0dps Vgatherpf0dpd
    Vgatherpf0qps Vgatherpf0qpd Vgatherpf1dps Vgatherpf1dpd Vgatherpf1qps Vgatherpf1qpd
    Vscatterpf0dps Vscatterpf0dpd Vscatterpf0qps Vscatterpf0qpd Vscatterpf1dps Vscatterpf1dpd
    Vscatterpf1qps Vscatterpf1qpd V4fmaddps V4fmaddss V4fnmaddps V4fnmaddss Vp4dpwssd Vp4dpwssds
    Vpermil2ps Vpermil2pd
    // --- section: avx512-fp16 ---
    Vaddph Vaddsh Vsubph Vsubsh Vmulph Vmulsh Vdivph Vdivsh Vminph Vminsh Vmaxph Vmaxsh Vsqrtph
    Vsqrtsh Vcmpph Vcmpsh Vcomish Vucomish Vmovsh Vmovw Vrcpph Vrcpsh Vrsqrtph Vrsqrtsh Vscalefph
    Vscalefsh Vgetexpph Vgetexpsh Vgetmantph Vgetmantsh Vreduceph Vreducesh Vrndscaleph
    Vrndscalesh Vfpclassph Vfpclasssh Vfcmaddcph Vfmaddcph Vfcmaddcsh Vfmaddcsh Vfcmulcph Vfmulcph
    Vfcmulcsh Vfmulcsh Vfmadd132ph Vfmadd213ph Vfmadd231ph Vfmadd132sh Vfmadd213sh Vfmadd231sh
    Vfmsub132ph Vfmsub213ph Vfmsub231ph Vfmsub132sh Vfmsub213sh Vfmsub231sh Vfnmadd132ph
    Vfnmadd213ph Vfnmadd231ph Vfnmadd132sh Vfnmadd213sh Vfnmadd231sh Vfnmsub132ph Vfnmsub213ph
    Vfnmsub231ph Vfnmsub132sh Vfnmsub213sh Vfnmsub231sh Vfmaddsub132ph Vfmaddsub213ph
    Vfmaddsub231ph Vfmsubadd132ph Vfmsubadd213ph Vfmsubadd231ph Vcvtdq2ph Vcvtpd2ph Vcvtph2dq
    Vcvtph2pd Vcvtph2psx Vcvtph2qq Vcvtph2udq Vcvtph2uqq Vcvtph2uw Vcvtph2w Vcvtps2phx Vcvtqq2ph
    Vcvtsd2sh Vcvtsh2sd Vcvtsh2si Vcvtsh2ss Vcvtsh2usi Vcvtsi2sh Vcvtss2sh Vcvttph2dq Vcvttph2qq
    Vcvttph2udq Vcvttph2uqq Vcvttph2uw Vcvttph2w Vcvttsh2si Vcvttsh2usi Vcvtudq2ph Vcvtuqq2ph
    Vcvtusi2sh Vcvtuw2ph Vcvtw2ph
    // --- section: xop ---
    Vfrczps Vfrczpd Vfrczss Vfrczsd Vpcmov Vpcomb Vpcomw Vpcomd Vpcomq Vpcomub Vpcomuw Vpcomud
    Vpcomuq Vphaddbd Vphaddbw Vphaddbq Vphaddwd Vphaddwq Vphadddq Vphaddubd Vphaddubw
    Vphaddubq Vphadduwd Vphadduwq Vphaddudq Vphsubbw Vphsubwd Vphsubdq Vpmacsdd Vpmacsdqh
    Vpmacsdql Vpmacssdd Vpmacssdqh Vpmacssdql Vpmacsswd Vpmacssww Vpmacswd Vpmacsww Vpmadcsswd
    Vpmadcswd Vpperm Vprotb Vprotw Vprotd Vprotq Vpshab Vpshaw Vpshad Vpshaq Vpshlb Vpshlw Vpshld
    Vpshlq
    // --- section: amx ---
    Ldtilecfg Sttilecfg Tileloadd Tileloaddt1 Tilestored Tilerelease Tilezero Tdpbssd Tdpbsud
    Tdpbusd Tdpbuud Tdpbf16ps Tdpfp16ps Tcmmimfp16ps Tcmmrlfp16ps
    // --- section: extra (each table file appends after its own marker) ---
    // extra: primary, x87
    Jmpabs Pushp Popp
    // extra: 0f, 3dnow
    Sysretq Sysexitq Getsecq Vmgexit Pbndkb
    // extra: 0f38, 0f3a, vex, xop
    Vfmaddps Vfmaddpd Vfmaddss Vfmaddsd Vfmaddsubps Vfmaddsubpd Vfmsubaddps Vfmsubaddpd Vfmsubps
    Vfmsubpd Vfmsubss Vfmsubsd Vfnmaddps Vfnmaddpd Vfnmaddss Vfnmaddsd Vfnmsubps Vfnmsubpd Vfnmsubss
    Vfnmsubsd
    // extra: evex
}
