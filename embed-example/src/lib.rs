//! hvemu embedded the way firmware or a paravisor embeds it: `no_std`, no allocator, no
//! `unsafe`, the emulator instance in a static pool ([`hvemu_alloc_shim::Pool`]), the guest's
//! devices modelled in the program itself.
//!
//! [`Platform`] is one virtual processor (its general-purpose registers, RIP and RFLAGS, in
//! 64-bit mode with identity paging), a page of guest RAM, a 16550-style UART on ports
//! 0x3f8-0x3ff and a timer in MMIO at 0xfed0_0000. [`run_scenario`] replays the exits a guest's
//! console and timer code causes (IN, OUT, REP OUTSB from RAM, an MMIO write and an MMIO read)
//! and hands each to the emulator, which reaches the platform only through the host callbacks.
//!
//! ```
//! let mut platform = hvemu_embed_example::Platform::new();
//! let report = hvemu_embed_example::run_scenario(&mut platform).unwrap();
//! assert_eq!(platform.uart_output(), b"Hello from the guest\n");
//! assert_eq!(report.exits, 5);
//! ```
#![no_std]
#![forbid(unsafe_code)]

use hvemu::decode::Vendor;
use hvemu::emulator::{
    AccessKind, Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome, VpContext,
};
use hvemu::host::{
    Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult,
};
use hvemu::regs::{RegName, RegValue, Segment};
use hvemu_alloc_shim::{Handle, Pool};

/// The emulator instances, one per virtual processor, in static storage: no allocator needed.
static EMULATORS: Pool<Emulator, 4> = Pool::new();

/// The host vtable over [`Platform`]'s [`Host`] implementation.
const CALLBACKS: Callbacks<Platform> = Callbacks::for_host();

/// The UART's first port (transmit holding register); the line status register is at +5.
pub const UART: u16 = 0x3f8;
/// The timer's counter register (read-only); its configuration register is at +0x10.
pub const TIMER: u64 = 0xfed0_0000;
/// Guest-physical address of the page of RAM.
pub const RAM: u64 = 0x1000;

/// A host callback failure code: an access to nothing.
const NO_DEVICE: HostError = HostError { code: -1 };

const RAX: usize = 0;
const RCX: usize = 1;
const RDX: usize = 2;
const RSI: usize = 6;
const RDI: usize = 7;

/// A flat 64-bit code segment.
const CODE64: Segment = Segment {
    base: 0,
    limit: 0xffff_ffff,
    selector: 0x08,
    attributes: 0xa09b,
};
/// A flat data segment.
const DATA: Segment = Segment {
    base: 0,
    limit: 0xffff_ffff,
    selector: 0x10,
    attributes: 0xc093,
};

/// How many times the emulator called each host callback.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// Port accesses.
    pub io: u32,
    /// Guest-physical memory accesses.
    pub memory: u32,
    /// Batched register reads.
    pub get: u32,
    /// Batched register writes.
    pub set: u32,
    /// Page translations.
    pub translate: u32,
}

/// One virtual processor, its RAM and its devices.
pub struct Platform {
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// RIP.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
    /// The page at [`RAM`].
    pub ram: [u8; 4096],
    uart_tx: [u8; 64],
    uart_len: usize,
    /// The timer's counter: each read returns it and advances it by 1000.
    pub timer_counter: u64,
    /// The timer's configuration register.
    pub timer_config: u64,
    /// Callback counts.
    pub calls: Calls,
}

impl Default for Platform {
    fn default() -> Self {
        Self::new()
    }
}

impl Platform {
    /// A processor at RIP 0x8000 with RAM cleared and the devices reset.
    pub const fn new() -> Platform {
        Platform {
            gpr: [0; 16],
            rip: 0x8000,
            rflags: 0x2,
            ram: [0; 4096],
            uart_tx: [0; 64],
            uart_len: 0,
            timer_counter: 0x1_0000,
            timer_config: 0,
            calls: Calls {
                io: 0,
                memory: 0,
                get: 0,
                set: 0,
                translate: 0,
            },
        }
    }

    /// What the guest has sent to the UART (up to 64 bytes).
    pub fn uart_output(&self) -> &[u8] {
        self.uart_tx.get(..self.uart_len).unwrap_or(&[])
    }

    fn uart(&mut self, io: &mut IoAccess) {
        match (io.port.wrapping_sub(UART), io.write) {
            (0, true) => {
                if let Some(b) = self.uart_tx.get_mut(self.uart_len) {
                    *b = io.data as u8;
                    self.uart_len += 1;
                }
            }
            // Line status: transmitter empty, holding register empty.
            (5, false) => io.data = 0x60,
            (_, false) => io.data = 0,
            (_, true) => {}
        }
    }

    fn timer(&mut self, offset: u64, a: &mut MemAccess) -> Result<(), HostError> {
        let n = usize::from(a.size).min(8);
        match (offset, a.write) {
            (0, false) => {
                let v = self.timer_counter.to_le_bytes();
                a.data[..n].copy_from_slice(&v[..n]);
                self.timer_counter = self.timer_counter.wrapping_add(1000);
            }
            (0x10, false) => {
                let v = self.timer_config.to_le_bytes();
                a.data[..n].copy_from_slice(&v[..n]);
            }
            (0x10, true) => {
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(&a.data[..n]);
                self.timer_config = u64::from_le_bytes(v);
            }
            _ => return Err(NO_DEVICE),
        }
        Ok(())
    }

    fn vp_context(&self, instruction_length: u8) -> VpContext {
        VpContext {
            cr0_pe: true,
            efer_lma: true,
            instruction_length,
            cs: CODE64,
            rip: self.rip,
            rflags: self.rflags,
            ..VpContext::default()
        }
    }

    /// A port exit as the hypervisor reports it, registers from the processor's state.
    fn io_exit(&self, insn: &[u8], port: u16, write: bool, string: bool, rep: bool) -> IoExit {
        IoExit {
            bytes: InstructionBytes::new(insn),
            port,
            write,
            size: 1,
            string,
            rep,
            rax: self.gpr[RAX],
            rcx: self.gpr[RCX],
            rsi: self.gpr[RSI],
            rdi: self.gpr[RDI],
            ds: DATA,
            es: DATA,
        }
    }

    fn mmio_exit(insn: &[u8], gpa: u64, access: AccessKind) -> MmioExit {
        MmioExit {
            bytes: InstructionBytes::new(insn),
            access,
            gpa,
            ..MmioExit::default()
        }
    }
}

impl Host for Platform {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        self.calls.io += 1;
        if io.port.wrapping_sub(UART) < 8 {
            self.uart(io);
        } else if !io.write {
            io.data = 0xffff_ffff;
        }
        Ok(())
    }

    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        self.calls.memory += 1;
        let n = usize::from(a.size).min(8);
        if let Some(offset) = a.gpa.checked_sub(TIMER).filter(|o| *o < 0x1000) {
            return self.timer(offset, a);
        }
        let Some(offset) = a.gpa.checked_sub(RAM).filter(|o| *o < 0x1000) else {
            return Err(NO_DEVICE);
        };
        // The emulator never crosses a page, so the access lies within the page.
        let offset = offset as usize;
        let Some(ram) = self.ram.get_mut(offset..offset + n) else {
            return Err(NO_DEVICE);
        };
        if a.write {
            ram.copy_from_slice(&a.data[..n]);
        } else {
            a.data[..n].copy_from_slice(ram);
        }
        Ok(())
    }

    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError> {
        self.calls.get += 1;
        for (name, value) in names.iter().zip(values.iter_mut()) {
            *value = match *name {
                RegName(n @ 0..=15) => RegValue::from_u64(self.gpr[n as usize]),
                RegName::RIP => RegValue::from_u64(self.rip),
                RegName::RFLAGS => RegValue::from_u64(self.rflags),
                RegName::CS => RegValue::from_segment(CODE64),
                RegName::ES | RegName::SS | RegName::DS | RegName::FS | RegName::GS => {
                    RegValue::from_segment(DATA)
                }
                // Protected mode with paging; PAE; long mode active.
                RegName::CR0 => RegValue::from_u64(0x8000_0011),
                RegName::CR4 => RegValue::from_u64(0x20),
                RegName::EFER => RegValue::from_u64(0x500),
                _ => RegValue::default(),
            };
        }
        Ok(())
    }

    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
        self.calls.set += 1;
        for (name, value) in names.iter().zip(values) {
            match *name {
                RegName(n @ 0..=15) => self.gpr[n as usize] = value.lo,
                RegName::RIP => self.rip = value.lo,
                RegName::RFLAGS => self.rflags = value.lo,
                _ => {}
            }
        }
        Ok(())
    }

    fn translate_gva_page(
        &mut self,
        gva: u64,
        _flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        self.calls.translate += 1;
        // Identity paging.
        Ok((TranslateResult::Success, gva))
    }
}

/// Why the scenario stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The emulator pool refused (full, or a stale handle).
    Pool(hvemu_alloc_shim::Error),
    /// An exit was not emulated to completion.
    Emulation {
        /// Which exit (0-based).
        exit: usize,
        /// What the emulator said.
        outcome: Outcome,
    },
}

/// What the scenario did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Exits emulated.
    pub exits: usize,
    /// The value the guest read from the timer (RAX after the last exit).
    pub timer_read: u64,
}

/// One exit: the instruction the guest stopped at, as the hypervisor reports it.
enum Exit {
    Io(IoExit),
    Mmio(MmioExit),
}

/// Emulates one exit with the instance behind `handle`.
fn emulate(p: &mut Platform, handle: Handle, len: u8, exit: &Exit) -> Result<Outcome, Error> {
    let vp = p.vp_context(len);
    EMULATORS
        .with(handle, |emulator| match exit {
            Exit::Io(io) => emulator.emulate_io(&CALLBACKS, p, &vp, io),
            Exit::Mmio(mmio) => emulator.emulate_mmio(&CALLBACKS, p, &vp, mmio),
        })
        .map_err(Error::Pool)
}

/// The guest's console and timer code, one exit at a time: the registers the guest had set
/// before the exiting instruction, then the exit.
fn guest(p: &mut Platform, exit: usize) -> Option<(u8, Exit)> {
    const TEXT: &[u8] = b"ello from the guest\n";
    Some(match exit {
        // mov dx, 0x3fd; in al, dx (poll the line status)
        0 => {
            p.gpr[RDX] = u64::from(UART + 5);
            (
                1,
                Exit::Io(p.io_exit(&[0xec], UART + 5, false, false, false)),
            )
        }
        // mov dx, 0x3f8; mov al, 'H'; out dx, al
        1 => {
            p.gpr[RDX] = u64::from(UART);
            p.gpr[RAX] = u64::from(b'H');
            (1, Exit::Io(p.io_exit(&[0xee], UART, true, false, false)))
        }
        // lea rsi, [text]; mov ecx, len; rep outsb (the rest of the line, from RAM)
        2 => {
            let at = 0x100;
            p.ram[at..at + TEXT.len()].copy_from_slice(TEXT);
            p.gpr[RSI] = RAM + at as u64;
            p.gpr[RCX] = TEXT.len() as u64;
            (
                2,
                Exit::Io(p.io_exit(&[0xf3, 0x6e], UART, true, true, true)),
            )
        }
        // mov rdi, TIMER; mov eax, 1; mov [rdi+0x10], eax (enable the timer)
        3 => {
            p.gpr[RDI] = TIMER;
            p.gpr[RAX] = 1;
            let insn = [0x89, 0x47, 0x10];
            (
                3,
                Exit::Mmio(Platform::mmio_exit(&insn, TIMER + 0x10, AccessKind::Write)),
            )
        }
        // mov rax, [rdi] (read the counter)
        4 => {
            let insn = [0x48, 0x8b, 0x07];
            (
                3,
                Exit::Mmio(Platform::mmio_exit(&insn, TIMER, AccessKind::Read)),
            )
        }
        _ => return None,
    })
}

/// Runs the guest's exits against `p` with an emulator instance from the static pool, which it
/// gives back at the end.
pub fn run_scenario(p: &mut Platform) -> Result<Report, Error> {
    let config = Config {
        vendor: Vendor::Intel,
        rep_budget: 256,
        ..Config::default()
    };
    let handle = EMULATORS
        .insert(Emulator::new(config))
        .map_err(|(e, _)| Error::Pool(e))?;
    let mut result = Ok(0);
    let mut exit = 0;
    while let Some((len, e)) = guest(p, exit) {
        match emulate(p, handle, len, &e) {
            Ok(Outcome::Completed) => exit += 1,
            Ok(outcome) => {
                result = Err(Error::Emulation { exit, outcome });
                break;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        result = Ok(exit);
    }
    EMULATORS.remove(handle).map_err(Error::Pool)?;
    result.map(|exits| Report {
        exits,
        timer_read: p.gpr[RAX],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario() {
        let mut p = Platform::new();
        let report = run_scenario(&mut p).unwrap();
        assert_eq!(
            report,
            Report {
                exits: 5,
                timer_read: 0x1_0000
            }
        );
        assert_eq!(p.uart_output(), b"Hello from the guest\n");
        assert_eq!(p.timer_config, 1);
        assert_eq!(p.timer_counter, 0x1_0000 + 1000);
        // RIP moved past each exiting instruction: 1 + 1 + 2 + 3 + 3 bytes.
        assert_eq!(p.rip, 0x8000 + 10);
        // REP OUTSB consumed RCX and advanced RSI.
        assert_eq!(p.gpr[RCX], 0);
        assert_eq!(p.gpr[RSI], RAM + 0x100 + 20);
        // A plain IN or OUT needs no register read; one Set per exit at most.
        assert!(p.calls.set <= 5, "{:?}", p.calls);
        assert_eq!(p.calls.io, 1 + 1 + 20);
    }

    #[test]
    fn instances_go_back_to_the_pool() {
        // More runs than the pool has slots.
        for _ in 0..3 * EMULATORS.static_capacity() {
            let mut p = Platform::new();
            assert_eq!(run_scenario(&mut p).map(|r| r.exits), Ok(5));
        }
    }

    #[test]
    fn first_exit_reads_line_status() {
        let mut p = Platform::new();
        let (len, e) = guest(&mut p, 0).unwrap();
        let h = EMULATORS.insert(Emulator::default()).ok().unwrap();
        assert_eq!(emulate(&mut p, h, len, &e), Ok(Outcome::Completed));
        assert_eq!(p.gpr[RAX] & 0xff, 0x60);
        EMULATORS.remove(h).unwrap();
    }
}
