//! `hvemu demo`: a small VMM with a 16550 UART on ports 0x3f8-0x3ff, an e1000 NIC and an
//! xAPIC in MMIO, and a VGA text buffer, runs the exits a Linux driver and a BIOS would cause.
//! Each exit goes through the same host interface a real VMM uses; the demo shows the bytes, the
//! decoded instruction, the device accesses, the register traffic and the register changes.

use hvemu::decode::{Mode, Vendor, decode};
use hvemu::emulator::{
    AccessKind, Emulator, InstructionBytes, IoExit, MmioExit, Outcome, VpContext,
};
use hvemu::host::{
    Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult,
};
use hvemu::regs::{RegName, RegValue, Segment};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

const E1000_BASE: u64 = 0xfebc_0000;
const APIC_BASE: u64 = 0xfee0_0000;
const VGA_BASE: u64 = 0xb_8000;
const UART_BASE: u16 = 0x3f8;

/// The VMM: registers of one vCPU, RAM, the devices and a log of what happened during an exit.
struct Vmm {
    regs: BTreeMap<u32, RegValue>,
    ram: BTreeMap<u64, u8>,
    uart_tx: Vec<u8>,
    e1000: BTreeMap<u64, u32>,
    vga: BTreeMap<u64, u8>,
    log: Vec<String>,
    gets: usize,
    got: usize,
    sets: usize,
    set: usize,
}

impl Vmm {
    fn new() -> Vmm {
        let mut e1000 = BTreeMap::new();
        e1000.insert(0x8, 0x8008_0783); // STATUS: link up, 1000 Mb/s, full duplex
        e1000.insert(0xd0, 0x0000_0001); // IMS
        Vmm {
            regs: BTreeMap::new(),
            ram: BTreeMap::new(),
            uart_tx: Vec::new(),
            e1000,
            vga: BTreeMap::new(),
            log: Vec::new(),
            gets: 0,
            got: 0,
            sets: 0,
            set: 0,
        }
    }

    fn reg(&self, n: RegName) -> RegValue {
        self.regs.get(&n.0).copied().unwrap_or_default()
    }

    fn set_u64(&mut self, n: RegName, v: u64) {
        self.regs.insert(n.0, RegValue::from_u64(v));
    }

    fn uart(&mut self, io: &mut IoAccess) {
        let reg = io.port.wrapping_sub(UART_BASE);
        let name = [
            "THR/RBR", "IER", "IIR/FCR", "LCR", "MCR", "LSR", "MSR", "SCR",
        ]
        .get(reg as usize)
        .copied()
        .unwrap_or("?");
        if io.write {
            if reg == 0 {
                self.uart_tx.push(io.data as u8);
            }
            self.log.push(format!(
                "uart  out {:#06x} ({name}) <- {:#04x}{}",
                io.port,
                io.data & 0xff,
                printable(io.data as u8)
            ));
        } else {
            // LSR: transmitter empty and holding register empty.
            io.data = if reg == 5 { 0x60 } else { 0 };
            self.log.push(format!(
                "uart  in  {:#06x} ({name}) -> {:#04x}",
                io.port, io.data
            ));
        }
    }
}

fn bytes_word(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

fn printable(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!(" '{}'", b as char)
    } else {
        String::new()
    }
}

fn le(data: &[u8]) -> u64 {
    data.iter().rev().fold(0, |v, b| v << 8 | *b as u64)
}

impl Host for Vmm {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        if (UART_BASE..UART_BASE + 8).contains(&io.port) {
            self.uart(io);
        } else {
            if !io.write {
                io.data = 0xffff_ffff;
            }
            self.log.push(format!(
                "port  {} {:#06x} {} {:#x} ({})",
                if io.write { "out" } else { "in " },
                io.port,
                if io.write { "<-" } else { "->" },
                io.data,
                bytes_word(io.size as usize)
            ));
        }
        Ok(())
    }

    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        let n = a.size as usize;
        let (dev, what) = if (E1000_BASE..E1000_BASE + 0x20000).contains(&a.gpa) {
            ("e1000", e1000_reg(a.gpa - E1000_BASE))
        } else if (APIC_BASE..APIC_BASE + 0x1000).contains(&a.gpa) {
            ("apic ", apic_reg(a.gpa - APIC_BASE))
        } else if (VGA_BASE..VGA_BASE + 0x8000).contains(&a.gpa) {
            ("vga  ", "text buffer")
        } else {
            // RAM.
            for (i, d) in a.data.iter_mut().take(n).enumerate() {
                let addr = a.gpa + i as u64;
                if a.write {
                    self.ram.insert(addr, *d);
                } else {
                    *d = self.ram.get(&addr).copied().unwrap_or(0);
                }
            }
            return Ok(());
        };
        let off = a.gpa & !3;
        if a.write {
            let v = le(a.data.get(..n).unwrap_or(&[]));
            if dev == "e1000" {
                self.e1000.insert(off - E1000_BASE, v as u32);
            }
            if dev == "vga  " {
                for (i, d) in a.data.iter().take(n).enumerate() {
                    self.vga.insert(a.gpa + i as u64, *d);
                }
            }
            self.log.push(format!(
                "{dev} write {:#x} ({what}) <- {v:#x} ({})",
                a.gpa,
                bytes_word(n)
            ));
        } else {
            let v = match dev {
                "e1000" => self.e1000.get(&(off - E1000_BASE)).copied().unwrap_or(0) as u64,
                "apic " => 0x0005_0014, // version register of an xAPIC
                _ => (0..n as u64)
                    .map(|i| {
                        (self.vga.get(&(a.gpa + i)).copied().unwrap_or(0x20) as u64) << (8 * i)
                    })
                    .sum(),
            };
            let bytes = v.to_le_bytes();
            a.data = [0; 8];
            for (d, s) in a.data.iter_mut().zip(bytes.iter()).take(n) {
                *d = *s;
            }
            let v = le(bytes.get(..n).unwrap_or(&[]));
            self.log.push(format!(
                "{dev} read  {:#x} ({what}) -> {v:#x} ({})",
                a.gpa,
                bytes_word(n)
            ));
        }
        Ok(())
    }

    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError> {
        self.gets += 1;
        self.got += names.len();
        for (n, v) in names.iter().zip(values.iter_mut()) {
            *v = self.reg(*n);
        }
        Ok(())
    }

    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
        self.sets += 1;
        self.set += names.len();
        for (n, v) in names.iter().zip(values) {
            self.regs.insert(n.0, *v);
        }
        Ok(())
    }

    fn translate_gva_page(
        &mut self,
        gva: u64,
        _flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        // The demo guest runs with identity mapping.
        Ok((TranslateResult::Success, gva))
    }
}

fn e1000_reg(off: u64) -> &'static str {
    match off {
        0x0 => "CTRL",
        0x8 => "STATUS",
        0xd0 => "IMS",
        0x3818 => "TDT",
        0x2818 => "RDT",
        _ => "register",
    }
}

fn apic_reg(off: u64) -> &'static str {
    match off {
        0x30 => "version",
        0xb0 => "EOI",
        0x300 => "ICR low",
        _ => "register",
    }
}

/// One exit of the scenario.
struct Step {
    story: &'static str,
    mode: Mode,
    hex: &'static str,
    /// Registers the guest holds before the instruction (beyond the scenario's state).
    set: &'static [(RegName, u64)],
    exit: ExitKind,
}

enum ExitKind {
    Io { port: u16, write: bool, size: u8 },
    Mmio { gpa: u64, write: bool },
}

const RAX: RegName = RegName::RAX;
const RDX: RegName = RegName::RDX;
const RDI: RegName = RegName::RDI;
const RSI: RegName = RegName::RSI;
const RBX: RegName = RegName::RBX;

const STEPS: &[Step] = &[
    Step {
        story: "8250 UART: serial8250_console_putchar() polls LSR until THR is empty",
        mode: Mode::Long64,
        hex: "ec",
        set: &[(RDX, 0x3fd)],
        exit: ExitKind::Io {
            port: 0x3fd,
            write: false,
            size: 1,
        },
    },
    Step {
        story: "8250 UART: ... then writes the character to THR",
        mode: Mode::Long64,
        hex: "ee",
        set: &[(RAX, 0x68), (RDX, 0x3f8)],
        exit: ExitKind::Io {
            port: 0x3f8,
            write: true,
            size: 1,
        },
    },
    Step {
        story: "e1000: e1000_check_for_link() reads STATUS (er32)",
        mode: Mode::Long64,
        hex: "8b 47 08",
        set: &[(RDI, E1000_BASE)],
        exit: ExitKind::Mmio {
            gpa: E1000_BASE + 8,
            write: false,
        },
    },
    Step {
        story: "e1000: e1000_xmit_frame() moves the transmit tail (ew32 TDT)",
        mode: Mode::Long64,
        hex: "89 97 18 38 00 00",
        set: &[(RDI, E1000_BASE), (RDX, 0x17)],
        exit: ExitKind::Mmio {
            gpa: E1000_BASE + 0x3818,
            write: true,
        },
    },
    Step {
        story: "e1000: a read-modify-write of IMS with a locked OR",
        mode: Mode::Long64,
        hex: "f0 83 8f d0 00 00 00 04",
        set: &[(RDI, E1000_BASE)],
        exit: ExitKind::Mmio {
            gpa: E1000_BASE + 0xd0,
            write: true,
        },
    },
    Step {
        story: "e1000: e1000_irq_enable() toggles a bit with BTS and tests it",
        mode: Mode::Long64,
        hex: "0f ab 17",
        set: &[(RDI, E1000_BASE), (RDX, 0x23)],
        exit: ExitKind::Mmio {
            gpa: E1000_BASE + 4,
            write: true,
        },
    },
    Step {
        story: "xAPIC: ack_APIC_irq() writes EOI",
        mode: Mode::Long64,
        hex: "c7 87 b0 00 00 00 00 00 00 00",
        set: &[(RDI, APIC_BASE)],
        exit: ExitKind::Mmio {
            gpa: APIC_BASE + 0xb0,
            write: true,
        },
    },
    Step {
        story: "xAPIC: lapic_get_version() with a zero-extending byte load",
        mode: Mode::Long64,
        hex: "0f b6 46 30",
        set: &[(RSI, APIC_BASE)],
        exit: ExitKind::Mmio {
            gpa: APIC_BASE + 0x30,
            write: false,
        },
    },
    Step {
        story: "BIOS (real mode): POST code to port 0x80",
        mode: Mode::Real,
        hex: "e6 80",
        set: &[(RAX, 0x55)],
        exit: ExitKind::Io {
            port: 0x80,
            write: true,
            size: 1,
        },
    },
    Step {
        story: "BIOS (real mode): print 'A' in the VGA text buffer, ES = 0xb800",
        mode: Mode::Real,
        hex: "26 89 00",
        set: &[(RAX, 0x0741), (RBX, 0x0)],
        exit: ExitKind::Mmio {
            gpa: VGA_BASE,
            write: true,
        },
    },
    Step {
        story: "BIOS (real mode): read the character back with ES:[BX+SI+disp]",
        mode: Mode::Real,
        hex: "26 8a 40 00",
        set: &[(RBX, 0x0), (RSI, 0x0)],
        exit: ExitKind::Mmio {
            gpa: VGA_BASE,
            write: false,
        },
    },
];

const GPR_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

fn reg_label(n: u32) -> String {
    match n {
        0..=15 => GPR_NAMES
            .get(n as usize)
            .copied()
            .unwrap_or("?")
            .to_string(),
        0x10 => "rip".into(),
        0x11 => "rflags".into(),
        0x12..=0x17 => ["es", "cs", "ss", "ds", "fs", "gs"]
            .get((n - 0x12) as usize)
            .copied()
            .unwrap_or("?")
            .to_string(),
        _ => format!("reg {n:#x}"),
    }
}

fn parse_bytes(hex: &str) -> Vec<u8> {
    crate::parse_hex(hex).unwrap_or_default()
}

fn vp_for(vmm: &Vmm, mode: Mode) -> VpContext {
    let (cs, pe, lma) = match mode {
        Mode::Long64 => (
            Segment {
                base: 0,
                limit: 0xffff_ffff,
                selector: 0x10,
                attributes: 0xa09b,
            },
            true,
            true,
        ),
        _ => (
            Segment {
                base: 0xf0000,
                limit: 0xffff,
                selector: 0xf000,
                attributes: 0x9b,
            },
            false,
            false,
        ),
    };
    VpContext {
        cpl: 0,
        cr0_pe: pe,
        efer_lma: lma,
        cs,
        rip: vmm.reg(RegName::RIP).lo,
        rflags: vmm.reg(RegName::RFLAGS).lo,
        ..VpContext::default()
    }
}

/// Runs the scenario; the exit status is non-zero if any exit did not complete.
pub fn run() -> ExitCode {
    let mut out = String::new();
    let ok = scenario(&mut out);
    let _ = std::io::stdout().write_all(out.as_bytes());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn scenario(out: &mut String) -> bool {
    let emulator = Emulator::default();
    let callbacks = Callbacks::<Vmm>::for_host();
    let mut vmm = Vmm::new();
    let mut all_ok = true;
    let _ = writeln!(
        out,
        "hvemu demo: a VMM emulates the exits of a Linux guest's UART, e1000 NIC and xAPIC drivers\n\
         (64-bit mode) and of a BIOS in real mode, through the callback interface a VMM provides.\n"
    );
    let mut current_mode = None;
    for (i, step) in STEPS.iter().enumerate() {
        if current_mode != Some(step.mode) {
            current_mode = Some(step.mode);
            vmm.set_u64(
                RegName::RIP,
                if step.mode == Mode::Long64 {
                    0xffff_ffff_8100_0000
                } else {
                    0x1000
                },
            );
            vmm.set_u64(RegName::RFLAGS, 0x2);
            let es = if step.mode == Mode::Real {
                Segment {
                    base: VGA_BASE,
                    limit: 0xffff,
                    selector: 0xb800,
                    attributes: 0x93,
                }
            } else {
                Segment {
                    base: 0,
                    limit: 0xffff_ffff,
                    selector: 0x18,
                    attributes: 0xc093,
                }
            };
            vmm.regs.insert(RegName::ES.0, RegValue::from_segment(es));
            vmm.regs.insert(
                RegName::DS.0,
                RegValue::from_segment(Segment {
                    attributes: 0x93,
                    limit: 0xffff,
                    ..es
                }),
            );
        }
        for (n, v) in step.set {
            vmm.set_u64(*n, *v);
        }
        let bytes = parse_bytes(step.hex);
        let text = match decode(&bytes, step.mode, Vendor::Amd) {
            Ok(insn) => insn.display(vmm.reg(RegName::RIP).lo).to_string(),
            Err(e) => format!("({})", e.reason()),
        };
        let mode = match step.mode {
            Mode::Long64 => "long64",
            _ => "real",
        };
        let _ = writeln!(out, "{:2}. {}", i + 1, step.story);
        let _ = writeln!(out, "    {mode:<7} {:<28} {text}", step.hex);
        let before = vmm.regs.clone();
        vmm.log.clear();
        vmm.gets = 0;
        vmm.got = 0;
        vmm.sets = 0;
        vmm.set = 0;
        let vp = vp_for(&vmm, step.mode);
        let insn_bytes = InstructionBytes::new(&bytes);
        let outcome = match step.exit {
            ExitKind::Io { port, write, size } => {
                let dir = if write { "write" } else { "read" };
                let _ = writeln!(
                    out,
                    "    exit: port {dir} {port:#x}, {}",
                    bytes_word(size as usize)
                );
                let exit = IoExit {
                    bytes: insn_bytes,
                    port,
                    write,
                    size,
                    rax: vmm.reg(RAX).lo,
                    rcx: vmm.reg(RegName::RCX).lo,
                    rsi: vmm.reg(RSI).lo,
                    rdi: vmm.reg(RDI).lo,
                    ds: vmm.reg(RegName::DS).segment(),
                    es: vmm.reg(RegName::ES).segment(),
                    ..IoExit::default()
                };
                emulator.emulate_io(&callbacks, &mut vmm, &vp, &exit)
            }
            ExitKind::Mmio { gpa, write } => {
                let _ = writeln!(
                    out,
                    "    exit: memory {} at GPA {gpa:#x}",
                    if write { "write" } else { "read" }
                );
                let exit = MmioExit {
                    bytes: insn_bytes,
                    access: if write {
                        AccessKind::Write
                    } else {
                        AccessKind::Read
                    },
                    gpa,
                    ..MmioExit::default()
                };
                emulator.emulate_mmio(&callbacks, &mut vmm, &vp, &exit)
            }
        };
        for line in &vmm.log {
            let _ = writeln!(out, "    device: {line}");
        }
        let _ = writeln!(
            out,
            "    registers: {} Get ({} names), {} Set ({} names)",
            vmm.gets, vmm.got, vmm.sets, vmm.set
        );
        let mut changes = Vec::new();
        for (n, v) in &vmm.regs {
            let old = before.get(n).copied().unwrap_or_default();
            if old != *v && *n <= 0x11 {
                changes.push(format!("{} {:#x} -> {:#x}", reg_label(*n), old.lo, v.lo));
            }
        }
        if !changes.is_empty() {
            let _ = writeln!(out, "    changed: {}", changes.join(", "));
        }
        match outcome {
            Outcome::Completed => {
                let _ = writeln!(out, "    -> completed\n");
            }
            other => {
                all_ok = false;
                let _ = writeln!(out, "    -> {other:?}\n");
            }
        }
    }
    let _ = writeln!(
        out,
        "UART transmitted {:?}; e1000 TDT = {:#x}, IMS = {:#x}; VGA cell 0 = {:?}",
        String::from_utf8_lossy(&vmm.uart_tx),
        vmm.e1000.get(&0x3818).copied().unwrap_or(0),
        vmm.e1000.get(&0xd0).copied().unwrap_or(0),
        vmm.vga.get(&VGA_BASE).map(|b| *b as char)
    );
    all_ok
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_exit_of_the_scenario_completes() {
        let mut out = String::new();
        assert!(super::scenario(&mut out), "{out}");
        assert!(out.contains("UART transmitted \"h\""), "{out}");
        assert!(out.contains("TDT = 0x17"), "{out}");
        assert!(out.contains("IMS = 0x5"), "{out}");
        assert!(out.contains("VGA cell 0 = Some('A')"), "{out}");
    }
}
