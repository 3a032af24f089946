//! Shared helpers for hvemu's differential and conformance tests.

use hvemu::decode::{Instruction, Reg, Seg};
use std::path::PathBuf;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod casegen;
pub mod corpus;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod native;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod native_case;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod native_report;
pub mod randgen;

/// The architectural limit on instruction length.
pub const MAX_INSN: usize = 15;

/// The read-only `shared/` directory beside the checkout (or `$HVEMU_SHARED`).
///
/// Panics with a clear message when it is missing: tests that need it must not pass silently.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("HVEMU_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    assert!(
        dir.join("vectors").is_dir(),
        "the shared/ directory with test vectors is missing at {} (set HVEMU_SHARED)",
        dir.display()
    );
    dir
}

/// Parses hex digits, ignoring spaces.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The memory operand of `insn` as iced describes one: segment, base, index, scale and the
/// displacement as iced reports it (sign-extended to the address size; the absolute target for
/// instruction-relative operands, with the instruction at `ip`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemView {
    /// Effective segment (`"ds"`).
    pub seg: String,
    /// Base register name or `"none"`.
    pub base: String,
    /// Index register name or `"none"`.
    pub index: String,
    /// 1, 2, 4 or 8 (as encoded in the SIB byte even without an index).
    pub scale: u8,
    /// Displacement as iced reports it.
    pub disp: u64,
}

/// Builds the iced-style view of `insn.mem`.
pub fn mem_view(insn: &Instruction, ip: u64) -> MemView {
    let m = &insn.mem;
    let name = |r: Option<Reg>| r.map_or("none".to_string(), |r| r.name().to_string());
    let asz_mask = match insn.addr_size {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    };
    let disp = match m.base {
        Some(Reg::RIP) => ip.wrapping_add(insn.len as u64).wrapping_add(m.disp as u64),
        Some(Reg::EIP) => {
            ip.wrapping_add(insn.len as u64).wrapping_add(m.disp as u64) & 0xffff_ffff
        }
        _ => (m.disp as u64) & asz_mask,
    };
    MemView {
        seg: seg_name(m.seg).to_string(),
        base: name(m.base),
        index: name(m.index),
        scale: m.scale,
        disp,
    }
}

/// Lower-case segment name.
pub fn seg_name(s: Seg) -> &'static str {
    s.name()
}
