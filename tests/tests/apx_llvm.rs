//! The REX2 decoding of `Extensions { apx: true }` against LLVM 19's disassembler, an
//! independent decoder written from the APX specification.
//!
//! Needs `llvm-mc-19` and `llvm-objdump-19` (Debian's `llvm-19`; `HVEMU_LLVM_MC` and
//! `HVEMU_LLVM_OBJDUMP` name others), so it is ignored by `cargo test`: `.ci/run` installs LLVM 19
//! and runs it with `--ignored`, and it fails loudly when they are missing.
//!
//! `HVEMU_APX_N` (default 20,000) random REX2 instructions (fixed seed: legacy prefixes before
//! it at times, any payload, any opcode, then random ModRM, SIB, displacement and immediate
//! bytes) are decoded by hvemu for Intel and assembled, one per 32-byte slot padded with INT3,
//! into an object file that `llvm-objdump` disassembles. The first instruction of each slot is
//! LLVM's decoding. The test checks:
//!
//! - where both decode the instruction, the lengths are equal (no exception);
//! - where both decode it, the extended registers R16..R31 named in both texts are the same;
//! - every other disagreement falls into a named class below, within its bound. Where LLVM 19
//!   and the published descriptions differ, hvemu follows the descriptions (see `apx_rex2.rs`).

use hvemu::decode::{
    DecodeError, Extensions, Instruction, Invalid, Mode, Op, Operand, RegClass, Vendor, decode_with,
};
use hvemu_tests::randgen::Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

/// Disagreement classes and their bounds in parts per million of the inputs (about twice the
/// counts at the default count).
const CLASSES: &[(&str, &str, u64)] = &[
    (
        "llvm-decodes-reserved",
        "LLVM 19 decodes what REX2 reserves: the (!REX2) rows of the Linux kernel's opcode map \
         (Jcc, MOV moffs, string operations, LOOP, IN/OUT, CALL/JMP rel, WRMSR...) and an escape \
         or prefix after the payload, which Intel XED reads as the opcode",
        260_000,
    ),
    (
        "llvm-jmpabs-w1",
        "LLVM 19 decodes A1 with W = 1 as JMPABS; LLVM's own description of JMPABS requires W = 0",
        2_500,
    ),
    (
        "llvm-nop-b4",
        "LLVM 19 decodes 90 with B4 set as NOP (PAUSE with F3); hvemu as XCHG with R16/R24 (90 \
         is NOP only for rAX; unverified against the specification's text)",
        1_000,
    ),
    (
        "llvm-nop-without-reg",
        "LLVM 19 prints NOP Ev (0F 1F) without its ModRM.reg operand, which hvemu reports",
        2_000,
    ),
    (
        "llvm-sib-base-b4",
        "LLVM 19 takes SIB base 101 with ModRM.mod 00 and B4 set as R21 or R29 without a \
         displacement; Intel XED's length decoder reads the 32-bit displacement (no base) whatever \
         B4, as REX.B does, and hvemu follows it",
        1_000,
    ),
    (
        "llvm-rejects-vector",
        "LLVM 19 rejects some legacy SSE forms under REX2 (with W, R4, X4 or B4 set) that it \
         decodes under the equivalent REX; the APX specification says R4, X4 and B4 are ignored \
         for vector registers",
        500,
    ),
    (
        "as-without-rex2",
        "the same disagreement on the same instruction under REX instead of REX2: LLVM 19's legacy \
         decoding differs from hvemu's, which the iced tests settle (the reserved-NOP space 0F \
         19-1E, prefixes LLVM ignores or prints apart, 3DNow! on Intel): about 4% of the inputs",
        80_000,
    ),
];

fn tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// Mnemonics LLVM prints for prefixes.
const PREFIX_WORDS: &[&str] = &[
    "lock", "rep", "repne", "data16", "data32", "addr32", "rex", "rex64", "cs", "ds", "es", "ss",
    "fs", "gs", "xacquire", "xrelease", "notrack",
];

/// LLVM's first instruction of each slot: its length (None for `<unknown>` or a stray prefix,
/// LLVM's ways of rejecting) and text.
fn llvm_decode(slots: &[Vec<u8>]) -> Vec<(Option<usize>, String)> {
    let dir = std::env::temp_dir().join(format!("hvemu-apx-llvm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (asm, obj) = (dir.join("slots.s"), dir.join("slots.o"));
    let mut s = String::from(".text\n");
    for slot in slots {
        s.push_str(".p2align 5, 0xcc\n.byte ");
        let bytes: Vec<String> = slot.iter().map(|b| format!("{b:#04x}")).collect();
        s.push_str(&bytes.join(","));
        s.push('\n');
    }
    s.push_str(".p2align 5, 0xcc\n");
    std::fs::write(&asm, s).unwrap();
    let mc = tool("HVEMU_LLVM_MC", "llvm-mc-19");
    let objdump = tool("HVEMU_LLVM_OBJDUMP", "llvm-objdump-19");
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| {
            panic!(
                "cannot run {what} ({e}): this test needs LLVM 19 (apt-get install llvm-19, or \
                 HVEMU_LLVM_MC / HVEMU_LLVM_OBJDUMP)"
            )
        });
        assert!(
            out.status.success(),
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(
        Command::new(&mc)
            .args(["-triple=x86_64", "-filetype=obj", "-o"])
            .arg(&obj)
            .arg(&asm),
        &mc,
    );
    let listing = run(
        Command::new(&objdump).args(["-d", "-M", "intel"]).arg(&obj),
        &objdump,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let mut firsts: BTreeMap<usize, (Option<usize>, String)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&listing).lines() {
        // "      20: d5 18 89 c8          \tmov\tr16, rcx"
        let Some((addr, rest)) = line.trim_start().split_once(": ") else {
            continue;
        };
        let Ok(addr) = usize::from_str_radix(addr, 16) else {
            continue;
        };
        if addr % 32 != 0 {
            continue;
        }
        let (hex, text) = rest.split_once('\t').unwrap_or((rest, ""));
        let n = hex.split_whitespace().count();
        let text = text.replace('\t', " ");
        // A line of prefixes alone is a prefix LLVM could not attach; a prefix before an
        // instruction on its line is one LLVM shows apart because it has no effect there.
        let stray = text.split_whitespace().all(|w| PREFIX_WORDS.contains(&w));
        let len = (!text.contains("<unknown>") && !stray).then_some(n);
        firsts.insert(addr / 32, (len, text.trim().to_string()));
    }
    (0..slots.len())
        .map(|k| {
            firsts
                .get(&k)
                .cloned()
                .unwrap_or((None, "<missing>".into()))
        })
        .collect()
}

/// The extended registers (16..31) a text names, whatever their width.
fn egprs(text: &str) -> Vec<u8> {
    let mut v: Vec<u8> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| {
            let w = w.strip_prefix('r')?;
            let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
            let suffix = &w[digits.len()..];
            let n: u8 = digits.parse().ok()?;
            (n >= 16 && matches!(suffix, "" | "d" | "w" | "b")).then_some(n)
        })
        .collect();
    v.sort_unstable();
    v
}

/// How hvemu's and LLVM's decodings of one slot differ, if they do.
fn disagreement(
    ours: &Result<Instruction, DecodeError>,
    llvm: &(Option<usize>, String),
) -> Option<&'static str> {
    let (len, text) = llvm;
    // The mnemonic, after any prefix LLVM shows apart.
    let text = text
        .split_whitespace()
        .skip_while(|w| PREFIX_WORDS.contains(w))
        .collect::<Vec<_>>()
        .join(" ");
    match (ours, len) {
        (Ok(i), Some(l)) if *l != usize::from(i.len) => Some("length"),
        (Ok(i), Some(_)) => {
            let (mine, theirs) = (egprs(&i.to_string()), egprs(&text));
            if mine == theirs {
                None
            } else if i.op == Op::Xchg && (text == "nop" || text == "pause") {
                Some("llvm-nop-b4")
            } else if matches!(i.op, Op::Nop | Op::ReservedNop)
                && text.starts_with("nop")
                && theirs.iter().all(|r| mine.contains(r))
            {
                Some("llvm-nop-without-reg")
            } else {
                Some("registers")
            }
        }
        (Err(_), None) | (Err(DecodeError::Truncated | DecodeError::TooLong), _) => None,
        (Ok(_), None) => Some("llvm-rejects"),
        (Err(_), Some(_)) => Some("llvm-accepts"),
    }
}

#[test]
#[ignore = "needs LLVM 19 (apt-get install llvm-19): .ci/run installs it and runs this test"]
fn rex2_agrees_with_llvm_19() {
    let n: usize = std::env::var("HVEMU_APX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng::new(0xa9c0_0002);
    let legacy = [0x66, 0xf2, 0xf3, 0x67, 0x2e, 0x64, 0xf0];
    // Each input and the same instruction under REX (and 0F for map 1) instead of REX2.
    let mut inputs = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let mut b = Vec::with_capacity(15);
        while b.len() < 2 && rng.chance(20) {
            b.push(rng.pick(&legacy));
        }
        if rng.chance(3) {
            b.push(0x40 | (rng.byte() & 15));
        }
        let at = b.len();
        b.push(0xd5);
        let payload = rng.byte();
        b.push(payload);
        b.push(rng.byte());
        b.push(if rng.chance(35) {
            0xc0 | rng.byte()
        } else {
            rng.byte()
        });
        while b.len() < 15 {
            b.push(rng.byte());
        }
        let mut rex = b[..at].to_vec();
        rex.push(0x40 | (payload & 15));
        if payload & 0x80 != 0 {
            rex.push(0x0f);
        }
        rex.extend_from_slice(&b[at + 2..]);
        rex.truncate(15);
        inputs.push(b);
        inputs.push(rex);
    }
    let ours: Vec<_> = inputs
        .iter()
        .map(|b| decode_with(b, Mode::Long64, Vendor::Intel, Extensions { apx: true }))
        .collect();
    let slots: Vec<Vec<u8>> = inputs
        .iter()
        .zip(&ours)
        .map(|(b, r)| match r {
            Ok(i) => b[..usize::from(i.len)].to_vec(),
            Err(_) => b.clone(),
        })
        .collect();
    let theirs = llvm_decode(&slots);

    let mut counts: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    let mut both_valid = 0;
    let results = &ours;
    for k in (0..slots.len()).step_by(2) {
        let (bytes, ours, llvm) = (&slots[k], &results[k], &theirs[k]);
        if ours.is_ok() && llvm.0.is_some() {
            both_valid += 1;
        }
        let Some(kind) = disagreement(ours, llvm) else {
            continue;
        };
        let at = bytes.iter().position(|&b| b == 0xd5).unwrap_or(0);
        let (payload, opcode) = (bytes[at + 1], bytes[at + 2]);
        let (modrm, sib) = (bytes.get(at + 3).copied(), bytes.get(at + 4).copied());
        let sib_base5 =
            matches!((modrm, sib), (Some(m), Some(s)) if m & 0xc7 == 0x04 && s & 7 == 5);
        let vector = matches!(ours, Ok(i) if i.operands.iter().any(|o| {
            matches!(o, Operand::Reg(r) if matches!(r.class, RegClass::Xmm | RegClass::Mmx))
        }));
        let class = if kind.starts_with("llvm-nop") {
            kind
        } else if kind == "length" && sib_base5 && payload & 0x10 != 0 {
            "llvm-sib-base-b4"
        } else if kind == "llvm-rejects" && vector {
            "llvm-rejects-vector"
        } else if disagreement(&results[k + 1], &theirs[k + 1]) == Some(kind) {
            "as-without-rex2"
        } else if kind == "llvm-accepts" && matches!(ours, Err(DecodeError::Invalid(Invalid::Rex2)))
        {
            if payload & 0x88 == 0x08 && opcode == 0xa1 {
                "llvm-jmpabs-w1"
            } else {
                "llvm-decodes-reserved"
            }
        } else {
            kind
        };
        let hex: String = bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let e = counts.entry(class).or_default();
        e.0 += 1;
        if e.1.len() < 5 {
            let ours = match ours {
                Ok(i) => format!("{} {i}", i.len),
                Err(e) => format!("{e:?}"),
            };
            e.1.push(format!("{hex}: hvemu {ours} / llvm {}", llvm.1));
        }
    }
    println!("{n} REX2 inputs, {both_valid} valid for both");
    let mut failures = Vec::new();
    for (class, (count, samples)) in &counts {
        let known = CLASSES.iter().find(|c| c.0 == *class);
        let bound = known.map_or(0, |c| (n as u64 * c.2).div_ceil(1_000_000) as usize);
        println!("  {class}: {count} (bound {bound})");
        for s in samples {
            println!("      {s}");
        }
        if *count > bound {
            failures.push(format!(
                "{class}: {count} over {bound}: {}",
                samples.join("; ")
            ));
        }
    }
    assert!(
        both_valid > n / 3,
        "too few instructions valid for both: {both_valid}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
