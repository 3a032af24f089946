//! The case format of `spec/cases.md` as Rust values, and its parser with error messages that
//! say which field is wrong.

use super::json::Value;
use hvemu::decode::{Mode, Vendor};
use hvemu::regs::{RegValue, Segment, Table};

/// Names of the general-purpose registers in number order, then RIP and RFLAGS: the keys of
/// `regs`.
pub const REG_NAMES: [&str; 18] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "rip", "rflags",
];
/// Index of RIP in [`REG_NAMES`] and [`State::reg`].
pub const RIP: usize = 16;
/// Index of RFLAGS in [`REG_NAMES`] and [`State::reg`].
pub const RFLAGS: usize = 17;

/// Names of the segment registers in WinHv order: the segment keys of `sregs`.
pub const SEG_NAMES: [&str; 8] = ["es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"];
/// Index of CS in [`SEG_NAMES`].
pub const CS: usize = 1;
/// Index of SS in [`SEG_NAMES`].
pub const SS: usize = 2;

/// Names of the control registers and EFER: the scalar keys of `sregs`.
pub const CTL_NAMES: [&str; 6] = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer"];

/// The whole register state of a virtual processor as far as cases describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// RAX..R15, RIP, RFLAGS (indexed as [`REG_NAMES`]).
    pub reg: [u64; 18],
    /// ES, CS, SS, DS, FS, GS, LDTR, TR (indexed as [`SEG_NAMES`]).
    pub seg: [Segment; 8],
    /// GDTR.
    pub gdtr: Table,
    /// IDTR.
    pub idtr: Table,
    /// CR0, CR2, CR3, CR4, CR8, EFER (indexed as [`CTL_NAMES`]).
    pub ctl: [u64; 6],
    /// XCR0 (not part of the case format: [`XCR0_DEFAULT`], every state component of an
    /// AVX-512 processor enabled).
    pub xcr0: u64,
    /// ZMM0..ZMM31 as four 128-bit lanes, lowest first (XMMn is lane 0, YMMn lanes 0..2).
    pub zmm: [[u128; 4]; 32],
    /// K0..K7.
    pub k: [u64; 8],
    /// MXCSR.
    pub mxcsr: u32,
    /// The x87 control and status registers in the WinHv `FpControlStatus` layout (`lo`: FCW
    /// bits 0..16, FSW 16..32, abridged FTW 32..40, FOP 48..64; `hi`: FIP). Not part of the case
    /// format: [`FP_CONTROL_DEFAULT`] (the state after FNINIT) before every case.
    pub fp_control: RegValue,
    /// The eight x87/MMX register slots of the FXSAVE image, ST(0)..ST(7) (`FpMmx0..7`:
    /// mantissa in `lo`, sign and exponent in the low 16 bits of `hi`; MM`i` is slot `i` while
    /// FSW.TOP is 0). Not part of the case format: all zero before every case.
    pub fp_mmx: [RegValue; 8],
}

/// CR4 bits the runner adds to the mode's default CR4 (spec/cases.md, "Defaults per mode") when a
/// case does not give `cr4`: OSFXSR (bit 9), OSXMMEXCPT (bit 10) and OSXSAVE (bit 18).
///
/// A deviation from the table, on purpose: with CR4 = 0x20 or 0 as the table says, every SSE,
/// AVX and AVX-512 instruction raises #UD, which no suite captured on real hardware expects
/// (an operating system turns these bits on; Linux user mode runs with them). A case that gives
/// `cr4` gets exactly that value, so a case can still test the #UD of a CR4 without them.
pub const CR4_DEFAULT_EXTRA: u64 = (1 << 9) | (1 << 10) | (1 << 18);

/// XCR0 of every case (the format has no way to set it): x87, SSE, AVX, opmask, ZMM_Hi256 and
/// Hi16_ZMM state enabled, as on an AVX-512 host under Linux.
pub const XCR0_DEFAULT: u64 = 0xe7;

/// `FpControlStatus` of every case (the format has no x87 state): FCW 0x37f (every exception
/// masked, 64-bit precision, round to nearest), FSW 0 (TOP 0, nothing pending), abridged FTW 0
/// (every register empty), FOP and FIP 0: the state after FNINIT.
pub const FP_CONTROL_DEFAULT: RegValue = RegValue { lo: 0x37f, hi: 0 };

impl State {
    /// CR0.
    pub fn cr0(&self) -> u64 {
        self.ctl[0]
    }
    /// CR3.
    pub fn cr3(&self) -> u64 {
        self.ctl[2]
    }
    /// CR4.
    pub fn cr4(&self) -> u64 {
        self.ctl[3]
    }
    /// EFER.
    pub fn efer(&self) -> u64 {
        self.ctl[5]
    }

    /// The initial state of `mode` with nothing given (cases.md, "Defaults per mode"), with the
    /// DPL of CS and SS set to `cpl`. CR4 is the table's value with [`CR4_DEFAULT_EXTRA`] added
    /// (see there why), XCR0 is [`XCR0_DEFAULT`], the x87 state [`FP_CONTROL_DEFAULT`] with
    /// zero registers.
    pub fn defaults(mode: Mode, cpl: u8) -> State {
        let (cr0, cr4, efer) = match mode {
            Mode::Real => (0x10, 0, 0),
            Mode::Prot16 | Mode::Prot32 => (0x11, 0, 0),
            Mode::Compat32 | Mode::Long64 => (0x8000_0011, 0x20, 0x500),
        };
        let mut seg = [Segment::default(); 8];
        for (i, s) in seg.iter_mut().enumerate() {
            *s = default_segment(mode, i, 0);
            if i == CS || i == SS {
                s.attributes |= u16::from(cpl & 3) << 5;
            }
        }
        let mut reg = [0; 18];
        reg[RFLAGS] = 2;
        State {
            reg,
            seg,
            gdtr: Table {
                base: 0,
                limit: 0xffff,
            },
            idtr: Table {
                base: 0,
                limit: 0xffff,
            },
            ctl: [cr0, 0, 0, cr4 | CR4_DEFAULT_EXTRA, 0, efer],
            xcr0: XCR0_DEFAULT,
            zmm: [[0; 4]; 32],
            k: [0; 8],
            mxcsr: 0x1f80,
            fp_control: FP_CONTROL_DEFAULT,
            fp_mmx: [RegValue::default(); 8],
        }
    }
}

/// The default of segment register `i` ([`SEG_NAMES`] order) in `mode` for `selector`.
pub fn default_segment(mode: Mode, i: usize, selector: u16) -> Segment {
    match i {
        6 => {
            return Segment {
                base: 0,
                limit: 0xffff,
                selector,
                attributes: 0x0082,
            };
        }
        7 => {
            return Segment {
                base: 0,
                limit: 0xffff,
                selector,
                attributes: 0x008b,
            };
        }
        _ => {}
    }
    let code = i == CS;
    let (attributes, limit) = match mode {
        Mode::Real | Mode::Prot16 => (if code { 0x009b } else { 0x0093 }, 0xffff),
        Mode::Prot32 | Mode::Compat32 => (if code { 0xc09b } else { 0xc093 }, 0xffff_ffff),
        Mode::Long64 => (if code { 0xa09b } else { 0xc093 }, 0xffff_ffff),
    };
    let base = if mode == Mode::Real {
        u64::from(selector) << 4
    } else {
        0
    };
    Segment {
        base,
        limit,
        selector,
        attributes,
    }
}

/// A guest address range `[base, base + size)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// First address.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Range {
    /// True when `addr` is inside.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr - self.base < self.size
    }
    /// True when some byte of `[addr, addr + len)` is inside.
    pub fn overlaps(&self, addr: u64, len: u64) -> bool {
        let (a, b) = (u128::from(addr), u128::from(self.base));
        len > 0 && self.size > 0 && a < b + u128::from(self.size) && b < a + u128::from(len)
    }
}

/// How guest-virtual addresses translate.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Identity, every page present, writable, user (but `not_present` ranges).
    Identity,
    /// Walk the page tables in RAM from CR3.
    Tables,
}

/// How `final.accesses` is compared.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CompareAccesses {
    /// Not compared.
    Off,
    /// Exactly, in order.
    Ordered,
    /// Port accesses in order; memory accesses byte by byte, in any order and any split.
    Unordered,
}

/// The kind of a device or port access.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessKind {
    /// A read of an MMIO range.
    MmioRead,
    /// A write to an MMIO range.
    MmioWrite,
    /// A port read (IN, INS).
    IoIn,
    /// A port write (OUT, OUTS).
    IoOut,
}

impl AccessKind {
    /// The name used in case files.
    pub fn name(self) -> &'static str {
        match self {
            AccessKind::MmioRead => "mmio_read",
            AccessKind::MmioWrite => "mmio_write",
            AccessKind::IoIn => "io_in",
            AccessKind::IoOut => "io_out",
        }
    }

    /// A memory (not port) access.
    pub fn is_mmio(self) -> bool {
        matches!(self, AccessKind::MmioRead | AccessKind::MmioWrite)
    }
}

/// One device or port access.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Access {
    /// What kind.
    pub kind: AccessKind,
    /// Guest-physical address, or the port.
    pub addr: u64,
    /// Bytes.
    pub size: u8,
    /// The value, little-endian (low `size` bytes).
    pub data: u64,
}

/// An exception, expected or reported.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The vector.
    pub vector: u8,
    /// The error code; `None` in an expectation when the case does not give it (not compared).
    pub error_code: Option<Option<u32>>,
    /// CR2 of a #PF; `None` in an expectation when not given (not compared).
    pub cr2: Option<Option<u64>>,
}

/// The status of a result.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The instruction completed.
    Ok,
    /// A fault is reported.
    Exception,
    /// The emulator declined.
    Unsupported,
}

impl Status {
    /// The name in results.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Exception => "exception",
            Status::Unsupported => "unsupported",
        }
    }
}

/// The fields of a segment register that `final.sregs` gives.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentExpect {
    /// Selector.
    pub selector: Option<u16>,
    /// Base.
    pub base: Option<u64>,
    /// Limit.
    pub limit: Option<u32>,
    /// Attributes.
    pub attributes: Option<u16>,
}

/// A vector or mask register of some width.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VecReg {
    /// XMMn: lane 0.
    Xmm(u8),
    /// YMMn: lanes 0..2.
    Ymm(u8),
    /// ZMMn: lanes 0..4.
    Zmm(u8),
    /// Kn.
    K(u8),
}

impl VecReg {
    /// Parses `xmm3`, `ymm15`, `zmm31`, `k7`.
    pub fn parse(name: &str) -> Option<VecReg> {
        let split = name.find(|c: char| c.is_ascii_digit())?;
        let (kind, num) = name.split_at(split);
        if num.len() > 1 && num.starts_with('0') {
            return None;
        }
        let n: u8 = num.parse().ok()?;
        match kind {
            "xmm" if n < 16 => Some(VecReg::Xmm(n)),
            "ymm" if n < 16 => Some(VecReg::Ymm(n)),
            "zmm" if n < 32 => Some(VecReg::Zmm(n)),
            "k" if n < 8 => Some(VecReg::K(n)),
            _ => None,
        }
    }

    /// The register's name.
    pub fn name(self) -> String {
        match self {
            VecReg::Xmm(n) => format!("xmm{n}"),
            VecReg::Ymm(n) => format!("ymm{n}"),
            VecReg::Zmm(n) => format!("zmm{n}"),
            VecReg::K(n) => format!("k{n}"),
        }
    }

    /// Number of 128-bit lanes (0 for a mask register).
    pub fn lanes(self) -> usize {
        match self {
            VecReg::Xmm(_) => 1,
            VecReg::Ymm(_) => 2,
            VecReg::Zmm(_) => 4,
            VecReg::K(_) => 0,
        }
    }

    /// The value of this register in `s`, as four lanes (only [`VecReg::lanes`] meaningful; a
    /// mask register in lane 0).
    pub fn get(self, s: &State) -> [u128; 4] {
        match self {
            VecReg::K(n) => [u128::from(s.k[usize::from(n)]), 0, 0, 0],
            VecReg::Xmm(n) | VecReg::Ymm(n) | VecReg::Zmm(n) => {
                let mut v = [0; 4];
                let z = s.zmm[usize::from(n)];
                v[..self.lanes()].copy_from_slice(&z[..self.lanes()]);
                v
            }
        }
    }

    /// Sets this register (its lanes only) in `s`.
    pub fn set(self, s: &mut State, v: [u128; 4]) {
        match self {
            VecReg::K(n) => s.k[usize::from(n)] = v[0] as u64,
            VecReg::Xmm(n) | VecReg::Ymm(n) | VecReg::Zmm(n) => {
                let lanes = self.lanes();
                s.zmm[usize::from(n)][..lanes].copy_from_slice(&v[..lanes]);
            }
        }
    }

    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            VecReg::K(_) => 64,
            r => 128 * r.lanes() as u32,
        }
    }
}

/// The expected outcome (`final`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// Registers of [`REG_NAMES`] (by index) that change, with their final value.
    pub regs: Vec<(usize, u64)>,
    /// Segment registers ([`SEG_NAMES`] index) and the fields given.
    pub segs: Vec<(usize, SegmentExpect)>,
    /// GDTR (`false`) or IDTR (`true`) with base and limit if given.
    pub tables: Vec<(bool, Option<u64>, Option<u16>)>,
    /// Control registers ([`CTL_NAMES`] index).
    pub ctl: Vec<(usize, u64)>,
    /// Vector and mask registers.
    pub vecs: Vec<(VecReg, [u128; 4])>,
    /// MXCSR.
    pub mxcsr: Option<u32>,
    /// RAM runs that must hold these bytes.
    pub ram: Vec<(u64, Vec<u8>)>,
    /// Device and port accesses, if given.
    pub accesses: Option<Vec<Access>>,
    /// `exception`: `None` when absent (taken as null), `Some(None)` for null.
    pub exception: Option<Option<Exception>>,
    /// `final.status`, if given.
    pub status: Option<Status>,
}

/// One conformance case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Free text.
    pub name: String,
    /// The processor mode that sets the defaults.
    pub mode: Mode,
    /// The vendor to imitate (`None`: the emulator's default).
    pub vendor: Option<Vendor>,
    /// Current privilege level.
    pub cpl: u8,
    /// Instruction bytes.
    pub bytes: Vec<u8>,
    /// How many of `bytes` the exit hands the emulator.
    pub exit_bytes: usize,
    /// The initial register state, defaults filled in.
    pub initial: State,
    /// How translation works.
    pub paging: Paging,
    /// Initial RAM runs.
    pub ram: Vec<(u64, Vec<u8>)>,
    /// Device ranges (guest-physical).
    pub mmio: Vec<Range>,
    /// Values returned by device reads, in order.
    pub mmio_reads: Vec<u64>,
    /// Values returned by port reads, in order.
    pub io_reads: Vec<u64>,
    /// Guest-virtual ranges whose pages are not present (identity paging only).
    pub not_present: Vec<Range>,
    /// Guest-virtual ranges whose pages are present but read-only (identity paging only): a
    /// write translation there is a privilege violation. Not part of the case format (always
    /// empty from JSON); for programs that build cases, such as the native differential test.
    pub read_only: Vec<Range>,
    /// The expected outcome, if any.
    pub expected: Option<Expected>,
    /// RFLAGS bits that must match.
    pub flags_mask: u64,
    /// How accesses are compared.
    pub compare_accesses: CompareAccesses,
    /// The expected status, if the case gives one.
    pub status: Option<Status>,
    /// Things worth telling about the case itself (ignored keys).
    pub notes: Vec<String>,
}

// ----- parsing -----

type R<T> = Result<T, String>;

fn object<'a>(v: &'a Value, what: &str, allowed: &[&str]) -> R<&'a [(String, Value)]> {
    let Value::Object(members) = v else {
        return Err(format!("{what}: expected an object, got {}", v.kind()));
    };
    let unknown = members.iter().find(|(k, _)| !allowed.contains(&k.as_str()));
    if let (false, Some((k, _))) = (allowed.is_empty(), unknown) {
        return Err(format!("{what}: unknown key \"{k}\""));
    }
    Ok(members)
}

fn array<'a>(v: &'a Value, what: &str) -> R<&'a [Value]> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(format!("{what}: expected an array, got {}", v.kind())),
    }
}

/// A number written as a `0x` hex string (or, leniently, a plain non-negative JSON integer) that
/// fits in `bits` bits.
pub fn hex_value(v: &Value, what: &str, bits: u32) -> R<u128> {
    let n = match v {
        Value::String(s) => {
            let digits = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .ok_or_else(|| format!("{what}: \"{s}\" is not a 0x-prefixed hex string"))?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{what}: \"{s}\" is not a 0x-prefixed hex string"));
            }
            let digits = digits.trim_start_matches('0');
            if digits.len() > 32 {
                return Err(format!("{what}: {s} does not fit in {bits} bits"));
            }
            u128::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
                .map_err(|_| format!("{what}: bad hex string \"{s}\""))?
        }
        Value::Number(t) => t
            .parse::<u128>()
            .map_err(|_| format!("{what}: {t} is not a non-negative integer"))?,
        _ => {
            return Err(format!(
                "{what}: expected a hex string such as \"0x1f\", got {}",
                v.kind()
            ));
        }
    };
    if bits < 128 && n >> bits != 0 {
        return Err(format!("{what}: {n:#x} does not fit in {bits} bits"));
    }
    Ok(n)
}

fn hex64(v: &Value, what: &str) -> R<u64> {
    hex_value(v, what, 64).map(|n| n as u64)
}

/// A hex string of up to 512 bits as four 128-bit lanes.
fn hex_wide(v: &Value, what: &str, bits: u32) -> R<[u128; 4]> {
    if bits <= 128 {
        return Ok([hex_value(v, what, bits)?, 0, 0, 0]);
    }
    let Value::String(s) = v else {
        return Err(format!("{what}: expected a hex string, got {}", v.kind()));
    };
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{what}: \"{s}\" is not a 0x-prefixed hex string"))?;
    let digits = digits.trim_start_matches('0');
    if digits.len() > (bits / 4) as usize {
        return Err(format!("{what}: {s} does not fit in {bits} bits"));
    }
    let mut lanes = [0u128; 4];
    let mut end = digits.len();
    for lane in lanes.iter_mut() {
        if end == 0 {
            break;
        }
        let start = end.saturating_sub(32);
        *lane = u128::from_str_radix(&digits[start..end], 16)
            .map_err(|_| format!("{what}: bad hex string \"{s}\""))?;
        end = start;
    }
    Ok(lanes)
}

fn count(v: &Value, what: &str, max: u64) -> R<u64> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        _ => Err(format!(
            "{what}: expected an integer from 0 to {max}, got {}",
            v.to_json()
        )),
    }
}

/// Bytes as hex digits without prefix, in memory order.
pub fn hex_bytes(v: &Value, what: &str) -> R<Vec<u8>> {
    let Value::String(s) = v else {
        return Err(format!(
            "{what}: expected a string of hex digits, got {}",
            v.kind()
        ));
    };
    if !s.len().is_multiple_of(2) {
        return Err(format!("{what}: odd number of hex digits"));
    }
    (0..s.len() / 2)
        .map(|i| {
            s.get(2 * i..2 * i + 2)
                .filter(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{what}: \"{s}\" is not a string of hex digits"))
        })
        .collect()
}

fn ram_runs(v: &Value, what: &str) -> R<Vec<(u64, Vec<u8>)>> {
    array(v, what)?
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let w = format!("{what}[{i}]");
            match array(run, &w)? {
                [addr, bytes] => {
                    let addr = hex64(addr, &w)?;
                    let bytes = hex_bytes(bytes, &w)?;
                    if addr.checked_add(bytes.len() as u64).is_none() {
                        return Err(format!("{w}: run wraps around the address space"));
                    }
                    Ok((addr, bytes))
                }
                _ => Err(format!("{w}: expected [address, bytes]")),
            }
        })
        .collect()
}

fn ranges(v: &Value, what: &str) -> R<Vec<Range>> {
    array(v, what)?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let w = format!("{what}[{i}]");
            let m = object(r, &w, &["base", "size"])?;
            let get = |k: &str| {
                m.iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("{w}: missing \"{k}\""))
            };
            let base = hex64(get("base")?, &format!("{w}.base"))?;
            let size = hex64(get("size")?, &format!("{w}.size"))?;
            if size != 0 && base.checked_add(size - 1).is_none() {
                return Err(format!("{w}: range wraps around the address space"));
            }
            Ok(Range { base, size })
        })
        .collect()
}

fn values(v: &Value, what: &str) -> R<Vec<u64>> {
    array(v, what)?
        .iter()
        .enumerate()
        .map(|(i, x)| hex64(x, &format!("{what}[{i}]")))
        .collect()
}

fn parse_mode(s: &str) -> Option<Mode> {
    Some(match s {
        "real" => Mode::Real,
        "prot16" => Mode::Prot16,
        "prot32" => Mode::Prot32,
        "compat32" => Mode::Compat32,
        "long64" => Mode::Long64,
        _ => return None,
    })
}

fn parse_status(v: &Value, what: &str) -> R<Status> {
    match v.as_str() {
        Some("ok") => Ok(Status::Ok),
        Some("exception") => Ok(Status::Exception),
        Some("unsupported") => Ok(Status::Unsupported),
        _ => Err(format!(
            "{what}: expected \"ok\", \"exception\" or \"unsupported\", got {}",
            v.to_json()
        )),
    }
}

/// Applies `regs` to a state.
fn apply_regs(state: &mut State, v: &Value) -> R<()> {
    for (k, val) in object(v, "initial.regs", &REG_NAMES)? {
        let i = REG_NAMES.iter().position(|n| n == k).unwrap_or(0);
        state.reg[i] = hex64(val, &format!("initial.regs.{k}"))?;
    }
    Ok(())
}

/// Applies `sregs` to a state: a segment given replaces the default, each missing field of it
/// taking the mode's default for its selector.
fn apply_sregs(state: &mut State, mode: Mode, cpl: u8, v: &Value) -> R<()> {
    let mut allowed: Vec<&str> = SEG_NAMES.to_vec();
    allowed.extend(["gdtr", "idtr"]);
    allowed.extend(CTL_NAMES);
    for (k, val) in object(v, "initial.sregs", &allowed)? {
        let what = format!("initial.sregs.{k}");
        if let Some(i) = SEG_NAMES.iter().position(|n| n == k) {
            let e = segment_fields(val, &what)?;
            let selector = e.selector.unwrap_or(0);
            let mut s = default_segment(mode, i, selector);
            if e.attributes.is_none() && (i == CS || i == SS) {
                s.attributes |= u16::from(cpl) << 5;
            }
            state.seg[i] = Segment {
                selector,
                base: e.base.unwrap_or(s.base),
                limit: e.limit.unwrap_or(s.limit),
                attributes: e.attributes.unwrap_or(s.attributes),
            };
        } else if k == "gdtr" || k == "idtr" {
            let (base, limit) = table_fields(val, &what)?;
            let t = if k == "gdtr" {
                &mut state.gdtr
            } else {
                &mut state.idtr
            };
            *t = Table {
                base: base.unwrap_or(0),
                limit: limit.unwrap_or(0xffff),
            };
        } else if let Some(i) = CTL_NAMES.iter().position(|n| n == k) {
            state.ctl[i] = hex64(val, &what)?;
        }
    }
    Ok(())
}

fn segment_fields(v: &Value, what: &str) -> R<SegmentExpect> {
    let mut e = SegmentExpect::default();
    for (k, val) in object(v, what, &["selector", "base", "limit", "attributes"])? {
        let w = format!("{what}.{k}");
        match k.as_str() {
            "selector" => e.selector = Some(hex_value(val, &w, 16)? as u16),
            "base" => e.base = Some(hex64(val, &w)?),
            "limit" => e.limit = Some(hex_value(val, &w, 32)? as u32),
            _ => e.attributes = Some(hex_value(val, &w, 16)? as u16),
        }
    }
    Ok(e)
}

fn table_fields(v: &Value, what: &str) -> R<(Option<u64>, Option<u16>)> {
    let mut base = None;
    let mut limit = None;
    for (k, val) in object(v, what, &["base", "limit"])? {
        let w = format!("{what}.{k}");
        if k == "base" {
            base = Some(hex64(val, &w)?);
        } else {
            limit = Some(hex_value(val, &w, 16)? as u16);
        }
    }
    Ok((base, limit))
}

/// Vector registers of an `xmm` (or `ymm`, `zmm`, `k`) object, widest first so that a narrower
/// register given beside a wider one overrides its low part.
/// Vector and mask registers with their values.
type VecRegs = Vec<(VecReg, [u128; 4])>;

fn vector_regs(v: &Value, what: &str) -> R<(VecRegs, Option<u32>)> {
    let mut regs = Vec::new();
    let mut mxcsr = None;
    for (k, val) in object(v, what, &[])? {
        let w = format!("{what}.{k}");
        if k == "mxcsr" {
            mxcsr = Some(hex_value(val, &w, 32)? as u32);
            continue;
        }
        let r = VecReg::parse(k).ok_or_else(|| format!("{what}: unknown register \"{k}\""))?;
        regs.push((r, hex_wide(val, &w, r.bits())?));
    }
    regs.sort_by_key(|(r, _)| std::cmp::Reverse(r.lanes()));
    Ok((regs, mxcsr))
}

fn access(v: &Value, what: &str) -> R<Access> {
    let m = object(v, what, &["kind", "addr", "size", "data"])?;
    let get = |k: &str| {
        m.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("{what}: missing \"{k}\""))
    };
    let kind = match get("kind")?.as_str() {
        Some("mmio_read") => AccessKind::MmioRead,
        Some("mmio_write") => AccessKind::MmioWrite,
        Some("io_in") => AccessKind::IoIn,
        Some("io_out") => AccessKind::IoOut,
        _ => {
            return Err(format!(
                "{what}.kind: expected mmio_read, mmio_write, io_in or io_out, got {}",
                get("kind")?.to_json()
            ));
        }
    };
    let addr = hex64(get("addr")?, &format!("{what}.addr"))?;
    let size = count(get("size")?, &format!("{what}.size"), 8)? as u8;
    let ok_size = if kind.is_mmio() {
        matches!(size, 1 | 2 | 4 | 8)
    } else {
        matches!(size, 1 | 2 | 4)
    };
    if !ok_size {
        return Err(format!(
            "{what}.size: {size} is not a size of a {} access",
            kind.name()
        ));
    }
    if !kind.is_mmio() && addr > 0xffff {
        return Err(format!("{what}.addr: port {addr:#x} is over 0xffff"));
    }
    let data = hex_value(get("data")?, &format!("{what}.data"), u32::from(size) * 8)? as u64;
    Ok(Access {
        kind,
        addr,
        size,
        data,
    })
}

fn exception(v: &Value, what: &str) -> R<Option<Exception>> {
    if *v == Value::Null {
        return Ok(None);
    }
    let m = object(v, what, &["vector", "error_code", "cr2"])?;
    let mut e = Exception {
        vector: 0,
        error_code: None,
        cr2: None,
    };
    let mut vector = None;
    for (k, val) in m {
        let w = format!("{what}.{k}");
        match k.as_str() {
            "vector" => vector = Some(count(val, &w, 31)? as u8),
            "error_code" if *val == Value::Null => e.error_code = Some(None),
            "error_code" => e.error_code = Some(Some(hex_value(val, &w, 32)? as u32)),
            _ if *val == Value::Null => e.cr2 = Some(None),
            _ => e.cr2 = Some(Some(hex64(val, &w)?)),
        }
    }
    e.vector = vector.ok_or_else(|| format!("{what}: missing \"vector\""))?;
    Ok(Some(e))
}

fn expected(v: &Value) -> R<Expected> {
    let what = "final";
    let m = object(
        v,
        what,
        &[
            "regs",
            "sregs",
            "xmm",
            "ymm",
            "zmm",
            "k",
            "mxcsr",
            "ram",
            "accesses",
            "exception",
            "status",
        ],
    )?;
    let mut e = Expected::default();
    for (k, val) in m {
        let w = format!("{what}.{k}");
        match k.as_str() {
            "regs" => {
                for (r, x) in object(val, &w, &REG_NAMES)? {
                    let i = REG_NAMES.iter().position(|n| n == r).unwrap_or(0);
                    e.regs.push((i, hex64(x, &format!("{w}.{r}"))?));
                }
            }
            "sregs" => {
                let mut allowed: Vec<&str> = SEG_NAMES.to_vec();
                allowed.extend(["gdtr", "idtr"]);
                allowed.extend(CTL_NAMES);
                for (r, x) in object(val, &w, &allowed)? {
                    let wr = format!("{w}.{r}");
                    if let Some(i) = SEG_NAMES.iter().position(|n| n == r) {
                        e.segs.push((i, segment_fields(x, &wr)?));
                    } else if let Some(i) = CTL_NAMES.iter().position(|n| n == r) {
                        e.ctl.push((i, hex64(x, &wr)?));
                    } else {
                        let (base, limit) = table_fields(x, &wr)?;
                        e.tables.push((r == "idtr", base, limit));
                    }
                }
            }
            "xmm" | "ymm" | "zmm" | "k" => {
                let (regs, mxcsr) = vector_regs(val, &w)?;
                e.vecs.extend(regs);
                if mxcsr.is_some() {
                    e.mxcsr = mxcsr;
                }
            }
            "mxcsr" => e.mxcsr = Some(hex_value(val, &w, 32)? as u32),
            "ram" => e.ram = ram_runs(val, &w)?,
            "accesses" => {
                let list = array(val, &w)?
                    .iter()
                    .enumerate()
                    .map(|(i, a)| access(a, &format!("{w}[{i}]")))
                    .collect::<R<Vec<_>>>()?;
                e.accesses = Some(list);
            }
            "exception" => e.exception = Some(exception(val, &w)?),
            _ => e.status = Some(parse_status(val, &w)?),
        }
    }
    Ok(e)
}

/// Top-level keys of a case.
const CASE_KEYS: [&str; 11] = [
    "name",
    "mode",
    "vendor",
    "cpl",
    "bytes",
    "exit_bytes",
    "initial",
    "final",
    "flags_mask",
    "compare_accesses",
    "status",
];

/// Keys of `initial`.
const INITIAL_KEYS: [&str; 13] = [
    "regs",
    "sregs",
    "xmm",
    "ymm",
    "zmm",
    "k",
    "mxcsr",
    "ram",
    "mmio",
    "mmio_reads",
    "io_reads",
    "not_present",
    "paging",
];

impl Case {
    /// Reads a case from its JSON value. Unknown top-level keys are ignored (with a note);
    /// unknown keys anywhere else make the case invalid, since they would change its meaning.
    pub fn from_json(v: &Value) -> Result<Case, String> {
        let top = object(v, "case", &[])?;
        let get = |k: &str| v.get(k);
        let notes = top
            .iter()
            .filter(|(k, _)| !CASE_KEYS.contains(&k.as_str()))
            .map(|(k, _)| format!("unknown key \"{k}\" ignored"))
            .collect();
        let name = match get("name") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(format!("name: expected a string, got {}", other.kind())),
        };
        let mode_v = get("mode").ok_or("missing \"mode\"")?;
        let mode = mode_v.as_str().and_then(parse_mode).ok_or_else(|| {
            format!(
                "mode: expected real, prot16, prot32, compat32 or long64, got {}",
                mode_v.to_json()
            )
        })?;
        let vendor = match get("vendor") {
            None | Some(Value::Null) => None,
            Some(x) => Some(match x.as_str() {
                Some("intel") => Vendor::Intel,
                Some("amd") => Vendor::Amd,
                _ => {
                    return Err(format!(
                        "vendor: expected intel or amd, got {}",
                        x.to_json()
                    ));
                }
            }),
        };
        let cpl = match get("cpl") {
            None => 0,
            Some(x) => count(x, "cpl", 3)? as u8,
        };
        let bytes = hex_bytes(get("bytes").ok_or("missing \"bytes\"")?, "bytes")?;
        if bytes.is_empty() {
            return Err("bytes: empty".into());
        }
        let exit_bytes = match get("exit_bytes") {
            None => bytes.len(),
            Some(x) => count(x, "exit_bytes", bytes.len() as u64)
                .map_err(|e| format!("{e} (there are {} bytes)", bytes.len()))?
                as usize,
        };

        let mut initial = State::defaults(mode, cpl);
        let mut paging = Paging::Identity;
        let mut ram = Vec::new();
        let mut mmio = Vec::new();
        let mut mmio_reads = Vec::new();
        let mut io_reads = Vec::new();
        let mut not_present = Vec::new();
        if let Some(init) = get("initial") {
            let m = object(init, "initial", &INITIAL_KEYS)?;
            // Order matters for vectors: every wider register before the narrower ones.
            let mut vecs = Vec::new();
            for (k, val) in m {
                let w = format!("initial.{k}");
                match k.as_str() {
                    "regs" => apply_regs(&mut initial, val)?,
                    "sregs" => apply_sregs(&mut initial, mode, cpl, val)?,
                    "xmm" | "ymm" | "zmm" | "k" => {
                        let (regs, mxcsr) = vector_regs(val, &w)?;
                        vecs.extend(regs);
                        if let Some(x) = mxcsr {
                            initial.mxcsr = x;
                        }
                    }
                    "mxcsr" => initial.mxcsr = hex_value(val, &w, 32)? as u32,
                    "ram" => ram = ram_runs(val, &w)?,
                    "mmio" => mmio = ranges(val, &w)?,
                    "mmio_reads" => mmio_reads = values(val, &w)?,
                    "io_reads" => io_reads = values(val, &w)?,
                    "not_present" => not_present = ranges(val, &w)?,
                    _ => {
                        paging = match val.as_str() {
                            Some("tables") => Paging::Tables,
                            Some("identity") => Paging::Identity,
                            _ => {
                                return Err(format!(
                                    "{w}: expected \"tables\" or \"identity\", got {}",
                                    val.to_json()
                                ));
                            }
                        }
                    }
                }
            }
            vecs.sort_by_key(|(r, _)| std::cmp::Reverse(r.lanes()));
            for (r, v) in vecs {
                r.set(&mut initial, v);
            }
        }
        for (i, (addr, b)) in ram.iter().enumerate() {
            if let Some(r) = mmio.iter().find(|r| r.overlaps(*addr, b.len() as u64)) {
                return Err(format!(
                    "initial.ram[{i}]: run at {addr:#x} overlaps the mmio range at {:#x}",
                    r.base
                ));
            }
        }

        let expected = match get("final") {
            None | Some(Value::Null) => None,
            Some(f) => Some(expected(f)?),
        };
        if let Some(e) = &expected {
            for (i, (addr, b)) in e.ram.iter().enumerate() {
                if mmio.iter().any(|r| r.overlaps(*addr, b.len() as u64)) {
                    return Err(format!(
                        "final.ram[{i}]: run at {addr:#x} overlaps an mmio range"
                    ));
                }
            }
        }
        let flags_mask = match get("flags_mask") {
            None => u64::MAX,
            Some(x) => hex64(x, "flags_mask")?,
        };
        let has_accesses = expected.as_ref().is_some_and(|e| e.accesses.is_some());
        let compare_accesses = match get("compare_accesses") {
            None | Some(Value::Null) => {
                if has_accesses {
                    CompareAccesses::Ordered
                } else {
                    CompareAccesses::Off
                }
            }
            Some(Value::Bool(true)) => CompareAccesses::Ordered,
            Some(Value::Bool(false)) => CompareAccesses::Off,
            Some(Value::String(s)) if s == "unordered" => CompareAccesses::Unordered,
            Some(x) => {
                return Err(format!(
                    "compare_accesses: expected true, false or \"unordered\", got {}",
                    x.to_json()
                ));
            }
        };
        let status = match get("status") {
            None | Some(Value::Null) => None,
            Some(x) => Some(parse_status(x, "status")?),
        };
        Ok(Case {
            name,
            mode,
            vendor,
            cpl,
            bytes,
            exit_bytes,
            initial,
            paging,
            ram,
            mmio,
            mmio_reads,
            io_reads,
            not_present,
            read_only: Vec::new(),
            expected,
            flags_mask,
            compare_accesses,
            status,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::json::parse;

    #[test]
    fn spec_example_parses() {
        let line = r#"{"name": "add dword [rdi], eax #17", "mode": "long64", "vendor": "amd", "bytes": "0107", "exit_bytes": 2,
          "initial": {"regs": {"rax": "0xdeadbeef", "rdi": "0x20000000", "rip": "0x1000", "rflags": "0x202"},
            "sregs": {"cs": {"selector": "0x33", "base": "0x0", "limit": "0xffffffff", "attributes": "0xa0fb"}, "cr0": "0x80050033", "efer": "0xd01"},
            "xmm": {"xmm0": "0x000102030405060708090a0b0c0d0e0f"}, "mxcsr": "0x1f80",
            "ram": [["0x3000", "0102030405060708"]], "mmio": [{"base": "0x20000000", "size": "0x1000"}],
            "mmio_reads": ["0x13121110"], "io_reads": [], "not_present": [{"base": "0x7000", "size": "0x1000"}]},
          "final": {"regs": {"rip": "0x1002", "rflags": "0x286"}, "ram": [],
            "accesses": [{"kind": "mmio_read", "addr": "0x20000000", "size": 4, "data": "0x13121110"},
                         {"kind": "mmio_write", "addr": "0x20000000", "size": 4, "data": "0xf1bfcfff"}],
            "exception": null},
          "flags_mask": "0x8d5", "compare_accesses": true}"#;
        let c = Case::from_json(&parse(line).unwrap()).unwrap();
        assert_eq!(c.initial.reg[0], 0xdeadbeef);
        assert_eq!(c.initial.seg[CS].attributes, 0xa0fb);
        assert_eq!(c.initial.seg[SS].attributes, 0xc093);
        assert_eq!(c.initial.cr0(), 0x8005_0033);
        assert_eq!(c.initial.cr4(), 0x20 | CR4_DEFAULT_EXTRA);
        assert_eq!(
            c.initial.zmm[0][0],
            0x0001_0203_0405_0607_0809_0a0b_0c0d_0e0f
        );
        assert_eq!(c.flags_mask, 0x8d5);
        assert_eq!(c.compare_accesses, CompareAccesses::Ordered);
        let e = c.expected.unwrap();
        assert_eq!(e.regs, vec![(RIP, 0x1002), (RFLAGS, 0x286)]);
        assert_eq!(e.accesses.unwrap().len(), 2);
        assert_eq!(e.exception, Some(None));
    }

    #[test]
    fn defaults_and_wide_registers() {
        let line = r#"{"mode": "real", "cpl": 0, "bytes": "90", "initial": {"sregs": {"ds": {"selector": "0x1234"}},
            "zmm": {"zmm1": "0x1" }, "xmm": {"xmm1": "0x2"}, "ymm": {"ymm1": "0x30000000000000000000000000000000000000000000000000000000000000000"}}}"#;
        let e = Case::from_json(&parse(line).unwrap()).unwrap_err();
        assert!(e.contains("does not fit in 256 bits"), "{e}");
        let line = r#"{"mode": "real", "bytes": "90", "initial": {"sregs": {"ds": {"selector": "0x1234"}},
            "zmm": {"zmm1": "0x5000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000f" }, "xmm": {"xmm1": "0x2"}}}"#;
        let c = Case::from_json(&parse(line).unwrap()).unwrap();
        assert_eq!(
            c.initial.seg[3],
            Segment {
                base: 0x12340,
                limit: 0xffff,
                selector: 0x1234,
                attributes: 0x93
            }
        );
        assert_eq!(c.initial.zmm[1], [2, 0, 0, 5 << 124]);
        assert_eq!(c.initial.reg[RFLAGS], 2);
        assert_eq!(c.initial.seg[6].attributes, 0x82);
    }

    #[test]
    fn cpl_sets_dpl() {
        let c = Case::from_json(&parse(r#"{"mode": "long64", "cpl": 3, "bytes": "90"}"#).unwrap())
            .unwrap();
        assert_eq!(c.initial.seg[CS].attributes, 0xa0fb);
        assert_eq!(c.initial.seg[SS].attributes, 0xc0f3);
        assert_eq!(c.initial.seg[3].attributes, 0xc093);
    }

    #[test]
    fn errors_name_the_field() {
        for (line, want) in [
            (r#"{"bytes": "90"}"#, "missing \"mode\""),
            (r#"{"mode": "long32", "bytes": "90"}"#, "mode:"),
            (r#"{"mode": "long64", "bytes": "9"}"#, "bytes: odd"),
            (
                r#"{"mode": "long64", "bytes": "90", "exit_bytes": 2}"#,
                "exit_bytes",
            ),
            (
                r#"{"mode": "long64", "bytes": "90", "initial": {"regs": {"rax": "12"}}}"#,
                "initial.regs.rax",
            ),
            (
                r#"{"mode": "long64", "bytes": "90", "initial": {"regs": {"eax": "0x1"}}}"#,
                "unknown key \"eax\"",
            ),
            (
                r#"{"mode": "long64", "bytes": "90", "initial": {"regs": {"rax": "0x10000000000000000"}}}"#,
                "64 bits",
            ),
            (r#"{"mode": "long64", "bytes": "90", "cpl": 4}"#, "cpl"),
            (
                r#"{"mode": "long64", "bytes": "90", "final": {"accesses": [{"kind": "mmio_read", "addr": "0x0", "size": 3, "data": "0x0"}]}}"#,
                "size",
            ),
            (
                r#"{"mode": "long64", "bytes": "90", "initial": {"mmio": [{"base": "0x1000", "size": "0x1000"}], "ram": [["0xfff", "0102"]]}}"#,
                "overlaps",
            ),
            (
                r#"{"mode": "long64", "bytes": "90", "compare_accesses": "yes"}"#,
                "compare_accesses",
            ),
            (r#"[]"#, "expected an object"),
        ] {
            let e = Case::from_json(&parse(line).unwrap()).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
