//! What one emulation call returns.

use crate::decode::Op;

/// The result of an emulation call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// The instruction completed; registers were set once.
    Completed,
    /// The instruction raises this fault; nothing was changed (but the progress of a REP string
    /// instruction). The VMM injects it.
    Exception(Fault),
    /// The emulator declines, with nothing changed.
    Refused(Refusal),
    /// A REP string instruction ran its per-call budget: RCX/RSI/RDI were updated, RIP was not.
    /// Re-enter to continue.
    Partial,
}

/// An exception the instruction raises.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fault {
    /// The vector (0 #DE, 6 #UD, 12 #SS, 13 #GP, 14 #PF, 17 #AC, ...).
    pub vector: u8,
    /// The error code, for the vectors that push one.
    pub error_code: Option<u32>,
    /// The faulting linear address of a #PF.
    pub cr2: Option<u64>,
}

impl Fault {
    /// #DE.
    pub const DE: Fault = Fault {
        vector: 0,
        error_code: None,
        cr2: None,
    };
    /// #UD.
    pub const UD: Fault = Fault {
        vector: 6,
        error_code: None,
        cr2: None,
    };
    /// #NM.
    pub const NM: Fault = Fault {
        vector: 7,
        error_code: None,
        cr2: None,
    };
    /// #SS(0).
    pub const SS0: Fault = Fault {
        vector: 12,
        error_code: Some(0),
        cr2: None,
    };
    /// #GP(0).
    pub const GP0: Fault = Fault {
        vector: 13,
        error_code: Some(0),
        cr2: None,
    };
    /// #AC(0).
    pub const AC0: Fault = Fault {
        vector: 17,
        error_code: Some(0),
        cr2: None,
    };

    /// #PF with an error code and the faulting address.
    pub const fn page_fault(error_code: u32, cr2: u64) -> Fault {
        Fault {
            vector: 14,
            error_code: Some(error_code),
            cr2: Some(cr2),
        }
    }
}

/// Which host callback failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CallbackKind {
    /// Port I/O.
    IoPort,
    /// Guest-physical memory.
    Memory,
    /// Get registers.
    GetRegisters,
    /// Set registers.
    SetRegisters,
    /// Translate a guest-virtual page.
    TranslateGvaPage,
    /// Compare-and-exchange.
    CompareExchange,
    /// I/O permission check.
    IoPermission,
    /// Bulk string transfer.
    Bulk,
}

/// Why the emulator declined.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Refusal {
    /// A valid instruction the emulator does not implement.
    Unsupported(Op),
    /// A host callback failed.
    CallbackFailed(CallbackKind),
    /// The translate callback returned a GPA that is not page-aligned.
    GpaNotAligned,
    /// The translation failed in a way that is not a guest fault (unmapped GPA, intercept...).
    TranslationFailed,
    /// Bytes were fetched from guest memory and the instruction does not make the access that
    /// exited (the guest may have rewritten it).
    ExitMismatch,
    /// An interruption was being delivered when the exit happened.
    InterruptionPending,
    /// The exit context is malformed (for example a port exit whose port or size disagrees with
    /// the instruction).
    BadExitContext,
    /// The instruction needs a register the host does not serve (see
    /// [`VectorState`](crate::emulator::VectorState)).
    RegisterUnavailable,
    /// One Get or Set would name more registers than the emulator batches (16); no instruction
    /// it implements needs that many.
    TooManyRegisters,
}
