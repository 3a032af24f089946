//! The emulator entry points: emulate the instruction behind an MMIO exit, a port exit, or the
//! instruction at RIP.
//!
//! One call runs fetch → decode → plan → execute → commit (see DESIGN.md): the instruction
//! bytes come from the exit and, when they are too few, from guest memory; the registers the
//! instruction needs are read with at most one Get; every guest access is translated and checked
//! before the first one is performed; the changed registers are written with one Set, only on
//! success.
//!
//! A small VMM's MMIO exit path, with a device register at GPA 0xfee0_0000 and identity paging:
//!
//! ```
//! use hvemu::emulator::{AccessKind, Emulator, InstructionBytes, MmioExit, Outcome, VpContext};
//! use hvemu::host::{Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult};
//! use hvemu::regs::{RegName, RegValue};
//!
//! struct Vmm {
//!     gpr: [u64; 16],
//!     rip: u64,
//!     device_writes: Vec<(u64, u64)>,
//! }
//!
//! impl Host for Vmm {
//!     fn io_port(&mut self, _io: &mut IoAccess) -> Result<(), HostError> {
//!         Err(HostError { code: -1 })
//!     }
//!     fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
//!         if a.write {
//!             let mut v = [0u8; 8];
//!             v[..a.size as usize].copy_from_slice(&a.data[..a.size as usize]);
//!             self.device_writes.push((a.gpa, u64::from_le_bytes(v)));
//!         }
//!         Ok(())
//!     }
//!     fn get_registers(&mut self, names: &[RegName], values: &mut [RegValue]) -> Result<(), HostError> {
//!         for (n, v) in names.iter().zip(values.iter_mut()) {
//!             *v = match n.0 {
//!                 0..=15 => RegValue::from_u64(self.gpr[n.0 as usize]),
//!                 _ => return Err(HostError { code: -1 }),
//!             };
//!         }
//!         Ok(())
//!     }
//!     fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
//!         for (n, v) in names.iter().zip(values) {
//!             match n.0 {
//!                 0..=15 => self.gpr[n.0 as usize] = v.lo,
//!                 0x10 => self.rip = v.lo,
//!                 _ => {}
//!             }
//!         }
//!         Ok(())
//!     }
//!     fn translate_gva_page(&mut self, gva: u64, _f: TranslateFlags)
//!         -> Result<(TranslateResult, u64), HostError> {
//!         Ok((TranslateResult::Success, gva))
//!     }
//! }
//!
//! let mut vmm = Vmm { gpr: [0; 16], rip: 0x1000, device_writes: Vec::new() };
//! vmm.gpr[0] = 0x1234_5678; // eax
//! vmm.gpr[7] = 0xfee0_0000; // rdi
//! let callbacks = Callbacks::<Vmm>::for_host();
//! let emulator = Emulator::default();
//!
//! // The exit: `mov [rdi+0xb0], eax` in 64-bit mode wrote GPA 0xfee000b0.
//! let vp = VpContext::long64(vmm.rip, 0x2);
//! let exit = MmioExit {
//!     bytes: InstructionBytes::new(&[0x89, 0x87, 0xb0, 0x00, 0x00, 0x00]),
//!     access: AccessKind::Write,
//!     gpa: 0xfee0_00b0,
//!     ..MmioExit::default()
//! };
//! assert_eq!(emulator.emulate_mmio(&callbacks, &mut vmm, &vp, &exit), Outcome::Completed);
//! assert_eq!(vmm.device_writes, vec![(0xfee0_00b0, 0x1234_5678)]);
//! assert_eq!(vmm.rip, 0x1006);
//! ```

mod exit;
mod machine;
mod outcome;

pub use exit::{AccessKind, InstructionBytes, IoExit, MmioExit, VpContext};
pub(crate) use machine::{Machine, Stop};
pub use outcome::{CallbackKind, Fault, Outcome, Refusal};

use crate::decode::Vendor;
use crate::host::Callbacks;

/// Emulator settings.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Whose processors to imitate where Intel and AMD differ (decoding, undefined flags, fault
    /// order, REP string details): the host's, for a guest to see what its processor does.
    /// Each is measured on one core (AMD Zen 4, Intel 5th-generation Xeon).
    pub vendor: Vendor,
    /// Most elements a REP string instruction runs per call before handing back
    /// [`Outcome::Partial`].
    pub rep_budget: u32,
    /// Which vector registers the host's register callbacks serve.
    pub vector_state: VectorState,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            vendor: Vendor::Amd,
            rep_budget: 1024,
            vector_state: VectorState::Xmm,
        }
    }
}

/// The vector registers a host can read and write through its register callbacks. An
/// instruction that needs one the host cannot give is refused with
/// [`Refusal::RegisterUnavailable`]: a VEX or EVEX write to a register (which zeroes the
/// register's bits above the written ones up to the widest the processor has), a YMM or ZMM
/// operand, ZMM16..ZMM31, an opmask.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VectorState {
    /// The WinHv fixed set only: XMM0..XMM15, MXCSR, the x87/MMX registers.
    #[default]
    Xmm,
    /// Also the upper halves of YMM0..YMM15 ([`RegName::zmm_part`](crate::regs::RegName::zmm_part)
    /// part 1): an AVX processor without AVX-512.
    Ymm,
    /// Also ZMM0..ZMM31 in full and K0..K7 (extension names): an AVX-512 processor.
    Zmm,
}

/// An emulator instance: configuration only, no state between calls.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Emulator {
    /// The settings.
    pub config: Config,
}

/// What the exit tells about the access that caused it (checked against the instruction when
/// bytes had to be fetched from guest memory).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ExitAccess {
    /// No exit information.
    None,
    /// A memory access at this GPA, write or not.
    Mmio {
        /// Guest-physical address.
        gpa: u64,
        /// A write.
        write: bool,
        /// The GPA is not mapped (the exit's `gpa_unmapped`).
        unmapped: bool,
    },
    /// A port access.
    Io {
        /// The port.
        port: u16,
        /// OUT/OUTS.
        write: bool,
        /// Bytes per access.
        size: u8,
        /// INS/OUTS.
        string: bool,
        /// With a REP prefix.
        rep: bool,
    },
}

impl Emulator {
    /// An emulator with the given settings.
    pub const fn new(config: Config) -> Emulator {
        Emulator { config }
    }

    /// Emulates the instruction that caused a memory-mapped I/O exit.
    pub fn emulate_mmio<C: ?Sized>(
        &self,
        callbacks: &Callbacks<C>,
        ctx: &mut C,
        vp: &VpContext,
        exit: &MmioExit,
    ) -> Outcome {
        let access = ExitAccess::Mmio {
            gpa: exit.gpa,
            write: exit.access == AccessKind::Write,
            unmapped: exit.gpa_unmapped,
        };
        let mut m = Machine::new(callbacks, ctx, vp, self.config, access);
        m.run(exit.bytes)
    }

    /// Emulates the instruction that caused a port I/O exit. RAX, RCX, RSI, RDI, DS and ES come
    /// from the exit, so a plain IN or OUT needs no Get callback.
    pub fn emulate_io<C: ?Sized>(
        &self,
        callbacks: &Callbacks<C>,
        ctx: &mut C,
        vp: &VpContext,
        exit: &IoExit,
    ) -> Outcome {
        let access = ExitAccess::Io {
            port: exit.port,
            write: exit.write,
            size: exit.size,
            string: exit.string,
            rep: exit.rep,
        };
        let mut m = Machine::new(callbacks, ctx, vp, self.config, access);
        m.seed_io(exit);
        m.run(exit.bytes)
    }

    /// Emulates the instruction at CS:RIP with no exit information (the bytes are fetched from
    /// guest memory).
    pub fn emulate_at_rip<C: ?Sized>(
        &self,
        callbacks: &Callbacks<C>,
        ctx: &mut C,
        vp: &VpContext,
    ) -> Outcome {
        let mut m = Machine::new(callbacks, ctx, vp, self.config, ExitAccess::None);
        m.run(InstructionBytes::default())
    }
}
