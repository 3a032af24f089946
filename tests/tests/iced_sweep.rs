//! Differential linear sweep against iced-x86 over real compiler output.
//!
//! The corpus is the `.text` section of the toolchain's `librustc_driver` shared object (about
//! 24 MB, 5 million instructions; see `hvemu_tests::corpus`, `HVEMU_CORPUS` names another ELF
//! file, `HVEMU_SWEEP_BYTES` cuts the section). At each offset both decoders decode in 64-bit
//! mode — iced with `DecoderOptions::NONE` and ip = section address + offset, hvemu with
//! `Mode::Long64` and `Vendor::Intel` — and the sweep advances by iced's length (one byte where
//! iced says invalid). The test checks:
//!
//! - where both say valid, the lengths are equal (no exception);
//! - where both say valid, the memory operands agree: segment, base, index, scale,
//!   displacement, address size and encoded displacement size (no exception);
//! - validity disagreements are counted by class (`common::CLASSES`) and bounded by
//!   [`BOUNDS`]; a disagreement of no known class fails the test, with examples;
//! - `decode_into`, into one record reused across the sweep, gives what `decode` gives and
//!   returns the instruction's length, and an instruction decodes alike from its 15-byte window
//!   and from the rest of the section (no exception).
//!
//! `HVEMU_VERBOSE=1` prints every disagreement group with samples.

mod common;

use common::{CLASSES, Tally, compare, iced_decode, verbose};
use hvemu::decode::{Mode, Vendor, decode, decode_into};
use hvemu_tests::corpus::Corpus;
use iced_x86::DecoderOptions;

/// Upper bounds of validity disagreements per class over the whole sweep. Classes not listed
/// (`length`, `mem`, `unknown:*`) have bound 0. Compiler output for x86-64 Linux has no AMD-only,
/// Intel-only or PadLock instructions, and the tables cover everything in it.
const BOUNDS: &[(&str, usize)] = &[
    ("amd-only-ext", 0),
    ("intel-only-ext", 0),
    ("iced-padlock", 0),
    ("table-gap", 0),
];

#[test]
fn iced_sweep() {
    let corpus = Corpus::rustc_driver_text();
    println!(
        "corpus {}: .text at {:#x}, {} bytes",
        corpus.path.display(),
        corpus.addr,
        corpus.bytes.len()
    );
    for (c, what) in CLASSES {
        println!("  class {c}: {what}");
    }
    let mut tally = Tally::default();
    let mut off = 0usize;
    let mut iced_invalid = 0usize;
    let mut reused = decode(&[0x90], Mode::Long64, Vendor::Intel).expect("nop decodes");
    let mut into_mismatches = Vec::new();
    while off < corpus.bytes.len() {
        let bytes = corpus.window(off);
        let ip = corpus.addr + off as u64;
        let iced = iced_decode(bytes, 64, ip, DecoderOptions::NONE);
        let ours = decode(bytes, Mode::Long64, Vendor::Intel);
        // From the rest of the section, as a sweep reads (the fast path's full window).
        let rest = corpus.bytes.get(off..).unwrap_or(&[]);
        let whole = decode(rest, Mode::Long64, Vendor::Intel);
        let into = decode_into(rest, Mode::Long64, Vendor::Intel, &mut reused);
        let same = match (&whole, &into) {
            (Ok(i), Ok(len)) => *len == i.len as usize && reused == *i,
            (Err(a), Err(b)) => a == b,
            _ => false,
        } && (ours.is_err() || ours == whole);
        if !same && into_mismatches.len() < 10 {
            into_mismatches.push(format!("{off:#x} {bytes:02x?}: {whole:?} / {into:?}"));
        }
        let v = compare(bytes, Mode::Long64, Vendor::Intel, ip, &ours, &iced);
        tally.add(bytes, Mode::Long64, Vendor::Intel, ip, &ours, &iced, &v);
        if iced.valid() {
            off += iced.insn.len();
        } else {
            iced_invalid += 1;
            off += 1;
        }
    }
    print!("{}", tally.summary("sweep long64/Intel", 40, verbose()));
    println!("  offsets iced rejects (skipped by one byte): {iced_invalid}");
    assert!(
        tally.iced_valid > 1000,
        "the corpus has too few instructions"
    );
    assert!(
        into_mismatches.is_empty(),
        "decode_into differs from decode:\n  {}",
        into_mismatches.join("\n  ")
    );
    let mut failures = Vec::new();
    for (class, &count) in &tally.classes {
        let b = BOUNDS.iter().find(|(c, _)| c == class).map_or(0, |b| b.1);
        if count > b {
            failures.push(format!("class {class}: {count} > bound {b}"));
        }
    }
    assert!(
        failures.is_empty(),
        "disagreements over their bounds:\n  {}",
        failures.join("\n  ")
    );
}
