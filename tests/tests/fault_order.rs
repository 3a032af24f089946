//! Which fault an invalid encoding raises when it also runs past the 15-byte limit: #GP (the
//! processor's length decoder read the whole instruction first: [`DecodeError::TooLong`]) or
//! #UD at once ([`DecodeError::Invalid`]).
//!
//! Every case is a processor's verdict, captured by `native_decode` (the 15 bytes placed to end
//! at a page that is not present) on an Intel Xeon (Emerald Rapids), so that the rules hold on
//! any host, not only where `native_decode` can measure them. `native_decode` re-measures them
//! on every Intel host; its `fault-order` class counts what these rules still miss.

use hvemu::decode::{DecodeError, Mode, Vendor, decode};
use hvemu_tests::parse_hex;

/// What the processor did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// #GP: longer than 15 bytes.
    TooLong,
    /// #UD.
    Ud,
}

/// (bytes, mode, the processor's fault, the rule).
const INTEL: &[(&str, Mode, Fault, &str)] = &[
    (
        "f3 67 26 65 67 f3 43 c4 22 58 f3 3d 85 a9 70",
        Mode::Long64,
        Fault::TooLong,
        "REX before VEX: the length first",
    ),
    (
        "66 36 65 f2 36 42 62 aa 7e 49 97 2d ac 26 fd",
        Mode::Long64,
        Fault::TooLong,
        "REX before EVEX: the length first",
    ),
    (
        "66 36 2e 66 2e f3 66 62 e7 cd e9 d8 a1 11 bf",
        Mode::Long64,
        Fault::TooLong,
        "EVEX map 7 (none): 0F 3A's form",
    ),
    (
        "f2 66 f0 67 f3 f0 64 c4 4e 0a 39 a4 bc 32 e7",
        Mode::Long64,
        Fault::TooLong,
        "VEX map 14 (none): 0F 38's form",
    ),
    (
        "66 65 26 f3 65 64 c4 5b d7 9c 05 55 fc 6f 3b",
        Mode::Long64,
        Fault::TooLong,
        "VEX map 27 (none): 0F 3A's form, its immediate the 16th byte",
    ),
    (
        "64 64 67 66 f2 f2 f3 4c 0f 0f a8 23 9b 30 b1",
        Mode::Long64,
        Fault::Ud,
        "0F 0F (3DNow!): #UD before ModRM",
    ),
    (
        "36 3e f3 f3 f2 f2 66 c5 4a cc 9c 75 7b f0 8b",
        Mode::Long64,
        Fault::Ud,
        "VEX 0F CC: legacy 0F CC's form (BSWAP, no ModRM)",
    ),
    (
        "2e 67 26 26 3e 67 62 c5 cc 4b 3b 9f 1e ce a0",
        Mode::Long64,
        Fault::Ud,
        "EVEX map 5, undefined 3B: legacy 0F 3B's form (none)",
    ),
    (
        "67 f0 f2 f2 66 f3 62 41 7d 4a 80 05 3d 92 b8",
        Mode::Long64,
        Fault::Ud,
        "EVEX 0F 80: legacy 0F 80's form (rel32), 15 bytes",
    ),
    (
        "f0 66 67 66 66 66 f2 62 81 0e 00 20 8b 91 6a",
        Mode::Long64,
        Fault::Ud,
        "EVEX 0F 20: MOV CR's form, ModRM register-only whatever its mod",
    ),
    (
        "66 67 f2 66 3e 2e 36 48 0f c6 15 b4 2e 50 cd",
        Mode::Long64,
        Fault::TooLong,
        "F2 0F C6 (no F2 form): SHUFPS's form",
    ),
    (
        "65 f2 67 f2 2e f2 2e 42 c6 14 8d 42 e4 83 10",
        Mode::Long64,
        Fault::TooLong,
        "C6 /2 (no such member): MOV Eb,Ib's form",
    ),
    (
        "f2 26 f2 65 3e f3 36 c7 ad 24 16 7c dc 83 e3",
        Mode::Compat32,
        Fault::TooLong,
        "C7 /5 (no such member): MOV Ev,Iz's form",
    ),
    (
        "f3 f3 66 f3 f0 67 66 62 f5 e4 6f 87 a8 9e f9",
        Mode::Prot16,
        Fault::Ud,
        "EVEX map 5 87 in 16-bit code: legacy 0F 87's form, rel16 (66 aside)",
    ),
    (
        "36 36 f3 f3 26 f3 26 0f 3f 01 be c3 7c 53 ac",
        Mode::Long64,
        Fault::TooLong,
        "0F 3F (none): a three-byte escape with an 8-bit immediate, as 0F 3A",
    ),
    (
        "65 f2 26 67 66 67 f0 0f 3e 1b 86 47 c2 c1 f3",
        Mode::Prot16,
        Fault::TooLong,
        "0F 3E (none): a three-byte escape with an 8-bit immediate, as 0F 3A",
    ),
    (
        "26 2e 2e f2 f3 67 26 0f 39 7f bc 63 8a 41 00",
        Mode::Prot16,
        Fault::TooLong,
        "0F 39 (none): a three-byte escape, as 0F 38",
    ),
    (
        "66 66 f3 2e f3 f2 62 01 2d 4e a6 a4 94 6d 44",
        Mode::Long64,
        Fault::TooLong,
        "EVEX 0F A6 (none): legacy 0F A6's form, a ModRM",
    ),
    (
        "66 f0 36 26 f2 f2 66 c4 c1 c7 7a 91 62 a4 20",
        Mode::Long64,
        Fault::TooLong,
        "VEX 0F 7A (none): legacy 0F 7A's form, a ModRM",
    ),
    (
        "66 66 f3 26 f3 65 62 c5 7d 38 a7 9f b4 dc 75",
        Mode::Compat32,
        Fault::TooLong,
        "EVEX map 5 A7 (none): legacy 0F A7's form, a ModRM",
    ),
    (
        "67 f0 66 f2 64 4a c7 95 bc 95 e5 63 40 17 f2",
        Mode::Long64,
        Fault::TooLong,
        "C7 /2 (no such member) with REX.W: MOV Ev,Iz's form, imm32 whatever 66 says",
    ),
    (
        "66 67 f2 f3 36 f2 66 4f 62 d2 fd 08 92 bf 29",
        Mode::Long64,
        Fault::TooLong,
        "EVEX gather without a SIB byte: the length first",
    ),
    (
        "3e 67 f2 66 f2 36 66 c4 e1 2d 3b b2 8f 74 56",
        Mode::Long64,
        Fault::Ud,
        "VEX 0F 3B: no escape in VEX, #UD at once",
    ),
];

#[test]
fn intel_fault_order() {
    let mut wrong = Vec::new();
    for &(hex, mode, fault, rule) in INTEL {
        let bytes = parse_hex(hex).expect("case bytes");
        let ours = decode(&bytes, mode, Vendor::Intel);
        let agrees = match fault {
            Fault::TooLong => ours == Err(DecodeError::TooLong),
            Fault::Ud => matches!(ours, Err(DecodeError::Invalid(_))),
        };
        if !agrees {
            wrong.push(format!(
                "{hex} ({mode:?}): processor {fault:?}, hvemu {ours:?}: {rule}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The AMD rule these cases do not follow (measured on Zen 4): REX before VEX or EVEX is #UD at
/// once, before the length.
#[test]
fn amd_rex_before_vex_is_ud_at_once() {
    for hex in [
        "f3 67 26 65 67 f3 43 c4 22 58 f3 3d 85 a9 70",
        "66 36 65 f2 36 42 62 aa 7e 49 97 2d ac 26 fd",
    ] {
        let bytes = parse_hex(hex).expect("case bytes");
        assert!(
            matches!(
                decode(&bytes, Mode::Long64, Vendor::Amd),
                Err(DecodeError::Invalid(_))
            ),
            "{hex}"
        );
    }
}
