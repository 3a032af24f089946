//! What the VMM knows at an exit: the processor state it hands the emulator.

use crate::regs::Segment;

/// The processor state common to every exit (`WHV_VP_EXIT_CONTEXT`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VpContext {
    /// Current privilege level.
    pub cpl: u8,
    /// CR0.PE.
    pub cr0_pe: bool,
    /// CR0.AM.
    pub cr0_am: bool,
    /// EFER.LMA.
    pub efer_lma: bool,
    /// The exit happened while an interruption was being delivered: the emulator refuses.
    pub interruption_pending: bool,
    /// Length of the instruction as the hypervisor reports it (0 if unknown).
    pub instruction_length: u8,
    /// CR8 (task priority).
    pub cr8: u8,
    /// CS with its hidden part.
    pub cs: Segment,
    /// RIP of the instruction.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
}

impl VpContext {
    /// A 64-bit guest at CPL 0 with a flat code segment (CS: base 0, limit 4 GiB, a present
    /// readable code segment with L = 1), at `rip` with `rflags`: the context of most exits of
    /// a 64-bit kernel, and a starting point for tests.
    ///
    /// ```
    /// use hvemu::emulator::VpContext;
    /// let vp = VpContext::long64(0x1000, 2);
    /// assert!(vp.efer_lma && vp.cr0_pe && vp.cs.attributes & 0x2000 != 0);
    /// ```
    pub const fn long64(rip: u64, rflags: u64) -> VpContext {
        VpContext {
            cpl: 0,
            cr0_pe: true,
            cr0_am: false,
            efer_lma: true,
            interruption_pending: false,
            instruction_length: 0,
            cr8: 0,
            cs: Segment {
                base: 0,
                limit: 0xffff_ffff,
                selector: 0,
                attributes: 0xa09b,
            },
            rip,
            rflags,
        }
    }
}

/// Up to 16 instruction bytes captured by the hypervisor (possibly fewer than the instruction).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InstructionBytes {
    /// The bytes; only the first `count` are meaningful.
    pub bytes: [u8; 16],
    /// How many bytes are valid (0..=16).
    pub count: u8,
}

impl InstructionBytes {
    /// Bytes from a slice (at most 16 are kept).
    pub fn new(bytes: &[u8]) -> InstructionBytes {
        let mut b = [0u8; 16];
        let n = bytes.len().min(16);
        for (d, s) in b.iter_mut().zip(bytes.iter()) {
            *d = *s;
        }
        InstructionBytes {
            bytes: b,
            count: n as u8,
        }
    }

    /// The valid bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.count.min(16) as usize).unwrap_or(&[])
    }
}

/// The kind of guest access that caused a memory exit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AccessKind {
    /// A read.
    #[default]
    Read,
    /// A write.
    Write,
    /// An instruction fetch.
    Execute,
}

/// A memory-mapped I/O exit (`WHV_MEMORY_ACCESS_CONTEXT`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MmioExit {
    /// Instruction bytes from the exit.
    pub bytes: InstructionBytes,
    /// The access that exited.
    pub access: AccessKind,
    /// The GPA is not mapped.
    pub gpa_unmapped: bool,
    /// `gva` is valid.
    pub gva_valid: bool,
    /// The guest-physical address accessed.
    pub gpa: u64,
    /// The guest-virtual address accessed (when `gva_valid`).
    pub gva: u64,
}

/// A port I/O exit (`WHV_X64_IO_PORT_ACCESS_CONTEXT`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IoExit {
    /// Instruction bytes from the exit.
    pub bytes: InstructionBytes,
    /// The port.
    pub port: u16,
    /// OUT/OUTS rather than IN/INS.
    pub write: bool,
    /// 1, 2 or 4 bytes.
    pub size: u8,
    /// INS or OUTS.
    pub string: bool,
    /// With a REP prefix.
    pub rep: bool,
    /// RAX at the exit.
    pub rax: u64,
    /// RCX at the exit.
    pub rcx: u64,
    /// RSI at the exit.
    pub rsi: u64,
    /// RDI at the exit.
    pub rdi: u64,
    /// DS at the exit.
    pub ds: Segment,
    /// ES at the exit.
    pub es: Segment,
}
