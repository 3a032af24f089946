//! The host interface: a callback vtable with an opaque context, mirroring
//! `WHV_EMULATOR_CALLBACKS`, plus optional extensions a host may leave empty.
//!
//! Rust embedders implement the [`Host`] trait and get a vtable with [`Callbacks::for_host`];
//! the ffi crate fills a [`Callbacks`] with adapters over the C function pointers. Either way the
//! emulator reaches the guest only through these functions.

use crate::regs::{RegName, RegValue};

/// A host callback failed; the emulation stops and reports which callback.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HostError {
    /// A host-defined code (the ffi passes the callback's HRESULT).
    pub code: i32,
}

/// One port access (`WHV_EMULATOR_IO_ACCESS_INFO`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IoAccess {
    /// Port number.
    pub port: u16,
    /// 1, 2 or 4 bytes.
    pub size: u8,
    /// True for OUT, false for IN.
    pub write: bool,
    /// The value: written by OUT, to be filled by the host for IN (low `size` bytes).
    pub data: u32,
}

/// One guest-physical memory access (`WHV_EMULATOR_MEMORY_ACCESS_INFO`): 1..=8 bytes that never
/// cross a page.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemAccess {
    /// Guest-physical address.
    pub gpa: u64,
    /// 1..=8 bytes.
    pub size: u8,
    /// True for a write.
    pub write: bool,
    /// The bytes, in memory order; zeroed before a read.
    pub data: [u8; 8],
}

/// Flags of a guest-virtual page translation (`WHV_TRANSLATE_GVA_FLAGS`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TranslateFlags(pub u32);

impl TranslateFlags {
    /// Check read access.
    pub const VALIDATE_READ: u32 = 0x1;
    /// Check write access.
    pub const VALIDATE_WRITE: u32 = 0x2;
    /// Check execute access.
    pub const VALIDATE_EXECUTE: u32 = 0x4;
    /// Ignore user/supervisor privilege (implicit supervisor accesses).
    pub const PRIVILEGE_EXEMPT: u32 = 0x8;
    /// Set accessed/dirty bits.
    pub const SET_PAGE_TABLE_BITS: u32 = 0x10;
    /// Enforce SMAP.
    pub const ENFORCE_SMAP: u32 = 0x100;
    /// Override SMAP.
    pub const OVERRIDE_SMAP: u32 = 0x200;
}

/// The outcome of a translation (`WHV_TRANSLATE_GVA_RESULT_CODE`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TranslateResult {
    /// Translated.
    Success,
    /// A page-table entry is not present (#PF).
    PageNotPresent,
    /// Access rights forbid the access (#PF with P=1).
    PrivilegeViolation,
    /// Reserved bits set in a paging structure (#PF with RSVD).
    InvalidPageTableFlags,
    /// The GPA is not mapped.
    GpaUnmapped,
    /// The GPA may not be read.
    GpaNoReadAccess,
    /// The GPA may not be written.
    GpaNoWriteAccess,
    /// Illegal overlay access.
    GpaIllegalOverlayAccess,
    /// The translation was intercepted.
    Intercept,
    /// Any other code.
    Other(u32),
}

impl TranslateResult {
    /// From the numeric `WHV_TRANSLATE_GVA_RESULT_CODE`.
    pub const fn from_code(c: u32) -> TranslateResult {
        match c {
            0 => TranslateResult::Success,
            1 => TranslateResult::PageNotPresent,
            2 => TranslateResult::PrivilegeViolation,
            3 => TranslateResult::InvalidPageTableFlags,
            4 => TranslateResult::GpaUnmapped,
            5 => TranslateResult::GpaNoReadAccess,
            6 => TranslateResult::GpaNoWriteAccess,
            7 => TranslateResult::GpaIllegalOverlayAccess,
            8 => TranslateResult::Intercept,
            c => TranslateResult::Other(c),
        }
    }
}

/// One end of a bulk string transfer ([`BulkTransfer`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BulkEnd {
    /// Guest-physical memory: the first element is at this GPA, the next ones follow upward, or
    /// downward when [`BulkTransfer::descending`]. The whole run lies within one 4 KiB page.
    Memory(u64),
    /// A port: every element is one access of [`BulkTransfer::size`] bytes to it (the INS
    /// source, the OUTS destination).
    Port(u16),
    /// The same value for every element, its low [`BulkTransfer::size`] bytes (the STOS source:
    /// AL, AX, EAX or RAX).
    Value(u64),
}

/// A run of elements of a REP MOVS, STOS, INS or OUTS, offered to the host in one call
/// ([`BulkFn`]).
///
/// The run has already been translated and checked: each [`BulkEnd::Memory`] end is the
/// guest-physical address of the first element and the run never leaves its page, a port end has
/// passed the I/O permission check. The host must give the result of the elements done one at
/// a time in order, element `i` reading the source then writing the destination (so a device
/// sees the same accesses in the same order as through [`MemoryFn`] and [`IoPortFn`], and
/// overlapping memory runs behave as the processor's element-by-element copy).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BulkTransfer {
    /// Where the elements come from: memory (MOVS, OUTS), a port (INS) or a value (STOS).
    pub src: BulkEnd,
    /// Where they go: memory (MOVS, STOS, INS) or a port (OUTS).
    pub dst: BulkEnd,
    /// Bytes per element: 1, 2, 4 or 8 (at most 4 with a port).
    pub size: u8,
    /// Elements in the run (at least 1; at most 4096 / `size`).
    pub count: u32,
    /// RFLAGS.DF was set: memory addresses go down by `size` per element (element `i` is at
    /// `gpa - i * size`).
    pub descending: bool,
}

/// The most registers one [`GetRegistersFn`] or [`SetRegistersFn`] call names. The most any
/// instruction needs is 14 (an MMX load: eight FpMmx slots, FpControlStatus, CR0, CR4, base,
/// index, segment); a host may size its buffers by this.
pub const MAX_REGISTERS_PER_CALL: usize = 16;

/// Port I/O callback.
pub type IoPortFn<C> = fn(&mut C, &mut IoAccess) -> Result<(), HostError>;
/// Guest-physical memory callback.
pub type MemoryFn<C> = fn(&mut C, &mut MemAccess) -> Result<(), HostError>;
/// Batched register read: fill `values[i]` for `names[i]`.
pub type GetRegistersFn<C> = fn(&mut C, &[RegName], &mut [RegValue]) -> Result<(), HostError>;
/// Batched register write.
pub type SetRegistersFn<C> = fn(&mut C, &[RegName], &[RegValue]) -> Result<(), HostError>;
/// Translate the page-aligned guest-virtual address: the result and the page-aligned GPA.
pub type TranslateFn<C> =
    fn(&mut C, u64, TranslateFlags) -> Result<(TranslateResult, u64), HostError>;
/// Atomic compare-and-exchange of `size` bytes (1..=16) at a GPA that does not cross a page:
/// if memory equals `expected`, store `new`; returns the old contents either way.
pub type CompareExchangeFn<C> =
    fn(&mut C, gpa: u64, size: u8, expected: u128, new: u128) -> Result<u128, HostError>;
/// Optional bulk string transfer: performs the first elements of `transfer` and returns how many
/// it did (`0..=count`, in order from the first). The emulator performs the rest element by
/// element through the memory and port callbacks, so a host may take only the runs it handles
/// well (RAM to RAM, say) and return 0 for the others.
pub type BulkFn<C> = fn(&mut C, transfer: &BulkTransfer) -> Result<u32, HostError>;
/// Optional guest-physical access of 1..=64 bytes that never crosses a page: reads fill `data`,
/// writes take it. Vector loads and stores (up to 64 bytes) then reach a device in fewer, larger
/// pieces, each a contiguous run of the operand.
pub type WideMemoryFn<C> =
    fn(&mut C, gpa: u64, write: bool, data: &mut [u8]) -> Result<(), HostError>;
/// Does the I/O permission bitmap allow `size` bytes at `port`? (Consulted when CPL > IOPL.)
pub type IoPermissionFn<C> = fn(&mut C, port: u16, size: u8) -> Result<bool, HostError>;

/// The callback vtable. `C` is the host's context, passed to every call unchanged.
pub struct Callbacks<C: ?Sized> {
    /// Port I/O.
    pub io_port: IoPortFn<C>,
    /// Guest-physical memory.
    pub memory: MemoryFn<C>,
    /// Get registers.
    pub get_registers: GetRegistersFn<C>,
    /// Set registers.
    pub set_registers: SetRegistersFn<C>,
    /// Translate a guest-virtual page.
    pub translate_gva_page: TranslateFn<C>,
    /// Optional: atomic compare-and-exchange (LOCK and XCHG). Without it, locked operations are
    /// a read then a write.
    pub compare_exchange: Option<CompareExchangeFn<C>>,
    /// Optional: the I/O permission bitmap check. Without it, a port access at CPL > IOPL
    /// raises #GP(0) as a processor whose TSS has no bitmap would.
    pub io_permission: Option<IoPermissionFn<C>>,
    /// Optional: bulk string transfers. With it, REP MOVS, STOS, INS and OUTS hand the host
    /// each run of elements within a page in one call; without it, one memory or port callback
    /// per element and side (the translation is still done once per page; a MOVS source that
    /// the exit proves to be memory is read 8 bytes at a time). The ffi leaves it
    /// empty: the WinHv ABI has no such callback.
    pub bulk: Option<BulkFn<C>>,
    /// Optional: memory accesses of up to 64 bytes. Without it every access is split into
    /// pieces of at most 8 bytes (the WinHv interface), in address order.
    pub wide_memory: Option<WideMemoryFn<C>>,
}

impl<C: ?Sized> Clone for Callbacks<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: ?Sized> Copy for Callbacks<C> {}

/// Which optional entries the vtable offers (function pointers have no `defmt` form).
#[cfg(feature = "defmt")]
impl<C: ?Sized> defmt::Format for Callbacks<C> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Callbacks {{ compare_exchange: {=bool}, io_permission: {=bool}, bulk: {=bool}, \
             wide_memory: {=bool} }}",
            self.compare_exchange.is_some(),
            self.io_permission.is_some(),
            self.bulk.is_some(),
            self.wide_memory.is_some()
        )
    }
}

/// The idiomatic way for a Rust VMM to serve the emulator.
pub trait Host {
    /// Performs a port access: fill `io.data` for an IN.
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError>;
    /// Performs a guest-physical access of 1..=8 bytes within one page.
    fn memory(&mut self, access: &mut MemAccess) -> Result<(), HostError>;
    /// Reads registers.
    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError>;
    /// Writes registers.
    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError>;
    /// Translates a page-aligned guest-virtual address.
    fn translate_gva_page(
        &mut self,
        gva: u64,
        flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError>;
}

impl<H: Host> Callbacks<H> {
    /// The vtable that forwards to `H`'s methods. The optional entries start empty; set them on
    /// the returned value to offer them.
    pub const fn for_host() -> Callbacks<H> {
        Callbacks {
            io_port: |h, io| h.io_port(io),
            memory: |h, a| h.memory(a),
            get_registers: |h, n, v| h.get_registers(n, v),
            set_registers: |h, n, v| h.set_registers(n, v),
            translate_gva_page: |h, gva, f| h.translate_gva_page(gva, f),
            compare_exchange: None,
            io_permission: None,
            bulk: None,
            wide_memory: None,
        }
    }
}
