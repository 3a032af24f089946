//! The conformance runner (`hvemu cases`, spec/cases.md) on hand-written cases: the library
//! API on the case files of tests/data, the program's output and exit status, and the exits the
//! runner builds.

use hvemu::decode::Vendor;
use hvemu::emulator::{AccessKind, Config, Emulator, IoExit, Outcome, Refusal, VectorState};
use hvemu::host::{
    BulkEnd, BulkTransfer, Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags,
    TranslateResult,
};
use hvemu::regs::{RegName, RegValue};
use hvemu_cli::cases::host::{TestHost, WideAccess};
use hvemu_cli::cases::json::{self, Value};
use hvemu_cli::cases::model::{self, Case, RIP};
use hvemu_cli::cases::runner::{self, Entry, plan_entry, vp_context};
use hvemu_cli::cases::{Summary, Verdict, run_case, run_line, run_reader};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Runs the text through the library: the result objects and the summary.
fn run_text(text: &str) -> (Vec<Value>, Summary) {
    let mut out = Vec::new();
    let summary = run_reader(text.as_bytes(), &mut out).expect("in-memory I/O");
    let out = String::from_utf8(out).expect("UTF-8 output");
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| json::parse(l).expect("every output line is JSON"))
        .collect();
    let last = lines.pop().expect("a summary line");
    assert_eq!(last, summary.to_json());
    (lines, summary)
}

fn file(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{name}")).expect("test data file")
}

fn run_bin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hvemu"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hvemu binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(input.as_bytes())
            .expect("stdin accepts the input");
    }
    child.wait_with_output().expect("hvemu finishes")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} in {}", v.to_json()))
}

fn diffs(v: &Value) -> Vec<String> {
    match v.get("diffs") {
        Some(Value::Array(d)) => d
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn assert_all_pass(name: &str) {
    let (results, summary) = run_text(&file(name));
    for r in &results {
        assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    }
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.unsupported, 0);
    assert_eq!(summary.passed, results.len() as u64);
    assert!(summary.all_passed());
}

#[test]
fn mmio_real_mode_page_crossing_and_page_faults_pass() {
    assert_all_pass("pass.jsonl");
}

#[test]
fn page_table_walks_pass() {
    assert_all_pass("paging.jsonl");
}

#[test]
fn mixed_file_results_and_summary() {
    let out = run_bin(&["cases", &format!("{DATA}/mixed.jsonl")], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failing case makes the exit status 1"
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| json::parse(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        8,
        "7 cases (the blank line is skipped) and the summary:\n{text}"
    );

    assert_eq!(s(&lines[0], "name"), "passes");
    assert_eq!(lines[0].get("pass"), Some(&Value::Bool(true)));
    assert_eq!(s(&lines[0], "status"), "ok");

    let failing = &lines[1];
    assert_eq!(failing.get("pass"), Some(&Value::Bool(false)));
    assert_eq!(
        diffs(failing),
        [
            "rax: expected 0x2 got 0x1",
            "rflags: expected 0x202 got 0x257 (mask 0x8d5)",
            "ram 0x4000: expected 01 got 00",
            "accesses[1]: expected mmio_write 0x20000000 size 4 data 0x1 \
             got mmio_write 0x20000000 size 4 data 0x0",
        ]
    );
    let fin = failing.get("final").expect("final");
    assert_eq!(
        fin.to_json(),
        r#"{"regs": {"rip": "0x1002", "rflags": "0x257"}, "ram": [], "accesses": [{"kind": "mmio_read", "addr": "0x20000000", "size": 4, "data": "0xffffffff"}, {"kind": "mmio_write", "addr": "0x20000000", "size": 4, "data": "0x0"}], "exception": null}"#
    );

    // A line that is not JSON, and JSON that is not a case: failed cases saying why.
    assert_eq!(s(&lines[2], "name"), "line 4");
    assert_eq!(lines[2].get("pass"), Some(&Value::Bool(false)));
    assert!(
        diffs(&lines[2])[0].starts_with("invalid case: JSON:"),
        "{}",
        lines[2].to_json()
    );
    assert_eq!(s(&lines[3], "name"), "no mode");
    assert_eq!(diffs(&lines[3]), ["invalid case: missing \"mode\""]);

    assert_eq!(s(&lines[4], "status"), "unsupported");
    assert_eq!(lines[4].get("pass"), Some(&Value::Bool(false)));
    assert_eq!(s(&lines[4], "reason"), "unsupported instruction: fsqrt");

    // Without `final` there is no `pass` and no `diffs`, only what happened.
    assert_eq!(lines[5].get("pass"), None);
    assert_eq!(
        lines[5].get("final").expect("final").to_json(),
        r#"{"regs": {"rip": "0x1002"}, "ram": [["0x3000", "05"]], "accesses": [], "exception": null}"#
    );
    assert_eq!(
        lines[6].get("pass"),
        Some(&Value::Bool(true)),
        "unsupported was expected"
    );

    assert_eq!(
        lines[7].to_json(),
        r#"{"summary": {"cases": 7, "passed": 2, "failed": 3, "unsupported": 1}}"#
    );
}

#[test]
fn exit_status_and_input_from_stdin() {
    let pass = file("pass.jsonl");
    for args in [&["cases"][..], &["cases", "-"][..]] {
        let out = run_bin(args, Some(&pass));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(text.lines().count(), pass.lines().count() + 1);
        assert!(text.ends_with("\"unsupported\": 0}}\n"), "{text}");
    }
    // Cases without `final` cannot fail: status 0 even when the emulator declines them.
    let out = run_bin(
        &["cases"],
        Some("{\"mode\": \"long64\", \"bytes\": \"d9fa\"}\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.ends_with(
            "{\"summary\": {\"cases\": 1, \"passed\": 0, \"failed\": 0, \"unsupported\": 1}}\n"
        ),
        "{text}"
    );
    // A declined case with `final` did not pass: status 1, though nothing failed.
    let out = run_bin(
        &["cases"],
        Some("{\"mode\": \"long64\", \"bytes\": \"d9fa\", \"final\": {}}\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.ends_with(
            "{\"summary\": {\"cases\": 1, \"passed\": 0, \"failed\": 0, \"unsupported\": 1}}\n"
        ),
        "{text}"
    );
    // Empty input: no case, status 0.
    let out = run_bin(&["cases"], Some("\n\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).expect("UTF-8"),
        "{\"summary\": {\"cases\": 0, \"passed\": 0, \"failed\": 0, \"unsupported\": 0}}\n"
    );
    let out = run_bin(&["cases", "/nonexistent/cases.jsonl"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run_bin(&["cases", "a", "b"], None);
    assert_eq!(out.status.code(), Some(2));
}

fn one(line: &str) -> Value {
    let r = run_line(line, 1);
    r.line
}

#[test]
fn empty_mmio_queue_reads_zero_with_a_note() {
    let r = one(
        r#"{"name": "q", "mode": "long64", "bytes": "8b07", "initial": {"regs": {"rax": "0x5", "rdi": "0x20000000"}, "mmio": [{"base": "0x20000000", "size": "0x10"}], "mmio_reads": []}, "final": {"regs": {"rax": "0x0", "rip": "0x2"}, "accesses": [{"kind": "mmio_read", "addr": "0x20000000", "size": 4, "data": "0x0"}]}}"#,
    );
    assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    assert_eq!(
        r.get("notes").expect("notes").to_json(),
        r#"["mmio_read 0x20000000 size 4: mmio_reads is empty, read 0"]"#
    );
    // Entries left over are noted too.
    let r = one(
        r#"{"mode": "long64", "bytes": "8b07", "initial": {"regs": {"rdi": "0x20000000"}, "mmio": [{"base": "0x20000000", "size": "0x10"}], "mmio_reads": ["0x1", "0x2"]}}"#,
    );
    assert_eq!(
        r.get("notes").expect("notes").to_json(),
        r#"["1 mmio_reads value(s) not consumed"]"#
    );
}

#[test]
fn unordered_accesses_compare_bytes_not_the_split() {
    let case = |compare: &str| {
        format!(
            r#"{{"name": "split", "mode": "long64", "bytes": "488907", "initial": {{"regs": {{"rax": "0x8877665544332211", "rdi": "0x20000000"}}, "mmio": [{{"base": "0x20000000", "size": "0x10"}}]}}, "final": {{"regs": {{"rip": "0x3"}}, "accesses": [{{"kind": "mmio_write", "addr": "0x20000004", "size": 4, "data": "0x88776655"}}, {{"kind": "mmio_write", "addr": "0x20000000", "size": 4, "data": "0x44332211"}}]}}, "compare_accesses": {compare}}}"#
        )
    };
    let r = one(&case("\"unordered\""));
    assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    let r = one(&case("true"));
    assert_eq!(r.get("pass"), Some(&Value::Bool(false)));
    assert_eq!(diffs(&r).len(), 2, "{}", r.to_json());
    let r = one(&case("false"));
    assert_eq!(r.get("pass"), Some(&Value::Bool(true)));
}

#[test]
fn segment_registers_compare_in_the_fields_given() {
    // Real mode MOV DS, AX: selector and base change.
    let base = r#"{"mode": "real", "bytes": "8ed8", "initial": {"regs": {"rax": "0x1234", "rip": "0x100"}}, "final": {"regs": {"rip": "0x102"}, "sregs": SREGS}}"#;
    let r = one(&base.replace(
        "SREGS",
        r#"{"ds": {"selector": "0x1234", "base": "0x12340"}}"#,
    ));
    assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    assert_eq!(
        r.get("final")
            .and_then(|f| f.get("sregs"))
            .expect("sregs")
            .to_json(),
        r#"{"ds": {"selector": "0x1234", "base": "0x12340", "limit": "0xffff", "attributes": "0x93"}}"#
    );
    let r = one(&base.replace("SREGS", r#"{"ds": {"selector": "0x1234"}}"#));
    assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    let r = one(&base.replace("SREGS", r#"{}"#));
    assert_eq!(
        diffs(&r),
        [
            "ds.selector: expected 0x0 got 0x1234",
            "ds.base: expected 0x0 got 0x12340"
        ]
    );
}

#[test]
fn invalid_cases_say_why() {
    for (line, why) in [
        (
            r#"{"name": "x", "mode": "long64", "bytes": "8907", "initial": {"regs": {"rip": "0x20000000"}, "mmio": [{"base": "0x20000000", "size": "0x10"}]}, "final": {}}"#,
            "falls in an mmio range",
        ),
        (
            r#"{"name": "x", "mode": "long64", "bytes": "zz"}"#,
            "bytes:",
        ),
        (
            r#"{"name": "x", "mode": "long64", "bytes": "90", "initial": {"regs": {"rax": 5}, "bogus": 1}}"#,
            "unknown key \"bogus\"",
        ),
        (
            r#"{"name": "x", "mode": "long64", "bytes": "90", "final": {"exception": {"error_code": "0x0"}}}"#,
            "missing \"vector\"",
        ),
    ] {
        let r = one(line);
        assert_eq!(r.get("pass"), Some(&Value::Bool(false)));
        let d = diffs(&r);
        assert!(
            d.len() == 1 && d[0].starts_with("invalid case: ") && d[0].contains(why),
            "{d:?}"
        );
    }
}

fn entry(line: &str) -> Entry {
    let case = Case::from_json(&json::parse(line).expect("JSON")).expect("case");
    let mut host = TestHost::new(&case);
    for (i, b) in case.bytes.iter().enumerate() {
        host.ram.set_byte(case.initial.reg[16] + i as u64, *b);
    }
    plan_entry(&host, &case, Vendor::Amd)
}

fn io_exit(line: &str) -> IoExit {
    match entry(line) {
        Entry::Io(x) => x,
        other => panic!("{other:?}"),
    }
}

#[test]
fn port_exits_come_from_the_instruction() {
    let x = io_exit(
        r#"{"mode": "long64", "bytes": "e680", "initial": {"regs": {"rax": "0x1234", "rdx": "0x3f8"}}}"#,
    );
    assert_eq!(
        (x.port, x.size, x.write, x.string, x.rep, x.rax),
        (0x80, 1, true, false, false, 0x1234)
    );
    assert_eq!(x.bytes.as_slice(), [0xe6, 0x80]);
    let x =
        io_exit(r#"{"mode": "long64", "bytes": "ed", "initial": {"regs": {"rdx": "0x103f8"}}}"#);
    assert_eq!(
        (x.port, x.size, x.write, x.string),
        (0x3f8, 4, false, false)
    );
    let x = io_exit(r#"{"mode": "real", "bytes": "66ed", "initial": {"regs": {"rdx": "0x60"}}}"#);
    assert_eq!((x.port, x.size), (0x60, 4));
    let x = io_exit(
        r#"{"mode": "long64", "bytes": "f3666f", "exit_bytes": 2, "initial": {"regs": {"rcx": "0x10", "rsi": "0x5000", "rdx": "0x1f0"}}}"#,
    );
    assert_eq!(
        (x.port, x.size, x.write, x.string, x.rep, x.rcx, x.rsi),
        (0x1f0, 2, true, true, true, 0x10, 0x5000)
    );
    assert_eq!(x.bytes.count, 2);
    let x = io_exit(
        r#"{"mode": "prot32", "bytes": "6c", "initial": {"regs": {"rdi": "0x8000", "rdx": "0x64"}, "sregs": {"es": {"base": "0x10000"}}}}"#,
    );
    assert_eq!(
        (x.port, x.size, x.write, x.string, x.rep, x.rdi, x.es.base),
        (0x64, 1, false, true, false, 0x8000, 0x10000)
    );
}

fn mmio_exit(line: &str) -> (u64, u64, AccessKind) {
    match entry(line) {
        Entry::Mmio(x) => {
            assert!(x.gva_valid);
            (x.gpa, x.gva, x.access)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn memory_exits_name_the_first_device_access() {
    let dev = r#""mmio": [{"base": "0x3000", "size": "0x1000"}]"#;
    // REP STOSB from RAM into the device: the exit is at the first element that reaches it.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "f3aa", "initial": {{"regs": {{"rcx": "0x40", "rdi": "0x2ff0"}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3000, 0x3000, AccessKind::Write));
    // Downwards (DF=1) from the device: the first element.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "f3aa", "initial": {{"regs": {{"rcx": "0x40", "rdi": "0x3008", "rflags": "0x402"}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3008, 0x3008, AccessKind::Write));
    // MOVSB reads the source first.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "a4", "initial": {{"regs": {{"rsi": "0x3010", "rdi": "0x3020"}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3010, 0x3010, AccessKind::Read));
    // POP [mem]: the stack read is RAM, the store goes to the device.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "8f00", "initial": {{"regs": {{"rax": "0x3100", "rsp": "0x8000"}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3100, 0x3100, AccessKind::Write));
    // ADD [mem], reg is a read first; a real-mode operand through DS.
    let line = format!(
        r#"{{"mode": "real", "bytes": "0107", "initial": {{"regs": {{"rbx": "0x10"}}, "sregs": {{"ds": {{"selector": "0x300"}}}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3010, 0x3010, AccessKind::Read));
    // A write crossing from RAM into the device: the device piece.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "488907", "initial": {{"regs": {{"rdi": "0x2ffc"}}, {dev}}}}}"#
    );
    assert_eq!(mmio_exit(&line), (0x3000, 0x3000, AccessKind::Write));
    // No device: the first RAM access; a page that is not present: its address as given.
    let line = r#"{"mode": "long64", "bytes": "8b07", "initial": {"regs": {"rdi": "0x5008"}}}"#;
    assert_eq!(mmio_exit(line), (0x5008, 0x5008, AccessKind::Read));
    // Through a segment base in 32-bit mode, with FS in 64-bit mode.
    let line = r#"{"mode": "long64", "bytes": "64890425100000", "initial": {"sregs": {"fs": {"base": "0x7000"}}}}"#;
    assert_eq!(mmio_exit(line), (0x7010, 0x7010, AccessKind::Write));
    // No memory operand: emulate at RIP.
    assert_eq!(
        entry(r#"{"mode": "long64", "bytes": "01d8"}"#),
        Entry::AtRip
    );
    assert_eq!(
        entry(r#"{"mode": "long64", "bytes": "8d07"}"#),
        Entry::AtRip
    );
}

/// Which fault comes first, as the processor decided it (`data/fault_order.jsonl`): a
/// misaligned access with alignment checking on whose last byte is past a segment limit is
/// #GP(0) on Intel (captured natively), and on AMD, which checks segmentation first everywhere.
#[test]
fn segment_limit_before_alignment_check() {
    assert_all_pass("fault_order.jsonl");
    let amd = file("fault_order.jsonl").replace("\"vendor\": \"intel\"", "\"vendor\": \"amd\"");
    assert!(amd.contains("\"amd\""));
    let (results, summary) = run_text(&amd);
    assert!(summary.all_passed() && !results.is_empty(), "{results:?}");
}

/// PUSH DS with a 32-bit operand size: AMD zero-extends the selector into the four bytes
/// (`native_diff` checks it on AMD hosts); Intel's recent cores write two bytes, the slot's
/// upper half keeping its contents (the SDM's PUSH; `native_diff` checks it on Intel hosts).
#[test]
fn push_segment_register_with_32_bit_operand_size() {
    let case = |vendor: &str, slot: &str| {
        format!(
            r#"{{"name": "push ds ({vendor})", "mode": "compat32", "vendor": "{vendor}", "bytes": "1e", "initial": {{"regs": {{"rsp": "0x2004", "rip": "0x1000"}}, "sregs": {{"ds": {{"selector": "0x2b", "base": "0x0", "limit": "0xffffffff", "attributes": "0xcf3"}}}}, "ram": [["0x2000", "aabbccdd"]]}}, "final": {{"regs": {{"rsp": "0x2000", "rip": "0x1001"}}, "ram": [["0x2000", "{slot}"]]}}}}"#
        )
    };
    for (vendor, slot) in [("amd", "2b000000"), ("intel", "2b00ccdd")] {
        let r = one(&case(vendor, slot));
        assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    }
}

/// MOV r/m, Sreg in 64-bit mode stores the selector, though ES, CS, SS and DS are flat there
/// (the emulator once skipped reading them in 64-bit mode and stored 0). The processor's
/// verdicts (`native_diff`, Linux's SS 0x2b).
#[test]
fn mov_from_segment_register_in_64_bit_mode() {
    for (bytes, fin) in [
        ("8cd3", r#""regs": {"rbx": "0x2b", "rip": "0x1002"}"#),
        ("488cd3", r#""regs": {"rbx": "0x2b", "rip": "0x1003"}"#),
        (
            "8c13",
            r#""regs": {"rip": "0x1002"}, "ram": [["0x3000", "2b00"]]"#,
        ),
    ] {
        let line = format!(
            r#"{{"name": "8c {bytes}", "mode": "long64", "bytes": "{bytes}", "initial": {{"regs": {{"rbx": "0x3000", "rip": "0x1000"}}, "sregs": {{"ss": {{"selector": "0x2b", "base": "0x0", "limit": "0xffffffff", "attributes": "0xc0f3"}}}}}}, "final": {{{fin}}}}}"#
        );
        let r = one(&line);
        assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    }
}

#[test]
fn port_cases_pass() {
    assert_all_pass("io.jsonl");
}

#[test]
fn string_cases_pass() {
    assert_all_pass("strings.jsonl");
    for line in [
        r#"{"name": "rep outsb", "mode": "long64", "bytes": "f36e", "initial": {"regs": {"rcx": "0x2", "rsi": "0x3000", "rdx": "0x3f8", "rip": "0x1000"}, "ram": [["0x3000", "4142"]]}, "final": {"regs": {"rcx": "0x0", "rsi": "0x3002", "rip": "0x1002"}, "accesses": [{"kind": "io_out", "addr": "0x3f8", "size": 1, "data": "0x41"}, {"kind": "io_out", "addr": "0x3f8", "size": 1, "data": "0x42"}]}}"#,
        r#"{"name": "rep stosb into a device", "mode": "long64", "bytes": "f3aa", "initial": {"regs": {"rax": "0xab", "rcx": "0x3", "rdi": "0x2ffe", "rip": "0x1000"}, "mmio": [{"base": "0x3000", "size": "0x1000"}]}, "final": {"regs": {"rcx": "0x0", "rdi": "0x3001", "rip": "0x1002"}, "ram": [["0x2ffe", "abab"]], "accesses": [{"kind": "mmio_write", "addr": "0x3000", "size": 1, "data": "0xab"}]}}"#,
        r#"{"name": "rep movsd, 3000 elements (re-entered)", "mode": "long64", "bytes": "f3a5", "initial": {"regs": {"rcx": "0xbb8", "rsi": "0x10000", "rdi": "0x20000", "rip": "0x1000"}, "ram": [["0x10000", "01020304"], ["0x12edc", "05060708"]]}, "final": {"regs": {"rcx": "0x0", "rsi": "0x12ee0", "rdi": "0x22ee0", "rip": "0x1002"}, "ram": [["0x20000", "01020304"], ["0x22edc", "05060708"]]}}"#,
    ] {
        let r = one(line);
        assert_eq!(r.get("pass"), Some(&Value::Bool(true)), "{}", r.to_json());
    }
}

// ----- string instructions: budgets, re-entry, the bulk entry, no Get on port exits -----

/// The test host with counters and an optional bulk entry.
struct Counting {
    host: TestHost,
    gets: usize,
    sets: usize,
    bulks: Vec<BulkTransfer>,
    /// How much of each bulk transfer to take: 0 none, 1 half (rounded down), 2 all.
    take: u8,
    /// Every read through the memory and wide entries: (GPA, bytes).
    reads: Vec<(u64, usize)>,
}

impl Host for Counting {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        self.host.io_port(io)
    }
    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        if !a.write {
            self.reads.push((a.gpa, a.size.into()));
        }
        self.host.memory(a)
    }
    fn get_registers(&mut self, n: &[RegName], v: &mut [RegValue]) -> Result<(), HostError> {
        self.gets += 1;
        self.host.get_registers(n, v)
    }
    fn set_registers(&mut self, n: &[RegName], v: &[RegValue]) -> Result<(), HostError> {
        self.sets += 1;
        self.host.set_registers(n, v)
    }
    fn translate_gva_page(
        &mut self,
        gva: u64,
        f: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        self.host.translate_gva_page(gva, f)
    }
}

/// A bulk entry that performs the elements it takes through the host's own memory and port
/// callbacks, so the accesses a device sees must be the same as without it.
fn bulk(c: &mut Counting, t: &BulkTransfer) -> Result<u32, HostError> {
    c.bulks.push(*t);
    let take = match c.take {
        0 => 0,
        1 => t.count / 2,
        _ => t.count,
    };
    let at = |gpa: u64, i: u32| {
        let d = u64::from(i) * u64::from(t.size);
        if t.descending { gpa - d } else { gpa + d }
    };
    for i in 0..take {
        let v = match t.src {
            BulkEnd::Memory(g) => {
                let mut a = MemAccess {
                    gpa: at(g, i),
                    size: t.size,
                    write: false,
                    data: [0; 8],
                };
                c.host.memory(&mut a)?;
                u64::from_le_bytes(a.data)
            }
            BulkEnd::Port(p) => {
                let mut io = IoAccess {
                    port: p,
                    size: t.size,
                    write: false,
                    data: 0,
                };
                c.host.io_port(&mut io)?;
                u64::from(io.data)
            }
            BulkEnd::Value(v) => v,
        };
        match t.dst {
            BulkEnd::Memory(g) => {
                let mut a = MemAccess {
                    gpa: at(g, i),
                    size: t.size,
                    write: true,
                    data: v.to_le_bytes(),
                };
                c.host.memory(&mut a)?;
            }
            BulkEnd::Port(p) => {
                let mut io = IoAccess {
                    port: p,
                    size: t.size,
                    write: true,
                    data: v as u32,
                };
                c.host.io_port(&mut io)?;
            }
            BulkEnd::Value(_) => panic!("a value is never a destination"),
        }
    }
    Ok(take)
}

/// What a driven run gives: the host afterwards, the outcomes of every call, and the RCX, RSI,
/// RDI and RIP after each call.
struct Driven {
    c: Counting,
    outcomes: Vec<Outcome>,
    after: Vec<[u64; 4]>,
}

/// Runs `case` as the runner does (exit from the instruction, re-entered while part done), with
/// the given per-call budget and bulk behaviour (`None`: no bulk entry).
fn drive(case: &Case, budget: u32, take: Option<u8>) -> Driven {
    drive_with(case, budget, take, false)
}

/// [`drive`], the host offering the wide memory entry when `wide`.
fn drive_with(case: &Case, budget: u32, take: Option<u8>, wide: bool) -> Driven {
    let mut host = TestHost::new(case);
    for (i, b) in case.bytes.iter().enumerate() {
        host.ram.set_byte(case.initial.reg[RIP] + i as u64, *b);
    }
    let mut c = Counting {
        host,
        gets: 0,
        sets: 0,
        bulks: Vec::new(),
        take: take.unwrap_or(0),
        reads: Vec::new(),
    };
    let mut cb = Callbacks::<Counting>::for_host();
    if take.is_some() {
        cb.bulk = Some(bulk);
    }
    if wide {
        cb.wide_memory = Some(|c, gpa, write, data| {
            if !write {
                c.reads.push((gpa, data.len()));
            }
            c.host.wide_memory(gpa, write, data)
        });
    }
    let vendor = case.vendor.unwrap_or(Vendor::Amd);
    let emu = Emulator::new(Config {
        vendor,
        rep_budget: budget,
        ..Config::default()
    });
    let mut outcomes = Vec::new();
    let mut after = Vec::new();
    loop {
        let vp = vp_context(&c.host.state, case.cpl);
        let out = match plan_entry(&c.host, case, vendor) {
            Entry::Mmio(x) => emu.emulate_mmio(&cb, &mut c, &vp, &x),
            Entry::Io(x) => emu.emulate_io(&cb, &mut c, &vp, &x),
            Entry::AtRip => emu.emulate_at_rip(&cb, &mut c, &vp),
        };
        outcomes.push(out);
        let r = &c.host.state.reg;
        after.push([r[1], r[6], r[7], r[RIP]]);
        if out != Outcome::Partial {
            break;
        }
        assert!(outcomes.len() < 100_000, "{}: never completes", case.name);
    }
    Driven { c, outcomes, after }
}

fn cases_of(name: &str) -> Vec<Case> {
    file(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Case::from_json(&json::parse(l).expect("JSON")).expect("case"))
        .collect()
}

#[test]
fn budgets_and_the_bulk_entry_change_nothing_but_the_number_of_calls() {
    let mut checked = 0;
    for case in cases_of("strings.jsonl") {
        let base = drive(&case, 1024, None);
        let rep = case.bytes.iter().any(|b| matches!(b, 0xf2 | 0xf3));
        let count = case.initial.reg[1];
        for budget in [1u32, 2, 3, 7, 1024] {
            for take in [None, Some(0), Some(1), Some(2)] {
                let d = drive(&case, budget, take);
                let what = format!("{} (budget {budget}, bulk {take:?})", case.name);
                assert_eq!(d.c.host.state, base.c.host.state, "{what}");
                assert_eq!(d.c.host.ram, base.c.host.ram, "{what}");
                assert_eq!(d.c.host.accesses, base.c.host.accesses, "{what}");
                assert_eq!(d.outcomes.last(), base.outcomes.last(), "{what}");
                // Every call but the last hands back exactly `budget` elements done, RIP unmoved.
                let partials = d.outcomes.len() - 1;
                let mut prev = [
                    count,
                    case.initial.reg[6],
                    case.initial.reg[7],
                    case.initial.reg[RIP],
                ];
                for a in d.after.iter().take(partials) {
                    assert_eq!(
                        a[3], case.initial.reg[RIP],
                        "{what}: RIP moved on a partial call"
                    );
                    assert_eq!(
                        prev[0].wrapping_sub(a[0]) & 0xffff_ffff,
                        u64::from(budget),
                        "{what}"
                    );
                    prev = *a;
                }
                if rep && budget < 1024 && d.outcomes.last() == Some(&Outcome::Completed) {
                    // A REP instruction that moves all its elements takes one call per budget.
                    let moved = count.wrapping_sub(d.c.host.state.reg[1]) & 0xffff_ffff;
                    if moved == count & 0xffff_ffff && moved > 0 && !is_compare(&case) {
                        assert_eq!(partials as u64, (moved - 1) / u64::from(budget), "{what}");
                    }
                }
                // One Set per call that changed something, never a Set on a refusal.
                assert!(d.c.sets <= d.outcomes.len(), "{what}");
                checked += 1;
            }
        }
    }
    assert!(checked > 500);
}

fn is_compare(case: &Case) -> bool {
    matches!(case.bytes.last(), Some(0xa6 | 0xa7 | 0xae | 0xaf))
}

fn case(line: &str) -> Case {
    Case::from_json(&json::parse(line).expect("JSON")).expect("case")
}

#[test]
fn bulk_runs_are_split_at_pages_and_budgets() {
    // rep movsb of 4 KiB from RAM at 0x3800 to a device at 0x20000100: runs end where either
    // side leaves its page.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3a4", "initial": {"regs": {"rcx": "0x1000", "rsi": "0x3800", "rdi": "0x20000100", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x2000"}]}}"#,
    );
    let d = drive(&c, 4096, Some(2));
    let runs: Vec<(BulkEnd, BulkEnd, u32)> =
        d.c.bulks.iter().map(|t| (t.src, t.dst, t.count)).collect();
    let m = BulkEnd::Memory;
    assert_eq!(
        runs,
        [
            (m(0x3800), m(0x2000_0100), 0x800),
            (m(0x4000), m(0x2000_0900), 0x700),
            (m(0x4700), m(0x2000_1000), 0x100),
        ]
    );
    assert_eq!(d.outcomes, [Outcome::Completed]);
    assert_eq!(d.c.host.accesses.len(), 0x1000);
    // With the default budget of 1,024 elements: four calls, runs cut at the budget too.
    let d = drive(&c, 1024, Some(2));
    let counts: Vec<u32> = d.c.bulks.iter().map(|t| t.count).collect();
    assert_eq!(counts, [0x400, 0x400, 0x400, 0x300, 0x100]);
    assert_eq!(d.outcomes.len(), 4);
    // Descending (DF = 1) rep stosd: the run's GPA is its first (highest) element.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3ab", "initial": {"regs": {"rax": "0x11223344", "rcx": "0x10", "rdi": "0x2000003c", "rip": "0x1000", "rflags": "0x402"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}]}}"#,
    );
    let d = drive(&c, 1024, Some(2));
    assert_eq!(d.c.bulks.len(), 1);
    let t = d.c.bulks[0];
    assert_eq!(
        (t.src, t.dst, t.size, t.count, t.descending),
        (
            BulkEnd::Value(0x11223344),
            BulkEnd::Memory(0x2000_003c),
            4,
            0x10,
            true
        )
    );
    assert_eq!(d.c.host.accesses.last().map(|a| a.addr), Some(0x2000_0000));
    // Port ends: rep insw and rep outsb.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3666d", "initial": {"regs": {"rcx": "0x3", "rdi": "0x4000", "rdx": "0x1f0", "rip": "0x1000"}, "io_reads": ["0x1", "0x2", "0x3"]}}"#,
    );
    let d = drive(&c, 1024, Some(2));
    assert_eq!(
        (d.c.bulks[0].src, d.c.bulks[0].dst),
        (BulkEnd::Port(0x1f0), BulkEnd::Memory(0x4000))
    );
    // CMPS, SCAS and LODS never use it.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3a6", "initial": {"regs": {"rcx": "0x30", "rsi": "0x3000", "rdi": "0x4000", "rip": "0x1000"}}}"#,
    );
    assert!(drive(&c, 1024, Some(2)).c.bulks.is_empty());
}

/// The device writes of a driven run: (GPA, size, data).
fn device_writes(d: &Driven) -> Vec<(u64, u8, u64)> {
    d.c.host
        .accesses
        .iter()
        .map(|a| {
            assert_eq!(a.kind, model::AccessKind::MmioWrite, "only device writes");
            (a.addr, a.size, a.data)
        })
        .collect()
}

#[test]
fn movs_reads_a_source_the_exit_proves_mapped_in_wider_pieces() {
    // rep movsb of 4 KiB from RAM at 0x3800 to a device at 0x20000100 in one call: the exit is
    // the write to the device (unmapped), so the source's first page (0x800 bytes) is memory and
    // is read 8 bytes at a time; the next page is not known to be memory: one read per byte.
    let ram: String = (0..0x1000u32)
        .map(|i| format!("{:02x}", (i * 7 + 3) & 0xff))
        .collect();
    let c = case(&format!(
        r#"{{"mode": "long64", "bytes": "f3a4", "initial": {{"regs": {{"rcx": "0x1000", "rsi": "0x3800", "rdi": "0x20000100", "rip": "0x1000"}}, "ram": [["0x3800", "{ram}"]], "mmio": [{{"base": "0x20000000", "size": "0x2000"}}]}}}}"#
    ));
    let expect: Vec<(u64, u8, u64)> = (0..0x1000u64)
        .map(|i| (0x2000_0100 + i, 1, (i * 7 + 3) & 0xff))
        .collect();
    let d = drive(&c, 4096, None);
    assert_eq!(d.outcomes, [Outcome::Completed]);
    assert_eq!(device_writes(&d), expect);
    let mut want: Vec<(u64, usize)> = (0..0x100).map(|k| (0x3800 + 8 * k, 8)).collect();
    want.extend((0x4000..0x4800).map(|g| (g, 1)));
    assert_eq!(d.c.reads, want);
    // With the wide entry, 64 bytes at a time.
    let d = drive_with(&c, 4096, None, true);
    assert_eq!(device_writes(&d), expect);
    let mut want: Vec<(u64, usize)> = (0..0x20).map(|k| (0x3800 + 64 * k, 64)).collect();
    want.extend((0x4000..0x4800).map(|g| (g, 1)));
    assert_eq!(d.c.reads, want);
    // Each call's exit proves the source page of its own first run: with a budget of 1,024,
    // calls start at 0x3800, 0x3c00, 0x4000 and 0x4400; the last call's first run ends with the
    // device page at 0x4700, its second is not proven.
    let d = drive(&c, 1024, None);
    assert_eq!(d.outcomes.len(), 4);
    assert_eq!(device_writes(&d), expect);
    let mut want: Vec<(u64, usize)> = (0..0x1e0).map(|k| (0x3800 + 8 * k, 8)).collect();
    want.extend((0x4700..0x4800).map(|g| (g, 1)));
    assert_eq!(d.c.reads, want);

    // Descending words with a tail: 9 words from 0x3010 down, two 8-byte reads (the lowest
    // address of each four words) and one word read.
    let c = case(
        r#"{"mode": "long64", "bytes": "f366a5", "initial": {"regs": {"rcx": "0x9", "rsi": "0x3010", "rdi": "0x20000110", "rflags": "0x402", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x2000"}]}}"#,
    );
    let d = drive(&c, 1024, None);
    assert_eq!(d.c.reads, [(0x300a, 8), (0x3002, 8), (0x3000, 2)]);
    assert_eq!(device_writes(&d).len(), 9);
    // The same with the wide entry and 40 words from 0x3050 down: one 64-byte read (32 words),
    // then two 8-byte reads; every word reaches the device in order with its value.
    let ram: String = (0..0x60u32)
        .map(|i| format!("{:02x}", (i * 13 + 5) & 0xff))
        .collect();
    let c = case(&format!(
        r#"{{"mode": "long64", "bytes": "f366a5", "initial": {{"regs": {{"rcx": "0x28", "rsi": "0x3050", "rdi": "0x20000150", "rflags": "0x402", "rip": "0x1000"}}, "ram": [["0x3000", "{ram}"]], "mmio": [{{"base": "0x20000000", "size": "0x2000"}}]}}}}"#
    ));
    let byte = |a: u64| ((a - 0x3000) * 13 + 5) & 0xff;
    let words: Vec<(u64, u8, u64)> = (0..0x28u64)
        .map(|k| {
            let at = 0x3050 - 2 * k;
            (0x2000_0150 - 2 * k, 2, byte(at) | byte(at + 1) << 8)
        })
        .collect();
    let d = drive_with(&c, 1024, None, true);
    assert_eq!(d.c.reads, [(0x3012, 64), (0x300a, 8), (0x3002, 8)]);
    assert_eq!(device_writes(&d), words);

    // An exit that proves nothing: RAM to RAM (the exit is a mapped GPA), one read per element.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3a4", "initial": {"regs": {"rcx": "0x20", "rsi": "0x3000", "rdi": "0x5000", "rip": "0x1000"}}}"#,
    );
    let d = drive(&c, 1024, None);
    assert_eq!(
        d.c.reads,
        (0x3000..0x3020).map(|g| (g, 1)).collect::<Vec<_>>()
    );
    // Device to device in one page: the exit is the source's read, device reads stay per byte.
    let c = case(
        r#"{"mode": "long64", "bytes": "f3a4", "initial": {"regs": {"rcx": "0x10", "rsi": "0x20000000", "rdi": "0x20000800", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}]}}"#,
    );
    let d = drive(&c, 1024, None);
    assert_eq!(
        d.c.reads,
        (0x2000_0000..0x2000_0010)
            .map(|g| (g, 1))
            .collect::<Vec<_>>()
    );
}

#[test]
fn port_exits_need_no_get() {
    for (line, gets) in [
        (
            r#"{"mode": "long64", "bytes": "ee", "initial": {"regs": {"rax": "0x41", "rdx": "0x3f8"}}}"#,
            0,
        ),
        (
            r#"{"mode": "long64", "bytes": "ec", "initial": {"regs": {"rdx": "0x3f8"}, "io_reads": ["0x7"]}}"#,
            0,
        ),
        (
            r#"{"mode": "prot32", "bytes": "e560", "initial": {"io_reads": ["0x7"]}}"#,
            0,
        ),
        (
            r#"{"mode": "long64", "bytes": "f36e", "initial": {"regs": {"rcx": "0x4", "rsi": "0x3000", "rdx": "0x3f8"}}}"#,
            0,
        ),
        (
            r#"{"mode": "long64", "bytes": "f3666d", "initial": {"regs": {"rcx": "0x2", "rdi": "0x3000", "rdx": "0x1f0"}}}"#,
            0,
        ),
        (
            r#"{"mode": "compat32", "bytes": "f36e", "initial": {"regs": {"rcx": "0x4", "rsi": "0x3000", "rdx": "0x3f8"}}}"#,
            0,
        ),
        (
            r#"{"mode": "real", "bytes": "f36c", "initial": {"regs": {"rcx": "0x4", "rdi": "0x3000", "rdx": "0x60"}}}"#,
            0,
        ),
        // An FS override names a segment the exit does not carry: one Get.
        (
            r#"{"mode": "compat32", "bytes": "64f36e", "initial": {"regs": {"rcx": "0x4", "rsi": "0x3000", "rdx": "0x3f8"}}}"#,
            1,
        ),
    ] {
        let c = case(line);
        let d = drive(&c, 1024, None);
        assert_eq!(d.outcomes, [Outcome::Completed], "{line}");
        assert_eq!((d.c.gets, d.c.sets), (gets, 1), "{line}");
    }
}

// ----- vector moves: device traces, the wide-memory entry, MMX state, register service -----

#[test]
fn vector_cases_pass() {
    assert_all_pass("vector.jsonl");
    // A result's `final` names changed vector registers at the width that changed, in `xmm`.
    let (results, _) = run_text(&file("vector.jsonl"));
    let final_of = |prefix: &str| {
        results
            .iter()
            .find(|r| s(r, "name").starts_with(prefix))
            .and_then(|r| r.get("final"))
            .and_then(|f| f.get("xmm"))
            .map(Value::to_json)
            .unwrap_or_else(|| panic!("{prefix}"))
    };
    assert_eq!(
        final_of("vmovdqu64 zmm17, [rsi]"),
        format!(r#"{{"zmm17": "{ZMM1}"}}"#)
    );
    assert_eq!(
        final_of("movss xmm1, [rsi]"),
        r#"{"xmm1": "0x00000000000000000000000089abcdef"}"#
    );
    let zmm4 = format!(
        "0x{}{}",
        "0".repeat(64),
        "4444444444444444333333333333333322222222222222221111111111111111"
    );
    assert_eq!(
        final_of("vmovdqu ymm4, [rsi]:"),
        format!(r#"{{"zmm4": "{zmm4}"}}"#)
    );
}

/// The emulator configured as the runner configures it, on `host` (already holding the case's
/// bytes), with or without the wide-memory entry; the instruction's outcome.
fn emulate_vector(case: &Case, host: &mut TestHost, wide: bool) -> Outcome {
    let mut cb = Callbacks::<TestHost>::for_host();
    if wide {
        cb.wide_memory = Some(|h, gpa, write, data| h.wide_memory(gpa, write, data));
    }
    let vendor = case.vendor.unwrap_or(Vendor::Amd);
    let emu = Emulator::new(Config {
        vendor,
        vector_state: host.vector_state,
        ..Config::default()
    });
    let vp = vp_context(&host.state, case.cpl);
    match plan_entry(host, case, vendor) {
        Entry::Mmio(x) => emu.emulate_mmio(&cb, host, &vp, &x),
        Entry::Io(x) => emu.emulate_io(&cb, host, &vp, &x),
        Entry::AtRip => emu.emulate_at_rip(&cb, host, &vp),
    }
}

fn host_for(case: &Case) -> TestHost {
    let mut host = TestHost::new(case);
    for (i, b) in case.bytes.iter().enumerate() {
        host.ram.set_byte(case.initial.reg[RIP] + i as u64, *b);
    }
    host
}

/// ZMM1 with byte `i` = `i`.
const ZMM1: &str = "0x3f3e3d3c3b3a393837363534333231302f2e2d2c2b2a292827262524232221201f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

fn wide(write: bool, gpa: u64, data: &[u8]) -> WideAccess {
    WideAccess {
        write,
        gpa,
        data: data.to_vec(),
    }
}

#[test]
fn wide_memory_entry_takes_whole_runs() {
    let bytes: Vec<u8> = (0..64).collect();
    let store = |rdi: &str, mmio: &str| {
        case(&format!(
            r#"{{"mode": "long64", "bytes": "62f1fe487f0f", "initial": {{"regs": {{"rdi": "{rdi}", "rip": "0x1000"}}, "xmm": {{"zmm1": "{ZMM1}"}}, "mmio": [{mmio}]}}}}"#
        ))
    };
    let dev = r#"{"base": "0x20000000", "size": "0x2000"}"#;

    // vmovdqu64 [rdi], zmm1: one 64-byte device write instead of eight 8-byte ones.
    let c = store("0x20000040", dev);
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    assert_eq!(h.wide_accesses, [wide(true, 0x2000_0040, &bytes)]);
    assert!(h.accesses.is_empty(), "{:?}", h.accesses);
    assert_eq!(h.state.reg[RIP], 0x1006);
    // Without the entry: eight 8-byte writes (what the case file pins).
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, false), Outcome::Completed);
    assert!(h.wide_accesses.is_empty());
    assert_eq!(h.accesses.len(), 8);
    assert!(h.accesses.iter().all(|a| a.size == 8));

    // Crossing a page: one access per page side, in address order.
    let c = store("0x20000fe0", dev);
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    assert_eq!(
        h.wide_accesses,
        [
            wide(true, 0x2000_0fe0, &bytes[..32]),
            wide(true, 0x2000_1000, &bytes[32..])
        ]
    );
    assert!(h.accesses.is_empty());
    let c = store("0x20000ffc", dev);
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    // 4 bytes below the boundary (no wider than 8: the plain memory entry), 60 above.
    assert_eq!(h.wide_accesses, [wide(true, 0x2000_1000, &bytes[4..])]);
    assert_eq!(h.accesses.len(), 1);
    assert_eq!(
        (h.accesses[0].addr, h.accesses[0].size, h.accesses[0].data),
        (0x2000_0ffc, 4, 0x0302_0100)
    );

    // RAM through the wide entry: stored, and no device access recorded.
    let c = store("0x5010", dev);
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    let mut got = [0u8; 64];
    h.ram.read(0x5010, &mut got);
    assert_eq!(got.as_slice(), bytes.as_slice());
    assert!(h.wide_accesses.is_empty() && h.accesses.is_empty());

    // MOVDIR64B: the 64-byte store is one access too (its RAM source is read whole first).
    let c = case(&format!(
        r#"{{"mode": "long64", "bytes": "660f38f83e", "initial": {{"regs": {{"rsi": "0x3000", "rdi": "0x20000080", "rip": "0x1000"}}, "ram": [["0x3000", "{}"]], "mmio": [{dev}]}}}}"#,
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    assert_eq!(h.wide_accesses, [wide(true, 0x2000_0080, &bytes)]);

    // A masked store: each run of unmasked elements is one access, runs of at most 8 bytes
    // through the plain entry (k1 = 0xf31: 4 bytes at 0, 8 at 16, 16 at 32).
    let c = case(&format!(
        r#"{{"mode": "long64", "bytes": "62f17e497f0f", "initial": {{"regs": {{"rdi": "0x20000000", "rip": "0x1000"}}, "xmm": {{"zmm1": "{ZMM1}", "k1": "0xf31"}}, "mmio": [{dev}]}}}}"#
    ));
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    let plain: Vec<(u64, u8, u64)> = h
        .accesses
        .iter()
        .map(|a| (a.addr, a.size, a.data))
        .collect();
    assert_eq!(
        plain,
        [
            (0x2000_0000, 4, 0x0302_0100),
            (0x2000_0010, 8, 0x1716_1514_1312_1110)
        ]
    );
    assert_eq!(h.wide_accesses, [wide(true, 0x2000_0020, &bytes[32..48])]);

    // A 32-byte load: one read that takes four mmio_reads values.
    let c = case(
        r#"{"mode": "long64", "bytes": "c5fe6f26", "initial": {"regs": {"rsi": "0x20000000", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}], "mmio_reads": ["0x1111111111111111", "0x2222222222222222", "0x3333333333333333", "0x4444444444444444"]}}"#,
    );
    let mut h = host_for(&c);
    assert_eq!(emulate_vector(&c, &mut h, true), Outcome::Completed);
    let mut want = Vec::new();
    for b in [0x11u8, 0x22, 0x33, 0x44] {
        want.extend([b; 8]);
    }
    assert_eq!(h.wide_accesses, [wide(false, 0x2000_0000, &want)]);
    assert_eq!(
        h.state.zmm[4],
        [
            0x2222_2222_2222_2222_1111_1111_1111_1111,
            0x4444_4444_4444_4444_3333_3333_3333_3333,
            0,
            0
        ]
    );
    assert!(h.mmio_reads.is_empty() && h.violations.is_empty());
}

#[test]
fn mmx_registers_come_from_the_x87_slots() {
    // movq [rdi], mm1 with FSW.TOP = 2: MM1 is FXSAVE slot ST((1 - 2) mod 8) = ST(7).
    let mut c = case(
        r#"{"name": "movq [rdi], mm1", "mode": "long64", "bytes": "0f7f0f", "initial": {"regs": {"rdi": "0x20000000", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}]}, "final": {"regs": {"rip": "0x1003"}, "accesses": [{"kind": "mmio_write", "addr": "0x20000000", "size": 8, "data": "0xaabbccddeeff0011"}]}}"#,
    );
    c.initial.fp_control.lo |= 2 << (16 + 11);
    c.initial.fp_mmx[7] = RegValue {
        lo: 0xaabb_ccdd_eeff_0011,
        hi: 0xffff,
    };
    c.initial.fp_mmx[0] = RegValue { lo: 5, hi: 0x4001 };
    let r = run_case(&c, "movq [rdi], mm1", 1);
    assert_eq!(r.verdict, Verdict::Passed, "{}", r.line.to_json());
    let run = runner::run(&c).expect("runs");
    let fp = run.host.state.fp_control;
    // Afterwards TOP = 0 and every tag valid: slot n holds MMn (slot 0 = old ST(0) = R2 = MM2,
    // slot 1 = R1 = old slot 7, slot 2 = R2 = old slot 0).
    assert_eq!((fp.lo >> 16) & 0xffff, 0, "FSW with TOP 0");
    assert_eq!((fp.lo >> 32) & 0xff, 0xff, "abridged FTW all valid");
    assert_eq!(fp.lo & 0xffff, 0x37f, "FCW unchanged");
    assert_eq!(run.host.state.fp_mmx[1].lo, 0xaabb_ccdd_eeff_0011);
    assert_eq!(run.host.state.fp_mmx[2], RegValue { lo: 5, hi: 0x4001 });
    let notes = r.line.get("notes").expect("notes").to_json();
    assert!(notes.contains("not in the case format"), "{notes}");

    // movq mm3, [rsi] loads MM3: slot 3 gets the value with exponent and sign all ones.
    let c = case(
        r#"{"mode": "long64", "bytes": "0f6f1e", "initial": {"regs": {"rsi": "0x3000", "rip": "0x1000"}, "ram": [["0x3000", "8877665544332211"]]}}"#,
    );
    let run = runner::run(&c).expect("runs");
    assert_eq!(
        run.host.state.fp_mmx[3],
        RegValue {
            lo: 0x1122_3344_5566_7788,
            hi: 0xffff
        }
    );
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("mm3 (x87 slot 3) 0x0 -> 0x1122334455667788")),
        "{:?}",
        run.notes
    );

    // A pending x87 exception (FSW.ES) makes an MMX instruction raise #MF; nothing changes.
    let mut c = case(
        r#"{"mode": "long64", "bytes": "0f7f0f", "initial": {"regs": {"rdi": "0x20000000", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}]}, "final": {"exception": {"vector": 16, "error_code": null}}}"#,
    );
    c.initial.fp_control.lo |= 0x80 << 16;
    let r = run_case(&c, "#MF", 1);
    assert_eq!(r.verdict, Verdict::Passed, "{}", r.line.to_json());
}

#[test]
fn extension_registers_follow_the_host_vector_state() {
    let c = case(
        r#"{"mode": "long64", "bytes": "90", "initial": {"xmm": {"zmm3": "0x4000000000000000000000000000000030000000000000000000000000000000200000000000000000000000000000001", "zmm20": "0x7", "k5": "0xabc"}}}"#,
    );
    let mut h = TestHost::new(&c);
    assert_eq!(h.vector_state, VectorState::Zmm);
    let get = |h: &mut TestHost, n: RegName| {
        let mut v = [RegValue::default()];
        h.get_registers(&[n], &mut v).map(|_| v[0])
    };
    assert_eq!(
        get(&mut h, RegName::zmm_part(3, 1)),
        Ok(RegValue::from_u128(2))
    );
    assert_eq!(
        get(&mut h, RegName::zmm_part(3, 3)),
        Ok(RegValue::from_u128(4))
    );
    assert_eq!(
        get(&mut h, RegName::zmm_part(20, 0)),
        Ok(RegValue::from_u128(7))
    );
    assert_eq!(get(&mut h, RegName::k(5)), Ok(RegValue::from_u64(0xabc)));
    // x87: the state after FNINIT; XCR0 of an AVX-512 host; CR4 with the SSE/AVX bits.
    assert_eq!(
        get(&mut h, RegName::FP_CONTROL_STATUS),
        Ok(RegValue { lo: 0x37f, hi: 0 })
    );
    assert_eq!(get(&mut h, RegName(0x1017)), Ok(RegValue::default()));
    assert_eq!(get(&mut h, RegName::XCR0), Ok(RegValue::from_u64(0xe7)));
    assert_eq!(get(&mut h, RegName::CR4), Ok(RegValue::from_u64(0x40620)));
    // Part 0 of ZMM0..15 is XMMn, only under its WinHv name.
    assert!(get(&mut h, RegName::zmm_part(3, 0)).is_err());
    h.set_registers(
        &[RegName::zmm_part(3, 2), RegName::k(5), RegName::FP_MMX0],
        &[
            RegValue::from_u128(9),
            RegValue::from_u64(1),
            RegValue { lo: 8, hi: 0xffff },
        ],
    )
    .expect("served");
    assert_eq!(h.state.zmm[3], [1, 2, 9, 4]);
    assert_eq!(h.state.k[5], 1);
    assert_eq!(h.state.fp_mmx[0], RegValue { lo: 8, hi: 0xffff });
    // An AVX host serves the YMM halves only; a host without either, none.
    h.vector_state = VectorState::Ymm;
    assert!(get(&mut h, RegName::zmm_part(3, 1)).is_ok());
    assert!(get(&mut h, RegName::zmm_part(3, 2)).is_err());
    assert!(get(&mut h, RegName::zmm_part(20, 0)).is_err());
    assert!(get(&mut h, RegName::k(5)).is_err());
    h.vector_state = VectorState::Xmm;
    assert!(get(&mut h, RegName::zmm_part(3, 1)).is_err());

    // The emulator told the same refuses what needs more (and changes nothing).
    let c = case(
        r#"{"mode": "long64", "bytes": "c5fe7f2f", "initial": {"regs": {"rdi": "0x20000000", "rip": "0x1000"}, "mmio": [{"base": "0x20000000", "size": "0x1000"}]}}"#,
    );
    let mut h = host_for(&c);
    h.vector_state = VectorState::Xmm;
    assert_eq!(
        emulate_vector(&c, &mut h, false),
        Outcome::Refused(Refusal::RegisterUnavailable)
    );
    assert!(h.accesses.is_empty() && h.violations.is_empty());
    h.vector_state = VectorState::Ymm;
    assert_eq!(emulate_vector(&c, &mut h, false), Outcome::Completed);
    assert_eq!(h.accesses.len(), 4);
    assert!(h.violations.is_empty(), "{:?}", h.violations);
}

#[test]
fn case_defaults_enable_sse_and_avx_unless_cr4_is_given() {
    for (mode, cr4) in [
        ("real", 0x40600),
        ("prot16", 0x40600),
        ("prot32", 0x40600),
        ("compat32", 0x40620),
        ("long64", 0x40620),
    ] {
        let c = case(&format!(r#"{{"mode": "{mode}", "bytes": "90"}}"#));
        assert_eq!(c.initial.cr4(), cr4, "{mode}");
        assert_eq!(c.initial.xcr0, 0xe7);
    }
    let c = case(r#"{"mode": "long64", "bytes": "90", "initial": {"sregs": {"cr4": "0x20"}}}"#);
    assert_eq!(c.initial.cr4(), 0x20, "a given cr4 is taken as it is");
}

#[test]
fn vector_exits_name_the_access_the_instruction_makes() {
    let dev = r#""mmio": [{"base": "0x20000000", "size": "0x1000"}]"#;
    // PEXTRB to memory is a store.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "660f3a140f05", "initial": {{"regs": {{"rdi": "0x20000010"}}, {dev}}}}}"#
    );
    assert_eq!(
        mmio_exit(&line),
        (0x2000_0010, 0x2000_0010, AccessKind::Write)
    );
    // A masked store: the first unmasked element (k1 = 0xf30: element 4).
    let line = format!(
        r#"{{"mode": "long64", "bytes": "62f17e497f0f", "initial": {{"regs": {{"rdi": "0x20000000"}}, "xmm": {{"k1": "0xf30"}}, {dev}}}}}"#
    );
    assert_eq!(
        mmio_exit(&line),
        (0x2000_0010, 0x2000_0010, AccessKind::Write)
    );
    // MOVDIR64B from RAM to a device: the device store.
    let line = format!(
        r#"{{"mode": "long64", "bytes": "660f38f83e", "initial": {{"regs": {{"rsi": "0x3000", "rdi": "0x20000040"}}, {dev}}}}}"#
    );
    assert_eq!(
        mmio_exit(&line),
        (0x2000_0040, 0x2000_0040, AccessKind::Write)
    );
}

/// A port exit whose size, string or REP bit disagrees with the instruction is refused before
/// any port access; the exit as the instruction makes it completes.
#[test]
fn port_exits_that_disagree_with_the_instruction_are_refused() {
    let lines = [
        // out dx, al
        r#"{"mode": "long64", "bytes": "ee", "initial": {"regs": {"rax": "0x41", "rdx": "0x3f8"}}}"#,
        // rep outsb
        r#"{"mode": "long64", "bytes": "f36e", "initial": {"regs": {"rcx": "0x2", "rsi": "0x5000", "rdx": "0x3f8"}}}"#,
    ];
    for line in lines {
        let c = case(line);
        let Entry::Io(exit) = plan_entry(&host_for(&c), &c, Vendor::Amd) else {
            panic!("not a port exit: {line}");
        };
        let emu = Emulator::new(Config::default());
        let cb = Callbacks::<TestHost>::for_host();
        let run = |x: &IoExit| {
            let mut host = host_for(&c);
            let vp = vp_context(&host.state, c.cpl);
            let out = emu.emulate_io(&cb, &mut host, &vp, x);
            (out, host.accesses.len())
        };
        let (out, n) = run(&exit);
        assert_eq!(out, Outcome::Completed, "{line}");
        assert!(n > 0, "{line}: no port access");
        let wrong = [
            IoExit { size: 2, ..exit },
            IoExit {
                string: !exit.string,
                ..exit
            },
            IoExit {
                rep: !exit.rep,
                ..exit
            },
        ];
        for (i, x) in wrong.iter().enumerate() {
            // A plain OUT does not report REP: only the string form is held to it.
            if i == 2 && !exit.string {
                continue;
            }
            assert_eq!(
                run(x),
                (Outcome::Refused(Refusal::ExitMismatch), 0),
                "{line}: variant {i}"
            );
        }
    }
}
