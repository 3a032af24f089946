//! The `hvemu` command-line tool: `decode`, `cases`, `demo` and `help` (see shared/spec/cli.md).

mod bench;
mod demo;
mod json;

use hvemu::decode::{
    DecodeError, Encoding, Extensions, Instruction, Map, Mode, Operand, Prefixes, Reg, Vendor,
    decode_with,
};
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

const USAGE: &str = "\
usage: hvemu <command> [options]

commands:
  decode [--mode MODE] [--vendor VENDOR] [--apx] [--json] [HEX ...]
      Decode the first instruction of each byte string. Each HEX argument is one byte string
      (hex digits, spaces allowed inside a quoted argument); without HEX arguments each line of
      standard input is one (empty lines are skipped). Output, one line per input:
        LEN<TAB>HEX<TAB>TEXT        a valid instruction in Intel syntax
        invalid<TAB>HEX<TAB>REASON  truncated, too_long, invalid or bad hex
      --mode     real | prot16 | prot32 | compat32 | long64 (default long64)
      --vendor   intel | amd (default amd)
      --apx      Intel APX: D5 in 64-bit mode is the REX2 prefix (R16..R31, PUSHP/POPP,
                 JMPABS) instead of #UD
      --json     one JSON object per input instead
  cases [FILE|-]
      Run conformance cases (spec/cases.md): one JSON case per line of FILE (standard input
      without FILE or with -), one JSON result per line on standard output, then a summary
      line. Exit status 0 when every case with an expected outcome passed, 1 otherwise.
      One default differs from the spec's table: a case that does not give cr4 also gets
      CR4.OSFXSR, OSXMMEXCPT and OSXSAVE (0x40600), and XCR0 is 0xe7, as under an operating
      system on an AVX-512 host, so SSE, AVX and AVX-512 instructions run; a given cr4 is
      taken as it is. The x87/MMX state is the state after FNINIT.
  bench [--mode MODE] [--vendor VENDOR] [--rounds N] [--shots N] [FILE]
      How fast hvemu decodes and emulates on this machine. Decoding: the code of FILE (an ELF
      file's .text, any other file as raw code; without FILE this program's own .text) in a
      linear sweep, and N one-shot decodes (default 1000000) of random instruction starts from
      a hot 32 KiB window and from the whole code, independent and chained (each waiting for
      the previous result, as the decodes of successive VM exits do). Emulation: typical 64-bit
      MMIO and port exits through the callback interface. Each figure is the median of the
      rounds (default 5). --mode and --vendor as for decode.
  demo
      A VMM emulates the MMIO and port exits of real device drivers (a Linux guest's UART,
      e1000 NIC and xAPIC drivers, a BIOS in real mode) through the callback interface: each
      exit's instruction, device accesses, register traffic and changes.
  help
      Show this text.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "decode" => decode_cmd(rest),
        "cases" => cases_cmd(rest),
        "bench" => bench_cmd(rest),
        "demo" if rest.is_empty() => demo::run(),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error(&format!("unknown command or argument '{}'", args.join(" "))),
    }
}

/// Prints `msg` and the usage to standard error; exit status 2.
fn usage_error(msg: &str) -> ExitCode {
    eprintln!("hvemu: {msg}");
    eprint!("{USAGE}");
    ExitCode::from(2)
}

/// `hvemu cases [FILE|-]`.
fn cases_cmd(args: &[String]) -> ExitCode {
    let path = match args {
        [] => None,
        [a] if a == "-" => None,
        [a] if a == "--help" || a == "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [a] if !a.starts_with('-') => Some(a.as_str()),
        _ => {
            return usage_error(&format!(
                "cases takes one FILE or -, not '{}'",
                args.join(" ")
            ));
        }
    };
    let out = BufWriter::new(io::stdout().lock());
    let result = match path {
        None => hvemu_cli::cases::run_reader(io::stdin().lock(), out),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => hvemu_cli::cases::run_reader(io::BufReader::new(f), out),
            Err(e) => {
                eprintln!("hvemu: cannot open {p}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(summary) if summary.all_passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(e) => {
            eprintln!("hvemu: {e}");
            ExitCode::from(2)
        }
    }
}

/// `hvemu bench [--mode MODE] [--vendor VENDOR] [--rounds N] [--shots N] [FILE]`.
fn bench_cmd(args: &[String]) -> ExitCode {
    let mut opts = bench::Options {
        mode: Mode::Long64,
        vendor: Vendor::Amd,
        rounds: 5,
        shots: 1_000_000,
        file: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(done) = mode_or_vendor(a, &mut it, &mut opts.mode, &mut opts.vendor) {
            if let Err(msg) = done {
                return usage_error(&format!("bench: {msg}"));
            }
            continue;
        }
        match a.as_str() {
            "--rounds" | "--shots" => {
                let count = it.next().and_then(|v| v.parse::<usize>().ok());
                let Some(n) = count.filter(|&n| n > 0) else {
                    return usage_error(&format!("bench: {a} takes a positive count"));
                };
                if a == "--rounds" {
                    opts.rounds = n;
                } else {
                    opts.shots = n;
                }
            }
            "--help" | "-h" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            f if !f.starts_with('-') && opts.file.is_none() => opts.file = Some(f.into()),
            _ => return usage_error(&format!("bench: unexpected argument '{a}'")),
        }
    }
    match bench::run(&opts, &mut io::stdout().lock()) {
        Ok(code) => code,
        // Nobody reads the table any more (`| head`): not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hvemu: {e}");
            ExitCode::from(1)
        }
    }
}

/// Options of `hvemu decode`.
struct Options {
    mode: Mode,
    vendor: Vendor,
    ext: Extensions,
    json: bool,
}

fn parse_mode(s: &str) -> Option<Mode> {
    Some(match s {
        "real" => Mode::Real,
        "prot16" => Mode::Prot16,
        "prot32" => Mode::Prot32,
        "compat32" => Mode::Compat32,
        "long64" => Mode::Long64,
        _ => return None,
    })
}

fn parse_vendor(s: &str) -> Option<Vendor> {
    match s {
        "intel" => Some(Vendor::Intel),
        "amd" => Some(Vendor::Amd),
        _ => None,
    }
}

/// `--mode` and `--vendor` as `decode` and `bench` take them (`--mode real` or `--mode=real`),
/// the value from `rest` when not inline: `None` when `arg` is neither option, else whether its
/// value was good (the usage error if not).
fn mode_or_vendor<'a>(
    arg: &'a str,
    rest: &mut impl Iterator<Item = &'a String>,
    mode: &mut Mode,
    vendor: &mut Vendor,
) -> Option<Result<(), String>> {
    let (flag, inline) = match arg.split_once('=') {
        Some((f, v)) => (f, Some(v)),
        None => (arg, None),
    };
    if flag != "--mode" && flag != "--vendor" {
        return None;
    }
    let Some(value) = inline.or_else(|| rest.next().map(String::as_str)) else {
        return Some(Err(format!("{flag} needs a value")));
    };
    Some(if flag == "--mode" {
        parse_mode(value)
            .map(|m| *mode = m)
            .ok_or_else(|| format!("bad mode '{value}' (real, prot16, prot32, compat32 or long64)"))
    } else {
        parse_vendor(value)
            .map(|v| *vendor = v)
            .ok_or_else(|| format!("bad vendor '{value}' (intel or amd)"))
    })
}

fn decode_cmd(args: &[String]) -> ExitCode {
    let mut opts = Options {
        mode: Mode::Long64,
        vendor: Vendor::Amd,
        ext: Extensions::default(),
        json: false,
    };
    let mut hex_args = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if !arg.starts_with('-') {
            hex_args.push(arg.as_str());
            continue;
        }
        if arg == "--help" || arg == "-h" {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        if arg == "--json" {
            opts.json = true;
            continue;
        }
        if arg == "--apx" {
            opts.ext.apx = true;
            continue;
        }
        match mode_or_vendor(arg, &mut it, &mut opts.mode, &mut opts.vendor) {
            Some(Ok(())) => {}
            Some(Err(msg)) => return usage_error(&msg),
            None => return usage_error(&format!("unknown option '{arg}'")),
        }
    }

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = if hex_args.is_empty() {
        decode_stdin(&opts, &mut out)
    } else {
        hex_args
            .iter()
            .try_for_each(|a| out.write_all(decode_line(&opts, a).as_bytes()))
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // Nobody reads the output any more (`| head`): not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hvemu: {e}");
            ExitCode::from(1)
        }
    }
}

/// Decodes each non-empty line of standard input. The output is flushed whenever the input has
/// nothing more buffered, so a program talking to `hvemu decode` through pipes gets each answer
/// before it sends the next line.
fn decode_stdin(opts: &Options, out: &mut impl Write) -> io::Result<()> {
    let mut input = io::BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if !text.is_empty() {
            out.write_all(decode_line(opts, text).as_bytes())?;
        }
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
}

/// Parses hex digits (whitespace ignored).
pub(crate) fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<(usize, char)> = s
        .chars()
        .enumerate()
        .filter(|(_, c)| !c.is_whitespace())
        .collect();
    if let Some((pos, c)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{}' at position {} is not a hex digit",
            c.escape_default(),
            pos + 1
        ));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits
        .chunks(2)
        .map(|p| {
            let v = |c: char| c.to_digit(16).unwrap_or(0) as u8;
            match p {
                [(_, h), (_, l)] => v(*h) << 4 | v(*l),
                _ => 0,
            }
        })
        .collect())
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The output line (with its newline) for one input byte string.
fn decode_line(opts: &Options, input: &str) -> String {
    let bytes = match parse_hex(input) {
        Ok(b) => b,
        Err(why) => {
            return if opts.json {
                let mut j = json::Object::new();
                j.str("bytes", input);
                j.bool("valid", false);
                j.str("error", "bad_hex");
                j.str("reason", &why);
                j.finish() + "\n"
            } else {
                format!("invalid\t{}\tbad hex: {why}\n", input.escape_default())
            };
        }
    };
    let result = decode_with(&bytes, opts.mode, opts.vendor, opts.ext);
    match (result, opts.json) {
        (Ok(insn), false) => {
            let len = usize::from(insn.len);
            format!(
                "{}\t{}\t{}\n",
                len,
                hex(bytes.get(..len).unwrap_or(&bytes)),
                insn
            )
        }
        (Err(e), false) => format!("invalid\t{}\t{}: {}\n", hex(&bytes), e.kind(), e.reason()),
        (Ok(insn), true) => insn_json(&bytes, &insn),
        (Err(e), true) => error_json(&bytes, e),
    }
}

fn error_json(bytes: &[u8], e: DecodeError) -> String {
    let mut j = json::Object::new();
    j.str("bytes", &hex(bytes));
    j.bool("valid", false);
    j.str("error", e.kind());
    j.str("reason", e.reason());
    j.finish() + "\n"
}

/// Lower-case name of an encoding.
pub(crate) fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Legacy => "legacy",
        Encoding::Vex => "vex",
        Encoding::Evex => "evex",
        Encoding::Xop => "xop",
        Encoding::Now3d => "3dnow",
    }
}

/// Name of an opcode map.
pub(crate) fn map_name(m: Map) -> &'static str {
    match m {
        Map::Primary => "primary",
        Map::M0F => "0f",
        Map::M0F38 => "0f38",
        Map::M0F3A => "0f3a",
        Map::M5 => "map5",
        Map::M6 => "map6",
        Map::Xop8 => "xop8",
        Map::Xop9 => "xop9",
        Map::XopA => "xopa",
    }
}

/// Names of the prefix flags that are set.
fn prefix_names(p: Prefixes) -> Vec<&'static str> {
    [
        (Prefixes::LOCK, "lock"),
        (Prefixes::REP, "rep"),
        (Prefixes::REPNE, "repne"),
        (Prefixes::OPSIZE, "opsize"),
        (Prefixes::ADDRSIZE, "addrsize"),
        (Prefixes::REX, "rex"),
        (Prefixes::W, "w"),
        (Prefixes::F2, "f2"),
        (Prefixes::F3, "f3"),
        (Prefixes::REX2, "rex2"),
    ]
    .into_iter()
    .filter(|(bit, _)| p.has(*bit))
    .map(|(_, name)| name)
    .collect()
}

fn insn_json(bytes: &[u8], insn: &Instruction) -> String {
    let len = usize::from(insn.len);
    let mut j = json::Object::new();
    j.str("bytes", &hex(bytes));
    j.bool("valid", true);
    j.num("len", len as i64);
    j.str("text", &insn.to_string());
    j.str("insn_bytes", &hex(bytes.get(..len).unwrap_or(bytes)));
    j.str("op", &insn.op.to_string());
    j.num("op_size", i64::from(insn.op_size));
    j.num("addr_size", i64::from(insn.addr_size));
    j.str("encoding", encoding_name(insn.encoding));
    j.str("map", map_name(insn.map));
    j.str("opcode", &format!("{:02x}", insn.opcode));
    j.str("modrm", &format!("{:02x}", insn.modrm));
    j.str_array("prefixes", &prefix_names(insn.prefixes));
    j.opt_str("segment", insn.seg_override.map(|s| s.name()));
    let operands: Vec<String> = insn
        .operands
        .iter()
        .take(insn.operand_count())
        .map(|o| operand_kind(o).to_string())
        .collect();
    let operands: Vec<&str> = operands.iter().map(String::as_str).collect();
    j.str_array("operands", &operands);
    let has_mem = insn.operands.contains(&Operand::Mem);
    if has_mem {
        let m = &insn.mem;
        let mut mj = json::Object::new();
        mj.str("seg", m.seg.name());
        mj.opt_str("base", m.base.map(Reg::name));
        mj.opt_str("index", m.index.map(Reg::name));
        mj.num("scale", i64::from(m.scale));
        mj.num("disp", m.disp);
        mj.num("disp_size", i64::from(m.disp_size));
        mj.num("size", i64::from(m.size));
        j.object("mem", Some(mj));
    } else {
        j.object("mem", None);
    }
    if insn
        .operands
        .iter()
        .any(|o| matches!(o, Operand::Imm { .. } | Operand::FarPtr))
    {
        j.str("imm", &format!("{:#x}", insn.imm));
    }
    j.num("vl", i64::from(insn.vl));
    if insn.encoding == Encoding::Evex {
        j.num("mask", i64::from(insn.mask));
        j.bool("zeroing", insn.zeroing);
        j.bool("broadcast", insn.broadcast);
        j.num("rounding", i64::from(insn.rounding));
    }
    j.finish() + "\n"
}

/// Short description of an operand for the JSON output: a register name, `mem`, `imm`, ...
fn operand_kind(o: &Operand) -> String {
    match o {
        Operand::None => "none".into(),
        Operand::Reg(r) => r.name().into(),
        Operand::Mem => "mem".into(),
        Operand::Imm { size } => format!("imm{}", size * 8),
        Operand::Imm2 => "imm8".into(),
        Operand::Rel { size } => format!("rel{}", size * 8),
        Operand::FarPtr => "farptr".into(),
        Operand::StrSrc { size } => format!("src{}", size * 8),
        Operand::StrDst { size } => format!("dst{}", size * 8),
        Operand::One => "1".into(),
    }
}
