//! `decode` on bad input always gives a defined result and never panics.
//!
//! For every mode (real, prot16, prot32, compat32, long64) and vendor, on:
//!
//! - the empty input: `Err(Truncated)`;
//! - every truncation of valid instructions — a fixed list covering every encoding (checked
//!   against iced-x86 first) and random instruction-like strings from `hvemu_tests::randgen`
//!   that we decode as valid: `Err(Truncated)` for every proper prefix;
//! - long prefix runs (14 to 20 prefixes of each kind, REX included in 64-bit mode, followed by
//!   an opcode or nothing): `Err(TooLong)` from 15 prefixes on, `Err(Truncated)` when the
//!   input ends after fewer than 15 prefixes, and otherwise `Ok` (prefixes included in the
//!   length), `Err(Invalid)`, or `Err(TooLong)`;
//! - uniformly random byte strings of 0 to 24 bytes.
//!
//! Every result must be `Ok` with a length in 1..=15 not exceeding the input, or an error, and
//! a panic is reported with the input that caused it. Two more invariants are checked on the
//! way: a valid instruction decodes the same whatever bytes follow it (the decoder reads nothing
//! past its end), and `Err(Truncated)` stays `Err(Truncated)` for every shorter prefix.
//! `HVEMU_BAD_INPUT_N` sets the number of random strings per mode and vendor (default 200,000).

mod common;

use hvemu::decode::{DecodeError, Instruction, Mode, Vendor, decode};
use hvemu_tests::hex;
use hvemu_tests::randgen::{Rng, random_insn};
use std::panic::{AssertUnwindSafe, catch_unwind};

const MODES: [Mode; 5] = [
    Mode::Real,
    Mode::Prot16,
    Mode::Prot32,
    Mode::Compat32,
    Mode::Long64,
];
const VENDORS: [Vendor; 2] = [Vendor::Intel, Vendor::Amd];

/// Decodes, turning a panic into a test failure that names the input; checks the length rule.
fn check(bytes: &[u8], mode: Mode, vendor: Vendor) -> Result<Instruction, DecodeError> {
    let r = catch_unwind(AssertUnwindSafe(|| decode(bytes, mode, vendor)))
        .unwrap_or_else(|_| panic!("decode panicked on {} ({mode:?}, {vendor:?})", hex(bytes)));
    if let Ok(i) = &r {
        assert!(
            (1..=15).contains(&i.len) && i.len as usize <= bytes.len(),
            "{} ({mode:?}, {vendor:?}): length {} out of range",
            hex(bytes),
            i.len
        );
    }
    r
}

/// The truncation and extension invariants for `bytes`, which we decode as valid. Returns false
/// when `bytes` is not valid for us in this mode.
fn check_truncations(bytes: &[u8], mode: Mode, vendor: Vendor, rng: &mut Rng) -> bool {
    let Ok(insn) = check(bytes, mode, vendor) else {
        return false;
    };
    let len = insn.len as usize;
    let exact = &bytes[..len];
    // Same result on the exact bytes and with other bytes after them.
    let mut longer = exact.to_vec();
    longer.extend((0..1 + rng.below(8)).map(|_| rng.byte()));
    for other in [exact, &longer[..]] {
        let r = check(other, mode, vendor);
        assert_eq!(
            r,
            Ok(insn),
            "{} ({mode:?}, {vendor:?}) decodes differently from {}",
            hex(other),
            hex(bytes)
        );
    }
    for k in 0..len {
        let r = check(&bytes[..k], mode, vendor);
        assert_eq!(
            r,
            Err(DecodeError::Truncated),
            "{} ({mode:?}, {vendor:?}): truncation to {k} bytes of the valid {} ({})",
            hex(&bytes[..k]),
            hex(exact),
            insn.op
        );
    }
    true
}

#[test]
fn empty_input() {
    for mode in MODES {
        for vendor in VENDORS {
            assert_eq!(
                check(&[], mode, vendor),
                Err(DecodeError::Truncated),
                "{mode:?}"
            );
        }
    }
}

/// Valid instructions of every encoding, with the bitness they are valid in (0 = all).
const FIXED: &[(&str, u32)] = &[
    ("90", 0),
    ("c3", 0),
    ("f390", 0),
    ("0fa2", 0),
    ("cc", 0),
    ("cd80", 0),
    ("6a7f", 0),
    ("e9 78563412", 32),
    ("e8 78563412", 64),
    ("eb fe", 0),
    ("0f84 78563412", 64),
    ("01 ce", 0),
    ("03 04 24", 32),
    ("03 44 24 08", 64),
    ("8b 84 8b 78563412", 64),
    ("8b 05 78563412", 64),
    ("67 8b 05 78563412", 64),
    ("8b 04 25 78563412", 64),
    ("66 c7 84 c8 78563412 3412", 64),
    ("c7 84 c8 78563412 78563412", 32),
    ("48 c7 84 c8 78563412 78563412", 64),
    ("48 b8 f0debc9a78563412", 64),
    ("a1 f0debc9a78563412", 64),
    ("a1 78563412", 32),
    ("f0 0f c1 0b", 0),
    ("f3 48 a5", 64),
    ("65 48 8b 04 25 28000000", 64),
    ("2e 3e 26 64 65 36 66 67 f2 8b 00", 32),
    ("c8 1000 01", 0),
    ("9a 78563412 3412", 32),
    ("ea 3412 3412", 16),
    ("d9 ee", 0),
    ("dd 9c 24 80000000", 64),
    ("0f 1f 84 00 00000000", 32),
    ("66 0f 1f 44 00 00", 64),
    ("f3 0f 1e fa", 0),
    ("0f 01 d0", 0),
    ("0f 20 c0", 32),
    ("0f 22 d8", 64),
    ("0f 6f 04 24", 32),
    ("66 0f 6f 44 24 10", 64),
    ("f3 0f 10 c1", 0),
    ("f2 0f 58 84 24 00010000", 64),
    ("66 0f 38 00 c1", 0),
    ("66 0f 38 f6 c1", 0),
    ("66 0f 3a 0f c1 08", 0),
    ("66 0f 3a 63 44 24 08 0c", 64),
    ("f2 0f 38 f1 c1", 0),
    ("c5 f8 77", 64),
    ("c5 fc 28 04 24", 64),
    ("c5 f9 6f 05 78563412", 64),
    ("c4 e2 7d 58 c1", 64),
    ("c4 e3 7d 18 c1 01", 64),
    ("c4 e2 f8 f2 c1", 64),
    ("c4 c1 7a 10 84 24 00010000", 64),
    ("c4 e2 69 90 04 88", 64),
    ("c5 f8 77", 32),
    ("c4 e2 7d 58 c1", 32),
    ("62 f1 7c 48 28 c1", 64),
    ("62 f1 fd 48 6f 44 24 01", 64),
    ("62 f2 7d 4d 90 04 88", 64),
    ("62 f1 7c 18 58 c1", 64),
    ("62 f1 7c 58 58 40 01", 64),
    ("62 f3 7d 48 1f c1 05", 64),
    ("62 61 7c 48 28 c1", 64),
    ("62 f5 7c 48 58 c1", 64),
    ("62 f6 7d 48 42 c1", 64),
    ("62 f1 7c 48 28 c1", 32),
    ("c4 e1 f8 90 c1", 64),
    ("c5 f8 93 c1", 64),
    ("0f 0f c1 b4", 0),
    ("0f 0f 44 24 08 9e", 64),
    ("8f e8 78 c2 c1 05", 64),
    ("8f e9 78 81 c1", 64),
    ("8f ea 78 10 c1 78563412", 64),
    ("8f e8 78 c2 c1 05", 32),
    ("c4 e2 78 49 c0", 64),
    ("f3 0f c7 f8", 64),
    ("0f c7 f0", 0),
    ("66 0f 38 dc c1", 0),
    ("f3 0f b8 c1", 0),
    ("0f 05", 64),
    ("48 0f c7 0e", 64),
    ("8c d8", 0),
    ("8e d8", 0),
];

fn bits_of(mode: Mode) -> u32 {
    common::bitness(mode)
}

#[test]
fn truncations_of_fixed_list() {
    let mut rng = Rng::new(7);
    let mut checked = 0;
    let mut rejected = Vec::new();
    for &(text, bits) in FIXED {
        let bytes = hvemu_tests::parse_hex(text).expect("hex");
        for mode in MODES {
            if bits != 0 && bits != bits_of(mode) {
                continue;
            }
            // The list is right: iced agrees these are single valid instructions.
            let iced = common::iced_decode(&bytes, bits_of(mode), 0x1000, 0);
            let iced_ok = iced.valid() && iced.insn.len() == bytes.len();
            assert!(
                iced_ok,
                "fixed list: iced rejects {text} in {}-bit mode",
                bits_of(mode)
            );
            // AMD-only: 3DNow! and XOP; VEX/EVEX/XOP do not exist in real mode.
            let amd = text.starts_with("0f 0f") || text.starts_with("8f");
            let vex = ["c4", "c5", "62", "8f"].iter().any(|p| text.starts_with(p));
            for vendor in VENDORS {
                if check_truncations(&bytes, mode, vendor, &mut rng) {
                    checked += 1;
                } else if !((amd && vendor == Vendor::Intel) || (vex && mode == Mode::Real)) {
                    rejected.push(format!("{text} ({mode:?}, {vendor:?})"));
                }
            }
        }
    }
    println!("fixed list: {checked} valid decodes with all truncations checked");
    if !rejected.is_empty() {
        println!(
            "not decoded by us (table gaps, not checked here):\n  {}",
            rejected.join("\n  ")
        );
    }
    assert!(
        checked > FIXED.len(),
        "too few of the fixed instructions decode"
    );
}

fn count() -> usize {
    std::env::var("HVEMU_BAD_INPUT_N")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(200_000)
}

#[test]
fn truncations_of_random_instructions() {
    let n = count();
    let mut total = 0usize;
    for (mi, mode) in MODES.into_iter().enumerate() {
        for (vi, vendor) in VENDORS.into_iter().enumerate() {
            let mut rng = Rng::new(0xbad0_0000 + (mi * 2 + vi) as u64);
            let mut buf = [0u8; 15];
            let mut valid = 0usize;
            for _ in 0..n {
                random_insn(&mut rng, mode.is_64(), &mut buf);
                let mut r2 = rng.clone();
                if check_truncations(&buf, mode, vendor, &mut r2) {
                    valid += 1;
                } else if check(&buf, mode, vendor) == Err(DecodeError::Truncated) {
                    // A 15-byte string cannot be cut short: 15 bytes always decide.
                    panic!(
                        "{} ({mode:?}, {vendor:?}): truncated at 15 bytes",
                        hex(&buf)
                    );
                }
                rng = r2;
            }
            assert!(
                valid > n / 10,
                "{mode:?}/{vendor:?}: only {valid} of {n} valid"
            );
            total += valid;
        }
    }
    println!("random: {total} valid instructions with all truncations checked");
}

#[test]
fn long_prefix_runs() {
    const PREFIXES: &[u8] = &[
        0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x40, 0x48, 0x4f,
    ];
    // Tails: nothing, a one-byte opcode, an opcode with ModRM, and a longer instruction.
    const TAILS: &[&[u8]] = &[
        &[],
        &[0x90],
        &[0x01, 0xce],
        &[0x81, 0x84, 0x24, 1, 2, 3, 4, 5, 6, 7, 8],
    ];
    let mut rng = Rng::new(16);
    for mode in MODES {
        for vendor in VENDORS {
            for &p in PREFIXES {
                if (0x40..0x50).contains(&p) && !mode.is_64() {
                    continue;
                }
                for n in 1..=20usize {
                    for tail in TAILS {
                        // Uniform runs, and runs mixing this prefix with random others.
                        for mixed in [false, true] {
                            let mut bytes: Vec<u8> = (0..n)
                                .map(|_| {
                                    if mixed {
                                        PREFIXES[rng.below(11) as usize]
                                    } else {
                                        p
                                    }
                                })
                                .collect();
                            bytes.extend_from_slice(tail);
                            let r = check(&bytes, mode, vendor);
                            let what = || format!("{} ({mode:?}, {vendor:?})", hex(&bytes));
                            if n >= 15 {
                                assert_eq!(r, Err(DecodeError::TooLong), "{}", what());
                            } else if tail.is_empty() {
                                assert_eq!(r, Err(DecodeError::Truncated), "{}", what());
                            } else if let Ok(i) = r {
                                // The prefixes belong to the instruction.
                                assert!(i.len as usize > n, "{}: length {}", what(), i.len);
                            } else {
                                // Invalid, or too long when the tail does not fit in 15 bytes.
                                assert!(
                                    matches!(
                                        r,
                                        Err(DecodeError::Invalid(_) | DecodeError::TooLong)
                                    ),
                                    "{}: {r:?}",
                                    what()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn random_bytes() {
    let n = count() * 2;
    for (mi, mode) in MODES.into_iter().enumerate() {
        for (vi, vendor) in VENDORS.into_iter().enumerate() {
            let mut rng = Rng::new(0x5eed_0000 + (mi * 2 + vi) as u64);
            let mut buf = [0u8; 24];
            for _ in 0..n {
                let len = rng.below(25) as usize;
                for b in buf.iter_mut().take(len) {
                    *b = rng.byte();
                }
                let bytes = &buf[..len];
                match check(bytes, mode, vendor) {
                    Ok(i) => {
                        // The same instruction whatever follows it.
                        let exact = &bytes[..i.len as usize];
                        assert_eq!(check(exact, mode, vendor), Ok(i), "{}", hex(bytes));
                    }
                    Err(DecodeError::Truncated) => {
                        for k in 0..len {
                            assert_eq!(
                                check(&bytes[..k], mode, vendor),
                                Err(DecodeError::Truncated),
                                "{} cut to {k} ({mode:?}, {vendor:?})",
                                hex(bytes)
                            );
                        }
                    }
                    Err(_) => {}
                }
            }
        }
    }
}
