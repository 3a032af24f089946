//! The emulator's vector moves against the host processor (an AMD Zen 4 with AVX-512), end to
//! end: random instructions run natively (`hvemu_tests::native`, which loads and stores the
//! whole ZMM/opmask state) and, from the same state, through the conformance runner
//! (`hvemu_cli::cases::run_case` and its `TestHost`). Every difference is a mismatch.
//!
//! - **Cases**: `hvemu_tests::casegen::vector` makes them (see there): SSE, VEX.128/256 and
//!   masked EVEX moves at 128/256/512 bits, MOVD/MOVQ, PEXTR/PINSR, MMX stores, MOVNTI,
//!   CLFLUSH/CLFLUSHOPT/CLWB, with random ZMM0..ZMM31 and K0..K7; memory operands misaligned
//!   (aligned forms: #GP), across the guard page and the read-only page with the opmask covering
//!   or not covering the elements there, non-canonical, through FS/GS with random bases, with
//!   AC = 1 (#AC where the processor checks); in 64-bit mode and in compatibility mode (XMM0..7,
//!   ZMM0..7). `HVEMU_NATIVE_VECTOR_N` cases in all (default 200,000 in release builds, 20,000
//!   in debug builds; `_` allowed), split across families by weight and across the two modes;
//!   `HVEMU_NATIVE_VECTOR_SEED` changes the seed, `HVEMU_NATIVE_VECTOR_ONLY=evex,ssefull` runs
//!   only some families (the names of `VecFamily`, lower case);
//!   `HVEMU_NATIVE_VECTOR_DECODER_GAPS=1` adds the compatibility-mode encodings the decoder is
//!   known to get wrong (see `vector::generate`).
//! - **The case** given to the runner: `hvemu_tests::native_case::build_case` (mode, the host's vendor, CPL 3,
//!   CR0.AM, CR4.OSFXSR/OSXMMEXCPT/OSXSAVE, the runner's XCR0 with every AVX-512 component, the
//!   GPRs, RFLAGS, FS/GS bases, ZMM0..ZMM31, K0..K7 and MXCSR; RAM = the window's initial
//!   contents and the instruction; the not-present pages; the read-only page). Expected: the
//!   native final GPRs, RIP, RFLAGS, every vector and opmask register that changed (whole ZMM),
//!   the window's changed bytes, no device accesses, and the exception (vector, error code,
//!   CR2).
//! - **Verdicts**: a case passes when the runner finds no difference; a refusal
//!   (`unsupported`) is a failure too, counted apart.
//!
//! The report (printed; `--nocapture` shows it on success) has a table per family and mode, the
//! processor's outcomes, how often the opmask suppressed faults, and the mismatches grouped by
//! the processor's and the emulator's outcome (and, when these agree, the fields that differ),
//! each group with its instruction forms and reproducers: bytes, disassembly, the state, what
//! the processor did and what the emulator did, and the case as a JSON line for `hvemu cases`
//! (which cannot express the read-only page). `HVEMU_NATIVE_VECTOR_CASES=FILE` writes those
//! JSON lines to a file.
//!
//! Two threads: this one generates and runs the cases natively (the harness is one per
//! process), a second one runs the emulator.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use hvemu::decode;
use hvemu_cli::cases::json::Value;
use hvemu_cli::cases::model::{Case, RFLAGS, RIP, VecReg};
use hvemu_cli::cases::{Verdict, run_case, run_line};
use hvemu_tests::casegen::Generated;
use hvemu_tests::casegen::vector::{self, Masking, VecFamily};
use hvemu_tests::hex as hex_bytes;
use hvemu_tests::native::{
    self, INSN_ADDR, Mode, Native, Outcome, Output, RO_PAGE, SCRATCH_BASE, SCRATCH_END, reg,
};
use hvemu_tests::native_case::{
    FS, GS, Start, decode_mode, diff_field, host_vendor, mode_name, outcome_name, vendor_name,
};
use hvemu_tests::native_report::{CaseFamily, Groups, emulator_outcome, not_present, plan};
use hvemu_tests::randgen::Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::Instant;

/// Cases per run by default: 200,000 in release builds (CI), a tenth of that in debug builds.
const DEFAULT_N: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    200_000
};
const DEFAULT_SEED: u64 = 0x6876_656d_755f_7663; // "hvemu_vc"
/// Bytes of the scratch window.
const WINDOW: usize = (SCRATCH_END - SCRATCH_BASE) as usize;
/// One passing case in this many also goes through its JSON line (`hvemu cases`), which must
/// pass too: the reproducers say what the test checked.
const ROUND_TRIP: u64 = 499;
/// Failed round trips printed.
const ROUND_TRIPS_SHOWN: usize = 4;

type Gen = Generated<VecFamily>;

/// One case for the emulator thread.
struct Job {
    g: Gen,
    masking: Masking,
    native: Result<Output, String>,
    /// The window's changed bytes.
    ram: Vec<(u64, Vec<u8>)>,
}

fn build_case(g: &Gen, out: &Output, ram: &[(u64, Vec<u8>)]) -> Case {
    let start = Start {
        mode: g.mode,
        bytes: &g.bytes,
        exit_bytes: g.exit_bytes,
        state: &g.state,
        mem: &g.mem,
    };
    hvemu_tests::native_case::build_case(&start, out, ram.to_vec(), not_present(g.mode, true))
}

fn hx(v: u64) -> Value {
    Value::str(format!("{v:#x}"))
}

/// A vector register's value as the case format writes it.
fn lanes_hex(v: &[u128; 4], lanes: usize) -> Value {
    let mut s = String::from("0x");
    for lane in v[..lanes].iter().rev() {
        let _ = write!(s, "{lane:032x}");
    }
    Value::str(s)
}

/// The `zmm` and `k` objects for registers: nonzero ones of an initial state, or a list.
fn vec_objects(regs: &[(VecReg, [u128; 4])]) -> Vec<(String, Value)> {
    let zmm: Vec<(String, Value)> = regs
        .iter()
        .filter(|(r, _)| !matches!(r, VecReg::K(_)))
        .map(|(r, v)| (r.name(), lanes_hex(v, r.lanes())))
        .collect();
    let k: Vec<(String, Value)> = regs
        .iter()
        .filter(|(r, _)| matches!(r, VecReg::K(_)))
        .map(|(r, v)| (r.name(), hx(v[0] as u64)))
        .collect();
    let mut out = Vec::new();
    if !zmm.is_empty() {
        out.push(("zmm".to_string(), Value::Object(zmm)));
    }
    if !k.is_empty() {
        out.push(("k".to_string(), Value::Object(k)));
    }
    out
}

/// The case as a JSON line in the `hvemu cases` format (the read-only page aside).
fn case_json(g: &Gen, case: &Case, name: &str) -> String {
    let mut regs: Vec<(String, Value)> = (0..16)
        .filter(|&i| g.state.gpr[i] != 0)
        .map(|i| (reg::NAMES[i].to_string(), hx(g.state.gpr[i])))
        .collect();
    regs.push(("rip".into(), hx(INSN_ADDR)));
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
    let mut sregs = vec![
        ("cr0".to_string(), hx(case.initial.ctl[0])),
        ("cr4".to_string(), hx(case.initial.ctl[3])),
    ];
    for (i, name) in [(FS, "fs"), (GS, "gs")] {
        let seg = case.initial.seg[i];
        if seg.base != 0 {
            sregs.push((
                name.into(),
                Value::Object(vec![
                    ("selector".into(), hx(u64::from(seg.selector))),
                    ("base".into(), hx(seg.base)),
                    ("limit".into(), hx(u64::from(seg.limit))),
                    ("attributes".into(), hx(u64::from(seg.attributes))),
                ]),
            ));
        }
    }
    let mut init_vecs: Vec<(VecReg, [u128; 4])> = (0..32u8)
        .filter(|&n| case.initial.zmm[usize::from(n)] != [0; 4])
        .map(|n| (VecReg::Zmm(n), case.initial.zmm[usize::from(n)]))
        .collect();
    init_vecs.extend(
        (0..8u8)
            .filter(|&n| case.initial.k[usize::from(n)] != 0)
            .map(|n| {
                (
                    VecReg::K(n),
                    [u128::from(case.initial.k[usize::from(n)]), 0, 0, 0],
                )
            }),
    );
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
    let mut initial = vec![
        ("regs".to_string(), Value::Object(regs)),
        ("sregs".into(), Value::Object(sregs)),
    ];
    initial.extend(vec_objects(&init_vecs));
    initial.push(("ram".into(), runs(&g.mem)));
    initial.push(("not_present".into(), ranges));
    let mut fin = vec![("regs".to_string(), Value::Object(fregs))];
    fin.extend(vec_objects(&exp.vecs));
    fin.push(("ram".into(), runs(&exp.ram)));
    fin.push(("exception".into(), exception));
    Value::Object(vec![
        ("name".into(), Value::str(name)),
        ("mode".into(), Value::str(mode_name(g.mode))),
        ("vendor".into(), Value::str(vendor_name(host_vendor()))),
        ("cpl".into(), Value::int(3)),
        ("bytes".into(), Value::str(hex_bytes(&g.bytes))),
        ("exit_bytes".into(), Value::int(g.exit_bytes as u64)),
        ("initial".into(), Value::Object(initial)),
        ("final".into(), Value::Object(fin)),
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
    /// Cases the processor faulted on.
    faulted: u64,
    memory: u64,
    harness: u64,
    /// Masked memory accesses with elements that would fault, all masked off / not all.
    suppressed: u64,
    unmasked: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.cases += o.cases;
        self.passed += o.passed;
        self.failed += o.failed;
        self.unsupported += o.unsupported;
        self.faulted += o.faulted;
        self.memory += o.memory;
        self.harness += o.harness;
        self.suppressed += o.suppressed;
        self.unmasked += o.unmasked;
    }
}

#[derive(Default)]
struct Report {
    tally: BTreeMap<(VecFamily, usize), Tally>,
    /// Cases per processor outcome (`ok`, `#PF(0x6)`...) and mode.
    outcomes: BTreeMap<String, [u64; 2]>,
    /// Masked accesses whose faulting elements were all masked off: processor outcomes.
    suppressed: BTreeMap<String, [u64; 2]>,
    groups: Groups,
    /// Passing cases run again from their JSON line, and those that failed there.
    round_trips: u64,
    round_trip_failures: Vec<String>,
}

/// The forms of the case for the report: the operation, register or memory, opmask.
fn form_name(g: &Gen, insn: Option<&decode::Instruction>) -> String {
    let Some(i) = insn else {
        return format!("{}: (no decode)", g.family.name());
    };
    let width = i
        .operands
        .iter()
        .find_map(|o| match o {
            decode::Operand::Reg(r) => match r.class {
                decode::RegClass::Xmm => Some(" xmm"),
                decode::RegClass::Ymm => Some(" ymm"),
                decode::RegClass::Zmm => Some(" zmm"),
                decode::RegClass::Mmx => Some(" mm"),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or("");
    let mask = if i.mask != 0 {
        if i.zeroing { " {k}{z}" } else { " {k}" }
    } else {
        ""
    };
    format!(
        "{}: {}{width} {}{mask}",
        g.family.name(),
        i.op,
        if g.memory { "mem" } else { "reg" },
    )
}

impl Report {
    fn check(&mut self, job: Job) {
        let g = &job.g;
        let mi = usize::from(g.mode == Mode::Compat32);
        let t = self.tally.entry((g.family, mi)).or_default();
        t.cases += 1;
        t.memory += u64::from(g.memory);
        match job.masking {
            Masking::Suppressed => t.suppressed += 1,
            Masking::Faulting => t.unmasked += 1,
            Masking::None => {}
        }
        let insn = decode::decode(&g.bytes, decode_mode(g.mode), host_vendor());
        let text = insn
            .as_ref()
            .map_or_else(|e| format!("(no decode: {e:?})"), |i| i.to_string());
        let form = form_name(g, insn.as_ref().ok());
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
                    form,
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
        if job.masking == Masking::Suppressed {
            self.suppressed.entry(outcome_name(out)).or_default()[mi] += 1;
        }
        let case = build_case(g, out, &job.ram);
        let r = run_case(&case, "", 0);
        match r.verdict {
            Verdict::Passed => {
                t.passed += 1;
                // (Not a write fault on the read-only page: the case format cannot say so.)
                let ro_write = matches!(
                    out.outcome,
                    Outcome::Exception(e) if e.vector == 14 && e.error_code & 1 != 0
                );
                if t.passed.is_multiple_of(ROUND_TRIP) && !ro_write {
                    self.round_trips += 1;
                    let json = case_json(g, &case, "round trip");
                    if run_line(&json, 1).verdict != Verdict::Passed {
                        self.round_trip_failures.push(json);
                    }
                }
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
        // Registers as classes: which one differs is the operands' choice.
        let mut fields: Vec<&str> = diffs
            .iter()
            .map(|d| diff_field(d))
            .map(|f| {
                if reg::NAMES.contains(&f) {
                    "gpr"
                } else if VecReg::parse(f).is_some_and(|r| !matches!(r, VecReg::K(_))) {
                    "vector"
                } else {
                    f
                }
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let status = r.line.get("status").and_then(Value::as_str).unwrap_or("?");
        let reason = r.line.get("reason").and_then(Value::as_str).unwrap_or("");
        let emu = emulator_outcome(&r.line);
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
            "  {} bytes {} `{text}` (exit_bytes {}, opmask: {:?})",
            mode_name(g.mode),
            hex_bytes(&g.bytes),
            g.exit_bytes,
            job.masking
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
        let ks: Vec<String> = (0..8)
            .map(|i| format!("k{i}={:#x}", g.state.k[i]))
            .collect();
        let _ = writeln!(s, "    in:  {}", ks.join(" "));
        for (a, b) in &g.mem {
            let _ = writeln!(s, "    mem: {a:#x}: {}", hex_bytes(b));
        }
        let changed: Vec<String> = (0..16)
            .filter(|&i| out.state.gpr[i] != g.state.gpr[i])
            .map(|i| format!("{}={:#x}", reg::NAMES[i], out.state.gpr[i]))
            .chain(
                (0..32)
                    .filter(|&n| out.state.zmm(n) != g.state.zmm(n))
                    .map(|n| format!("zmm{n} changed")),
            )
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
        let name = format!("native_vector {} {}", g.family.name(), mode_name(g.mode));
        let json = case_json(g, &case, &name);
        self.groups
            .add(key, form, g.mode, g.bytes.len(), s, Some(json));
    }

    fn text(&self, elapsed: f64) -> (String, Tally) {
        let mut s = String::new();
        let mut all = Tally::default();
        let _ = writeln!(
            s,
            "{:<24} {:>26} | {:>26} | {:>6} {:>6} {:>9}",
            "family",
            "long64 cases/fail/unsup",
            "compat32 cases/fail/unsup",
            "fault%",
            "mem%",
            "supp/unm"
        );
        for f in VecFamily::ALL {
            let mut row = Tally::default();
            let mut cols = Vec::new();
            for mi in 0..2 {
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
                "{:<24} {} | {} | {:>6.1} {:>6.1} {:>9}",
                f.name(),
                cols[0],
                cols[1],
                pct(row.faulted),
                pct(row.memory),
                format!("{}/{}", row.suppressed, row.unmasked)
            );
        }
        let rate = |n: u64| 100.0 * n as f64 / all.cases.max(1) as f64;
        let _ = writeln!(
            s,
            "total: {} cases in {elapsed:.1} s ({:.0}/s): {} passed, {} failed, {} unsupported, \
             {} harness errors; {} faulted natively, {} with memory operands",
            all.cases,
            all.cases as f64 / elapsed,
            all.passed,
            all.failed,
            all.unsupported,
            all.harness,
            all.faulted,
            all.memory,
        );
        let list = |m: &BTreeMap<String, [u64; 2]>| {
            m.iter()
                .map(|(k, [a, b])| format!("{k} {a}/{b}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "processor outcomes (long64/compat32): {}",
            list(&self.outcomes)
        );
        let _ = writeln!(
            s,
            "masked accesses with every faulting element masked off ({}), outcomes: {}",
            all.suppressed,
            list(&self.suppressed)
        );
        let _ = writeln!(s, "pass rate: {:.4}%", rate(all.passed));
        let _ = writeln!(
            s,
            "reproducer round trips: {} passing cases run again from their JSON line, {} failed",
            self.round_trips,
            self.round_trip_failures.len()
        );
        for j in self.round_trip_failures.iter().take(ROUND_TRIPS_SHOWN) {
            let _ = writeln!(s, "  round trip failed: {j}");
        }
        self.groups.write(&mut s);
        (s, all)
    }
}

#[test]
fn vector_moves_match_the_processor() {
    let plan = plan::<VecFamily>(
        "HVEMU_NATIVE_VECTOR",
        DEFAULT_N,
        DEFAULT_SEED,
        &[Mode::Long64, Mode::Compat32],
    );
    let gaps = std::env::var_os("HVEMU_NATIVE_VECTOR_DECODER_GAPS").is_some();
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
            let (g, masking) = vector::generate(&mut rng, family, mode, gaps);
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
                masking,
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
    if let Some(path) = std::env::var_os("HVEMU_NATIVE_VECTOR_CASES") {
        let lines = report.groups.case_lines();
        std::fs::write(&path, lines.join("\n") + "\n").expect("writing the cases file");
    }
    assert!(
        all.failed == 0
            && all.unsupported == 0
            && all.harness == 0
            && report.round_trip_failures.is_empty(),
        "{} mismatches, {} unsupported, {} harness errors, {} failed round trips in {} cases \
         (see the report above)",
        all.failed,
        all.unsupported,
        all.harness,
        report.round_trip_failures.len(),
        all.cases
    );
}
