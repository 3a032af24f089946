//! Differential test against iced-x86 on random instruction-like byte strings.
//!
//! For each of long64, prot32 and prot16, `HVEMU_RANDOM_N` (default 1,000,000) random 15-byte
//! strings from the fixed-seed generator of `hvemu_tests::randgen` (biased toward prefixes, REX,
//! the 0F / 0F 38 / 0F 3A escapes, VEX, EVEX, XOP and 3DNow!) are decoded by hvemu for Intel and
//! by iced with `DecoderOptions::NONE`; a further quarter of that count per mode is decoded for
//! AMD against `DecoderOptions::AMD`. A quarter of the inputs are bit-flip mutations of earlier
//! VEX, EVEX and XOP inputs that iced accepted (one pool per family), which reach the validity
//! rules of real instructions. The test checks:
//!
//! - where both decoders say valid, the lengths are equal (no exception);
//! - where both say valid, the memory operands agree: segment, base, index, scale,
//!   displacement, address size and encoded displacement size (no exception);
//! - every validity disagreement falls into a named class of `common::CLASSES`, each bounded by
//!   [`BOUNDS`]; a disagreement of no known class (`unknown:*`) fails the test, with examples.
//!
//! The summary (printed always; run with `--nocapture` to see it on success) lists the counts
//! by class and by opcode map, and the largest groups (iced Code or our operation, with the
//! opcode map and byte) with sample bytes, for the table writers. `HVEMU_VERBOSE=1` lists every
//! group with three samples. A sample of a form iced rejects and we accept ends with a hint
//! naming the rule, found by changing one VEX/EVEX/XOP field until iced accepts it (for example
//! `[z=1 needs aaa!=0]` or `[iced accepts it with vvvv=0]`).

mod common;

use common::{CLASSES, Tally, bitness, compare, iced_decode, iced_options, map_class, verbose};
use hvemu::decode::{Mode, Vendor, decode};
use hvemu_tests::randgen::{Pool, Rng, Shape, random_insn};
use std::collections::BTreeMap;

/// Upper bounds per class and run (`mode/vendor`), in parts per million of the run's inputs.
/// Classes not listed here (`length`, `mem`, `unknown:*`) have bound 0. The bounds are about
/// twice the counts seen at the default count (1,000,000 per mode, seeds fixed), so that a
/// new disagreement of a known kind stands out.
const BOUNDS: &[(&str, u64)] = &[
    // XOP (with its mutations), 3DNow!, FMA4, SSE4a, SVM ...: about 5% of the Intel runs.
    ("amd-only-ext", 100_000),
    // VMX, SMX (GETSEC), TDX, PCONFIG: about 0.12% of the AMD runs.
    ("intel-only-ext", 2_500),
    // Where our AMD decoding follows Zen 4 rather than the documented rule: about 0.03% of the
    // 64-bit AMD runs, 0.2% of the others (EVEX V' outside 64-bit mode).
    ("amd-measured", 5_000),
    // PadLock: about 0.004%.
    ("iced-padlock", 100),
    // No gap seen at the default count (issue 2 tables complete against iced); a small margin
    // while the tables are still being edited.
    ("table-gap", 20),
    // Validity rules the engine still lacks (about 0.04% and 0.2% of the runs): bound 0, so the
    // test fails until they are added.
    ("evex-z-without-mask", 0),
    ("evex-vprime-outside-64", 0),
];

/// Percentage of inputs made by mutating an earlier valid one rather than from scratch.
const MUTATED_PCT: u64 = 25;

fn bound(class: &str, inputs: usize) -> usize {
    let ppm = BOUNDS.iter().find(|(c, _)| *c == class).map_or(0, |b| b.1);
    (inputs as u64 * ppm).div_ceil(1_000_000) as usize
}

fn default_ip(mode: Mode) -> u64 {
    match mode {
        Mode::Long64 => 0x7fff_ffff_ffff_fff0,
        Mode::Prot32 | Mode::Compat32 => 0x7fff_fff0,
        Mode::Real | Mode::Prot16 => 0x7ff0,
    }
}

fn runs() -> usize {
    std::env::var("HVEMU_RANDOM_N")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

/// One run: `n` inputs in `mode` for `vendor`.
fn run(mode: Mode, vendor: Vendor, n: usize, seed: u64) -> (Tally, BTreeMap<Shape, [usize; 2]>) {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut shapes: BTreeMap<Shape, [usize; 2]> = BTreeMap::new();
    let ip = default_ip(mode);
    let bits = bitness(mode);
    let opts = iced_options(vendor);
    // One pool per family, so that the easily valid VEX forms do not crowd out EVEX and XOP.
    let mut pools = [Pool::new(2048), Pool::new(2048), Pool::new(2048)];
    let mut buf = [0u8; 15];
    for _ in 0..n {
        let pool = &pools[rng.below(3) as usize];
        let shape = if rng.chance(MUTATED_PCT) && pool.mutate(&mut rng, &mut buf) {
            Shape::Mutated
        } else {
            random_insn(&mut rng, mode.is_64(), &mut buf)
        };
        let ours = decode(&buf, mode, vendor);
        let iced = iced_decode(&buf, bits, ip, opts);
        // Keep VEX, EVEX and XOP instructions that iced accepts (also those made by mutation) to
        // mutate: their validity rules are the intricate ones.
        if iced.valid() {
            match map_class(&buf, mode) {
                "VEX" => pools[0].push(&buf),
                "EVEX" => pools[1].push(&buf),
                "XOP" => pools[2].push(&buf),
                _ => {}
            }
        }
        let v = compare(&buf, mode, vendor, ip, &ours, &iced);
        let s = shapes.entry(shape).or_default();
        s[0] += 1;
        s[1] += usize::from(iced.valid());
        tally.add(&buf, mode, vendor, ip, &ours, &iced, &v);
    }
    (tally, shapes)
}

#[test]
fn iced_random() {
    let n = runs();
    let verbose = verbose();
    println!("validity classes:");
    for (c, what) in CLASSES {
        println!("  {c}: {what}");
    }
    let plan = [
        (Mode::Long64, Vendor::Intel, n, 0x6865_6d75_0064_0001u64),
        (Mode::Prot32, Vendor::Intel, n, 0x6865_6d75_0032_0001),
        (Mode::Prot16, Vendor::Intel, n, 0x6865_6d75_0016_0001),
        (Mode::Long64, Vendor::Amd, n / 4, 0x6865_6d75_0064_00a1),
        (Mode::Prot32, Vendor::Amd, n / 4, 0x6865_6d75_0032_00a1),
        (Mode::Prot16, Vendor::Amd, n / 4, 0x6865_6d75_0016_00a1),
    ];
    let mut failures = Vec::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for (mode, vendor, n, seed) in plan {
        let (tally, shapes) = run(mode, vendor, n, seed);
        let title = format!("{mode:?}/{vendor:?}");
        print!("{}", tally.summary(&title, 25, verbose));
        let shapes: Vec<String> = shapes
            .iter()
            .map(|(s, [t, v])| format!("{s:?} {v}/{t}"))
            .collect();
        println!("  iced-valid by generator shape: {}", shapes.join(", "));
        for (class, &count) in &tally.classes {
            *totals.entry(class.clone()).or_default() += count;
            let b = bound(class, n);
            if count > b {
                failures.push(format!("{title}: class {class}: {count} > bound {b}"));
            }
        }
    }
    println!("== all runs: {totals:?}");
    assert!(
        failures.is_empty(),
        "disagreements over their bounds:\n  {}",
        failures.join("\n  ")
    );
}
