//! Every string and port case of ../shared/vectors/sst-80286 (SingleStepTests 80286, real
//! mode; see its README): MOVS, CMPS, STOS, LODS, SCAS (A4-A7, AA-AF), INS, OUTS (6C-6F) and
//! IN/OUT (E4-E7, EC-EF), with their REP/REPE/REPNE forms, through the conformance runner
//! (`hvemu_cli::cases::run_line`), which checks registers, flags, memory and the port accesses
//! in order. Every case must pass.
//!
//! The per-file counts are printed (`--nocapture` shows them on success), with the first 20
//! failures in full.

use hvemu_cli::cases::json::Value;
use hvemu_cli::cases::{Summary, Verdict, run_line};
use hvemu_tests::shared_dir;

/// The opcode files of the string and port instructions.
const FILES: [&str; 22] = [
    "A4", "A5", "A6", "A7", "AA", "AB", "AC", "AD", "AE", "AF", "6C", "6D", "6E", "6F", "E4", "E5",
    "E6", "E7", "EC", "ED", "EE", "EF",
];

#[test]
fn string_and_port_cases_pass() {
    let dir = shared_dir().join("vectors/sst-80286");
    let mut total = Summary::default();
    let mut failures = Vec::new();
    let mut rep_cases = 0u64;
    for stem in FILES {
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
            if let Some(Value::String(b)) = hvemu_cli::cases::json::parse(line)
                .ok()
                .and_then(|v| v.get("bytes").cloned())
                && b.as_bytes()
                    .chunks(2)
                    .take_while(|p| !p.eq_ignore_ascii_case(stem.as_bytes()))
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
