//! Every decoder vector of ../shared/vectors/iced: length, validity and memory operands.
//!
//! `HVEMU_GREP=text` limits the run to lines containing `text`; `HVEMU_VERBOSE=1` lists every
//! mismatch (otherwise the first 40 of each file).

use hvemu::decode::{DecodeError, Instruction, Mode, Operand, Vendor, decode};
use hvemu_tests::{MemView, mem_view, parse_hex, shared_dir};

mod common;
use common::{amd_only, padlock};
use std::collections::BTreeMap;

struct Stats {
    name: String,
    cases: usize,
    /// Lines for other processors (decoder options other than AMD, PadLock).
    skipped: usize,
    mismatches: Vec<String>,
    classes: BTreeMap<&'static str, usize>,
}

impl Stats {
    fn new(name: &str) -> Stats {
        Stats {
            name: name.to_string(),
            cases: 0,
            skipped: 0,
            mismatches: Vec::new(),
            classes: BTreeMap::new(),
        }
    }
    fn fail(&mut self, class: &'static str, msg: String) {
        *self.classes.entry(class).or_default() += 1;
        self.mismatches.push(format!("[{class}] {msg}"));
    }
    fn report(&self) {
        let verbose = std::env::var_os("HVEMU_VERBOSE").is_some();
        let shown = if verbose { usize::MAX } else { 40 };
        for m in self.mismatches.iter().take(shown) {
            println!("  {}: {m}", self.name);
        }
        println!(
            "{}: {} cases ({} for other processors skipped), {} mismatches {:?}",
            self.name,
            self.cases,
            self.skipped,
            self.mismatches.len(),
            self.classes
        );
    }
}

fn grep_ok(line: &str) -> bool {
    match std::env::var("HVEMU_GREP") {
        Ok(g) => line.contains(&g),
        Err(_) => true,
    }
}

fn default_ip(bits: u32) -> u64 {
    match bits {
        16 => 0x7ff0,
        32 => 0x7fff_fff0,
        _ => 0x7fff_ffff_ffff_fff0,
    }
}

fn mode_of(bits: u32) -> Mode {
    match bits {
        16 => Mode::Prot16,
        32 => Mode::Prot32,
        _ => Mode::Long64,
    }
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(neg) = s.strip_prefix('-') {
        neg.parse::<u64>().ok().map(|v| v.wrapping_neg())
    } else {
        s.parse().ok()
    }
}

fn decode_for(bytes: &[u8], bits: u32, vendor: Vendor) -> Result<Instruction, DecodeError> {
    decode(bytes, mode_of(bits), vendor)
}

fn check_mem(stats: &mut Stats, line: &str, insn: &Instruction, ip: u64, want: &MemView) {
    if !insn.operands.contains(&Operand::Mem) {
        stats.fail(
            "mem-missing",
            format!("{line}: no memory operand, want {want:?}"),
        );
        return;
    }
    let got = mem_view(insn, ip);
    if &got != want {
        stats.fail(
            "mem",
            format!("{line}\n      got  {got:?}\n      want {want:?}"),
        );
    }
}

fn decoder_file(file: &str, bits: u32) -> Stats {
    let path = shared_dir().join("vectors/iced").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stats = Stats::new(file);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || !grep_ok(line) {
            continue;
        }
        let cols: Vec<&str> = line.splitn(5, ',').map(str::trim).collect();
        let [hexs, code, _mnemonic, _count, opts] = cols[..] else {
            panic!("bad line {line}");
        };
        let opts: Vec<&str> = opts.split_whitespace().collect();
        let mut vendor = Vendor::Intel;
        let mut ip = default_ip(bits);
        let mut truncated = false;
        let mut skip = false;
        let mut mem = None;
        for o in &opts {
            if let Some(d) = o.strip_prefix("decopt=") {
                for opt in d.split(';') {
                    if opt == "AMD" {
                        vendor = Vendor::Amd;
                    } else {
                        // Options for other processors, or for accepting what hardware rejects.
                        skip = true;
                    }
                }
            } else if let Some(v) = o.strip_prefix("ip=") {
                ip = parse_num(v).expect("ip");
            } else if *o == "err=NoMoreBytes" {
                truncated = true;
            } else if let Some(m) = o
                .split_once('=')
                .and_then(|(k, v)| (k.starts_with("op") && v.starts_with("m;")).then_some(v))
            {
                let f: Vec<&str> = m.split(';').collect();
                let reg = |s: &str| {
                    if s.is_empty() {
                        "none".to_string()
                    } else {
                        s.to_string()
                    }
                };
                mem = Some(MemView {
                    seg: f[1].to_string(),
                    base: reg(f[2]),
                    index: reg(f[3]),
                    scale: f[4].parse().unwrap_or(1),
                    disp: parse_num(f[5]).expect("displ"),
                });
            }
        }
        if skip || padlock(code) {
            stats.skipped += 1;
            continue;
        }
        let bytes = parse_hex(hexs).expect("hex");
        stats.cases += 1;
        let mut got = decode_for(&bytes, bits, vendor);
        let valid = code != "INVALID";
        if valid && got.is_err() && vendor == Vendor::Intel && amd_only(code) {
            got = decode_for(&bytes, bits, Vendor::Amd);
        }
        match (&got, valid, truncated) {
            (Err(DecodeError::Truncated), false, true) => {}
            // iced reports "no more bytes" for encodings of old processors (287/387SL FRSTPM,
            // FNSTDW, FNSTSG; 286/486 STOREALL and CL1INVMB) when their decoder option is off;
            // current processors raise #UD for them at once.
            (Err(DecodeError::Invalid(_)), false, true)
                if [
                    "code=Frstpm",
                    "code=Fnstdw_AX",
                    "code=Fnstsg_AX",
                    "code=Storeall",
                    "code=Cl1invmb",
                ]
                .iter()
                .any(|c| opts.contains(c)) => {}
            (Err(e), false, true) => stats.fail("want-truncated", format!("{line}: got {e:?}")),
            (Ok(i), false, true) => {
                stats.fail("want-truncated", format!("{line}: got valid len {}", i.len))
            }
            (Err(DecodeError::Truncated), false, false) => {
                stats.fail("want-invalid", format!("{line}: got truncated"))
            }
            (Err(_), false, false) => {}
            (Ok(i), false, false) => stats.fail(
                "want-invalid",
                format!("{line}: got valid {} len {}", i.op, i.len),
            ),
            (Err(e), true, _) => stats.fail("want-valid", format!("{line}: got {e:?}")),
            (Ok(i), true, _) => {
                let want_len = bytes.len().min(15);
                if i.len as usize != want_len {
                    stats.fail("length", format!("{line}: got len {} ({})", i.len, i.op));
                } else if let Some(m) = &mem {
                    check_mem(&mut stats, line, i, ip, m);
                }
            }
        }
    }
    stats
}

fn memory_file(file: &str, bits: u32) -> Stats {
    let path = shared_dir().join("vectors/iced").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stats = Stats::new(file);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || !grep_ok(line) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bytes = parse_hex(f[0]).expect("hex");
        let reg = |s: &str| s.to_string();
        let want = MemView {
            seg: f[4].to_string(),
            base: reg(f[5]),
            index: reg(f[6]),
            scale: 1 << f[7].parse::<u8>().expect("scale"),
            disp: parse_num(f[8]).expect("displ"),
        };
        stats.cases += 1;
        match decode(&bytes, mode_of(bits), Vendor::Intel) {
            Err(e) => stats.fail("want-valid", format!("{line}: got {e:?}")),
            Ok(i) if i.len as usize != bytes.len() => {
                stats.fail("length", format!("{line}: got len {}", i.len))
            }
            Ok(i) => {
                let reg_name = match i.operands[1] {
                    Operand::Reg(r) => r.name(),
                    _ => "?",
                };
                if reg_name != f[2] {
                    stats.fail("reg", format!("{line}: got reg {reg_name}"));
                }
                let prefix = i.seg_override.map_or("none", |s| s.name());
                if prefix != f[3] {
                    stats.fail("segprefix", format!("{line}: got segment prefix {prefix}"));
                }
                check_mem(&mut stats, line, &i, default_ip(bits), &want);
            }
        }
    }
    stats
}

#[test]
fn iced_vectors() {
    let all = [
        decoder_file("DecoderTestMisc16.txt", 16),
        decoder_file("DecoderTestMisc32.txt", 32),
        decoder_file("DecoderTestMisc64.txt", 64),
        decoder_file("DecoderTest16.txt", 16),
        decoder_file("DecoderTest32.txt", 32),
        memory_file("MemoryTest16.txt", 16),
        memory_file("MemoryTest32.txt", 32),
        memory_file("MemoryTest64.txt", 64),
    ];
    let mut over = Vec::new();
    for s in &all {
        s.report();
        if !s.mismatches.is_empty() {
            over.push(format!("{}: {}", s.name, s.mismatches.len()));
        }
    }
    let total: usize = all.iter().map(|s| s.cases).sum();
    assert!(total > 0, "no vectors ran");
    assert!(over.is_empty(), "mismatches: {over:?}");
}
