//! Running one case: place the bytes, build the exit the hypervisor would report, call the
//! emulator (again while it hands back a REP instruction part done), keep the final machine.
//!
//! The machine of a case follows spec/cases.md with one deliberate deviation in its defaults:
//! when a case does not give `cr4`, CR4 is the mode's value from the table ("Defaults per mode")
//! with OSFXSR, OSXMMEXCPT and OSXSAVE added
//! ([`CR4_DEFAULT_EXTRA`](super::model::CR4_DEFAULT_EXTRA), 0x40600), and XCR0, which a case
//! cannot set, is 0xe7 (x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM). Taken literally, the table
//! would make every SSE, AVX and AVX-512 instruction raise #UD, which no suite captured on real
//! hardware (under an operating system that enables them) expects. A case that gives `cr4` gets
//! exactly that value. These bits do not change paging. The x87 state, which the format does
//! not describe either, is the state after FNINIT with zero registers; a change to it (an MMX
//! instruction) is not compared and is told in the result's notes.
//!
//! The emulator is configured with [`VectorState::Zmm`](hvemu::emulator::VectorState::Zmm) (the test host serves YMM/ZMM parts,
//! ZMM16..ZMM31 and K0..K7 under hvemu's extension names), the register file of an AVX-512
//! processor.

use super::host::{PAGE, Ram, TestHost};
use super::model::{CS, Case, RFLAGS, RIP, State, Status};
use hvemu::decode::{
    self, Encoding, Instruction, Mode, Op, Operand, Prefixes, Reg, RegClass, Seg, Vendor,
};
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
        || name.starts_with("Pextr")
        || name.starts_with("Vpextr")
}

/// The element size of an AVX-512 move with element masking; `None` for other operations.
fn masked_element(op: Op) -> Option<u64> {
    Some(match op {
        Op::Vmovdqu8 => 1,
        Op::Vmovdqu16 => 2,
        Op::Vmovdqa32 | Op::Vmovdqu32 | Op::Vmovups | Op::Vmovaps => 4,
        Op::Vmovdqa64 | Op::Vmovdqu64 | Op::Vmovupd | Op::Vmovapd => 8,
        _ => return None,
    })
}

/// Runs of consecutive set bits of `mask` as (first bit, count), lowest first.
fn mask_runs(mut mask: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    while mask != 0 {
        let start = mask.trailing_zeros();
        let len = (mask >> start).trailing_ones();
        out.push((u64::from(start), u64::from(len)));
        mask &= !((u64::MAX >> (64 - len)) << start);
    }
    out
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
        let lin = linear(s, mode, insn.mem.seg, ea);
        let size = u64::from(insn.mem.size);
        match masked_element(op) {
            // An AVX-512 move under an opmask accesses only its unmasked elements.
            Some(e) if insn.encoding == Encoding::Evex && insn.mask != 0 => {
                let count = size / e;
                let all = if count >= 64 {
                    u64::MAX
                } else {
                    (1 << count) - 1
                };
                let mask = s.k[usize::from(insn.mask & 7)] & all;
                for (start, len) in mask_runs(mask) {
                    out.push(LinAccess {
                        linear: wrap_linear(mode, lin.wrapping_add(start * e)),
                        size: len * e,
                        write,
                    });
                }
            }
            _ => out.push(LinAccess {
                linear: lin,
                size,
                write,
            }),
        }
    }
    // MOVDIR64B stores 64 bytes at ES:[register] after reading its memory operand.
    if op == Op::Movdir64b
        && let Operand::Reg(r) = insn.operands[0]
    {
        let offset = wrap(s.reg[usize::from(r.num & 15)], insn.addr_size);
        out.push(LinAccess {
            linear: linear(s, mode, Seg::Es, offset),
            size: 64,
            write: true,
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

/// What changed in the x87/MMX state, which the case format does not describe (and so cannot
/// compare): the register slots (MM`i` is slot `i` after an MMX instruction, which sets TOP to 0)
/// and the control and status registers.
pub fn x87_note(before: &State, after: &State) -> Option<String> {
    let mut changes = Vec::new();
    for (i, (a, b)) in before.fp_mmx.iter().zip(&after.fp_mmx).enumerate() {
        if a != b {
            changes.push(format!(
                "mm{i} (x87 slot {i}) {:#x} -> {:#x} (exponent {:#x})",
                a.lo,
                b.lo,
                b.hi & 0xffff
            ));
        }
    }
    let (a, b) = (before.fp_control, after.fp_control);
    for (name, shift, bits) in [
        ("fcw", 0, 16),
        ("fsw", 16, 16),
        ("ftw", 32, 8),
        ("fop", 48, 16),
    ] {
        let m = (1u64 << bits) - 1;
        let (x, y) = ((a.lo >> shift) & m, (b.lo >> shift) & m);
        if x != y {
            changes.push(format!("{name} {x:#x} -> {y:#x}"));
        }
    }
    if a.hi != b.hi {
        changes.push(format!("fip {:#x} -> {:#x}", a.hi, b.hi));
    }
    (!changes.is_empty()).then(|| {
        format!(
            "x87/MMX state changed (not in the case format, not compared): {}",
            changes.join(", ")
        )
    })
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
        vector_state: host.vector_state,
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
    if let Some(note) = x87_note(&case.initial, &host.state) {
        notes.push(note);
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
