//! Intel APX's REX2 prefix, decoded with `Extensions { apx: true }`.
//!
//! REX2 is `D5` and a payload byte, `M0 R4 X4 B4 W R3 X3 B3` from bit 7 down: the low nibble is a
//! REX prefix's, M0 selects the legacy map (0: one-byte, 1: 0F) of the opcode that follows at
//! once, and R4, X4, B4 give general-purpose register numbers a fifth bit (R16..R31). That
//! definition is the oracle of `rex2_is_rex_with_a_fifth_register_bit`: every REX2 instruction is
//! compared with the same instruction under the equivalent REX prefix, which the iced tests
//! check. The exceptions come from the published sources, each named where it is tested:
//!
//! - opcodes REX2 reserves (#UD): map 0 rows 70, A0 and E0, map 1 rows 30-37 and 80 (the
//!   `(!REX2)` rows of the Linux kernel's x86 opcode map); an escape (0F in map 0, 38 or 3A in
//!   map 1) or another prefix after REX2 (Intel XED reads the byte after the payload as the
//!   opcode);
//! - JMPABS, map 0 A1 with W = 0 (LLVM's and Detours' descriptions: "requires REX2.M0 = 0 and
//!   REX2.W = 0; all other REX2 payload bits are ignored"), and PUSHP/POPP, 50-5F with W = 1;
//! - R4/X4/B4 are ignored for registers that are not general-purpose, except control and debug
//!   registers, where they make the register reserved (the APX specification, as quoted in
//!   LLVM's fix for its issue 82557);
//! - REX before REX2 is #UD (XED: bad REX prefix).

use hvemu::decode::{
    DecodeError, Extensions, Instruction, Invalid, Map, Mode, Op, Operand, Prefixes, Reg, RegClass,
    Seg, Vendor, decode, decode_with,
};

const APX: Extensions = Extensions { apx: true };

fn apx(bytes: &[u8]) -> Result<Instruction, DecodeError> {
    decode_with(bytes, Mode::Long64, Vendor::Intel, APX)
}

/// The Intel-syntax text, or the error's kind and reason.
fn text(bytes: &[u8]) -> String {
    match apx(bytes) {
        Ok(i) => format!("{} {i}", i.len),
        Err(e) => format!("{}: {}", e.kind(), e.reason()),
    }
}

fn is_gpr(r: Reg) -> bool {
    matches!(
        r.class,
        RegClass::Gpr8 | RegClass::Gpr16 | RegClass::Gpr32 | RegClass::Gpr64
    )
}

/// Opcodes REX2 reserves, or that cannot follow it, in map 1 (0F) or map 0.
fn reserved(map1: bool, opcode: u8) -> bool {
    if map1 {
        matches!(opcode, 0x30..=0x37 | 0x80..=0x8f | 0x0f | 0x38 | 0x3a)
    } else {
        matches!(opcode, 0x70..=0x7f | 0xa0..=0xaf | 0xe0..=0xef | 0x0f | 0x40..=0x4f)
            || matches!(
                opcode,
                0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3
            )
    }
}

/// `tail` after the opcode: a register form, memory forms with and without SIB, with
/// displacements, and bytes enough for any immediate.
const TAILS: [[u8; 12]; 6] = [
    [0xc1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    [
        0xfa, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ],
    [0x44, 0x9d, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [0x84, 0x25, 0x10, 0x20, 0x30, 0x40, 1, 2, 3, 4, 5, 6],
    [0x1c, 0x63, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [0x0d, 0x78, 0x56, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7],
];

/// The instruction `opcode tail` in map 1 (`map1`) or 0 under REX prefix `rex`.
fn rex_form(rex: u8, map1: bool, opcode: u8, tail: &[u8]) -> Vec<u8> {
    let mut v = vec![rex];
    if map1 {
        v.push(0x0f);
    }
    v.push(opcode);
    v.extend_from_slice(tail);
    v
}

/// Where each operand's and the memory operand's register numbers come from, found by setting
/// one REX bit at a time: (register operands with REX.R, with REX.B; base with REX.B; index
/// with REX.X).
struct Fields {
    r: [bool; 4],
    b: [bool; 4],
    base: bool,
    index: bool,
}

/// (A probe that does not decode, such as DR8 under REX.R, extends no general-purpose register.)
fn fields(w: u8, map1: bool, opcode: u8, tail: &[u8]) -> Fields {
    let one = |bit: u8| {
        decode(
            &rex_form(0x40 | w | bit, map1, opcode, tail),
            Mode::Long64,
            Vendor::Intel,
        )
        .ok()
    };
    let (r, x, b) = (one(4), one(2), one(1));
    let high = |g: Option<Reg>| g.is_some_and(|g| is_gpr(g) && g.num >= 8);
    let op = |i: &Option<Instruction>, k: usize| {
        high(i.and_then(|i| match i.operands[k] {
            Operand::Reg(g) => Some(g),
            _ => None,
        }))
    };
    Fields {
        r: core::array::from_fn(|k| op(&r, k)),
        b: core::array::from_fn(|k| op(&b, k)),
        base: high(b.and_then(|i| i.mem.base)),
        index: high(x.and_then(|i| i.mem.index)),
    }
}

/// Every payload with every map-0 and map-1 opcode and six tails: the REX2 instruction is the
/// REX one with general-purpose register numbers raised by 16 where R4, X4 or B4 extends their
/// field, one byte longer in map 0 (D5 xx against REX) and as long in map 1 (D5 xx against REX
/// 0F), except as the module documentation lists.
#[test]
fn rex2_is_rex_with_a_fifth_register_bit() {
    let mut checked = [0usize; 4]; // valid, invalid alike, reserved, special
    for payload in 0..=255u8 {
        let m0 = payload & 0x80 != 0;
        let (r4, x4, b4) = (
            payload & 0x40 != 0,
            payload & 0x20 != 0,
            payload & 0x10 != 0,
        );
        let w = payload & 8;
        for opcode in 0..=255u8 {
            for tail in &TAILS {
                let mut bytes = vec![0xd5, payload, opcode];
                bytes.extend_from_slice(tail);
                let got = apx(&bytes);
                let ctx = format!("{bytes:02x?}");
                if !m0 && opcode == 0xa1 && w == 0 {
                    let i = got.unwrap_or_else(|e| panic!("{ctx}: JMPABS: {e:?}"));
                    assert_eq!(
                        (i.op, i.len, i.imm),
                        (
                            Op::Jmpabs,
                            11,
                            u64::from_le_bytes(tail[..8].try_into().unwrap())
                        ),
                        "{ctx}"
                    );
                    checked[3] += 1;
                    continue;
                }
                if reserved(m0, opcode) {
                    assert_eq!(
                        got,
                        Err(DecodeError::Invalid(Invalid::Rex2)),
                        "{ctx}: reserved under REX2"
                    );
                    checked[2] += 1;
                    continue;
                }
                let rex = rex_form(0x40 | (payload & 0x0f), m0, opcode, tail);
                let want = decode(&rex, Mode::Long64, Vendor::Intel);
                // 90 is NOP only for rAX: B4 names R16 or R24 (the REX form of that is 41 90).
                if !m0 && opcode == 0x90 && b4 {
                    let i = got.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                    let n = (payload & 1) << 3 | 16;
                    assert_eq!(i.op, Op::Xchg, "{ctx}");
                    assert!(
                        matches!(i.operands[0], Operand::Reg(g) if g.num == n),
                        "{ctx}: {i}"
                    );
                    checked[3] += 1;
                    continue;
                }
                let want = match want {
                    Err(e) => {
                        // A control or debug register with R4 is reserved; otherwise invalid alike.
                        assert!(
                            got.is_err(),
                            "{ctx}: valid, but {rex:02x?} is {e:?}: {}",
                            got.unwrap()
                        );
                        checked[1] += 1;
                        continue;
                    }
                    Ok(i) => i,
                };
                let cr_dr = want.operands.iter().any(|o| {
                    matches!(o, Operand::Reg(g) if matches!(g.class, RegClass::Cr | RegClass::Dr))
                });
                if cr_dr && r4 {
                    assert_eq!(got, Err(DecodeError::Invalid(Invalid::Register)), "{ctx}");
                    checked[3] += 1;
                    continue;
                }
                let i = got.unwrap_or_else(|e| panic!("{ctx}: {e:?}, but {rex:02x?} is {want}"));
                let f = fields(w, m0, opcode, tail);
                let mut exp = want;
                exp.len = want.len + u8::from(!m0);
                exp.prefixes = Prefixes(want.prefixes.0 & !Prefixes::REX | Prefixes::REX2);
                if !m0 && w != 0 && (0x50..=0x5f).contains(&opcode) {
                    exp.op = if opcode < 0x58 { Op::Pushp } else { Op::Popp };
                }
                for k in 0..4 {
                    if let Operand::Reg(g) = &mut exp.operands[k]
                        && is_gpr(*g)
                    {
                        g.num |= u8::from(f.r[k] && r4) << 4 | u8::from(f.b[k] && b4) << 4;
                    }
                }
                if let Some(g) = &mut exp.mem.base
                    && is_gpr(*g)
                    && f.base
                    && b4
                {
                    // SS is the default segment of RSP and RBP, not of R20 and R21.
                    g.num |= 16;
                    exp.mem.seg = exp.seg_override.unwrap_or(Seg::Ds);
                }
                if let Some(g) = &mut exp.mem.index
                    && is_gpr(*g)
                {
                    g.num |= u8::from(f.index && x4) << 4;
                }
                // The index field 100 names no index only without X3 and X4: X4 alone is R20.
                let sib = exp.operands.contains(&Operand::Mem)
                    && want.modrm & 7 == 4
                    && want.modrm < 0xc0;
                if sib && x4 && want.mem.index.is_none() {
                    exp.mem.index = Some(Reg::gpr(want.addr_size, 20));
                }
                assert_eq!(i, exp, "{ctx}: {i} against {rex:02x?} {want}");
                checked[0] += 1;
            }
        }
    }
    println!(
        "REX2: {} valid as their REX form says, {} invalid alike, {} reserved, {} special",
        checked[0], checked[1], checked[2], checked[3]
    );
    assert!(
        checked[0] > 100_000 && checked.iter().all(|&n| n > 100),
        "{checked:?}"
    );
}

/// REX2 only with the extension and only in 64-bit mode: D5 is AAD elsewhere, #UD in 64-bit
/// mode without APX.
#[test]
fn rex2_needs_apx_and_64_bit_mode() {
    for payload in 0..=255u8 {
        let bytes = [0xd5, payload, 0x89, 0xc8];
        assert_eq!(
            decode(&bytes, Mode::Long64, Vendor::Intel),
            Err(DecodeError::Invalid(Invalid::Mode))
        );
        for mode in [Mode::Prot32, Mode::Compat32, Mode::Prot16, Mode::Real] {
            let i = decode_with(&bytes, mode, Vendor::Intel, APX).expect("AAD");
            assert_eq!((i.op, i.len, i.imm), (Op::Aad, 2, u64::from(payload)));
        }
    }
    assert!(apx(&[0xd5, 0x18, 0x89, 0xc8]).is_ok());
}

/// Instructions whose decoding the sources in the module documentation state directly.
#[test]
fn rex2_vectors() {
    let cases: &[(&str, &str)] = &[
        // B4 (and W): mov r16, rcx.
        ("d51889c8", "4 mov r16,rcx"),
        // JMPABS: the payload's other bits are ignored; W = 1 is reserved; LOCK is #UD.
        ("d500a11122334455667788", "11 jmpabs 0x8877665544332211"),
        ("d577a11122334455667788", "11 jmpabs 0x8877665544332211"),
        (
            "d508a11122334455667788",
            "invalid: not allowed with the REX2 prefix",
        ),
        (
            "f0d500a11122334455667788",
            "invalid: LOCK prefix not allowed here",
        ),
        // PUSHP/POPP: W = 1 on 50-5F; B3 and B4 reach R31.
        ("d50850", "3 pushp rax"),
        ("d5195f", "3 popp r31"),
        ("d51050", "3 push r16"),
        // Reserved rows and what cannot follow REX2.
        ("d5007000", "invalid: not allowed with the REX2 prefix"),
        (
            "d580840000000000",
            "invalid: not allowed with the REX2 prefix",
        ),
        ("d5800f3800", "invalid: not allowed with the REX2 prefix"),
        ("d5000f05", "invalid: not allowed with the REX2 prefix"),
        ("d5006690", "invalid: not allowed with the REX2 prefix"),
        ("d500e6ff", "invalid: not allowed with the REX2 prefix"),
        ("d58030", "invalid: not allowed with the REX2 prefix"),
        // REX, then REX2.
        ("40d50090", "invalid: not allowed with the REX2 prefix"),
        // Legacy prefixes before REX2 stay: a mandatory 66, F3 with NOP (PAUSE).
        ("66d5c46ec0", "5 movd xmm8,eax"),
        ("f3d50090", "4 pause"),
        // X4 alone makes the index field 100 R20; X3 and X4 make it R28.
        ("d5208b0424", "5 mov eax,[rsp+r20]"),
        ("d5228b0424", "5 mov eax,[rsp+r28]"),
        ("d5118b0424", "5 mov eax,[r28]"),
        // R4, X4, B4 are ignored for vector and segment registers ...
        ("d5c010c0", "4 movups xmm0,xmm0"),
        ("d5d010c0", "4 movups xmm0,xmm0"),
        ("d5408ed8", "4 mov ds,eax"),
        // ... but not for control and debug registers, which have none beyond 15.
        ("d5c420c0", "invalid: reserved register encoding"),
        ("d5c021c0", "invalid: reserved register encoding"),
        ("d5c420c4", "invalid: reserved register encoding"),
        ("d58420c0", "4 mov rax,cr8"),
        // REX2 is a REX prefix for byte registers: SPL, not AH.
        ("d50088e0", "4 mov al,spl"),
        ("d54088e0", "4 mov al,r20b"),
        // x87 and map-1 instructions take the extended registers in their memory operands.
        ("d510d800", "4 fadd dword ptr [r16]"),
        ("d59190c0", "4 seto r24b"),
        ("d591c8", "3 bswap r24d"),
    ];
    let mut bad = Vec::new();
    for (hex, want) in cases {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let got = text(&bytes);
        if got != *want {
            bad.push(format!("{hex}: {got}, want {want}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The record says REX2, and maps the opcode.
    let i = apx(&[0xd5, 0x80, 0xb6, 0xc0]).unwrap();
    assert!(i.prefixes.has(Prefixes::REX2) && !i.prefixes.has(Prefixes::REX));
    assert_eq!((i.op, i.map), (Op::Movzx, Map::M0F));
}

/// A 64-bit guest's VMM for the emulator test: flat memory that records accesses, GPRs, and
/// XCR0 as `xcr0` (XCR0 reads counted).
struct Guest {
    xcr0: u64,
    xcr0_reads: usize,
    accesses: usize,
    gpr: [u64; 16],
}

impl hvemu::host::Host for Guest {
    fn io_port(&mut self, _: &mut hvemu::host::IoAccess) -> Result<(), hvemu::host::HostError> {
        self.accesses += 1;
        Ok(())
    }
    fn memory(&mut self, _: &mut hvemu::host::MemAccess) -> Result<(), hvemu::host::HostError> {
        self.accesses += 1;
        Ok(())
    }
    fn get_registers(
        &mut self,
        names: &[hvemu::regs::RegName],
        values: &mut [hvemu::regs::RegValue],
    ) -> Result<(), hvemu::host::HostError> {
        use hvemu::regs::{RegName, RegValue};
        for (n, v) in names.iter().zip(values.iter_mut()) {
            *v = match *n {
                RegName::XCR0 => {
                    self.xcr0_reads += 1;
                    RegValue::from_u64(self.xcr0)
                }
                RegName(g @ 0..=15) => RegValue::from_u64(self.gpr[g as usize]),
                _ => RegValue::from_u64(0),
            };
        }
        Ok(())
    }
    fn set_registers(
        &mut self,
        _: &[hvemu::regs::RegName],
        _: &[hvemu::regs::RegValue],
    ) -> Result<(), hvemu::host::HostError> {
        Ok(())
    }
    fn translate_gva_page(
        &mut self,
        gva: u64,
        _: hvemu::host::TranslateFlags,
    ) -> Result<(hvemu::host::TranslateResult, u64), hvemu::host::HostError> {
        Ok((hvemu::host::TranslateResult::Success, gva))
    }
}

/// The emulator decodes without APX, but a REX2 instruction in a guest that enabled APX
/// (XCR0 bit 19) is refused, not #UD: the guest's processor would run it. Without APX in XCR0,
/// and for bytes that are invalid either way, it is #UD, and the latter read no XCR0.
#[test]
fn emulator_refuses_rex2_in_an_apx_guest() {
    use hvemu::emulator::{
        AccessKind, Config, Emulator, Fault, InstructionBytes, MmioExit, Outcome, Refusal,
        VpContext,
    };
    let emu = Emulator::new(Config {
        vendor: Vendor::Intel,
        ..Config::default()
    });
    let cb = hvemu::host::Callbacks::<Guest>::for_host();
    let vp = VpContext::long64(0x1000, 2);
    let run = |bytes: &[u8], xcr0: u64| {
        let mut g = Guest {
            xcr0,
            xcr0_reads: 0,
            accesses: 0,
            gpr: [0; 16],
        };
        let exit = MmioExit {
            bytes: InstructionBytes::new(bytes),
            access: AccessKind::Write,
            gpa: 0xfee0_0000,
            ..MmioExit::default()
        };
        let outcome = emu.emulate_mmio(&cb, &mut g, &vp, &exit);
        (outcome, g.xcr0_reads, g.accesses)
    };
    // mov [r23],eax: REX2 with B4.
    let rex2_mov = [0xd5, 0x11, 0x89, 0x07];
    let with_apx = 0xe7 | 1 << 19;
    assert_eq!(
        run(&rex2_mov, with_apx),
        (Outcome::Refused(Refusal::Unsupported(Op::Mov)), 1, 0)
    );
    assert_eq!(run(&rex2_mov, 0xe7), (Outcome::Exception(Fault::UD), 1, 0));
    // A REX2 prefix whose opcode REX2 reserves, and PUSH ES (invalid in 64-bit mode): #UD
    // whatever XCR0, which is not read.
    for bytes in [&[0xd5, 0x00, 0xa4][..], &[0x06]] {
        assert_eq!(run(bytes, with_apx), (Outcome::Exception(Fault::UD), 0, 0));
    }
}
