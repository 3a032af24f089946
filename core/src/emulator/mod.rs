//! The emulator entry points: emulate the instruction behind an MMIO exit, a port exit, or the
//! instruction at RIP.
//!
//! One call runs fetch → decode → plan → execute → commit (see DESIGN.md): the instruction
//! bytes come from the exit and, when they are too few, from guest memory; the registers the
//! instruction needs are read with at most one Get; every guest access is translated and checked
//! before the first one is performed; the changed registers are written with one Set, only on
//! success.

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
pub struct Config {
    /// Whose processors to imitate where Intel and AMD differ (decoding, undefined flags).
    pub vendor: Vendor,
    /// Most elements a REP string instruction runs per call before handing back
    /// [`Outcome::Partial`].
    pub rep_budget: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            vendor: Vendor::Amd,
            rep_budget: 1024,
        }
    }
}

/// An emulator instance: configuration only, no state between calls.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
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
    },
    /// A port access.
    Io {
        /// The port.
        port: u16,
        /// OUT/OUTS.
        write: bool,
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
