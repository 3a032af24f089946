//! The conformance runner behind `hvemu cases` (spec/cases.md): one JSON case per input line,
//! one JSON result per output line, then a summary line.
//!
//! - [`json`]: the small JSON reader and writer;
//! - [`model`]: the case format and its parser;
//! - [`host`]: the test host, a whole virtual machine made from a case;
//! - [`runner`]: placing the bytes, building the exit, calling the emulator;
//! - [`report`]: the comparison with `final` and the result line.
//!
//! ```
//! let case = concat!(
//!     r#"{"name": "mov eax, [rdi]", "mode": "long64", "bytes": "8b07", "#,
//!     r#""initial": {"regs": {"rdi": "0x3000", "rip": "0x1000"}, "ram": [["0x3000", "2a"]]}, "#,
//!     r#""final": {"regs": {"rax": "0x2a", "rip": "0x1002"}}}"#,
//! );
//! let mut out = Vec::new();
//! let summary = hvemu_cli::cases::run_reader(case.as_bytes(), &mut out).unwrap();
//! assert!(summary.all_passed());
//! assert_eq!(summary.cases, 1);
//! ```

pub mod host;
pub mod json;
pub mod model;
pub mod report;
pub mod runner;

use json::Value;
use model::{Case, Status};
use std::io::{self, BufRead, Write};

/// How one case ended, for the summary.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It had a `final` and matched it.
    Passed,
    /// It had a `final` and did not match it, or the line was not a valid case.
    Failed,
    /// The emulator declined an instruction it does not implement (and the case did not
    /// expect that). `with_final` tells whether the case had an expected outcome (it then did
    /// not pass).
    Unsupported {
        /// The case had a `final`.
        with_final: bool,
    },
    /// It had no `final` and ran.
    Ran,
}

/// One case's result: the verdict and the result line.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    /// For the summary.
    pub verdict: Verdict,
    /// The result object (see spec/cases.md, "A result").
    pub line: Value,
}

/// Counts of the summary line.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input lines that were not blank.
    pub cases: u64,
    /// Cases that matched their `final`.
    pub passed: u64,
    /// Cases that did not match their `final`, and invalid lines.
    pub failed: u64,
    /// Cases the emulator declined as unsupported.
    pub unsupported: u64,
    /// Of those, the ones that had a `final` (and so did not pass).
    pub unsupported_with_final: u64,
}

impl Summary {
    /// Adds one result.
    pub fn add(&mut self, v: Verdict) {
        self.cases += 1;
        match v {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::Unsupported { with_final } => {
                self.unsupported += 1;
                self.unsupported_with_final += u64::from(with_final);
            }
            Verdict::Ran => {}
        }
    }

    /// Every case with an expected outcome passed (the exit status is 0).
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.unsupported_with_final == 0
    }

    /// The summary line.
    pub fn to_json(&self) -> Value {
        let n = |v: u64| Value::int(v);
        Value::Object(vec![(
            "summary".into(),
            Value::Object(vec![
                ("cases".into(), n(self.cases)),
                ("passed".into(), n(self.passed)),
                ("failed".into(), n(self.failed)),
                ("unsupported".into(), n(self.unsupported)),
            ]),
        )])
    }
}

/// The result of a line that is not a valid case.
fn invalid(name: String, line_no: u64, why: &str) -> CaseResult {
    CaseResult {
        verdict: Verdict::Failed,
        line: Value::Object(vec![
            ("name".into(), Value::str(name)),
            ("pass".into(), Value::Bool(false)),
            ("line".into(), Value::int(line_no)),
            (
                "diffs".into(),
                Value::Array(vec![Value::str(format!("invalid case: {why}"))]),
            ),
        ]),
    }
}

/// Runs the case on one input line (`line_no` counts from 1, for messages).
pub fn run_line(text: &str, line_no: u64) -> CaseResult {
    let v = match json::parse(text) {
        Ok(v) => v,
        Err(e) => return invalid(format!("line {line_no}"), line_no, &e),
    };
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("line {line_no}"), str::to_string);
    let case = match Case::from_json(&v) {
        Ok(c) => c,
        Err(e) => return invalid(name, line_no, &e),
    };
    run_case(&case, &name, line_no)
}

/// Runs a parsed case; `name` is shown in the result.
pub fn run_case(case: &Case, name: &str, line_no: u64) -> CaseResult {
    let run = match runner::run(case) {
        Ok(r) => r,
        Err(e) => return invalid(name.to_string(), line_no, &e),
    };
    let mut diffs = report::compare(case, &run);
    let mut notes = case.notes.clone();
    notes.extend(run.notes.iter().cloned());
    notes.extend(run.host.notes.iter().cloned());
    if !run.host.mmio_reads.is_empty() {
        notes.push(format!(
            "{} mmio_reads value(s) not consumed",
            run.host.mmio_reads.len()
        ));
    }
    if !run.host.io_reads.is_empty() {
        notes.push(format!(
            "{} io_reads value(s) not consumed",
            run.host.io_reads.len()
        ));
    }
    // Calls that break the host interface's contract are emulator bugs: failures when the case
    // can fail.
    let violations = run
        .host
        .violations
        .iter()
        .map(|v| format!("host interface: {v}"));
    if case.expected.is_some() {
        diffs.extend(violations);
    } else {
        notes.extend(violations);
    }
    let has_final = case.expected.is_some();
    let declined = matches!(run.refusal, Some(hvemu::emulator::Refusal::Unsupported(_)));
    let verdict = if has_final && diffs.is_empty() {
        Verdict::Passed
    } else if run.status == Status::Unsupported
        && (declined || !has_final)
        && report::expected_status(case) != Some(Status::Unsupported)
    {
        Verdict::Unsupported {
            with_final: has_final,
        }
    } else if has_final {
        Verdict::Failed
    } else {
        Verdict::Ran
    };

    let mut obj = vec![("name".to_string(), Value::str(name))];
    if has_final {
        obj.push(("pass".into(), Value::Bool(diffs.is_empty())));
    }
    obj.push(("status".into(), Value::str(run.status.name())));
    if has_final {
        obj.push((
            "diffs".into(),
            Value::Array(diffs.into_iter().map(Value::String).collect()),
        ));
    }
    obj.push(("final".into(), report::final_json(case, &run)));
    if let Some(r) = &run.refusal {
        obj.push(("reason".into(), Value::str(report::refusal_text(r))));
    }
    if !notes.is_empty() {
        obj.push((
            "notes".into(),
            Value::Array(notes.into_iter().map(Value::String).collect()),
        ));
    }
    CaseResult {
        verdict,
        line: Value::Object(obj),
    }
}

/// Runs every case of `input` (blank lines skipped), writing one result line each and the
/// summary line to `out`. Each result is flushed at once, so a program feeding cases through a
/// pipe gets each result before it sends the next case.
pub fn run_reader(mut input: impl BufRead, mut out: impl Write) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let r = run_line(text, line_no);
        summary.add(r.verdict);
        writeln!(out, "{}", r.line.to_json())?;
        out.flush()?;
    }
    writeln!(out, "{}", summary.to_json().to_json())?;
    out.flush()?;
    Ok(summary)
}
