//! Decoder throughput of hvemu against iced-x86 and yaxpeax-x86: a benchmark, never a test.
//!
//! Run with `cargo bench -p hvemu-tests --bench decode`. The corpus is the `.text` section of
//! the toolchain's `librustc_driver` (see `hvemu_tests::corpus`; about 5 million instructions).
//! Workloads, all in 64-bit mode:
//!
//! 1. a linear sweep of the corpus, each decoder advancing by its own length (one byte past an
//!    error);
//! 2. one-shot decodes of 2,000,000 random instruction starts (boundaries found by the iced
//!    sweep) with a fresh decoder per call, from a hot 32 KiB window of the corpus;
//! 3. the same from the whole corpus (mostly cache misses).
//!
//! hvemu decodes for Intel into a reused record (`decode_into`); iced runs in its fastest mode
//! (`Decoder::decode_out`, `DecoderOptions::NO_INVALID_CHECK`); yaxpeax uses its long-mode
//! `InstDecoder::default()` and `decode_slice`. Everything runs in one process in interleaved
//! rounds (each round times every workload with every decoder, in rotating order); the figure is
//! the median of the rounds (`HVEMU_BENCH_ROUNDS`, default and minimum 11).

use hvemu::decode::{Instruction, Mode, Vendor, decode, decode_into};
use hvemu_tests::corpus::Corpus;
use hvemu_tests::randgen::Rng;
use iced_x86::{Decoder, DecoderOptions, Instruction as IcedInstruction};
use std::hint::black_box;
use std::time::{Duration, Instant};
use yaxpeax_arch::LengthedInstruction;
use yaxpeax_x86::long_mode::InstDecoder;

const ONE_SHOTS: usize = 2_000_000;
const HOT_WINDOW: usize = 32 * 1024;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Dec {
    Hvemu,
    Iced,
    Yaxpeax,
}

const DECODERS: [Dec; 3] = [Dec::Hvemu, Dec::Iced, Dec::Yaxpeax];

/// A record for `decode_into` to reuse (iced's `decode_out` reuses one the same way).
fn blank() -> Instruction {
    decode(&[0x90], Mode::Long64, Vendor::Intel).expect("nop decodes")
}

/// Linear sweep; returns (instructions decoded, checksum).
fn sweep(dec: Dec, c: &Corpus) -> (usize, u64) {
    let bytes = &c.bytes[..];
    let mut n = 0usize;
    let mut sum = 0u64;
    match dec {
        Dec::Hvemu => {
            let mut i = blank();
            let mut off = 0;
            while off < bytes.len() {
                let len = match decode_into(&bytes[off..], Mode::Long64, Vendor::Intel, &mut i) {
                    Ok(()) => {
                        n += 1;
                        sum = sum.wrapping_add(i.op as u64);
                        i.len as usize
                    }
                    Err(_) => 1,
                };
                off += len;
            }
        }
        Dec::Iced => {
            let mut d = Decoder::with_ip(64, bytes, c.addr, DecoderOptions::NO_INVALID_CHECK);
            let mut insn = IcedInstruction::default();
            while d.can_decode() {
                d.decode_out(&mut insn);
                n += 1;
                sum = sum.wrapping_add(insn.code() as u64);
            }
        }
        Dec::Yaxpeax => {
            let d = InstDecoder::default();
            let mut off = 0;
            while off < bytes.len() {
                let len = match d.decode_slice(&bytes[off..]) {
                    Ok(i) => {
                        n += 1;
                        sum = sum.wrapping_add(i.opcode() as u64);
                        i.len().to_const() as usize
                    }
                    Err(_) => 1,
                };
                off += len;
            }
        }
    }
    (n, sum)
}

/// One-shot decodes at `starts`, a fresh decoder each; returns (decodes, checksum).
fn one_shots(dec: Dec, c: &Corpus, starts: &[u32]) -> (usize, u64) {
    let bytes = &c.bytes[..];
    let mut sum = 0u64;
    match dec {
        Dec::Hvemu => {
            let mut i = blank();
            for &s in starts {
                if decode_into(&bytes[s as usize..], Mode::Long64, Vendor::Intel, &mut i).is_ok() {
                    sum = sum.wrapping_add(i.len as u64 + i.op as u64);
                }
            }
        }
        Dec::Iced => {
            let mut insn = IcedInstruction::default();
            for &s in starts {
                let ip = c.addr + s as u64;
                let mut d = Decoder::with_ip(
                    64,
                    &bytes[s as usize..],
                    ip,
                    DecoderOptions::NO_INVALID_CHECK,
                );
                d.decode_out(&mut insn);
                sum = sum.wrapping_add(insn.len() as u64 + insn.code() as u64);
            }
        }
        Dec::Yaxpeax => {
            for &s in starts {
                if let Ok(i) = InstDecoder::default().decode_slice(&bytes[s as usize..]) {
                    sum = sum.wrapping_add(i.len().to_const() + i.opcode() as u64);
                }
            }
        }
    }
    (starts.len(), sum)
}

/// Instruction boundaries of the corpus by an iced sweep (offsets of valid instructions).
fn boundaries(c: &Corpus) -> Vec<u32> {
    let mut d = Decoder::with_ip(64, &c.bytes, c.addr, DecoderOptions::NONE);
    let mut insn = IcedInstruction::default();
    let mut out = Vec::with_capacity(c.bytes.len() / 4);
    while d.can_decode() {
        let off = d.position();
        d.decode_out(&mut insn);
        if !insn.is_invalid() {
            out.push(off as u32);
        }
    }
    out
}

fn sample(rng: &mut Rng, from: &[u32], n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| from[rng.below(from.len() as u64) as usize])
        .collect()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing special: run
    // only when asked to benchmark.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("decode benchmark: run with `cargo bench -p hvemu-tests --bench decode`");
        return;
    }
    let rounds = std::env::var("HVEMU_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11usize)
        .max(11);
    let c = Corpus::rustc_driver_text();
    let starts = boundaries(&c);
    println!(
        "corpus {}: .text {:.1} MB, {} instructions (iced sweep); {rounds} rounds",
        c.path.display(),
        c.bytes.len() as f64 / 1e6,
        starts.len()
    );
    let mut rng = Rng::new(0xbe9c_0001);
    // The hot window: 32 KiB in the middle of the corpus.
    let mid = (c.bytes.len() / 2).saturating_sub(HOT_WINDOW / 2) as u32;
    let hot_from: Vec<u32> = starts
        .iter()
        .copied()
        .filter(|&s| s >= mid && s < mid + HOT_WINDOW as u32)
        .collect();
    assert!(!hot_from.is_empty(), "no instruction in the hot window");
    let hot = sample(&mut rng, &hot_from, ONE_SHOTS);
    let whole = sample(&mut rng, &starts, ONE_SHOTS);

    let workloads = [
        "linear sweep",
        "one-shot, hot 32 KiB",
        "one-shot, whole corpus",
    ];
    // times[workload][decoder]
    let mut times: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); 3]; workloads.len()];
    let mut counts = [[0usize; 3]; 3];
    for round in 0..rounds {
        for (w, _) in workloads.iter().enumerate() {
            for k in 0..3 {
                let di = (k + round + w) % 3;
                let dec = DECODERS[di];
                let t = Instant::now();
                let (n, sum) = match w {
                    0 => sweep(dec, &c),
                    1 => one_shots(dec, &c, &hot),
                    _ => one_shots(dec, &c, &whole),
                };
                let dt = t.elapsed();
                black_box(sum);
                times[w][di].push(dt);
                counts[w][di] = n;
            }
        }
    }
    println!(
        "{:<24} {:>13} {:>13} {:>13} {:>11} {:>14}",
        "workload (Minsn/s)", "hvemu", "iced", "yaxpeax", "hvemu/iced", "hvemu/yaxpeax"
    );
    for (w, name) in workloads.iter().enumerate() {
        let rate: Vec<f64> = (0..3)
            .map(|d| counts[w][d] as f64 / median(&mut times[w][d]).as_secs_f64() / 1e6)
            .collect();
        println!(
            "{name:<24} {:>13.1} {:>13.1} {:>13.1} {:>11.2} {:>14.2}",
            rate[0],
            rate[1],
            rate[2],
            rate[0] / rate[1],
            rate[0] / rate[2]
        );
    }
    println!(
        "instructions per sweep: hvemu {}, iced {}, yaxpeax {}",
        counts[0][0], counts[0][1], counts[0][2]
    );
}
