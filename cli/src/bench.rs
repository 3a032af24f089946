//! `hvemu bench`: how fast hvemu decodes and emulates on this machine.
//!
//! Decoding: the code of a file (an ELF file's `.text`, any other file as raw code; without a
//! file, this program's own `.text`) in a linear sweep, and as one-shot decodes of random
//! instruction starts from a hot 32 KiB window and from the whole code, each decode alone
//! (independent: the processor overlaps them) and chained (each waits for the previous result,
//! as the decodes of successive VM exits do). Emulation: typical MMIO and port exits of 64-bit,
//! 32-bit and real-mode guests through the callback interface, a lean host behind it. Every figure is the median of the
//! rounds; the machine's other work moves them, so compare figures taken in one run.
//! `tests/benches/decode.rs` measures the decoder against other decoders.

use hvemu::decode::{Instruction, Mode, Vendor, decode, decode_into};
use hvemu::emulator::{
    AccessKind, Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome, VpContext,
};
use hvemu::host::{
    Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult,
};
use hvemu::regs::{RegName, RegValue, Segment};
use std::hint::black_box;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What `hvemu bench` was asked for.
pub struct Options {
    /// The decoding mode.
    pub mode: Mode,
    /// The vendor the decoder and the emulator follow.
    pub vendor: Vendor,
    /// Rounds per workload (the median is reported).
    pub rounds: usize,
    /// One-shot decodes per round.
    pub shots: usize,
    /// The code to decode (`None`: this program).
    pub file: Option<PathBuf>,
}

/// The hot window of the one-shot workloads.
const HOT_WINDOW: usize = 32 * 1024;
/// Exits per round of an emulation workload.
const EXIT_ROUND: usize = 20_000;

/// Runs the benchmark, its table to `out`; exit status 2 when the code cannot be read, 1 when
/// an exit does not complete. An error is one of writing to `out`.
pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let (what, code) = match load(opts.file.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hvemu: bench: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut starts = Vec::new();
    sweep(&code, opts, |off, _| starts.push(off));
    if starts.is_empty() {
        eprintln!("hvemu: bench: {what}: no instruction decodes in this mode");
        return Ok(ExitCode::from(2));
    }
    writeln!(
        out,
        "hvemu bench: {what}, {} bytes, {} instructions in a sweep ({:?}, {:?}); {} rounds",
        code.len(),
        starts.len(),
        opts.mode,
        opts.vendor,
        opts.rounds
    )?;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mid = (code.len() / 2).saturating_sub(HOT_WINDOW / 2);
    let hot_from: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&s| s >= mid && s < mid + HOT_WINDOW)
        .collect();
    let hot = sample(&mut rng, &hot_from, opts.shots);
    let whole = sample(&mut rng, &starts, opts.shots);
    // (name, the one-shot starts or none for the sweep, chained)
    let workloads: [(&str, Option<&[usize]>, bool); 5] = [
        ("linear sweep", None, false),
        ("one-shot, hot 32 KiB", Some(&hot), false),
        ("one-shot, whole code", Some(&whole), false),
        ("chained, hot 32 KiB", Some(&hot), true),
        ("chained, whole code", Some(&whole), true),
    ];
    writeln!(out, "{:<36} {:>12} {:>12}", "decode", "ns/insn", "Minsn/s")?;
    for (name, starts, chained) in workloads {
        let mut n = 0;
        let t = median(opts.rounds, || {
            let mut sum = 0u64;
            n = match starts {
                None => sweep(&code, opts, |_, insn| {
                    sum = sum.wrapping_add(insn.op as u64);
                }),
                Some(starts) => shots(&code, starts, opts, chained, &mut sum),
            };
            black_box(sum);
        });
        let ns = t.as_secs_f64() * 1e9 / n.max(1) as f64;
        writeln!(out, "{name:<36} {ns:>12.1} {:>12.1}", 1e3 / ns)?;
    }
    writeln!(out, "{:<44} {:>12}", "emulate (exits)", "ns/exit")?;
    let emulator = Emulator::new(Config {
        vendor: opts.vendor,
        ..Config::default()
    });
    let callbacks = Callbacks::<Lean>::for_host();
    let mut host = Lean::new();
    for exit in &EXITS {
        if let Err(e) = exit.once(&emulator, &callbacks, &mut host) {
            eprintln!("hvemu: bench: {}: {e}", exit.text);
            return Ok(ExitCode::from(1));
        }
        let t = median(opts.rounds, || {
            for _ in 0..EXIT_ROUND {
                black_box(exit.once(&emulator, &callbacks, &mut host).is_ok());
            }
        });
        writeln!(
            out,
            "{:<44} {:>12.1}",
            exit.text,
            t.as_secs_f64() * 1e9 / EXIT_ROUND as f64
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The code to decode and what to call it.
fn load(file: Option<&PathBuf>) -> Result<(String, Vec<u8>), String> {
    let path = match file {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?,
    };
    let shown = path.display();
    if hvemu_cli::elf::is_elf(&path) {
        let (_, text) = hvemu_cli::elf::load_section(&path, ".text")?;
        Ok((format!("{shown} (.text)"), text))
    } else {
        let raw = std::fs::read(&path).map_err(|e| format!("{shown}: {e}"))?;
        Ok((format!("{shown} (raw code)"), raw))
    }
}

/// A record for `decode_into` to reuse.
fn blank() -> Instruction {
    decode(&[0x90], Mode::Long64, Vendor::Amd).expect("nop decodes")
}

/// `n` picks from `from` (not empty), by xorshift.
fn sample(rng: &mut u64, from: &[usize], n: usize) -> Vec<usize> {
    (0..n)
        .filter_map(|_| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            from.get((*rng % from.len().max(1) as u64) as usize)
                .copied()
        })
        .collect()
}

/// The median time of `rounds` runs of `f`.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// Linear sweep, one byte past an error: `each` gets every instruction with its offset.
/// Returns the number of instructions.
fn sweep(code: &[u8], opts: &Options, mut each: impl FnMut(usize, &Instruction)) -> usize {
    let mut insn = blank();
    let (mut off, mut n) = (0, 0);
    while let Some(rest) = code.get(off..).filter(|r| !r.is_empty()) {
        match decode_into(rest, opts.mode, opts.vendor, &mut insn) {
            Ok(len) => {
                each(off, &insn);
                n += 1;
                off += len;
            }
            Err(_) => off += 1,
        }
    }
    n
}

/// One-shot decodes at `starts`, their lengths and operations added to `sum`; `chained`: each
/// start waits for the previous result (masked by a zero the compiler cannot see). Returns the
/// number of decodes.
fn shots(code: &[u8], starts: &[usize], opts: &Options, chained: bool, sum: &mut u64) -> usize {
    let mut insn = blank();
    let zero = black_box(0usize);
    let mut dep = 0usize;
    for &s in starts {
        let at = if chained { s + (dep & zero) } else { s };
        let rest = code.get(at..).unwrap_or(&[]);
        if let Ok(len) = decode_into(rest, opts.mode, opts.vendor, &mut insn) {
            dep = len + insn.op as usize;
            *sum = sum.wrapping_add(dep as u64);
        }
    }
    starts.len()
}

/// The device's guest-physical base (4 KiB of registers) and its port.
const DEVICE: u64 = 0xfebc_0000;
const PORT: u16 = 0x3f8;
/// The exits' RIP in 64-bit, 32-bit and real-mode code.
const RIP: u64 = 0xffff_ffff_8100_0000;
const RIP32: u64 = 0xc010_0000;
const RIP16: u64 = 0x1000;

/// A lean VMM: one vCPU's registers RAX..R15, RIP and RFLAGS (by their WinHv names, 0 to
/// 0x11) and data segments (ES, SS, DS: flat), a device's register page, a port latch.
struct Lean {
    regs: [u64; 18],
    data_seg: Segment,
    device: Vec<u8>,
    port: u32,
}

const RIP_NAME: usize = RegName::RIP.0 as usize;

impl Lean {
    fn new() -> Lean {
        let mut regs = [0; 18];
        regs[RIP_NAME] = RIP;
        regs[RegName::RFLAGS.0 as usize] = 0x202;
        Lean {
            regs,
            data_seg: Segment::default(),
            device: vec![0; 4096 + 8],
            port: 0x60,
        }
    }

    fn reg(&mut self, name: RegName) -> Result<&mut u64, HostError> {
        self.regs.get_mut(name.0 as usize).ok_or_else(refused)
    }
}

fn refused() -> HostError {
    HostError { code: -1 }
}

impl Host for Lean {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        if io.port != PORT {
            return Err(refused());
        }
        if io.write {
            self.port = io.data;
        } else {
            io.data = self.port;
        }
        Ok(())
    }

    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        let at = a.gpa.checked_sub(DEVICE).ok_or_else(refused)? as usize;
        let reg = self.device.get_mut(at..at + 8).ok_or_else(refused)?;
        let n = (a.size as usize).min(8);
        if a.write {
            reg[..n].copy_from_slice(&a.data[..n]);
        } else {
            a.data[..n].copy_from_slice(&reg[..n]);
        }
        Ok(())
    }

    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError> {
        for (&n, v) in names.iter().zip(values.iter_mut()) {
            *v = if matches!(n, RegName::ES | RegName::SS | RegName::DS) {
                RegValue::from_segment(self.data_seg)
            } else {
                RegValue::from_u64(*self.reg(n)?)
            };
        }
        Ok(())
    }

    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
        for (&n, v) in names.iter().zip(values) {
            *self.reg(n)? = v.lo;
        }
        Ok(())
    }

    fn translate_gva_page(
        &mut self,
        gva: u64,
        _flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        Ok((TranslateResult::Success, gva))
    }
}

/// One exit of the emulation workloads.
struct Exit {
    text: &'static str,
    bytes: &'static [u8],
    /// The guest's code: `Mode::Long64`, `Mode::Prot32` or `Mode::Real`.
    mode: Mode,
    /// The port exit (write or read), or the MMIO exit's access at the device's offset.
    kind: ExitKind,
}

enum ExitKind {
    Port { write: bool },
    Mmio { access: AccessKind, offset: u64 },
}

const EXITS: [Exit; 9] = [
    Exit {
        text: "mov eax,[rdi+0x8] (MMIO read)",
        bytes: &[0x8b, 0x47, 0x08],
        mode: Mode::Long64,
        kind: ExitKind::Mmio {
            access: AccessKind::Read,
            offset: 8,
        },
    },
    Exit {
        text: "mov [rdi+0x818],edx (MMIO write)",
        bytes: &[0x89, 0x97, 0x18, 0x08, 0x00, 0x00],
        mode: Mode::Long64,
        kind: ExitKind::Mmio {
            access: AccessKind::Write,
            offset: 0x818,
        },
    },
    Exit {
        text: "lock or dword ptr [rdi+0xd0],0x4",
        bytes: &[0xf0, 0x83, 0x8f, 0xd0, 0x00, 0x00, 0x00, 0x04],
        mode: Mode::Long64,
        kind: ExitKind::Mmio {
            access: AccessKind::Read,
            offset: 0xd0,
        },
    },
    Exit {
        text: "in al,dx (port read)",
        bytes: &[0xec],
        mode: Mode::Long64,
        kind: ExitKind::Port { write: false },
    },
    Exit {
        text: "out dx,al (port write)",
        bytes: &[0xee],
        mode: Mode::Long64,
        kind: ExitKind::Port { write: true },
    },
    Exit {
        text: "mov [edi+0x818],edx (32-bit MMIO write)",
        bytes: &[0x89, 0x97, 0x18, 0x08, 0x00, 0x00],
        mode: Mode::Prot32,
        kind: ExitKind::Mmio {
            access: AccessKind::Write,
            offset: 0x818,
        },
    },
    Exit {
        text: "out dx,al (32-bit port write)",
        bytes: &[0xee],
        mode: Mode::Prot32,
        kind: ExitKind::Port { write: true },
    },
    Exit {
        text: "mov [di+0x818],dx (real-mode MMIO write)",
        bytes: &[0x89, 0x95, 0x18, 0x08],
        mode: Mode::Real,
        kind: ExitKind::Mmio {
            access: AccessKind::Write,
            offset: 0x818,
        },
    },
    Exit {
        text: "out dx,al (real-mode port write)",
        bytes: &[0xee],
        mode: Mode::Real,
        kind: ExitKind::Port { write: true },
    },
];

impl Exit {
    /// Takes the exit once, from the same guest state each time.
    fn once(
        &self,
        emulator: &Emulator,
        callbacks: &Callbacks<Lean>,
        host: &mut Lean,
    ) -> Result<(), String> {
        // The code segment and RIP of the mode; data segments flat, with the device at offset 0
        // in real mode (its segment's base, as firmware in big real mode sets it).
        let (cs, rip, device) = match self.mode {
            Mode::Long64 => (
                Segment {
                    attributes: 0xa09b,
                    limit: 0xffff_ffff,
                    ..Segment::default()
                },
                RIP,
                DEVICE,
            ),
            Mode::Prot32 => (
                Segment {
                    attributes: 0xc09b,
                    limit: 0xffff_ffff,
                    ..Segment::default()
                },
                RIP32,
                DEVICE,
            ),
            _ => (
                Segment {
                    selector: 0xf000,
                    base: 0xf_0000,
                    limit: 0xffff,
                    attributes: 0x9b,
                },
                RIP16,
                0,
            ),
        };
        host.data_seg = Segment {
            base: DEVICE - device,
            limit: 0xffff_ffff,
            selector: 0x10,
            attributes: 0xc093,
        };
        host.regs[RIP_NAME] = rip;
        host.regs[0] = 0x41;
        host.regs[2] = u64::from(PORT);
        host.regs[7] = device;
        let vp = VpContext {
            cr0_pe: self.mode != Mode::Real,
            efer_lma: self.mode == Mode::Long64,
            cs,
            rip,
            rflags: host.regs[RegName::RFLAGS.0 as usize],
            ..VpContext::default()
        };
        let bytes = InstructionBytes::new(self.bytes);
        let outcome = match self.kind {
            ExitKind::Port { write } => {
                let exit = IoExit {
                    bytes,
                    port: PORT,
                    write,
                    size: 1,
                    rax: host.regs[0],
                    ..IoExit::default()
                };
                emulator.emulate_io(callbacks, host, &vp, &exit)
            }
            ExitKind::Mmio { access, offset } => {
                let exit = MmioExit {
                    bytes,
                    access,
                    gpa: DEVICE + offset,
                    ..MmioExit::default()
                };
                emulator.emulate_mmio(callbacks, host, &vp, &exit)
            }
        };
        let after = host.regs[RIP_NAME];
        match outcome {
            Outcome::Completed if after == rip + self.bytes.len() as u64 => Ok(()),
            Outcome::Completed => Err(format!("completed with RIP {after:#x}")),
            other => Err(format!("did not complete: {other:?}")),
        }
    }
}
