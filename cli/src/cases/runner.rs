//! Running one case: place the bytes, build the exit the hypervisor would report, call the
//! emulator (again while it hands back a REP instruction part done), keep the final machine.

use super::host::{PAGE, Ram, TestHost};
use super::model::{CS, Case, RFLAGS, RIP, State, Status};
use hvemu::decode::{self, Instruction, Mode, Op, Operand, Prefixes, Reg, RegClass, Seg, Vendor};
use hvemu::emulator::{
    AccessKind, Config, Emulator, Fault, InstructionBytes, IoExit, MmioExit, Outcome, Refusal,
    VpContext,
};
use hvemu::host::Callbacks;

/// Most re-entries of a REP instruction handed back part done before the runner gives up.
pub const MAX_REENTRIES: u32 = 1_000_000;

/// Elements a REP string instruction runs per call.
pub const REP_BUDGET: u32 = 1024;

/// Which entry point the runner called.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `emulate_mmio` with this exit.
    Mmio(MmioExit),
    /// `emulate_io` with this exit.
    Io(IoExit),
    /// `emulate_at_rip` (an instruction without a memory operand).
    AtRip,
}

/// What one case did.
#[derive(Debug)]
pub struct Run {
    /// How the emulation ended.
    pub status: Status,
    /// The fault reported, with status `exception`.
    pub fault: Option<Fault>,
    /// Why the emulator declined, with status `unsupported`.
    pub refusal: Option<Refusal>,
    /// The machine afterwards.
    pub host: TestHost,
    /// RAM before the instruction (the case's runs and the instruction bytes).
    pub initial_ram: Ram,
    /// The first entry point used.
    pub entry: Entry,
    /// The emulator was re-entered this many times (REP budget).
    pub reentries: u32,
    /// The runner gave up after [`MAX_REENTRIES`].
    pub gave_up: bool,
    /// Things worth telling.
    pub notes: Vec<String>,
}

/// The decoding mode of a state, derived as the processor does (CR0.PE, EFER.LMA, CS.L/D,
/// RFLAGS.VM).
pub fn mode_of(s: &State) -> Mode {
    let pe = s.cr0() & 1 != 0;
    let lma = s.efer() & (1 << 10) != 0;
    let cs = s.seg[CS];
    if !pe {
        Mode::Real
    } else if lma && cs.long() {
        Mode::Long64
    } else if !lma && s.reg[RFLAGS] & (1 << 17) != 0 {
        Mode::Real
    } else if cs.default_big() {
        if lma { Mode::Compat32 } else { Mode::Prot32 }
    } else {
        Mode::Prot16
    }
}

/// The exit context common to every entry point.
pub fn vp_context(s: &State, cpl: u8) -> VpContext {
    VpContext {
        cpl,
        cr0_pe: s.cr0() & 1 != 0,
        cr0_am: s.cr0() & (1 << 18) != 0,
        efer_lma: s.efer() & (1 << 10) != 0,
        interruption_pending: false,
        instruction_length: 0,
        cr8: s.ctl[4] as u8,
        cs: s.seg[CS],
        rip: s.reg[RIP],
        rflags: s.reg[RFLAGS],
    }
}

/// Linear address of `seg:offset`: the base (only FS and GS in 64-bit mode) plus the offset,
/// wrapped at 4 GiB outside 64-bit mode.
fn linear(s: &State, mode: Mode, seg: Seg, offset: u64) -> u64 {
    let base = s.seg[seg as usize].base;
    if mode == Mode::Long64 {
        match seg {
            Seg::Fs | Seg::Gs => base.wrapping_add(offset),
            _ => offset,
        }
    } else {
        base.wrapping_add(offset) & 0xffff_ffff
    }
}

/// Linear address of the instruction byte `i` bytes after CS:RIP.
fn code_linear(s: &State, mode: Mode, i: u64) -> u64 {
    let ip = s.reg[RIP].wrapping_add(i);
    if mode == Mode::Long64 {
        ip
    } else {
        linear(s, mode, Seg::Cs, ip & 0xffff_ffff)
    }
}

fn wrap(v: u64, size: u8) -> u64 {
    match size {
        2 => v & 0xffff,
        4 => v & 0xffff_ffff,
        _ => v,
    }
}

/// A general-purpose register as the decoder names it; `None` for any other class.
fn gpr(s: &State, r: Reg) -> Option<u64> {
    let v = s.reg[usize::from(r.num & 15)];
    Some(match r.class {
        RegClass::Gpr8 => v & 0xff,
        RegClass::Gpr8High => (s.reg[usize::from(r.num & 3)] >> 8) & 0xff,
        RegClass::Gpr16 => v & 0xffff,
        RegClass::Gpr32 => v & 0xffff_ffff,
        RegClass::Gpr64 => v,
        _ => return None,
    })
}

/// The effective address of the memory operand (`rsp_delta` added when the base is RSP, for
/// POP to memory); `None` when a register of it is not a general-purpose one (VSIB).
fn effective_address(s: &State, insn: &Instruction, rsp_delta: u64) -> Option<u64> {
    let m = &insn.mem;
    let mut ea = m.disp as u64;
    if let Some(b) = m.base {
        ea = ea.wrapping_add(if b.class == RegClass::Ip {
            s.reg[RIP].wrapping_add(u64::from(insn.len))
        } else {
            let v = gpr(s, b)?;
            if b.num == 4 {
                v.wrapping_add(rsp_delta)
            } else {
                v
            }
        });
    }
    if let Some(i) = m.index {
        ea = ea.wrapping_add(gpr(s, i)?.wrapping_mul(u64::from(m.scale)));
    }
    Some(wrap(ea, insn.addr_size))
}

/// One guest-linear access of an instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct LinAccess {
    linear: u64,
    size: u64,
    write: bool,
}

/// Operations whose memory operand, when it is the destination, is only written.
fn pure_store(op: Op) -> bool {
    let name = op.name();
    matches!(op, Op::Mov | Op::Movbe | Op::Pop)
        || name.starts_with("Set")
        || name.starts_with("Mov")
        || name.starts_with("Vmov")
        || name.starts_with("St")
        || name.starts_with("Vst")
        || name.starts_with("Fst")
        || name.starts_with("Fist")
        || name.starts_with("Fnst")
        || name.starts_with("Fbstp")
        || name.starts_with("Sgdt")
        || name.starts_with("Sidt")
        || name.starts_with("Sldt")
        || name.starts_with("Smsw")
}

/// Operations whose memory operand is only an address (no data access).
fn no_access(op: Op) -> bool {
    let name = op.name();
    matches!(op, Op::Lea | Op::Nop | Op::Invlpg)
        || name.starts_with("Prefetch")
        || name.starts_with("Bnd")
        || name.starts_with("Clflush")
        || name.starts_with("Clwb")
        || name.starts_with("Cldemote")
}

/// The stack pointer's width: 8 in 64-bit mode, else by SS.B.
fn stack_size(s: &State, mode: Mode) -> u8 {
    if mode == Mode::Long64 {
        8
    } else if s.seg[super::model::SS].default_big() {
        4
    } else {
        2
    }
}

/// The guest-linear accesses of `insn` in the order the processor makes them; REP string
/// instructions give their first `max_elements` elements. `None` when the runner cannot tell.
fn accesses(
    s: &State,
    mode: Mode,
    insn: &Instruction,
    max_elements: u64,
) -> Option<Vec<LinAccess>> {
    let mut out = Vec::new();
    let op = insn.op;
    let sp_size = stack_size(s, mode);
    let sp = wrap(s.reg[4], sp_size);
    let stack = |offset: u64| linear(s, mode, Seg::Ss, wrap(offset, sp_size));
    let size = u64::from(insn.op_size);
    let has_mem = insn.operands.contains(&Operand::Mem) && insn.mem.size > 0 && !no_access(op);
    let mem_dst = matches!(insn.operands[0], Operand::Mem);

    let pushes = matches!(
        op,
        Op::Push | Op::Pushf | Op::Pushfd | Op::Pushfq | Op::Call
    );
    let pops = matches!(op, Op::Pop | Op::Popf | Op::Popfd | Op::Popfq | Op::Ret);
    if pops {
        out.push(LinAccess {
            linear: stack(sp),
            size,
            write: false,
        });
    }
    if has_mem {
        let delta = if op == Op::Pop { size } else { 0 };
        let mut ea = effective_address(s, insn, delta)?;
        // BT BTS BTR BTC with a register bit offset access the operand-sized unit the signed
        // offset selects, which can lie far from the effective address.
        if matches!(op, Op::Bt | Op::Bts | Op::Btr | Op::Btc)
            && let Operand::Reg(r) = insn.operands[1]
            && let Some(v) = gpr(s, r)
        {
            let bits = 8 * u32::from(insn.op_size);
            let offset = ((v << (64 - bits)) as i64) >> (64 - bits);
            let units = offset >> bits.trailing_zeros();
            let bytes = units.wrapping_mul(i64::from(insn.op_size)) as u64;
            ea = wrap(ea.wrapping_add(bytes), insn.addr_size);
        }
        let write = mem_dst && pure_store(op);
        out.push(LinAccess {
            linear: linear(s, mode, insn.mem.seg, ea),
            size: u64::from(insn.mem.size),
            write,
        });
    }
    if pushes {
        out.push(LinAccess {
            linear: stack(sp.wrapping_sub(size)),
            size,
            write: true,
        });
    }

    // String instructions: source seg:rSI, destination ES:rDI, element by element.
    let src = insn.operands.iter().find_map(|o| match o {
        Operand::StrSrc { size } => Some(u64::from(*size)),
        _ => None,
    });
    let dst = insn.operands.iter().find_map(|o| match o {
        Operand::StrDst { size } => Some(u64::from(*size)),
        _ => None,
    });
    if src.is_some() || dst.is_some() {
        let rep = insn.prefixes.has(Prefixes::REP) || insn.prefixes.has(Prefixes::REPNE);
        let count = if rep {
            wrap(s.reg[1], insn.addr_size)
        } else {
            1
        };
        let down = s.reg[RFLAGS] & (1 << 10) != 0;
        // MOVS writes the destination; STOS too; the others only read.
        let dst_writes = matches!(op.name().get(..4), Some("Movs" | "Stos"));
        for i in 0..count.min(max_elements) {
            let step = |start: u64, size: u64| {
                let d = i.wrapping_mul(size);
                wrap(
                    if down {
                        start.wrapping_sub(d)
                    } else {
                        start.wrapping_add(d)
                    },
                    insn.addr_size,
                )
            };
            if let Some(n) = src {
                let off = step(wrap(s.reg[6], insn.addr_size), n);
                out.push(LinAccess {
                    linear: linear(s, mode, insn.mem.seg, off),
                    size: n,
                    write: false,
                });
            }
            if let Some(n) = dst {
                let off = step(wrap(s.reg[7], insn.addr_size), n);
                out.push(LinAccess {
                    linear: linear(s, mode, Seg::Es, off),
                    size: n,
                    write: dst_writes,
                });
            }
        }
    }
    Some(out)
}

/// Reads up to 15 instruction bytes at CS:RIP through the case's translation (stopping at a
/// page that is not mapped or at a device).
fn fetch(host: &TestHost, mode: Mode) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..decode::MAX_LEN as u64 {
        let lin = code_linear(&host.state, mode, i);
        match host.translate_plain(lin) {
            Some(gpa) if !host.is_mmio(gpa, 1) => out.push(host.ram.byte(gpa)),
            _ => break,
        }
    }
    out
}

/// Builds the exit the hypervisor would report for the instruction at CS:RIP.
pub fn plan_entry(host: &TestHost, case: &Case, vendor: Vendor) -> Entry {
    let s = &host.state;
    let mode = mode_of(s);
    let bytes = InstructionBytes::new(case.bytes.get(..case.exit_bytes).unwrap_or(&case.bytes));
    let insn = match decode::decode(&fetch(host, mode), mode, vendor)
        .or_else(|_| decode::decode(&case.bytes, mode, vendor))
    {
        Ok(i) => i,
        // Not an instruction: the emulator finds out from the exit's bytes.
        Err(_) => {
            return Entry::Mmio(MmioExit {
                bytes,
                ..MmioExit::default()
            });
        }
    };
    let op = insn.op;
    if matches!(
        op,
        Op::In | Op::Out | Op::Insb | Op::Insw | Op::Insd | Op::Outsb | Op::Outsw | Op::Outsd
    ) {
        let write = matches!(op, Op::Out | Op::Outsb | Op::Outsw | Op::Outsd);
        let string = !matches!(op, Op::In | Op::Out);
        let mut port = (s.reg[2] & 0xffff) as u16;
        let mut size = 0u8;
        for o in insn.operands.iter() {
            match o {
                Operand::Imm { .. } => port = (insn.imm & 0xff) as u16,
                // AL, AX or EAX (the other register operand is DX).
                Operand::Reg(r) if r.num == 0 => size = r.size() as u8,
                Operand::StrSrc { size: n } | Operand::StrDst { size: n } => size = *n,
                _ => {}
            }
        }
        if size == 0 {
            size = insn.op_size.min(4);
        }
        return Entry::Io(IoExit {
            bytes,
            port,
            write,
            size,
            string,
            rep: insn.prefixes.has(Prefixes::REP) || insn.prefixes.has(Prefixes::REPNE),
            rax: s.reg[0],
            rcx: s.reg[1],
            rsi: s.reg[6],
            rdi: s.reg[7],
            ds: s.seg[Seg::Ds as usize],
            es: s.seg[Seg::Es as usize],
        });
    }
    let Some(list) = accesses(s, mode, &insn, u64::from(REP_BUDGET)) else {
        return Entry::AtRip;
    };
    let Some(first) = list.first().copied() else {
        return Entry::AtRip;
    };
    // The first piece (an access split at page boundaries) that reaches a device; else the
    // first piece that is mapped; else the first access's linear address taken as the GPA.
    let mut mapped: Option<(u64, u64, bool)> = None;
    for a in &list {
        let mut done = 0u64;
        while done < a.size {
            let lin = wrap_linear(mode, a.linear.wrapping_add(done));
            let len = (PAGE - (lin & (PAGE - 1))).min(a.size - done);
            if let Some(gpa) = host.translate_plain(lin) {
                if let Some(dev) = host.first_mmio_byte(gpa, len) {
                    return Entry::Mmio(mmio_exit(bytes, dev, lin + (dev - gpa), a.write, true));
                }
                mapped.get_or_insert((gpa, lin, a.write));
            }
            done += len;
        }
    }
    let (gpa, gva, write) = mapped.unwrap_or((first.linear, first.linear, first.write));
    Entry::Mmio(mmio_exit(bytes, gpa, gva, write, false))
}

fn wrap_linear(mode: Mode, lin: u64) -> u64 {
    if mode == Mode::Long64 {
        lin
    } else {
        lin & 0xffff_ffff
    }
}

fn mmio_exit(bytes: InstructionBytes, gpa: u64, gva: u64, write: bool, unmapped: bool) -> MmioExit {
    MmioExit {
        bytes,
        access: if write {
            AccessKind::Write
        } else {
            AccessKind::Read
        },
        gpa_unmapped: unmapped,
        gva_valid: true,
        gpa,
        gva,
    }
}

/// Runs a case. `Err` when the case cannot be set up (it is then an invalid case).
pub fn run(case: &Case) -> Result<Run, String> {
    let mut host = TestHost::new(case);
    let mut notes = Vec::new();
    let mode = mode_of(&host.state);
    let mut unplaced = 0;
    for (i, b) in case.bytes.iter().enumerate() {
        let lin = code_linear(&host.state, mode, i as u64);
        match host.translate_plain(lin) {
            Some(gpa) if host.is_mmio(gpa, 1) => {
                return Err(format!(
                    "bytes: byte {i} (linear {lin:#x}) falls in an mmio range at {gpa:#x}"
                ));
            }
            Some(gpa) => host.ram.set_byte(gpa, *b),
            None => unplaced += 1,
        }
    }
    if unplaced > 0 {
        notes.push(format!(
            "{unplaced} instruction byte(s) not placed in memory: page not present"
        ));
    }
    let initial_ram = host.ram.clone();

    let default = Config::default();
    let vendor = case.vendor.unwrap_or(default.vendor);
    let emu = Emulator::new(Config {
        vendor,
        rep_budget: REP_BUDGET,
        ..default
    });
    let cb = Callbacks::<TestHost>::for_host();
    let first_entry = plan_entry(&host, case, vendor);
    let mut entry = first_entry;
    let mut reentries = 0;
    let mut gave_up = false;
    let outcome = loop {
        let vp = vp_context(&host.state, case.cpl);
        let out = match &entry {
            Entry::Mmio(exit) => emu.emulate_mmio(&cb, &mut host, &vp, exit),
            Entry::Io(exit) => emu.emulate_io(&cb, &mut host, &vp, exit),
            Entry::AtRip => emu.emulate_at_rip(&cb, &mut host, &vp),
        };
        if out != Outcome::Partial {
            break out;
        }
        if reentries >= MAX_REENTRIES {
            gave_up = true;
            break out;
        }
        reentries += 1;
        // The exit of the next call is taken at the progressed state.
        entry = plan_entry(&host, case, vendor);
    };
    let (status, fault, refusal) = match outcome {
        Outcome::Completed | Outcome::Partial => (Status::Ok, None, None),
        Outcome::Exception(f) => (Status::Exception, Some(f), None),
        Outcome::Refused(r) => (Status::Unsupported, None, Some(r)),
    };
    if gave_up {
        notes.push(format!(
            "gave up after {MAX_REENTRIES} re-entries: the instruction never completed"
        ));
    }
    Ok(Run {
        status,
        fault,
        refusal,
        host,
        initial_ram,
        entry: first_entry,
        reentries,
        gave_up,
        notes,
    })
}
