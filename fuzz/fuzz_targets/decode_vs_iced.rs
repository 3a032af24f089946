//! Differential decoding against iced-x86: the first byte picks the mode (16-, 32-bit protected,
//! compatibility, 64-bit) and the vendor, the next 15 bytes (zero-padded) are decoded by both.
//!
//! The comparison is tests/tests/common/mod.rs, compiled in as is: where both decoders accept
//! the bytes the lengths and memory operands must agree, and where they disagree on validity the
//! disagreement must belong to a class that is a known difference between the processors iced
//! models and ours (AMD-only or Intel-only extensions decoded for the other vendor, Centaur's
//! PadLock, and the rules where our AMD decoding follows a measured AMD processor). Every other
//! class, `table-gap` and the `unknown:*` ones included, is a finding.
#![no_main]

#[path = "../../tests/tests/common/mod.rs"]
mod common;

use common::{Verdict, bitness, compare, iced_decode, iced_options};
use hvemu::decode::{Mode, Vendor, decode};
use libfuzzer_sys::fuzz_target;

/// Validity classes that are differences between the processors, not defects (`amd-measured`:
/// where an AMD processor departs from the documented rule iced follows, as
/// tests/tests/native_decode.rs measures on the host).
const ALLOWED: &[&str] = &[
    "amd-only-ext",
    "intel-only-ext",
    "iced-padlock",
    "amd-measured",
];

const PLAN: [(Mode, Vendor); 8] = [
    (Mode::Long64, Vendor::Intel),
    (Mode::Prot32, Vendor::Intel),
    (Mode::Prot16, Vendor::Intel),
    (Mode::Compat32, Vendor::Intel),
    (Mode::Long64, Vendor::Amd),
    (Mode::Prot32, Vendor::Amd),
    (Mode::Prot16, Vendor::Amd),
    (Mode::Compat32, Vendor::Amd),
];

fn ip(mode: Mode) -> u64 {
    match mode {
        Mode::Long64 => 0x7fff_ffff_ffff_fff0,
        Mode::Prot32 | Mode::Compat32 => 0x7fff_fff0,
        Mode::Real | Mode::Prot16 => 0x7ff0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (mode, vendor) = PLAN[(sel & 7) as usize];
    let mut buf = [0u8; 15];
    let n = rest.len().min(15);
    buf[..n].copy_from_slice(&rest[..n]);
    let ip = ip(mode);
    let ours = decode(&buf, mode, vendor);
    let iced = iced_decode(&buf, bitness(mode), ip, iced_options(vendor));
    let v = compare(&buf, mode, vendor, ip, &ours, &iced);
    let ok = match &v {
        Verdict::Agree | Verdict::AgreeMem => true,
        Verdict::Validity(c) => ALLOWED.contains(c),
        Verdict::Length { .. } | Verdict::Mem { .. } => false,
    };
    if !ok {
        let what = match &ours {
            Ok(i) => format!("ours {} len {}", i.display(ip), i.len),
            Err(e) => format!("ours {e:?}"),
        };
        panic!(
            "{mode:?}/{vendor:?} {}: {v:?}\n  iced {:?} len {} ({:?})\n  {what}",
            hvemu_fuzz::hex(&buf),
            iced.insn.code(),
            iced.insn.len(),
            iced.error
        );
    }
});
