//! `hvemu decode`, `bench`, `demo` and `help` run as a program, as scripts drive them
//! (spec/cli.md).

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hvemu"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the hvemu binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .expect("stdin accepts the input");
    }
    child.wait_with_output().expect("hvemu finishes")
}

/// Standard output of a run that must exit with status 0.
fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn decode(args: &[&str]) -> String {
    let mut all = vec!["decode"];
    all.extend_from_slice(args);
    ok(&all, None)
}

#[test]
fn text_lines() {
    assert_eq!(decode(&["48891f"]), "3\t48891f\tmov [rdi],rbx\n");
    // Spaces inside an argument; the bytes after the instruction are ignored and not shown.
    assert_eq!(decode(&["48 89 1F 90 90"]), "3\t48891f\tmov [rdi],rbx\n");
    assert_eq!(
        decode(&["8b420c", "0fb64705", "f3a4"]),
        "3\t8b420c\tmov eax,[rdx+0xc]\n4\t0fb64705\tmovzx eax,byte ptr [rdi+0x5]\n\
         2\tf3a4\trep movsb\n"
    );
    assert_eq!(
        decode(&["f0830f01"]),
        "4\tf0830f01\tlock or dword ptr [rdi],0x1\n"
    );
    assert_eq!(
        decode(&["64488b042528000000"]),
        "9\t64488b042528000000\tmov rax,fs:[0x28]\n"
    );
    assert_eq!(decode(&["488b45f8"]), "4\t488b45f8\tmov rax,[rbp-0x8]\n");
    assert_eq!(
        decode(&["890510000000"]),
        "6\t890510000000\tmov [rip+0x10],eax\n"
    );
    // Relative branches: the target as if the instruction were at address 0.
    assert_eq!(decode(&["e810000000"]), "5\te810000000\tcall 0x15\n");
}

#[test]
fn errors() {
    let too_long = "66".repeat(15) + "90";
    let out = decode(&["48", "06", &too_long, "0g", "123"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].starts_with("invalid\t48\ttruncated"),
        "{}",
        lines[0]
    );
    // PUSH ES does not exist in 64-bit mode.
    assert!(lines[1].starts_with("invalid\t06\tinvalid"), "{}", lines[1]);
    assert!(
        lines[2].starts_with(&format!("invalid\t{too_long}\ttoo_long")),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("invalid\t0g\tbad hex"), "{}", lines[3]);
    assert!(
        lines[3].contains("'g'"),
        "the reason names the bad character: {}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("invalid\t123\tbad hex: odd number"),
        "{}",
        lines[4]
    );
    // Fifteen bytes are still allowed.
    let fifteen = "66".repeat(14) + "90";
    assert_eq!(decode(&[&fifteen]), format!("15\t{fifteen}\tnop\n"));
}

#[test]
fn modes() {
    let imm = "b878563412";
    assert_eq!(
        decode(&["--mode", "prot32", imm]),
        "5\tb878563412\tmov eax,0x12345678\n"
    );
    assert_eq!(
        decode(&["--mode", "compat32", imm]),
        "5\tb878563412\tmov eax,0x12345678\n"
    );
    assert_eq!(
        decode(&["--mode", "real", imm]),
        "3\tb87856\tmov ax,0x5678\n"
    );
    assert_eq!(
        decode(&["--mode=prot16", imm]),
        "3\tb87856\tmov ax,0x5678\n"
    );
    assert_eq!(
        decode(&["--mode", "long64", imm]),
        "5\tb878563412\tmov eax,0x12345678\n"
    );
    assert_eq!(decode(&["06"]).split('\t').next(), Some("invalid"));
    assert_eq!(decode(&["--mode", "prot32", "06"]), "1\t06\tpush es\n");
    // 16-bit addressing with a segment override.
    assert_eq!(
        decode(&["--mode", "real", "268a4010"]),
        "4\t268a4010\tmov al,es:[bx+si+0x10]\n"
    );
}

#[test]
fn vendor() {
    // A 66 prefix on a near call: AMD takes a 16-bit displacement, Intel ignores the prefix.
    let call = "66e800000000";
    let amd = decode(&[call]);
    assert_eq!(amd.split('\t').next(), Some("4"), "{amd}");
    assert_eq!(decode(&["--vendor", "amd", call]), amd);
    let intel = decode(&["--vendor=intel", call]);
    assert_eq!(intel.split('\t').next(), Some("6"), "{intel}");
}

#[test]
fn apx() {
    // REX2 (D5 with B4 and W) on MOV r/m, r: #UD without --apx (AAD is invalid in 64-bit mode).
    let rex2 = "d51889c8";
    let without = decode(&[rex2]);
    assert!(without.starts_with("invalid\t"), "{without}");
    assert_eq!(decode(&["--apx", rex2]), "4\td51889c8\tmov r16,rcx\n");
    let json = decode(&["--apx", "--json", "d5118b0424"]);
    let rex2_fields = json.contains("\"base\": \"r28\"") && json.contains("\"rex2\"");
    assert!(rex2_fields, "{json}");
}

#[test]
fn json() {
    let out = decode(&["--json", "48891f90"]);
    assert!(
        out.starts_with("{\"bytes\": \"48891f90\", \"valid\": true, \"len\": 3, "),
        "{out}"
    );
    assert!(out.ends_with("}\n"), "{out}");
    for part in [
        "\"text\": \"mov [rdi],rbx\"",
        "\"op\": \"mov\"",
        "\"op_size\": 8",
        "\"addr_size\": 8",
        "\"encoding\": \"legacy\"",
        "\"map\": \"primary\"",
        "\"opcode\": \"89\"",
        "\"prefixes\": [\"rex\", \"w\"]",
        "\"segment\": null",
        "\"mem\": {\"seg\": \"ds\", \"base\": \"rdi\", \"index\": null, \"scale\": 1, \"disp\": 0",
    ] {
        assert!(out.contains(part), "missing {part} in {out}");
    }
    let out = decode(&["--json", "64488b0425f0ffffff"]);
    assert!(out.contains("\"segment\": \"fs\""), "{out}");
    assert!(
        out.contains("\"base\": null, \"index\": null, \"scale\": 1, \"disp\": -16"),
        "{out}"
    );

    let out = decode(&["--json", "48", "06", "zz"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "{\"bytes\": \"48\", \"valid\": false, \"error\": \"truncated\", \
         \"reason\": \"the input ends inside the instruction\"}"
    );
    assert!(lines[1].starts_with("{\"bytes\": \"06\", \"valid\": false, \"error\": \"invalid\""));
    assert!(lines[2].starts_with("{\"bytes\": \"zz\", \"valid\": false, \"error\": \"bad_hex\""));
    let too_long = "f3".repeat(15) + "90";
    let out = decode(&["--json", &too_long]);
    assert!(out.contains("\"error\": \"too_long\""), "{out}");
}

#[test]
fn json_vector_fields() {
    let out = decode(&["--json", "c5fe6f07"]);
    for part in [
        "\"text\": \"vmovdqu ymm0,[rdi]\"",
        "\"encoding\": \"vex\"",
        "\"vl\": 32",
    ] {
        assert!(out.contains(part), "missing {part} in {out}");
    }
}

#[test]
fn stdin_lines() {
    let out = ok(&["decode"], Some("48891f\n\n   \r\n48 89 1f\r\n48\nxx\n90"));
    assert_eq!(
        out,
        "3\t48891f\tmov [rdi],rbx\n3\t48891f\tmov [rdi],rbx\n\
         invalid\t48\ttruncated: the input ends inside the instruction\n\
         invalid\txx\tbad hex: 'x' at position 1 is not a hex digit\n1\t90\tnop\n"
    );
    let out = ok(&["decode", "--json", "--mode", "real"], Some("b87856\n\n"));
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("\"text\": \"mov ax,0x5678\""), "{out}");
    assert_eq!(ok(&["decode"], Some("")), "");
}

#[test]
fn usage_errors() {
    for args in [
        &["decode", "--bogus", "90"][..],
        &["decode", "--mode", "long32", "90"],
        &["decode", "--vendor", "via", "90"],
        &["decode", "--mode"],
        &["bench", "--rounds", "0"],
        &["bench", "--shots", "many"],
        &["bench", "--mode", "long32"],
        &["bench", "one", "two"],
        &["frobnicate"],
        &[],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("usage: hvemu"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let err =
        String::from_utf8_lossy(&run(&["decode", "--mode", "long32"], None).stderr).to_string();
    assert!(err.contains("bad mode 'long32'"), "{err}");
}

#[test]
fn help() {
    for args in [&["help"][..], &["--help"], &["-h"], &["decode", "--help"]] {
        let out = ok(args, None);
        assert!(out.contains("usage: hvemu"), "{args:?}");
        assert!(out.contains("--mode"), "{args:?}");
    }
}

/// The first figure of the row of `out` that starts with `row`.
fn figure(out: &str, row: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with(row))
        .unwrap_or_else(|| panic!("no row {row}:\n{out}"));
    line[row.len()..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {line}"))
}

#[test]
fn bench_reports_every_workload() {
    // The hvemu program itself: an ELF file, whose .text is decoded.
    let exe = env!("CARGO_BIN_EXE_hvemu");
    let out = ok(&["bench", "--rounds", "1", "--shots", "2000", exe], None);
    assert!(out.contains(" (.text), "), "{out}");
    for row in [
        "linear sweep",
        "one-shot, hot 32 KiB",
        "one-shot, whole code",
        "chained, hot 32 KiB",
        "chained, whole code",
        "mov eax,[rdi+0x8] (MMIO read)",
        "mov [rdi+0x818],edx (MMIO write)",
        "lock or dword ptr [rdi+0xd0],0x4",
        "in al,dx (port read)",
        "out dx,al (port write)",
        "mov [edi+0x818],edx (32-bit MMIO write)",
        "out dx,al (32-bit port write)",
        "mov [di+0x818],dx (real-mode MMIO write)",
        "out dx,al (real-mode port write)",
    ] {
        let ns = figure(&out, row);
        assert!(ns > 0.0 && ns.is_finite(), "{row}: {ns}\n{out}");
    }
    // Any other file is raw code, decoded in the mode asked for: `48 89 1f` is one instruction
    // in 64-bit mode and two (dec ax; mov [bx],bx) in real mode.
    let dir = std::env::temp_dir().join(format!("hvemu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let raw = dir.join("code.bin");
    std::fs::write(&raw, [0x48u8, 0x89, 0x1f].repeat(1000)).expect("write the code");
    let raw = raw.to_str().expect("UTF-8 path");
    let out = ok(&["bench", "--rounds", "1", "--shots", "100", raw], None);
    assert!(
        out.contains("(raw code), 3000 bytes, 1000 instructions in a sweep (Long64, Amd)"),
        "{out}"
    );
    let out = ok(
        &[
            "bench", "--mode", "real", "--vendor", "intel", "--rounds", "1", "--shots", "100", raw,
        ],
        None,
    );
    assert!(
        out.contains("(raw code), 3000 bytes, 2000 instructions in a sweep (Real, Intel)"),
        "{out}"
    );
    // A reader that goes away (`hvemu bench | head -1`) ends the run quietly.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hvemu"))
        .args(["bench", "--rounds", "1", "--shots", "100", raw])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hvemu binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("hvemu finishes");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let missing = dir.join("missing.bin");
    let out = run(&["bench", missing.to_str().expect("UTF-8 path")], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("hvemu: bench: ") && err.contains("missing.bin"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_emulates_every_exit() {
    let out = ok(&["demo"], None);
    for part in [
        "in al,dx",
        "device: uart  in  0x03fd (LSR) -> 0x60",
        "mov [rdi+0x3818],edx",
        "device: e1000 write 0xfebc3818 (TDT) <- 0x17 (4 bytes)",
        "lock or dword ptr [rdi+0xd0],0x4",
        "mov es:[bx+si],ax",
        "registers: 0 Get (0 names), 1 Set (2 names)",
        "UART transmitted \"h\"",
    ] {
        assert!(out.contains(part), "missing {part} in the demo:\n{out}");
    }
    assert!(!out.contains("Refused"), "{out}");
}

#[test]
fn stdin_answers_each_line_before_the_next() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let mut child = Command::new(env!("CARGO_BIN_EXE_hvemu"))
        .args(["decode", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the hvemu binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let output = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            if tx.send(line.expect("UTF-8 output")).is_err() {
                break;
            }
        }
    });
    // A driving script writes one line and waits for its answer.
    for (hex, len) in [("90", 1), ("48891f", 3), ("c3", 1)] {
        writeln!(input, "{hex}").expect("stdin accepts a line");
        input.flush().expect("stdin flushes");
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("an answer without EOF");
        assert!(answer.contains(&format!("\"len\": {len},")), "{answer}");
    }
    drop(input);
    assert_eq!(child.wait().expect("hvemu finishes").code(), Some(0));
}
