//! The emulator against the host processor, end to end: random instructions of the families of
//! issue 3 run natively (`hvemu_tests::native`) and, from the same state, through the
//! conformance runner (`hvemu_cli::cases::run_case`, which drives the emulator through the
//! host interface with a `TestHost`). Every difference is a mismatch.
//!
//! - **Cases**: `hvemu_tests::casegen` makes them: every family at every operand size, register
//!   and memory forms with all the addressing forms, memory operands in the scratch window and
//!   across its guard page (#PF), on the read-only page (#PF on writes), misaligned with AC = 1
//!   (#AC), non-canonical in 64-bit mode (#GP, #SS), FS/GS bases, LOCK on the lockable memory
//!   forms (and rarely elsewhere: #UD), edge-biased values and counts, random status flags, DF
//!   and AC; in 64-bit mode, in compatibility mode and in 16-bit code under long mode (a 16-bit
//!   code segment of the process's LDT: 16-bit operands and addressing by default, 66 and 67
//!   for 32-bit); outside 64-bit mode ES, DS and SS (named by an override) may hold the LDT's
//!   data segments (limits, read-only, expand-down, null; #SS rather than #GP through SS), and
//!   PUSH and POP may run on a stack in one of them (SS 16-bit: SP wrapping at 64 KiB, ESP's
//!   upper half kept, #SS past the limit; or the 32-bit expand-down one). `HVEMU_NATIVE_DIFF_N`
//!   cases in all (default 1,000,000 in release builds, 100,000 in debug builds; `_` allowed),
//!   split across families by weight and across the three modes; `HVEMU_NATIVE_DIFF_SEED`
//!   changes the seed, `HVEMU_NATIVE_DIFF_ONLY=alu,shift` runs only some families (the names
//!   of `Family`, lower case).
//! - **The case** given to the runner: mode `long64` or `compat32` (16-bit code: `compat32`
//!   with the 16-bit code segment, based at `INSN_ADDR`, and RIP 0), the host's vendor (the
//!   undefined flags are exact for an AMD Zen 4 and an Intel 5th-generation Xeon), CPL 3 (CS and SS
//!   DPL 3), CR0.AM set (as Linux runs), RIP = `INSN_ADDR`, the GPRs, RFLAGS and the FS and
//!   GS bases, `exit_bytes` from the generator (usually all of them), RAM = the
//!   window's initial contents (every other byte 0 on both sides) and the instruction bytes,
//!   the not-present pages of the window (and, in 64-bit mode, the pages on both sides of the
//!   non-canonical hole, which only accesses that straddle the hole reach: they must be #GP or
//!   #SS before any translation) and the read-only page (`Case::read_only`).
//!   Expected: the native final registers, RIP, RFLAGS under `COMPARE_FLAGS`, the window's
//!   changed bytes, no device accesses, and the exception (vector, error code, CR2).
//! - **Verdicts**: a case passes when the runner finds no difference. A failing case is run
//!   again with the architecturally undefined flags of its instruction masked, which gives the
//!   second pass rate of the report (both must be 100%). An
//!   instruction the emulator refuses (`unsupported`) is a failure too, counted apart.
//!
//! The report (printed; `--nocapture` shows it on success) has a table per family and mode, the
//! processor's outcomes, and the mismatches grouped by the processor's and the emulator's
//! outcome (and, when these agree, the fields that differ), each group with its instruction
//! forms and reproducers of different forms (the shortest instruction of each): bytes, disassembly, the state, what the processor did and what the emulator
//! did, and the case as a JSON line for `hvemu cases` (which cannot express the read-only
//! page). `HVEMU_NATIVE_DIFF_CASES=FILE` writes those JSON lines to a file.
//!
//! Two threads: this one generates and runs the cases natively (the harness is one per
//! process), a second one runs the emulator.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use hvemu::decode;
use hvemu_cli::cases::json::Value;
use hvemu_cli::cases::model::{self, Case, RFLAGS, RIP, SEG_NAMES};
use hvemu_cli::cases::{Verdict, run_case};
use hvemu_tests::casegen::{self, Family, Generated};
use hvemu_tests::hex as hex_bytes;
use hvemu_tests::native::{
    self, COMPARE_FLAGS, Native, Outcome, Output, RO_PAGE, SCRATCH_BASE, SCRATCH_END, reg,
};
use hvemu_tests::native_case::{
    Start, case_mode_name, decode_mode, diff_field, host_vendor, mode_name, outcome_name,
    vendor_name,
};
use hvemu_tests::native_report::{
    CaseFamily, Groups, MODES, emulator_outcome, mode_index, not_present, outside_window, plan,
};
use hvemu_tests::randgen::Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::Instant;

/// Cases per run by default: a million in release builds (CI), a tenth of that in debug builds
/// (about ten times slower).
const DEFAULT_N: u64 = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};
const DEFAULT_SEED: u64 = 0x6876_656d_755f_6e64; // "hvemu_nd"
/// Bytes of the scratch window.
const WINDOW: usize = (SCRATCH_END - SCRATCH_BASE) as usize;

/// One case for the emulator thread.
struct Job {
    g: Generated,
    native: Result<Output, String>,
    /// The window's changed bytes.
    ram: Vec<(u64, Vec<u8>)>,
}

/// The case the runner checks: `g`'s state, the processor's outcome as `final`.
fn build_case(g: &Generated, out: &Output, ram: &[(u64, Vec<u8>)]) -> Case {
    let start = Start {
        mode: g.mode,
        bytes: &g.bytes,
        exit_bytes: g.exit_bytes,
        state: &g.state,
        mem: &g.mem,
    };
    // A stack in an LDT segment may wrap to pages outside the window, all unmapped natively.
    let absent = if g.state.ss.in_ldt() {
        outside_window()
    } else {
        not_present(g.mode, false)
    };
    hvemu_tests::native_case::build_case(&start, out, ram.to_vec(), absent)
}

fn hx(v: u64) -> Value {
    Value::str(format!("{v:#x}"))
}

/// The case as a JSON line in the `hvemu cases` format (the read-only page aside).
fn case_json(g: &Generated, case: &Case, name: &str) -> String {
    let mut regs: Vec<(String, Value)> = (0..16)
        .filter(|&i| g.state.gpr[i] != 0)
        .map(|i| (reg::NAMES[i].to_string(), hx(g.state.gpr[i])))
        .collect();
    regs.push(("rip".into(), hx(case.initial.reg[RIP])));
    regs.push(("rflags".into(), hx(case.initial.reg[RFLAGS])));
    let runs = |r: &[(u64, Vec<u8>)]| {
        Value::Array(
            r.iter()
                .map(|(a, b)| Value::Array(vec![hx(*a), Value::str(hex_bytes(b))]))
                .collect(),
        )
    };
    let ranges = Value::Array(
        case.not_present
            .iter()
            .map(|r| {
                Value::Object(vec![
                    ("base".into(), hx(r.base)),
                    ("size".into(), hx(r.size)),
                ])
            })
            .collect(),
    );
    let mut sregs = vec![("cr0".to_string(), hx(case.initial.ctl[0]))];
    // The segments the case's mode does not default to (16-bit code's CS, DATA16, FS and GS
    // bases).
    let defaults = model::State::defaults(case.mode, case.cpl);
    for (i, name) in SEG_NAMES.iter().enumerate().take(6) {
        let seg = case.initial.seg[i];
        if seg != defaults.seg[i] {
            sregs.push((
                (*name).into(),
                Value::Object(vec![
                    ("selector".into(), hx(u64::from(seg.selector))),
                    ("base".into(), hx(seg.base)),
                    ("limit".into(), hx(u64::from(seg.limit))),
                    ("attributes".into(), hx(u64::from(seg.attributes))),
                ]),
            ));
        }
    }
    let exp = case.expected.as_ref().expect("final");
    let fregs = exp
        .regs
        .iter()
        .map(|(i, v)| {
            let n = match *i {
                RIP => "rip",
                RFLAGS => "rflags",
                i => reg::NAMES[i],
            };
            (n.to_string(), hx(*v))
        })
        .collect();
    let exception = match exp.exception.flatten() {
        None => Value::Null,
        Some(e) => {
            let mut o = vec![("vector".to_string(), Value::int(e.vector))];
            if let Some(Some(c)) = e.error_code {
                o.push(("error_code".into(), hx(u64::from(c))));
            }
            if let Some(Some(c)) = e.cr2 {
                o.push(("cr2".into(), hx(c)));
            }
            Value::Object(o)
        }
    };
    Value::Object(vec![
        ("name".into(), Value::str(name)),
        ("mode".into(), Value::str(case_mode_name(g.mode))),
        ("vendor".into(), Value::str(vendor_name(host_vendor()))),
        ("cpl".into(), Value::int(3)),
        ("bytes".into(), Value::str(hex_bytes(&g.bytes))),
        ("exit_bytes".into(), Value::int(g.exit_bytes as u64)),
        (
            "initial".into(),
            Value::Object(vec![
                ("regs".into(), Value::Object(regs)),
                ("sregs".into(), Value::Object(sregs)),
                ("ram".into(), runs(&g.mem)),
                ("not_present".into(), ranges),
            ]),
        ),
        (
            "final".into(),
            Value::Object(vec![
                ("regs".into(), Value::Object(fregs)),
                ("ram".into(), runs(&exp.ram)),
                ("exception".into(), exception),
            ]),
        ),
        ("flags_mask".into(), hx(case.flags_mask)),
        (
            "read_only_page".into(),
            Value::str(format!("{RO_PAGE:#x} (not expressible in the case format)")),
        ),
    ])
    .to_json()
}

#[derive(Clone, Copy, Default)]
struct Tally {
    cases: u64,
    passed: u64,
    failed: u64,
    unsupported: u64,
    /// Failures that pass with the undefined flags masked.
    flags_only: u64,
    /// Cases the processor faulted on.
    faulted: u64,
    locked: u64,
    memory: u64,
    harness: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.cases += o.cases;
        self.passed += o.passed;
        self.failed += o.failed;
        self.unsupported += o.unsupported;
        self.flags_only += o.flags_only;
        self.faulted += o.faulted;
        self.locked += o.locked;
        self.memory += o.memory;
        self.harness += o.harness;
    }
}

#[derive(Default)]
struct Report {
    tally: BTreeMap<(Family, usize), Tally>,
    /// Cases per processor outcome (`ok`, `#PF`...) and mode.
    outcomes: BTreeMap<String, [u64; 3]>,
    groups: Groups,
}

impl Report {
    fn check(&mut self, job: Job) {
        let g = &job.g;
        let mi = mode_index(g.mode);
        let t = self.tally.entry((g.family, mi)).or_default();
        t.cases += 1;
        t.locked += u64::from(g.locked);
        t.memory += u64::from(g.memory);
        let insn = decode::decode(&g.bytes, decode_mode(g.mode), host_vendor());
        let text = insn
            .as_ref()
            .map_or_else(|e| format!("(no decode: {e:?})"), |i| i.to_string());
        let op = insn
            .as_ref()
            .map_or_else(|_| "?".to_string(), |i| i.op.to_string());
        let out = match &job.native {
            Ok(o) if o.outcome != Outcome::Hung => o,
            other => {
                t.harness += 1;
                let why = match other {
                    Ok(o) => format!("hung at {:#x}", o.rip),
                    Err(e) => e.clone(),
                };
                self.groups.add(
                    format!("harness: {why}"),
                    g.family.name().to_string(),
                    g.mode,
                    g.bytes.len(),
                    format!(
                        "  {} {} `{text}`: native harness: {why}",
                        mode_name(g.mode),
                        hex_bytes(&g.bytes)
                    ),
                    None,
                );
                return;
            }
        };
        t.faulted += u64::from(matches!(out.outcome, Outcome::Exception(_)));
        self.outcomes.entry(outcome_name(out)).or_default()[mi] += 1;
        let mut case = build_case(g, out, &job.ram);
        let r = run_case(&case, "", 0);
        match r.verdict {
            Verdict::Passed => {
                t.passed += 1;
                return;
            }
            Verdict::Unsupported { .. } => t.unsupported += 1,
            _ => t.failed += 1,
        }
        let unsupported = matches!(r.verdict, Verdict::Unsupported { .. });
        let diffs: Vec<String> = match r.line.get("diffs") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        if !unsupported && g.undefined & COMPARE_FLAGS != 0 {
            case.flags_mask &= !g.undefined;
            if run_case(&case, "", 0).verdict == Verdict::Passed {
                t.flags_only += 1;
            }
            case.flags_mask = COMPARE_FLAGS;
        }
        // General-purpose registers as one field: which one differs is the operands' choice.
        let mut fields: Vec<&str> = diffs
            .iter()
            .map(|d| diff_field(d))
            .map(|f| if reg::NAMES.contains(&f) { "gpr" } else { f })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let status = r.line.get("status").and_then(Value::as_str).unwrap_or("?");
        let reason = r.line.get("reason").and_then(Value::as_str).unwrap_or("");
        let form = format!(
            "{}: {op} {}{}",
            g.family.name(),
            if g.memory { "mem" } else { "reg" },
            if g.locked { " lock" } else { "" }
        );
        let emu = emulator_outcome(&r.line);
        // The fields that differ only tell causes apart when both sides agree on the outcome.
        let cpu = outcome_name(out);
        let key = if unsupported {
            format!("UNSUPPORTED {reason}")
        } else if cpu != emu {
            format!("cpu {cpu} emu {emu}")
        } else {
            format!("cpu {cpu} emu {emu} | {}", fields.join(","))
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "  {} bytes {} `{text}` (exit_bytes {})",
            mode_name(g.mode),
            hex_bytes(&g.bytes),
            g.exit_bytes
        );
        let regs: Vec<String> = (0..16)
            .map(|i| format!("{}={:#x}", reg::NAMES[i], g.state.gpr[i]))
            .collect();
        let _ = writeln!(
            s,
            "    in:  {} rflags={:#x} fs.base={:#x} gs.base={:#x}",
            regs.join(" "),
            case.initial.reg[RFLAGS],
            g.state.fs_base,
            g.state.gs_base
        );
        for (a, b) in &g.mem {
            let _ = writeln!(s, "    mem: {a:#x}: {}", hex_bytes(b));
        }
        let changed: Vec<String> = (0..16)
            .filter(|&i| out.state.gpr[i] != g.state.gpr[i])
            .map(|i| format!("{}={:#x}", reg::NAMES[i], out.state.gpr[i]))
            .collect();
        let exc = match out.outcome {
            Outcome::Exception(e) => format!(
                " exception vector {} error_code {:#x} cr2 {:x?}",
                e.vector, e.error_code, e.cr2
            ),
            _ => String::new(),
        };
        let ram: Vec<String> = job
            .ram
            .iter()
            .map(|(a, b)| format!("{a:#x}={}", hex_bytes(b)))
            .collect();
        let _ = writeln!(
            s,
            "    cpu: rip={:#x} rflags={:#x} {} ram [{}]{exc}",
            out.rip,
            out.state.rflags,
            changed.join(" "),
            ram.join(" ")
        );
        let _ = writeln!(s, "    emu: status {status} {reason}");
        for d in &diffs {
            let _ = writeln!(s, "      {d}");
        }
        let name = format!("native_diff {} {}", g.family.name(), mode_name(g.mode));
        let json = case_json(g, &case, &name);
        self.groups
            .add(key, form, g.mode, g.bytes.len(), s, Some(json));
    }

    fn text(&self, elapsed: f64) -> (String, Tally) {
        let mut s = String::new();
        let mut all = Tally::default();
        let _ = writeln!(
            s,
            "{:<28} {:>26} | {:>26} | {:>26} | {:>6} {:>6} {:>6} {:>6}",
            "family",
            "long64 cases/fail/unsup",
            "compat32 cases/fail/unsup",
            "compat16 cases/fail/unsup",
            "fault%",
            "mem%",
            "lock%",
            "flagsonly"
        );
        for f in Family::ALL {
            let mut row = Tally::default();
            let mut cols = Vec::new();
            for mi in 0..MODES.len() {
                let t = self.tally.get(&(f, mi)).copied().unwrap_or_default();
                row.add(&t);
                cols.push(format!(
                    "{:>10} {:>7} {:>7}",
                    t.cases,
                    t.failed + t.harness,
                    t.unsupported
                ));
            }
            if row.cases == 0 {
                continue;
            }
            all.add(&row);
            let pct = |n: u64| 100.0 * n as f64 / row.cases as f64;
            let _ = writeln!(
                s,
                "{:<28} {} | {} | {} | {:>6.1} {:>6.1} {:>6.1} {:>6}",
                f.name(),
                cols[0],
                cols[1],
                cols[2],
                pct(row.faulted),
                pct(row.memory),
                pct(row.locked),
                row.flags_only
            );
        }
        let rate = |n: u64| 100.0 * n as f64 / all.cases.max(1) as f64;
        let _ = writeln!(
            s,
            "total: {} cases in {elapsed:.1} s ({:.0}/s): {} passed, {} failed, {} unsupported, \
             {} harness errors; {} faulted natively, {} with memory operands, {} locked",
            all.cases,
            all.cases as f64 / elapsed,
            all.passed,
            all.failed,
            all.unsupported,
            all.harness,
            all.faulted,
            all.memory,
            all.locked
        );
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, [a, b, c])| format!("{k} {a}/{b}/{c}"))
            .collect();
        let _ = writeln!(
            s,
            "processor outcomes (long64/compat32/compat16): {}",
            outcomes.join(", ")
        );
        let _ = writeln!(
            s,
            "pass rate: {:.4}% comparing all status flags, {:.4}% with the undefined flags masked",
            rate(all.passed),
            rate(all.passed + all.flags_only)
        );
        self.groups.write(&mut s);
        (s, all)
    }
}

#[test]
fn emulator_matches_the_processor() {
    let plan = plan::<Family>("HVEMU_NATIVE_DIFF", DEFAULT_N, DEFAULT_SEED, &MODES);
    let mut native = Native::new().expect("native harness");
    native.clear_mem();
    let start = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<Job>(4096);
    let worker = std::thread::spawn(move || {
        let mut report = Report::default();
        for job in rx {
            report.check(job);
        }
        report
    });
    let zeros = [0u8; 64];
    let mut before = vec![0u8; WINDOW];
    for (family, mode, count, seed) in plan {
        let mut rng = Rng::new(seed);
        for _ in 0..count {
            let g = casegen::generate(&mut rng, family, mode);
            for (a, b) in &g.mem {
                native.write(*a, b);
                let off = (a - SCRATCH_BASE) as usize;
                before[off..off + b.len()].copy_from_slice(b);
            }
            let result = native
                .run(mode, &g.bytes, &g.state)
                .map_err(|e| e.to_string());
            let ram = native::diff(&before, native.mem());
            // Back to all zeros.
            for (a, b) in g.mem.iter().chain(&ram) {
                for (i, chunk) in b.chunks(64).enumerate() {
                    let at = a + 64 * i as u64;
                    native.write(at, &zeros[..chunk.len()]);
                    let off = (at - SCRATCH_BASE) as usize;
                    before[off..off + chunk.len()].fill(0);
                }
            }
            debug_assert!(native.mem().iter().all(|&b| b == 0));
            tx.send(Job {
                g,
                native: result,
                ram,
            })
            .expect("the emulator thread is running");
        }
    }
    drop(tx);
    drop(native);
    let report = worker.join().expect("the emulator thread");
    let (text, all) = report.text(start.elapsed().as_secs_f64());
    println!("{text}");
    if let Some(path) = std::env::var_os("HVEMU_NATIVE_DIFF_CASES") {
        let lines = report.groups.case_lines();
        std::fs::write(&path, lines.join("\n") + "\n").expect("writing the cases file");
    }
    assert!(
        all.failed == 0 && all.unsupported == 0 && all.harness == 0,
        "{} mismatches, {} unsupported, {} harness errors in {} cases (see the report above)",
        all.failed,
        all.unsupported,
        all.harness,
        all.cases
    );
}
