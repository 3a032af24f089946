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
//! 3. the same from the whole corpus (mostly cache misses);
//! 4. and 5. the one-shots of 2. and 3. chained: each start waits for the previous decode's
//!    result (its length and operation, through a zero the compiler cannot see), so decodes do
//!    not overlap. This is the cost a VM exit sees, one instruction at a time. Without the chain
//!    the processor runs ahead into the next, independent decode while an input's cache miss is
//!    pending, and workload 3 measures mostly how far each decoder lets it run ahead (how many
//!    misses overlap), not the decode. Chained, the whole-corpus figure is mostly the input's own
//!    miss, so its row "beyond the input load" compares the time beyond a chained load of the
//!    first byte alone (measured in the same rounds);
//! 6. single decodes after 8 MiB of writes elsewhere (the guest ran between two exits: the
//!    decoder's tables and code are out of the L1 and L2 caches), the instruction's bytes in a
//!    fresh 32-byte buffer as an exit context carries them; each decode timed alone: the mean of
//!    the middle half of the samples and their quartiles, the timer's own cost shown by an empty
//!    row and taken off for the ratios.
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
/// Single decodes per decoder and round in the cold-cache workload.
const COLD_SAMPLES: usize = 500;
/// What the cold-cache workload writes between two decodes: more than the L2 caches hold.
const EVICT_BYTES: usize = 8 << 20;

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
                    Ok(len) => {
                        n += 1;
                        sum = sum.wrapping_add(i.op as u64);
                        len
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

/// One-shot decodes at `starts`, a fresh decoder each. `CHAINED`: each start waits for the
/// previous decode's result (its length and operation, masked by a zero the compiler cannot
/// see); else the mask is a zero it sees, and the decodes are independent. `None` as the
/// decoder is the first input byte's load alone. Returns (decodes, checksum).
fn one_shots<const CHAINED: bool>(dec: Option<Dec>, c: &Corpus, starts: &[u32]) -> (usize, u64) {
    let bytes = &c.bytes[..];
    let zero = if CHAINED { black_box(0usize) } else { 0 };
    let mut dep = 0usize;
    let mut sum = 0u64;
    match dec {
        Some(Dec::Hvemu) => {
            let mut i = blank();
            for &s in starts {
                let s = s as usize + (dep & zero);
                if let Ok(len) = decode_into(&bytes[s..], Mode::Long64, Vendor::Intel, &mut i) {
                    dep = len + i.op as usize;
                    sum = sum.wrapping_add(dep as u64);
                }
            }
        }
        Some(Dec::Iced) => {
            let mut insn = IcedInstruction::default();
            for &s in starts {
                let s = s as usize + (dep & zero);
                let ip = c.addr + s as u64;
                let mut d = Decoder::with_ip(64, &bytes[s..], ip, DecoderOptions::NO_INVALID_CHECK);
                d.decode_out(&mut insn);
                dep = insn.len() + insn.code() as usize;
                sum = sum.wrapping_add(dep as u64);
            }
        }
        Some(Dec::Yaxpeax) => {
            for &s in starts {
                let s = s as usize + (dep & zero);
                if let Ok(i) = InstDecoder::default().decode_slice(&bytes[s..]) {
                    dep = i.len().to_const() as usize + i.opcode() as usize;
                    sum = sum.wrapping_add(dep as u64);
                }
            }
        }
        None => {
            for &s in starts {
                let s = s as usize + (dep & zero);
                dep = usize::from(bytes[s]);
                sum = sum.wrapping_add(dep as u64);
            }
        }
    }
    (starts.len(), sum)
}

/// Single decodes of the instructions at `starts` (one per sample), each after `evict` was
/// written through and timed alone; `None` as the decoder times nothing. Returns each decode's
/// time in nanoseconds and a checksum.
fn cold(dec: Option<Dec>, c: &Corpus, starts: &[u32], evict: &mut [u8]) -> (Vec<u64>, u64) {
    let mut times = Vec::with_capacity(starts.len());
    let mut sum = 0u64;
    let mut i = blank();
    let mut iced = IcedInstruction::default();
    for &s in starts {
        for line in evict.iter_mut().step_by(64) {
            *line = line.wrapping_add(1);
        }
        let mut win = [0u8; 32];
        let end = (s as usize + win.len()).min(c.bytes.len());
        let from = &c.bytes[s as usize..end];
        win[..from.len()].copy_from_slice(from);
        let win = black_box(&win);
        let t = Instant::now();
        let r = match dec {
            Some(Dec::Hvemu) => match decode_into(win, Mode::Long64, Vendor::Intel, &mut i) {
                Ok(len) => len as u64 + i.op as u64,
                Err(_) => 0,
            },
            Some(Dec::Iced) => {
                let mut d =
                    Decoder::with_ip(64, win, c.addr + s as u64, DecoderOptions::NO_INVALID_CHECK);
                d.decode_out(&mut iced);
                iced.len() as u64 + iced.code() as u64
            }
            Some(Dec::Yaxpeax) => match InstDecoder::default().decode_slice(win) {
                Ok(y) => y.len().to_const() + y.opcode() as u64,
                Err(_) => 0,
            },
            None => 0,
        };
        let r = black_box(r);
        times.push(t.elapsed().as_nanos() as u64);
        sum = sum.wrapping_add(r);
    }
    (times, sum)
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

/// The first quartile, the mean of the middle half (a median with a finer resolution than the
/// clock's steps) and the third quartile of `v` (sorted in place).
fn middle(v: &mut [u64]) -> (u64, f64, u64) {
    v.sort_unstable();
    let mid = &v[v.len() / 4..v.len() * 3 / 4];
    let mean = mid.iter().sum::<u64>() as f64 / mid.len() as f64;
    (v[v.len() / 4], mean, v[v.len() * 3 / 4])
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
        "chained, hot 32 KiB",
        "chained, whole corpus",
    ];
    // times[workload][decoder]; the chained input loads alone, and the cold single decodes.
    let mut times: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); 3]; workloads.len()];
    let mut counts = [[0usize; 3]; 5];
    let mut load_alone = Vec::new();
    let mut cold_ns: Vec<Vec<u64>> = vec![Vec::new(); 4];
    let mut evict = vec![0u8; EVICT_BYTES];
    for round in 0..rounds {
        for (w, _) in workloads.iter().enumerate() {
            for k in 0..3 {
                let di = (k + round + w) % 3;
                let dec = DECODERS[di];
                let t = Instant::now();
                let (n, sum) = match w {
                    0 => sweep(dec, &c),
                    1 => one_shots::<false>(Some(dec), &c, &hot),
                    2 => one_shots::<false>(Some(dec), &c, &whole),
                    3 => one_shots::<true>(Some(dec), &c, &hot),
                    _ => one_shots::<true>(Some(dec), &c, &whole),
                };
                let dt = t.elapsed();
                black_box(sum);
                times[w][di].push(dt);
                counts[w][di] = n;
            }
        }
        let t = Instant::now();
        black_box(one_shots::<true>(None, &c, &whole));
        load_alone.push(t.elapsed());
        let picks = sample(&mut rng, &starts, COLD_SAMPLES);
        for k in 0..4 {
            let di = (k + round) % 4;
            let (ns, sum) = cold(DECODERS.get(di).copied(), &c, &picks, &mut evict);
            black_box(sum);
            cold_ns[di].extend(ns);
        }
    }
    println!(
        "{:<24} {:>13} {:>13} {:>13} {:>11} {:>14}",
        "workload (Minsn/s)", "hvemu", "iced", "yaxpeax", "hvemu/iced", "hvemu/yaxpeax"
    );
    let mut per_decode = [[0f64; 3]; 5];
    for (w, name) in workloads.iter().enumerate() {
        let rate: Vec<f64> = (0..3)
            .map(|d| counts[w][d] as f64 / median(&mut times[w][d]).as_secs_f64() / 1e6)
            .collect();
        for d in 0..3 {
            per_decode[w][d] = 1e3 / rate[d];
        }
        println!(
            "{name:<24} {:>13.1} {:>13.1} {:>13.1} {:>11.2} {:>14.2}",
            rate[0],
            rate[1],
            rate[2],
            rate[0] / rate[1],
            rate[0] / rate[2]
        );
    }
    // The chained whole-corpus decodes less the chained input load alone (ns per decode).
    let load_ns = median(&mut load_alone).as_secs_f64() * 1e9 / whole.len() as f64;
    let beyond: Vec<f64> = per_decode[4].iter().map(|&t| t - load_ns).collect();
    println!(
        "{:<24} {:>13} {:>13} {:>13} {:>11.2} {:>14.2}",
        "  beyond the input load",
        format!("{:.1} ns", beyond[0]),
        format!("{:.1} ns", beyond[1]),
        format!("{:.1} ns", beyond[2]),
        beyond[1] / beyond[0],
        beyond[2] / beyond[0]
    );
    println!("  (the input load alone, chained: {load_ns:.1} ns)");
    let cold_q: Vec<(u64, f64, u64)> = cold_ns.iter_mut().map(|v| middle(v)).collect();
    let cold_net = |d: usize| (cold_q[d].1 - cold_q[3].1).max(1.0);
    println!(
        "{:<24} {:>13} {:>13} {:>13} {:>11.2} {:>14.2}",
        "cold caches",
        format!("{:.1} ns", cold_q[0].1),
        format!("{:.1} ns", cold_q[1].1),
        format!("{:.1} ns", cold_q[2].1),
        cold_net(1) / cold_net(0),
        cold_net(2) / cold_net(0)
    );
    println!(
        "{:<24} {:>13} {:>13} {:>13}",
        "  quartiles",
        format!("{}-{} ns", cold_q[0].0, cold_q[0].2),
        format!("{}-{} ns", cold_q[1].0, cold_q[1].2),
        format!("{}-{} ns", cold_q[2].0, cold_q[2].2),
    );
    println!(
        "  ({} single decodes each after {} MiB of writes, the mean of the middle half; the timer \
         alone: {:.1} ns, taken off for the ratios)",
        cold_ns[0].len(),
        EVICT_BYTES >> 20,
        cold_q[3].1
    );
    println!(
        "instructions per sweep: hvemu {}, iced {}, yaxpeax {}",
        counts[0][0], counts[0][1], counts[0][2]
    );
}
