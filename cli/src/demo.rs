//! `hvemu demo`: decodes instructions that real device drivers use to reach hardware and explains
//! what each would access. Decode only: emulation comes later.

use crate::{encoding_name, map_name, parse_hex};
use hvemu::decode::{Instruction, Mode, Op, Operand, Reg, Vendor, decode};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

/// One bundled example: mode, instruction bytes and where such code comes from.
struct Example {
    mode: Mode,
    hex: &'static str,
    origin: &'static str,
}

const fn ex(mode: Mode, hex: &'static str, origin: &'static str) -> Example {
    Example { mode, hex, origin }
}

const L: Mode = Mode::Long64;

const EXAMPLES: &[Example] = &[
    ex(
        L,
        "89 90 18 38 00 00",
        "Linux e1000: ew32(TDT, i) -> writel(), moves the transmit tail",
    ),
    ex(
        L,
        "8b 42 0c",
        "Linux virtio-pci (modern): vp_ioread32() of guest_feature (offset 0xc)",
    ),
    ex(
        L,
        "0f b6 47 05",
        "Linux 8250 UART over MMIO: serial_in(UART_LSR) -> readb(base + 5)",
    ),
    ex(
        L,
        "88 47 04",
        "Linux 8250 UART over MMIO: serial_out(UART_MCR) -> writeb(v, base + 4)",
    ),
    ex(
        L,
        "ec",
        "Linux 8250 UART over ports: inb(0x3fd) reads the line status (DX = port)",
    ),
    ex(
        L,
        "ee",
        "Linux 8250 UART over ports: outb(ch, 0x3f8) sends a character",
    ),
    ex(
        L,
        "ed",
        "PCI configuration mechanism #1: inl(0xcfc) after outl(address, 0xcf8)",
    ),
    ex(
        L,
        "66 f3 6f",
        "Linux libata PIO: iowrite16_rep() -> rep outsw to the data port 0x1f0",
    ),
    ex(
        L,
        "66 f3 6d",
        "Linux libata PIO: ioread16_rep() -> rep insw from the data port 0x1f0",
    ),
    ex(
        L,
        "f3 a4",
        "Linux memcpy_toio()/memcpy_fromio(): rep movsb between RAM and a BAR",
    ),
    ex(
        L,
        "f3 48 ab",
        "memset_io() clearing a framebuffer: rep stosq",
    ),
    ex(
        L,
        "89 05 10 00 00 00",
        "store to a RIP-relative variable (device memory if the page is)",
    ),
    ex(
        L,
        "f3 0f 6f 07",
        "SSE copy out of device memory (DRM buffer readback): movdqu load",
    ),
    ex(
        L,
        "c5 fe 6f 07",
        "AVX copy out of VRAM: vmovdqu 32-byte load",
    ),
    ex(
        L,
        "0f c3 07",
        "non-temporal store into a write-combining framebuffer: movnti",
    ),
    ex(
        L,
        "f0 83 0f 01",
        "set_bit() on a page shared with the device: lock or",
    ),
    ex(
        L,
        "48 87 07",
        "atomic swap in a shared ring/doorbell page: xchg (implicitly locked)",
    ),
    ex(
        L,
        "89 47 10",
        "Linux AHCI: writel(irq_stat, port_mmio + PORT_IRQ_STAT) acks interrupts",
    ),
    ex(
        L,
        "48 89 47 28",
        "Linux NVMe: writeq(asq, bar + NVME_REG_ASQ) sets the admin queue base",
    ),
    ex(
        Mode::Prot32,
        "c7 05 b0 00 e0 fe 00 00 00 00",
        "32-bit OS, xAPIC identity-mapped: apic_write(APIC_EOI, 0) at 0xfee000b0",
    ),
    ex(
        Mode::Compat32,
        "f3 a5",
        "32-bit driver under a 64-bit kernel: rep movsd into a device buffer",
    ),
    ex(
        Mode::Real,
        "ba f8 03",
        "real-mode BIOS serial code: mov dx,0x3f8 (COM1) before in/out",
    ),
    ex(
        Mode::Real,
        "ec",
        "real-mode BIOS serial code: in al,dx reads the COM1 receive buffer",
    ),
    ex(
        Mode::Real,
        "26 8a 40 10",
        "real-mode BIOS code: reads a byte of a buffer through ES",
    ),
];

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Real => "real",
        Mode::Prot16 => "prot16",
        Mode::Prot32 => "prot32",
        Mode::Compat32 => "compat32",
        Mode::Long64 => "long64",
    }
}

/// Prints the walkthrough; exit status 0.
pub(crate) fn run() -> ExitCode {
    let text = walkthrough();
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("hvemu: {e}");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// The text of the walkthrough.
fn walkthrough() -> String {
    let mut s = String::new();
    s += "hvemu demo: instructions device drivers use to reach hardware, decoded (AMD rules).\n";
    s += "DECODE ONLY: this shows what the decoder extracts for the emulator; emulation of\n";
    s += "these accesses comes with a later issue. Directions are guesses from the operation.\n";
    for (n, e) in EXAMPLES.iter().enumerate() {
        let code = parse_hex(e.hex).unwrap_or_default();
        let _ = write!(
            s,
            "\n{:2}. {}\n    {:<8} {:<32}",
            n + 1,
            e.origin,
            mode_name(e.mode),
            e.hex
        );
        match decode(&code, e.mode, Vendor::Amd) {
            Ok(insn) => {
                let size = if insn.vl != 0 {
                    format!("vector length {}", insn.vl)
                } else {
                    format!("operand size {}", insn.op_size)
                };
                let _ = writeln!(
                    s,
                    "{}\n    {}, {} encoding, map {}, opcode {:02x}, {size}, address size {}",
                    insn.display(0),
                    bytes(insn.len),
                    encoding_name(insn.encoding),
                    map_name(insn.map),
                    insn.opcode,
                    insn.addr_size
                );
                for line in accesses(&insn) {
                    let _ = writeln!(s, "    -> {line}");
                }
            }
            Err(err) => {
                let _ = writeln!(s, "(not decoded)\n    {}: {}", err.kind(), err.reason());
            }
        }
    }
    s
}

/// `seg:[base+index*scale+disp]` of the instruction's memory operand, segment always shown.
fn address(insn: &Instruction) -> String {
    let m = &insn.mem;
    let mut parts = Vec::new();
    if let Some(b) = m.base {
        parts.push(b.name().to_string());
    }
    if let Some(x) = m.index {
        parts.push(if m.scale > 1 {
            format!("{}*{}", x.name(), m.scale)
        } else {
            x.name().into()
        });
    }
    let mut s = parts.join("+");
    if parts.is_empty() {
        s = format!("{:#x}", absolute(insn));
    } else if m.disp < 0 {
        s += &format!("-{:#x}", m.disp.unsigned_abs());
    } else if m.disp > 0 {
        s += &format!("+{:#x}", m.disp);
    }
    format!("{}:[{s}]", m.seg.name())
}

/// The displacement as an absolute address (no base or index), wrapped to the address size.
fn absolute(insn: &Instruction) -> u64 {
    let mask = match insn.addr_size {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    };
    insn.mem.disp as u64 & mask
}

/// "1 byte", "4 bytes".
fn bytes(n: impl Into<u64>) -> String {
    let n = n.into();
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// What the instruction would read or write: memory, I/O ports, string elements.
fn accesses(insn: &Instruction) -> Vec<String> {
    let ops = insn.operands.get(..insn.operand_count()).unwrap_or(&[]);
    let rep = if insn.prefixes.has(hvemu::decode::Prefixes::REP) {
        format!(", repeated {} times", Reg::gpr(insn.addr_size, 1).name())
    } else {
        String::new()
    };
    let si = Reg::gpr(insn.addr_size, 6).name();
    let di = Reg::gpr(insn.addr_size, 7).name();
    let port = |ops: &[Operand]| {
        ops.iter().find_map(|o| match o {
            Operand::Reg(r) if r.name() == "dx" => Some("the port in dx".to_string()),
            Operand::Imm { .. } => Some(format!("port {:#x}", insn.imm)),
            _ => None,
        })
    };
    let mut out = Vec::new();
    let src = ops.iter().find_map(|o| match o {
        Operand::StrSrc { size } => Some(*size),
        _ => None,
    });
    let dst = ops.iter().find_map(|o| match o {
        Operand::StrDst { size } => Some(*size),
        _ => None,
    });
    match insn.op {
        Op::In | Op::Out => {
            let size = ops.iter().find_map(|o| match o {
                Operand::Reg(r) if r.name() != "dx" => Some(r.size()),
                _ => None,
            });
            let dir = if insn.op == Op::In { "read" } else { "write" };
            let port = port(ops).unwrap_or_default();
            out.push(format!(
                "I/O port {dir} of {} at {port}",
                bytes(size.unwrap_or(1))
            ));
        }
        Op::Insb | Op::Insw | Op::Insd => {
            let size = bytes(dst.unwrap_or(1));
            out.push(format!("I/O port read of {size} from the port in dx{rep}"));
            out.push(format!("memory write of {size} at es:[{di}] per element"));
        }
        Op::Outsb | Op::Outsw | Op::Outsd => {
            let size = bytes(src.unwrap_or(1));
            out.push(format!(
                "memory read of {size} at {}:[{si}] per element",
                insn.mem.seg.name()
            ));
            out.push(format!("I/O port write of {size} to the port in dx{rep}"));
        }
        _ if src.is_some() || dst.is_some() => {
            if let Some(size) = src {
                out.push(format!(
                    "memory read of {} at {}:[{si}] per element{rep}",
                    bytes(size),
                    insn.mem.seg.name()
                ));
            }
            if let Some(size) = dst {
                let dir = if src.is_some() || insn.op.to_string().starts_with("stos") {
                    "write"
                } else {
                    "read"
                };
                out.push(format!(
                    "memory {dir} of {} at es:[{di}] per element{rep}",
                    bytes(size)
                ));
            }
        }
        _ => {}
    }
    if let Some(pos) = ops.iter().position(|o| *o == Operand::Mem) {
        let name = insn.op.to_string();
        let dir = if insn.mem.size == 0 {
            "address only, no access"
        } else if matches!(insn.op, Op::Xchg | Op::Xadd | Op::Cmpxchg) || insn.has_lock() {
            "atomic read-modify-write"
        } else if pos != 0 || matches!(insn.op, Op::Cmp | Op::Test | Op::Bt | Op::Push) {
            "read"
        } else if name.starts_with("mov") || name.starts_with("vmov") || name.starts_with("set") {
            "write"
        } else {
            "read-modify-write"
        };
        let m = &insn.mem;
        let mut parts = Vec::new();
        if let Some(b) = m.base {
            parts.push(format!("base {}", b.name()));
            if b == Reg::RIP || b == Reg::EIP {
                parts.push("relative to the next instruction".into());
            }
        }
        if let Some(x) = m.index {
            parts.push(format!("index {}*{}", x.name(), m.scale));
        }
        if m.disp_size > 0 {
            let disp = if m.base.is_none() && m.index.is_none() {
                format!("{:#x}", absolute(insn))
            } else if m.disp < 0 {
                format!("-{:#x}", m.disp.unsigned_abs())
            } else {
                format!("{:#x}", m.disp)
            };
            parts.push(format!("disp {disp} ({})", bytes(m.disp_size)));
        }
        out.push(format!(
            "memory {dir}: {} at {}; segment {}{}{}",
            bytes(m.size),
            address(insn),
            m.seg.name(),
            if insn.seg_override.is_some() {
                " (override)"
            } else {
                " (default)"
            },
            parts.iter().map(|p| format!(", {p}")).collect::<String>()
        ));
    }
    if out.is_empty() {
        out.push("no memory or I/O access (registers only)".into());
    }
    out
}
