//! The `decode` target's oracles, for any bytes in every mode and for both vendors (and in
//! 64-bit mode with APX's REX2 decoding too):
//!
//! - no panic (also while formatting the instruction as text);
//! - a valid instruction is 1..=15 bytes long and no longer than the input;
//! - the decoder never looks past 15 bytes: the input and its first 15 bytes decode alike;
//! - the input is never `Truncated` when it has 15 bytes or more;
//! - decoding the instruction's own bytes again gives the same record (with or without the
//!   bytes that followed it);
//! - every strict prefix of a valid instruction is `Truncated` (more bytes make it valid, so
//!   the decoder must not have decided otherwise from fewer).

use hvemu::decode::{DecodeError, Extensions, MAX_LEN, Mode, Vendor, decode_with};
use std::fmt::Write as _;

/// Every decoding mode.
pub const MODES: [Mode; 5] = [
    Mode::Real,
    Mode::Prot16,
    Mode::Prot32,
    Mode::Compat32,
    Mode::Long64,
];

/// Both vendors.
pub const VENDORS: [Vendor; 2] = [Vendor::Intel, Vendor::Amd];

/// A `fmt::Write` that keeps nothing (the text is formatted only for its panics).
struct Sink(usize);

impl std::fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks one input in every mode for both vendors; panics with a description on a violation.
pub fn check(data: &[u8]) {
    for mode in MODES {
        for vendor in VENDORS {
            check_one(data, mode, vendor);
        }
    }
    for vendor in VENDORS {
        check_with(data, Mode::Long64, vendor, Extensions { apx: true });
    }
}

/// Checks one input in one mode for one vendor.
pub fn check_one(data: &[u8], mode: Mode, vendor: Vendor) {
    check_with(data, mode, vendor, Extensions::default());
}

/// Checks one input in one mode for one vendor with the instruction-set extensions `ext`.
pub fn check_with(data: &[u8], mode: Mode, vendor: Vendor, ext: Extensions) {
    let decode = |b: &[u8], mode, vendor| decode_with(b, mode, vendor, ext);
    let r = decode(data, mode, vendor);
    let head = data.get(..data.len().min(MAX_LEN)).unwrap_or(data);
    let r15 = decode(head, mode, vendor);
    assert_eq!(
        r,
        r15,
        "{mode:?}/{vendor:?} {}: the result depends on bytes past the 15th",
        hex(head)
    );
    match r {
        Ok(insn) => {
            let len = insn.len as usize;
            assert!(
                (1..=MAX_LEN).contains(&len) && len <= data.len(),
                "{mode:?}/{vendor:?} {}: length {len} out of range (input {} bytes)",
                hex(head),
                data.len()
            );
            let own = &data[..len];
            let again = decode(own, mode, vendor);
            assert_eq!(
                again,
                Ok(insn),
                "{mode:?}/{vendor:?} {}: the instruction's own bytes decode differently",
                hex(own)
            );
            for cut in 0..len {
                let p = decode(&own[..cut], mode, vendor);
                assert_eq!(
                    p,
                    Err(DecodeError::Truncated),
                    "{mode:?}/{vendor:?} {}: valid with {len} bytes, but its first {cut} bytes \
                     are not Truncated",
                    hex(own)
                );
            }
            let mut s = Sink(0);
            let _ = write!(s, "{}", insn.display(0x7fff_fff0));
            let _ = write!(s, "{insn}");
            assert!(s.0 > 0, "{mode:?}/{vendor:?} {}: empty text", hex(own));
        }
        Err(DecodeError::Truncated) => {
            assert!(
                data.len() < MAX_LEN,
                "{mode:?}/{vendor:?} {}: Truncated with {} bytes of input",
                hex(head),
                data.len()
            );
            let e = DecodeError::Truncated;
            assert!(!e.kind().is_empty() && !e.reason().is_empty());
        }
        Err(e) => {
            // The reason strings are part of the API (the CLI prints them).
            assert!(!e.kind().is_empty() && !e.reason().is_empty());
        }
    }
}
