//! String instructions, the emulator against the host processor: MOVS, CMPS, STOS, LODS and
//! SCAS at every element size, without a repeat prefix and with REP/REPE (F3) and REPNE (F2),
//! DF 0 and 1, in 64-bit mode, in compatibility mode and in 16-bit code under long mode (the
//! harness's 16-bit LDT code segment), run natively (`hvemu_tests::native`) and,
//! from the same state, through the conformance runner (`hvemu_cli::cases::run_case`, which
//! re-enters the emulator while it hands back a REP instruction part done: the runner's budget
//! is 1,024 elements, so the long runs here take several calls). Every difference is a mismatch.
//!
//! - **Instructions**: the opcode (A4-A7, AA-AF), 66 for words, REX.W for quadwords (64-bit
//!   mode), the repeat prefix (none, F3, F2, both in either order: the last one counts), the
//!   address-size prefix 67 (32-bit addresses in 64-bit mode, with garbage in the upper halves
//!   of RCX/RSI/RDI that must be ignored and zeroed; 16-bit addresses in compatibility mode,
//!   with garbage above bit 15 that must be kept; in 16-bit code the other way round: 16-bit
//!   addresses without it, 32-bit with it, and 66 for doublewords), and source segment overrides
//!   (FS/GS with a base; the others, which are flat or ignored). Outside 64-bit mode ES and DS
//!   are one of the harness's LDT data segments (`native::DataSeg`) in most cases with 16-bit
//!   addresses and now and then otherwise: based below the window, limits inside it, so 16-bit
//!   offsets reach the window and runs meet a limit (#GP); read-only (#GP on writes),
//!   expand-down, or the null selector (#GP); with an SS override, SS is one of the writable
//!   ones (#SS at its limits). INS and OUTS run too (a small share): at CPL 3 with IOPL 0 they must
//!   raise #GP(0) before anything else, RCX = 0 included (the host has no I/O permission entry,
//!   Linux's bitmap denies every port).
//! - **State**: RCX mostly small (0, 1-8, 9-64) and sometimes up to 1,100 elements, which crosses
//!   pages; RSI and RDI anywhere in the read-write pages, at page boundaries (elements split
//!   across two pages), just below the not-present guard page and above the one below the
//!   window (faults in the middle of a run, in both directions), on the read-only page (reads
//!   pass, writes fault); memory around both filled with random bytes, or with one repeated
//!   byte with a few different ones (so REPE/REPNE CMPS and SCAS run long and stop somewhere);
//!   random status flags, DF, and AC (alignment checks: CR0.AM is set as Linux runs). A few
//!   cases have RCX = 0 with wild pointers (nothing may be accessed), a few non-canonical
//!   pointers in 64-bit mode (a source through an FS or GS base never: base + offset would
//!   reach the kernel's half on Intel, which checks only the sum).
//! - **Expected**: the processor's registers (at the fault for an exception, so the progress of
//!   a REP instruction), RIP, RFLAGS under `COMPARE_FLAGS`, the window's changed bytes, the
//!   exception with its error code and CR2, no device access.
//!
//! `HVEMU_NATIVE_STRINGS_N` cases (default 200,000; `_` allowed), a third per mode;
//! `HVEMU_NATIVE_STRINGS_SEED` changes the seed. The summary per instruction and mode is
//! printed (`--nocapture` shows it on success), with up to 30 mismatches in full (bytes, state,
//! the runner's result line). Zero mismatches is the assertion.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use hvemu::flags::{AC, DF};
use hvemu_cli::cases::model::Case;
use hvemu_cli::cases::{Verdict, run_case};
use hvemu_tests::casegen::{special_data_seg, special_stack_seg};
use hvemu_tests::hex;
use hvemu_tests::native::{
    self, DataSeg, GUARD_PAGE, Mode, Native, Outcome, Output, PAGE, RO_PAGE, SCRATCH_BASE,
    SCRATCH_END, reg,
};
use hvemu_tests::native_case::{Start, env_u64, mode_name};
use hvemu_tests::native_report::outside_window;
use hvemu_tests::randgen::Rng;
use std::collections::BTreeMap;
use std::time::Instant;

const DEFAULT_N: u64 = 200_000;
const DEFAULT_SEED: u64 = 0x7374_7269_6e67_7321; // "strings!"
/// The read-write pages of the window.
const RW_END: u64 = GUARD_PAGE;
const SHOWN: usize = 30;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Movs,
    Cmps,
    Stos,
    Lods,
    Scas,
    Ins,
    Outs,
}

impl Op {
    /// The byte-sized opcode (the others are +1).
    fn opcode(self) -> u8 {
        match self {
            Op::Movs => 0xa4,
            Op::Cmps => 0xa6,
            Op::Stos => 0xaa,
            Op::Lods => 0xac,
            Op::Scas => 0xae,
            Op::Ins => 0x6c,
            Op::Outs => 0x6e,
        }
    }
    fn has_src(self) -> bool {
        matches!(self, Op::Movs | Op::Cmps | Op::Lods | Op::Outs)
    }
    fn has_dst(self) -> bool {
        matches!(self, Op::Movs | Op::Cmps | Op::Stos | Op::Scas | Op::Ins)
    }
}

/// One generated case.
struct Gen {
    op: Op,
    mode: Mode,
    size: u8,
    rep: &'static str,
    a67: bool,
    bytes: Vec<u8>,
    state: native::State,
    /// Initial contents of the window (the rest is zero).
    mem: Vec<(u64, Vec<u8>)>,
}

/// A pointer for one side: somewhere the run is interesting.
fn pointer(rng: &mut Rng, size: u8, down: bool) -> u64 {
    let s = u64::from(size);
    match rng.below(10) {
        // anywhere in the read-write pages
        0..=2 => SCRATCH_BASE + rng.below(RW_END - SCRATCH_BASE - 8),
        // at a boundary between two read-write pages (split elements)
        3 | 4 => SCRATCH_BASE + PAGE * (1 + rng.below(3)) - 8 + rng.below(16),
        // just below the guard page (ascending runs fault there)
        5 => GUARD_PAGE - 1 - rng.below(40) * s.max(1) - rng.below(s),
        // just above the page below the window (descending runs fault there)
        6 => SCRATCH_BASE + rng.below(40) * s + rng.below(s),
        // the read-only page (reads pass, writes fault), and its end (SCRATCH_END is absent)
        7 => RO_PAGE + rng.below(PAGE - 8),
        8 => {
            if down {
                RO_PAGE + rng.below(40) * s
            } else {
                SCRATCH_END - 1 - rng.below(40) * s
            }
        }
        // straddling the first page of the window or the guard page
        _ => rng.pick(&[SCRATCH_BASE, GUARD_PAGE]) - 8 + rng.below(16),
    }
}

fn edge(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => u64::MAX,
        2 => rng.next_u64() & 0xff,
        _ => rng.next_u64(),
    }
}

/// Fills `len` bytes around `addr` (clipped to the read-write pages and the read-only page).
fn fill(rng: &mut Rng, addr: u64, span: u64, pattern: Option<u8>, out: &mut Vec<(u64, Vec<u8>)>) {
    for (lo, hi) in [(SCRATCH_BASE, RW_END), (RO_PAGE, SCRATCH_END)] {
        let a = addr.saturating_sub(span).max(lo);
        let b = addr.saturating_add(span).min(hi);
        if a >= b {
            continue;
        }
        let mut bytes = vec![0u8; (b - a) as usize];
        match pattern {
            None => bytes.iter_mut().for_each(|x| *x = rng.byte()),
            Some(c) => {
                bytes.fill(c);
                // a few different bytes, mostly near the start of the run
                for _ in 0..rng.below(4) {
                    let near = (addr - a) as i64 + rng.below(160) as i64 - 80;
                    let i = near.clamp(0, bytes.len() as i64 - 1) as usize;
                    bytes[i] = rng.byte();
                }
            }
        }
        out.push((a, bytes));
    }
}

fn generate(rng: &mut Rng, mode: Mode) -> Gen {
    let is64 = mode == Mode::Long64;
    // In 16-bit code 66 selects doublewords and 67 32-bit addresses.
    let code16 = mode == Mode::Compat16;
    let op = match rng.below(100) {
        0..=21 => Op::Movs,
        22..=41 => Op::Cmps,
        42..=59 => Op::Stos,
        60..=75 => Op::Lods,
        76..=96 => Op::Scas,
        97 | 98 => Op::Ins,
        _ => Op::Outs,
    };
    let io = matches!(op, Op::Ins | Op::Outs);
    let size = if is64 && !io {
        rng.pick(&[1u8, 2, 4, 8])
    } else {
        rng.pick(&[1u8, 2, 4])
    };
    let (rep, rep_bytes): (&'static str, &[u8]) = match rng.below(20) {
        0..=4 => ("none", &[]),
        5..=12 => ("f3", &[0xf3]),
        13..=17 => ("f2", &[0xf2]),
        18 => ("f2f3", &[0xf2, 0xf3]),
        _ => ("f3f2", &[0xf3, 0xf2]),
    };
    let repeats = rep != "none";
    // (In 16-bit code, without 67 a destination, through ES with base 0, is below 64 KiB:
    // never mapped, so the run faults at once.)
    let a67 = rng.chance(if code16 { 50 } else { 20 });
    let mut state = native::State::default();
    let down = rng.chance(50);
    state.rflags = rng.next_u64() & 0x8d5;
    if down {
        state.rflags |= DF;
    }
    if rng.chance(8) {
        state.rflags |= AC;
    }
    // Legacy prefixes in random order.
    let mut prefixes: Vec<u8> = rep_bytes.to_vec();
    if size == if code16 { 4 } else { 2 } {
        prefixes.push(0x66);
    }
    if a67 {
        prefixes.push(0x67);
    }
    // A source segment override: FS/GS with a base (16-bit addresses need it to reach the
    // window), or one that is flat (or ignored in 64-bit mode).
    let a16 = !is64 && a67 != code16;
    let seg_pick = if a16 && op.has_src() && rng.chance(85) {
        rng.pick(&[0x64u8, 0x65])
    } else if rng.chance(25) {
        // (Not CS in 16-bit code: its base is the instruction's, its bytes the harness's.)
        if code16 {
            rng.pick(&[0x26u8, 0x36, 0x3e, 0x64, 0x65])
        } else {
            rng.pick(&[0x26u8, 0x2e, 0x36, 0x3e, 0x64, 0x65])
        }
    } else {
        0
    };
    if seg_pick != 0 {
        prefixes.push(seg_pick);
    }
    for i in (1..prefixes.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        // Keep F2/F3 in their relative order (the last one counts).
        if !(matches!(prefixes[i], 0xf2 | 0xf3) && matches!(prefixes[j], 0xf2 | 0xf3)) {
            prefixes.swap(i, j);
        }
    }
    let mut bytes = prefixes;
    if size == 8 {
        bytes.push(0x48 | rng.below(8) as u8);
    }
    bytes.push(op.opcode() + u8::from(size != 1));

    // Count.
    let count = match rng.below(100) {
        0..=5 => 0,
        6..=40 => 1 + rng.below(8),
        41..=75 => 9 + rng.below(56),
        _ => 65 + rng.below(1036),
    };
    // Where the runs start (linear addresses), then the offsets and segment bases that give
    // them.
    let src_lin = pointer(rng, size, down);
    let dst_lin = pointer(rng, size, down);
    let based = matches!(seg_pick, 0x64 | 0x65) && op.has_src();
    let mut seg_base = 0u64;
    // Outside 64-bit mode ES and DS are now and then the harness's data segment DATA16 (based
    // below the window, limit at the end of its read-write pages), which 16-bit offsets
    // reach the window through; mostly so with 16-bit addresses.
    let data16_pct = if is64 {
        0
    } else if a16 {
        85
    } else {
        15
    };
    let data_seg = |rng: &mut Rng| {
        if rng.chance(data16_pct) {
            special_data_seg(rng)
        } else {
            DataSeg::Flat
        }
    };
    state.es = data_seg(rng);
    state.ds = data_seg(rng);
    if seg_pick == 0x36 && rng.chance(data16_pct) {
        // SS can hold only the writable ones; its limit faults are #SS.
        state.ss = special_stack_seg(rng);
    }
    // The source's segment when it is not FS or GS: DS by default, or ES or SS by override.
    let src_seg = match seg_pick {
        0x26 => state.es,
        0x36 => state.ss,
        0 | 0x3e => state.ds,
        _ => DataSeg::Flat,
    };
    let src_data16 = src_seg.in_ldt();
    let (mut si, mut di);
    if a16 {
        // 16-bit offsets: the source through the FS/GS base or an LDT segment, the
        // destination through an LDT segment; otherwise below 64 KiB of a flat segment, never
        // mapped (mmap_min_addr).
        si = src_lin.wrapping_sub(src_seg.base()) & 0xffff;
        if based {
            seg_base = src_lin - si;
        }
        di = dst_lin.wrapping_sub(state.es.base()) & 0xffff;
    } else {
        si = if based {
            src_lin
        } else {
            src_lin.wrapping_sub(src_seg.base())
        };
        di = dst_lin.wrapping_sub(state.es.base());
        if based && rng.chance(60) {
            seg_base = match (is64, a67) {
                // canonical (WRFSBASE checks), possibly in the upper half
                (true, false) => (((rng.next_u64() >> rng.below(48)) << 16) as i64 >> 16) as u64,
                (true, true) => rng.below(src_lin + 1),
                _ => rng.next_u64() & 0xffff_ffff,
            };
            si = src_lin.wrapping_sub(seg_base);
            if !is64 || a67 {
                si &= 0xffff_ffff;
            }
        }
    }
    let wild = repeats && count == 0 && rng.chance(50);
    if wild {
        si = edge(rng);
        di = edge(rng);
    }
    if is64 && !a67 && rng.chance(3) {
        // Non-canonical (#GP, or #SS through SS: but an SS override is ignored in 64-bit mode).
        let bad = rng.pick(&[0x0000_8000_0000_0000u64, 0xffff_7fff_ffff_f000]) + rng.below(0x1000);
        // Not the source through an FS or GS base: Intel checks only base + offset, which then
        // lands in the kernel's half, whose pages (present or not) the case cannot describe.
        if rng.chance(50) && !based {
            si = bad;
        } else {
            di = bad;
        }
    }
    let mut rcx = count;
    if is64 {
        if a67 {
            // The upper halves are ignored (and zeroed when written).
            for r in [&mut rcx, &mut si, &mut di] {
                if rng.chance(50) {
                    *r |= rng.next_u64() << 32;
                }
            }
        }
    } else {
        if a16 {
            // Bits 16-31 are kept.
            for r in [&mut rcx, &mut si, &mut di] {
                if rng.chance(50) {
                    *r |= (rng.next_u64() & 0xffff) << 16;
                }
            }
        }
        si &= 0xffff_ffff;
        di &= 0xffff_ffff;
        rcx &= 0xffff_ffff;
    }
    if !repeats && rng.chance(50) {
        rcx = edge(rng);
        if !is64 {
            rcx &= 0xffff_ffff;
        }
    }
    for (i, g) in state.gpr.iter_mut().enumerate() {
        *g = if is64 {
            edge(rng)
        } else {
            edge(rng) & 0xffff_ffff
        };
        if i == reg::RSP {
            *g = SCRATCH_BASE + 0x2000;
        }
    }
    state.gpr[reg::RCX] = rcx;
    state.gpr[reg::RSI] = si;
    state.gpr[reg::RDI] = di;
    state.gpr[reg::RDX] = 0x3f8;
    if rng.chance(20) {
        // Bases of segments the instruction does not use.
        state.fs_base = rng.next_u64() & 0x7fff_ffff_f000;
        state.gs_base = rng.next_u64() & 0xffff_f000;
    }
    match seg_pick {
        0x64 => state.fs_base = seg_base,
        0x65 => state.gs_base = seg_base,
        _ => {}
    }
    if !is64 {
        state.fs_base &= 0xffff_ffff;
        state.gs_base &= 0xffff_ffff;
    }

    // Memory around both runs: random, or one byte repeated with a few others.
    let mut mem = Vec::new();
    if !wild {
        let span = (count.min(1100) + 2) * u64::from(size) + 16;
        let pattern = if rng.chance(60) {
            let c = rng.byte();
            if rng.chance(40) {
                // the accumulator matches the pattern (long REPE SCAS runs)
                state.gpr[reg::RAX] = u64::from(c) * 0x0101_0101_0101_0101;
                if !is64 {
                    state.gpr[reg::RAX] &= 0xffff_ffff;
                }
            }
            Some(c)
        } else {
            None
        };
        if op.has_src() && (!a16 || based || src_data16) {
            fill(rng, src_lin, span, pattern, &mut mem);
        }
        if op.has_dst() && (!a16 || state.es.in_ldt()) {
            fill(rng, dst_lin, span, pattern, &mut mem);
        }
    }
    Gen {
        op,
        mode,
        size,
        rep,
        a67,
        bytes,
        state,
        mem,
    }
}

fn build_case(g: &Gen, out: &Output, ram: Vec<(u64, Vec<u8>)>) -> Case {
    let start = Start {
        mode: g.mode,
        bytes: &g.bytes,
        exit_bytes: g.bytes.len(),
        state: &g.state,
        mem: &g.mem,
    };
    hvemu_tests::native_case::build_case(&start, out, ram, outside_window())
}

#[derive(Default)]
struct Tally {
    cases: u64,
    faults: u64,
    reps: u64,
    elements: u64,
    mismatches: u64,
}

#[test]
fn string_instructions_match_the_processor() {
    let n_total = env_u64("HVEMU_NATIVE_STRINGS_N").unwrap_or(DEFAULT_N);
    let seed = env_u64("HVEMU_NATIVE_STRINGS_SEED").unwrap_or(DEFAULT_SEED);
    let mut native = Native::new().expect("native harness");
    let mut rng = Rng::new(seed);
    let mut tally: BTreeMap<(Op, &'static str, &'static str), Tally> = BTreeMap::new();
    let mut shown = Vec::new();
    let mut refused = 0u64;
    let mut mismatches = 0u64;
    let t0 = Instant::now();
    let mut emu_time = 0f64;
    for i in 0..n_total {
        let mode = [Mode::Long64, Mode::Compat32, Mode::Compat16][(i % 3) as usize];
        let g = generate(&mut rng, mode);
        native.clear_mem();
        for (a, b) in &g.mem {
            native.write(*a, b);
        }
        let before = native.mem().to_vec();
        let out = match native.run(mode, &g.bytes, &g.state) {
            Ok(o) => o,
            Err(native::Error::Refused(_)) => {
                refused += 1;
                continue;
            }
            Err(e) => panic!("{:02x?}: {e}", g.bytes),
        };
        assert!(
            !matches!(out.outcome, Outcome::Hung),
            "{:02x?} hung",
            g.bytes
        );
        let ram = native::diff(&before, native.mem());
        let case = build_case(&g, &out, ram);
        let t = Instant::now();
        let r = run_case(&case, "native string", 0);
        emu_time += t.elapsed().as_secs_f64();
        let mode_name = mode_name(mode);
        let t = tally.entry((g.op, mode_name, g.rep)).or_default();
        t.cases += 1;
        t.faults += u64::from(matches!(out.outcome, Outcome::Exception(_)));
        let before_rcx = g.state.gpr[reg::RCX];
        if g.rep != "none" {
            t.reps += 1;
            let mask = match (mode, g.a67) {
                (Mode::Long64, false) => u64::MAX,
                (Mode::Long64, true) | (Mode::Compat32, false) | (Mode::Compat16, true) => {
                    0xffff_ffff
                }
                (Mode::Compat32, true) | (Mode::Compat16, false) => 0xffff,
            };
            t.elements += (before_rcx & mask).wrapping_sub(out.state.gpr[reg::RCX] & mask) & mask;
        }
        if r.verdict != Verdict::Passed {
            t.mismatches += 1;
            mismatches += 1;
            if shown.len() < SHOWN {
                shown.push(format!(
                    concat!(
                        "{:?} {} size {} rep {} a67 {} bytes {}\n",
                        "  gpr {:x?} rflags {:#x} fs {:#x} gs {:#x}\n",
                        "  native: {:x?} rip {:#x} gpr {:x?} rflags {:#x}\n  runner: {}"
                    ),
                    g.op,
                    mode_name,
                    g.size,
                    g.rep,
                    g.a67,
                    hex(&g.bytes),
                    g.state.gpr,
                    g.state.rflags,
                    g.state.fs_base,
                    g.state.gs_base,
                    out.outcome,
                    out.rip,
                    out.state.gpr,
                    out.state.rflags,
                    r.line.to_json(),
                ));
            }
        }
    }
    let total: u64 = tally.values().map(|t| t.cases).sum();
    println!(
        concat!(
            "native strings: {} cases ({} refused by the harness), ",
            "{} mismatches, {:.1} s ({:.1} s in the emulator runner)"
        ),
        total,
        refused,
        mismatches,
        t0.elapsed().as_secs_f64(),
        emu_time
    );
    println!(
        "{:<6} {:<9} {:<5} {:>8} {:>8} {:>8} {:>10} {:>6}",
        "op", "mode", "rep", "cases", "faults", "rep", "elements", "bad"
    );
    for ((op, mode, rep), t) in &tally {
        println!(
            "{:<6} {:<9} {:<5} {:>8} {:>8} {:>8} {:>10} {:>6}",
            format!("{op:?}"),
            mode,
            rep,
            t.cases,
            t.faults,
            t.reps,
            t.elements,
            t.mismatches
        );
    }
    for s in &shown {
        println!("{s}");
    }
    assert!(total >= n_total * 99 / 100, "too many cases refused");
    assert_eq!(
        mismatches, 0,
        "string instructions differ from the processor"
    );
}
