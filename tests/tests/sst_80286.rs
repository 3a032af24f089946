//! Every case of ../shared/vectors/sst-80286 (SingleStepTests 80286, real mode; see its README)
//! through the conformance runner (`hvemu_cli::cases::run_line`), which checks registers, flags
//! (under each case's mask of undefined flags), memory, segment registers and port accesses in
//! order. Every case must pass:
//! - the string and port instructions of issue 4: MOVS, CMPS, STOS, LODS, SCAS (A4-A7, AA-AF),
//!   INS, OUTS (6C-6F) and IN/OUT (E4-E7, EC-EF), with their REP/REPE/REPNE forms;
//! - every other file: the general-purpose instructions in real mode (MOV, the ALU forms, groups
//!   80-83/F6/F7/FE/FF, IMUL, XCHG, shifts, POP r/m, LES/LDS, XLAT), with #DE and #UD cases.
//!
//! The per-file counts are printed (`--nocapture` shows them on success), with the first 20
//! failures in full.

use hvemu_cli::cases::json::Value;
use hvemu_cli::cases::{Summary, Verdict, run_line};
use hvemu_tests::shared_dir;

/// The opcode files of the string and port instructions.
const STRING_AND_PORT: [&str; 22] = [
    "A4", "A5", "A6", "A7", "AA", "AB", "AC", "AD", "AE", "AF", "6C", "6D", "6E", "6F", "E4", "E5",
    "E6", "E7", "EC", "ED", "EE", "EF",
];

/// Runs the cases of the files `stems`; returns the summary, the number of cases with a repeat
/// prefix and the first failures.
fn run_files(stems: &[String]) -> (Summary, u64, Vec<String>) {
    let dir = shared_dir().join("vectors/sst-80286");
    let mut total = Summary::default();
    let mut failures = Vec::new();
    let mut rep_cases = 0u64;
    for stem in stems {
        let path = dir.join(format!("{stem}.jsonl"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut summary = Summary::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r = run_line(line, i as u64 + 1);
            summary.add(r.verdict);
            total.add(r.verdict);
            // A repeat prefix among the bytes before the opcode.
            let opcode = stem.get(..2).unwrap_or(stem).as_bytes();
            if let Some(Value::String(b)) = hvemu_cli::cases::json::parse(line)
                .ok()
                .and_then(|v| v.get("bytes").cloned())
                && b.as_bytes()
                    .chunks(2)
                    .take_while(|p| !p.eq_ignore_ascii_case(opcode))
                    .any(|p| p.eq_ignore_ascii_case(b"f3") || p.eq_ignore_ascii_case(b"f2"))
            {
                rep_cases += 1;
            }
            if r.verdict != Verdict::Passed && failures.len() < 20 {
                failures.push(format!("{stem}.jsonl:{}: {}", i + 1, r.line.to_json()));
            }
        }
        println!(
            "{stem}: {} cases, {} passed, {} failed, {} unsupported",
            summary.cases, summary.passed, summary.failed, summary.unsupported
        );
    }
    (total, rep_cases, failures)
}

#[test]
fn string_and_port_cases_pass() {
    let stems: Vec<String> = STRING_AND_PORT.iter().map(|s| s.to_string()).collect();
    let (total, rep_cases, failures) = run_files(&stems);
    println!(
        "sst-80286 strings and ports: {} cases ({rep_cases} with a repeat prefix), {} passed",
        total.cases, total.passed
    );
    for f in &failures {
        println!("{f}");
    }
    assert!(total.cases > 8000, "too few cases: {}", total.cases);
    assert_eq!(total.passed, total.cases, "cases that did not pass");
}

#[test]
fn every_other_case_passes() {
    let dir = shared_dir().join("vectors/sst-80286");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".jsonl")?.to_string();
            (!STRING_AND_PORT.contains(&stem.as_str())).then_some(stem)
        })
        .collect();
    stems.sort();
    let (total, _, failures) = run_files(&stems);
    println!(
        "sst-80286 other instructions: {} cases in {} files, {} passed",
        total.cases,
        stems.len(),
        total.passed
    );
    for f in &failures {
        println!("{f}");
    }
    assert!(stems.len() > 100, "too few files: {}", stems.len());
    assert!(total.cases > 50_000, "too few cases: {}", total.cases);
    assert_eq!(total.passed, total.cases, "cases that did not pass");
}
