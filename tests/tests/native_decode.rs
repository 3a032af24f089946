//! The decoder against the processor it runs on: instruction length and #UD, by execution.
//!
//! iced is an independent decoder; the processor is the authority. For random instruction-like
//! strings (the generator of `iced_random`) in 64-bit and compatibility mode, the processor's
//! verdict comes from [`Native::run_at_edge`]: the string's first k bytes are placed to end at a
//! page that is not present, for k = 1, 2, ... A proper prefix of an instruction faults on the
//! fetch of that page at the instruction's start; the first k that does not is the processor's
//! length, and what the instruction then does is its verdict: #UD, or anything else (it ran, or
//! raised a fault of its own: the encoding is valid). Fifteen bytes that still fault with #GP
//! at the start are longer than the limit. hvemu decodes the string for the host's vendor, and:
//!
//! - where the processor runs the instruction, hvemu must decode it with the same length;
//! - where the processor raises #UD, hvemu must report it invalid, or the disagreement falls in
//!   a named class: the host lacks the instruction's extension (iced names the extension, CPUID
//!   says the host lacks it), or the instruction raises #UD at CPL 3 however it is encoded
//!   (UD0/UD1/UD2, RSM outside SMM, STAC/CLAC, MONITOR/MWAIT, CET shadow-stack instructions
//!   in a process without a shadow stack, AMX tile operations before the tiles are
//!   configured). Under KVM on AMD, VMCALL runs whatever the decoder says (the host emulates
//!   its #UD); a disagreement there is named as such. The length of an instruction that raises
//!   #UD is not compared: nothing but this experiment can see it, and processors differ (UD1
//!   raises #UD on AMD before fetching its ModRM byte);
//! - where the processor finds the instruction longer than 15 bytes (#GP), hvemu must report
//!   [`DecodeError::TooLong`], even for an encoding that would also be invalid: the processor
//!   raises #GP first.
//!
//! Anything else fails the test, with examples. `HVEMU_CPU_CASES` sets the count per mode
//! (default 200,000; about fifteen seconds in all). A second test does the same for every
//! instruction of iced's 32- and 64-bit test vectors (about 40,000 encodings of every form).
//! Every class is tallied on stdout (`--nocapture`).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use common::{bitness, iced_decode, iced_options, prefix_end};
use core::arch::x86_64::{__cpuid, __cpuid_count};
use hvemu::decode::{DecodeError, Encoding, Mode, Op, Vendor, decode};
use hvemu_tests::native::{self, EDGE, Native, Outcome, State};
use hvemu_tests::native_case::{decode_mode, host_vendor};
use hvemu_tests::randgen::{Rng, random_insn};
use hvemu_tests::{parse_hex, shared_dir};
use iced_x86::{Code, CpuidFeature, EncodingKind};
use std::collections::BTreeMap;

/// What the processor did with the instruction at the start of a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// It ran, or raised an exception other than #UD: `len` bytes.
    Runs { len: usize },
    /// #UD after fetching `len` bytes.
    Ud { len: usize },
    /// #GP with all fifteen bytes: longer than the limit.
    TooLong,
    /// The harness will not run it (it would enter the kernel).
    Refused,
}

fn verdict(h: &mut Native, mode: native::Mode, bytes: &[u8; 15], input: &State) -> Verdict {
    for k in 1..=15 {
        let out = match h.run_at_edge(mode, &bytes[..k], input) {
            Ok(out) => out,
            Err(native::Error::Refused(_)) => return Verdict::Refused,
            Err(e) => panic!("{mode:?} {:02x?}: {e}", &bytes[..k]),
        };
        if out.wants_more_bytes(k) {
            continue;
        }
        return match out.outcome {
            Outcome::Exception(e) if e.vector == 6 => Verdict::Ud { len: k },
            Outcome::Exception(e) if k == 15 && e.vector == 13 && out.rip == EDGE - 15 => {
                Verdict::TooLong
            }
            _ => Verdict::Runs { len: k },
        };
    }
    panic!("{mode:?} {bytes:02x?}: fifteen bytes still fault on the next fetch");
}

/// CPUID bit `bit` of register `reg` (0 EAX .. 3 EDX) of `leaf`.`sub`, false beyond the
/// highest leaf.
fn cpuid_bit(leaf: u32, sub: u32, reg: usize, bit: u32) -> bool {
    // Leaf 0 and leaf 0x8000_0000 give the highest leaf of their range.
    let max = __cpuid(leaf & 0x8000_0000).eax;
    if leaf > max {
        return false;
    }
    let r = __cpuid_count(leaf, sub);
    [r.eax, r.ebx, r.ecx, r.edx][reg] >> bit & 1 != 0
}

/// Whether the host has extension `f` (CPUID), or None for an extension this table does not
/// know (a disagreement that needs it fails the test until it is added).
fn host_has(f: CpuidFeature) -> Option<bool> {
    use CpuidFeature as F;
    const EAX: usize = 0;
    const EBX: usize = 1;
    const ECX: usize = 2;
    const EDX: usize = 3;
    let kl = || cpuid_bit(7, 0, ECX, 23);
    Some(match f {
        F::D3NOW => cpuid_bit(0x8000_0001, 0, EDX, 31),
        F::D3NOWEXT => cpuid_bit(0x8000_0001, 0, EDX, 30),
        F::XOP => cpuid_bit(0x8000_0001, 0, ECX, 11),
        F::FMA4 => cpuid_bit(0x8000_0001, 0, ECX, 16),
        F::TBM => cpuid_bit(0x8000_0001, 0, ECX, 21),
        F::SSE4A => cpuid_bit(0x8000_0001, 0, ECX, 6),
        // RDPKRU and WRPKRU need the OS to enable protection keys (OSPKE), not only PKU.
        F::PKU => cpuid_bit(7, 0, ECX, 4),
        F::RDPRU => cpuid_bit(0x8000_0008, 0, EBX, 4),
        F::RTM => cpuid_bit(7, 0, EBX, 11),
        F::HLE_or_RTM => cpuid_bit(7, 0, EBX, 4) || cpuid_bit(7, 0, EBX, 11),
        F::TSE => cpuid_bit(7, 1, EBX, 1),
        F::AVX512PF => cpuid_bit(7, 0, EBX, 26),
        F::AVX512ER => cpuid_bit(7, 0, EBX, 27),
        F::WAITPKG => cpuid_bit(7, 0, ECX, 5),
        F::KL => kl(),
        F::MOVDIRI => cpuid_bit(7, 0, ECX, 27),
        F::MOVDIR64B => cpuid_bit(7, 0, ECX, 28),
        F::ENQCMD => cpuid_bit(7, 0, ECX, 29),
        F::AVX512_4VNNIW => cpuid_bit(7, 0, EDX, 2),
        F::AVX512_4FMAPS => cpuid_bit(7, 0, EDX, 3),
        F::UINTR => cpuid_bit(7, 0, EDX, 5),
        F::AVX512_VP2INTERSECT => cpuid_bit(7, 0, EDX, 8),
        F::SERIALIZE => cpuid_bit(7, 0, EDX, 14),
        F::TSXLDTRK => cpuid_bit(7, 0, EDX, 16),
        F::PCONFIG => cpuid_bit(7, 0, EDX, 18),
        F::AMX_BF16 => cpuid_bit(7, 0, EDX, 22),
        F::AVX512_FP16 => cpuid_bit(7, 0, EDX, 23),
        F::AMX_TILE => cpuid_bit(7, 0, EDX, 24),
        F::AMX_INT8 => cpuid_bit(7, 0, EDX, 25),
        F::SHA512 => cpuid_bit(7, 1, EAX, 0),
        F::SM3 => cpuid_bit(7, 1, EAX, 1),
        F::SM4 => cpuid_bit(7, 1, EAX, 2),
        F::RAO_INT => cpuid_bit(7, 1, EAX, 3),
        F::AVX_VNNI => cpuid_bit(7, 1, EAX, 4),
        F::AVX512_BF16 => cpuid_bit(7, 1, EAX, 5),
        F::CMPCCXADD => cpuid_bit(7, 1, EAX, 7),
        F::FRED => cpuid_bit(7, 1, EAX, 17),
        F::LKGS => cpuid_bit(7, 1, EAX, 18),
        F::AMX_FP16 => cpuid_bit(7, 1, EAX, 21),
        F::HRESET => cpuid_bit(7, 1, EAX, 22),
        F::AVX_IFMA => cpuid_bit(7, 1, EAX, 23),
        F::MSRLIST => cpuid_bit(7, 1, EAX, 27),
        F::WRMSRNS => cpuid_bit(7, 1, EAX, 19),
        F::AVX_VNNI_INT8 => cpuid_bit(7, 1, EDX, 4),
        F::AVX_NE_CONVERT => cpuid_bit(7, 1, EDX, 5),
        F::AMX_COMPLEX => cpuid_bit(7, 1, EDX, 8),
        F::AVX_VNNI_INT16 => cpuid_bit(7, 1, EDX, 10),
        F::PREFETCHITI => cpuid_bit(7, 1, EDX, 14),
        F::AESKLE => kl() && cpuid_bit(0x19, 0, EBX, 0),
        F::WIDE_KL => kl() && cpuid_bit(0x19, 0, EBX, 2),
        F::PTWRITE => cpuid_bit(0x14, 0, EBX, 4),
        F::SGX1 => cpuid_bit(7, 0, EBX, 2),
        // ENCLV's leaves (oversubscription): SGX, then CPUID leaf 0x12.
        F::OSS => cpuid_bit(7, 0, EBX, 2) && cpuid_bit(0x12, 0, EAX, 5),
        F::VMX => cpuid_bit(1, 0, ECX, 5),
        F::SMX => cpuid_bit(1, 0, ECX, 6),
        F::SVM => cpuid_bit(0x8000_0001, 0, ECX, 2),
        F::MPX => cpuid_bit(7, 0, EBX, 14),
        F::PREFETCHWT1 => cpuid_bit(7, 0, ECX, 0),
        F::CLDEMOTE => cpuid_bit(7, 0, ECX, 25),
        F::LWP => cpuid_bit(0x8000_0001, 0, ECX, 15),
        F::MCOMMIT => cpuid_bit(0x8000_0008, 0, EBX, 8),
        F::INVLPGB => cpuid_bit(0x8000_0008, 0, EBX, 3),
        F::SKINIT => cpuid_bit(0x8000_0001, 0, ECX, 12),
        F::SEV_ES => cpuid_bit(0x8000_001f, 0, EAX, 3),
        F::SEV_SNP => cpuid_bit(0x8000_001f, 0, EAX, 4),
        F::RMPQUERY => cpuid_bit(0x8000_001f, 0, EAX, 6),
        _ => return None,
    })
}

/// Whether this process runs with a CET shadow stack (`/proc/self/status`, Linux 6.6 and later;
/// without the line, none).
fn has_shadow_stack() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("x86_Thread_features:") && l.contains("shstk"))
    })
}

/// Operations that raise #UD at CPL 3 however they are encoded.
fn ud_at_cpl3(op: Op, shadow_stack: bool) -> bool {
    use Op::*;
    match op {
        Ud0 | Ud1 | Ud2 | Rsm | Stac | Clac | Monitor | Mwait => true,
        // AMX tile operations: the harness never configures the tiles (LDTILECFG).
        Tdpbf16ps | Tdpbssd | Tdpbsud | Tdpbusd | Tdpbuud | Tdpfp16ps | Tcmmimfp16ps
        | Tcmmrlfp16ps | Tilezero | Tileloadd | Tileloaddt1 | Tilestored => true,
        Wrssd | Wrssq | Wrussd | Wrussq | Clrssbsy | Rstorssp | Saveprevssp | Setssbsy
        | Incsspd | Incsspq => !shadow_stack,
        _ => false,
    }
}

/// The extensions (CPUID features) an instruction needs, as iced knows them: from iced's
/// decode of the same bytes, or where iced rejects the encoding (a form AMD processors accept
/// and Intel's do not), those every iced instruction of the same mnemonic and encoding needs.
fn extensions(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ours: &hvemu::decode::Instruction,
) -> Vec<CpuidFeature> {
    let iced = iced_decode(bytes, bitness(mode), 0, iced_options(vendor));
    if iced.valid() {
        return iced.insn.cpuid_features().to_vec();
    }
    let name = format!("{:?}", ours.op);
    let encoding = match ours.encoding {
        Encoding::Legacy => EncodingKind::Legacy,
        Encoding::Vex => EncodingKind::VEX,
        Encoding::Evex => EncodingKind::EVEX,
        Encoding::Xop => EncodingKind::XOP,
        Encoding::Now3d => EncodingKind::D3NOW,
    };
    let mut common: Option<Vec<CpuidFeature>> = None;
    for code in Code::values() {
        if code.encoding() == encoding && format!("{:?}", code.mnemonic()) == name {
            let f = code.cpuid_features();
            common = Some(match common {
                None => f.to_vec(),
                Some(c) => c.into_iter().filter(|x| f.contains(x)).collect(),
            });
        }
    }
    common.unwrap_or_default()
}

/// Whether the instruction is VMCALL or VMMCALL (0F 01 C1 or 0F 01 D9 after legacy prefixes and
/// REX): each vendor's processors raise #UD for the other's, and a KVM host emulates that #UD
/// as its own hypercall, so under KVM they run whatever the decoder says.
fn vmcall(bytes: &[u8; 15], mode: Mode) -> bool {
    let start = prefix_end(bytes, mode);
    matches!(bytes.get(start..start + 3), Some([0x0f, 0x01, 0xc1 | 0xd9]))
}

/// The class of one comparison ("agree" or the name of a disagreement).
fn classify(
    bytes: &[u8; 15],
    mode: Mode,
    vendor: Vendor,
    ours: &Result<hvemu::decode::Instruction, DecodeError>,
    cpu: Verdict,
    shadow_stack: bool,
) -> String {
    match (ours, cpu) {
        (_, Verdict::Refused) => "refused".into(),
        (Ok(i), Verdict::Runs { len }) if i.len as usize == len => "agree".into(),
        (Ok(i), Verdict::Runs { .. }) => format!("length: {:?}", i.op),
        (Err(DecodeError::Invalid(_)), Verdict::Ud { .. }) => "agree".into(),
        (Err(DecodeError::TooLong), Verdict::TooLong) => "agree".into(),
        // Fifteen bytes that raise #GP may also be a valid 15-byte instruction whose operand
        // raises it (a misaligned MOVNTDQ): both readings agree with a 15-byte decode.
        (Ok(i), Verdict::TooLong) if i.len == 15 => "agree".into(),
        (Ok(i), Verdict::Ud { .. }) => {
            if ud_at_cpl3(i.op, shadow_stack) {
                return "ud-at-cpl3".into();
            }
            let features = extensions(bytes, mode, vendor, i);
            let lacks: Vec<String> = features
                .iter()
                .filter(|&&f| host_has(f) == Some(false))
                .map(|f| format!("{f:?}"))
                .collect();
            if !lacks.is_empty() {
                return format!("host-lacks: {}", lacks.join("+"));
            }
            let unknown: Vec<String> = features
                .iter()
                .filter(|&&f| host_has(f).is_none())
                .map(|f| format!("{f:?}"))
                .collect();
            format!(
                "valid for us, #UD: {:?} (extensions: {})",
                i.op,
                unknown.join("+")
            )
        }
        (Ok(i), Verdict::TooLong) => format!("valid for us, too long: {:?}", i.op),
        (Err(_), Verdict::Runs { .. }) if vmcall(bytes, mode) => "vmcall-under-hypervisor".into(),
        (Err(e), Verdict::Runs { .. }) => format!("invalid for us ({e:?}), runs"),
        (Err(DecodeError::Invalid(_)), Verdict::TooLong)
        | (Err(DecodeError::TooLong), Verdict::Ud { .. }) => "fault-order".into(),
        (Err(e), Verdict::TooLong) => format!("invalid for us ({e:?}), too long"),
        (Err(e), Verdict::Ud { .. }) => format!("{e:?} for us, #UD"),
    }
}

fn cases() -> usize {
    std::env::var("HVEMU_CPU_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// Comparisons by class, with up to three examples each.
type Tally = BTreeMap<String, (usize, Vec<String>)>;

/// Runs the processor and the decoder on every string of `strings` in `mode`, tallied by class.
fn compare_all(
    h: &mut Native,
    mode: native::Mode,
    strings: impl Iterator<Item = [u8; 15]>,
) -> Tally {
    let vendor = host_vendor();
    let shadow_stack = has_shadow_stack();
    let ours_mode = decode_mode(mode);
    // Every register points into the scratch window, so that memory operands mostly reach
    // memory the harness owns (and kernel entries the harness does not refuse find no valid
    // system call number).
    let mut input = State::default();
    for (i, r) in input.gpr.iter_mut().enumerate() {
        *r = native::SCRATCH_BASE + 0x1000 + 0x40 * i as u64;
    }
    let mut tally = Tally::new();
    for bytes in strings {
        let ours = decode(&bytes, ours_mode, vendor);
        let cpu = verdict(h, mode, &bytes, &input);
        let class = classify(&bytes, ours_mode, vendor, &ours, cpu, shadow_stack);
        let e = tally.entry(class).or_default();
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(format!("{bytes:02x?}: processor {cpu:?}, hvemu {ours:?}"));
        }
    }
    tally
}

/// Prints a tally and returns its failures: classes that are not named, and `fault-order`
/// beyond 0.05% of `n`.
fn failures(title: &str, tally: &Tally, n: usize) -> Vec<String> {
    println!("{title}: {n} strings");
    let mut failures = Vec::new();
    for (class, (count, examples)) in tally {
        println!("  {count:8}  {class}");
        let named = class == "agree"
            || class == "refused"
            || class == "ud-at-cpl3"
            || class == "vmcall-under-hypervisor"
            || class.starts_with("host-lacks: ");
        if named {
            continue;
        }
        for e in examples {
            println!("              {e}");
        }
        if class == "fault-order" {
            // Both say the bytes are no valid instruction, one with #GP (longer than 15
            // bytes), the other with #UD: where the processor's length decoder stops on an
            // invalid encoding is modelled for the common cases only (see
            // `invalid_after_rest` in the engine, and tests/fault_order.rs). Bounded: about
            // 0.01-0.03% of the strings on Zen 4; none in 3,000,000 on Emerald Rapids.
            let bound = n.div_ceil(2_000);
            if *count > bound {
                failures.push(format!("{title}: {count} x {class} > bound {bound}"));
            }
        } else {
            failures.push(format!("{title}: {count} x {class}"));
        }
    }
    failures
}

const MODES: [(native::Mode, u64); 3] = [
    (native::Mode::Long64, 0x6370_7500_0064_0001),
    (native::Mode::Compat32, 0x6370_7500_0032_0001),
    (native::Mode::Compat16, 0x6370_7500_0016_0001),
];

#[test]
fn decoder_agrees_with_the_processor() {
    let mut h = Native::new().expect("native harness");
    let n = cases();
    let mut all = Vec::new();
    for (mode, seed) in MODES {
        let mut rng = Rng::new(seed);
        let strings = (0..n).map(|_| {
            let mut bytes = [0u8; 15];
            random_insn(&mut rng, mode == native::Mode::Long64, &mut bytes);
            bytes
        });
        let tally = compare_all(&mut h, mode, strings);
        let title = format!("{mode:?}/{:?}", host_vendor());
        all.extend(failures(&title, &tally, n));
        let agree = tally.get("agree").map_or(0, |t| t.0);
        assert!(agree * 10 > n * 9, "{title}: only {agree} of {n} agree");
    }
    assert!(
        all.is_empty(),
        "disagreements with the processor:\n{}",
        all.join("\n")
    );
}

/// The same for every instruction of iced's 32- and 64-bit test vectors (the first column of
/// ../shared/vectors/iced: hand-picked encodings of every form iced knows, valid and invalid),
/// zero-padded to 15 bytes; 32-bit vectors run in compatibility mode.
#[test]
fn iced_vectors_agree_with_the_processor() {
    let mut h = Native::new().expect("native harness");
    let mut all = Vec::new();
    let files = [
        ("DecoderTest16.txt", native::Mode::Compat16),
        ("DecoderTestMisc16.txt", native::Mode::Compat16),
        ("MemoryTest16.txt", native::Mode::Compat16),
        ("DecoderTest32.txt", native::Mode::Compat32),
        ("DecoderTestMisc32.txt", native::Mode::Compat32),
        ("MemoryTest32.txt", native::Mode::Compat32),
        ("DecoderTestMisc64.txt", native::Mode::Long64),
        ("MemoryTest64.txt", native::Mode::Long64),
    ];
    for (file, mode) in files {
        let path = shared_dir().join("vectors/iced").join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let strings: Vec<[u8; 15]> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let hex = l.split(',').next().unwrap_or("");
                let v = parse_hex(hex).unwrap_or_else(|| panic!("{file}: bad bytes in {l}"));
                let mut bytes = [0u8; 15];
                let n = v.len().min(15);
                bytes[..n].copy_from_slice(&v[..n]);
                bytes
            })
            .collect();
        assert!(strings.len() > 50, "{file}: only {} vectors", strings.len());
        let n = strings.len();
        let tally = compare_all(&mut h, mode, strings.into_iter());
        all.extend(failures(&format!("{file}/{mode:?}"), &tally, n));
    }
    assert!(
        all.is_empty(),
        "disagreements with the processor:\n{}",
        all.join("\n")
    );
}
