//! Any bytes, every mode, both vendors: no panic, lengths in range, the decoder never reads past
//! 15 bytes, the instruction's own bytes decode to the same record, strict prefixes of a valid
//! instruction are `Truncated` (see `hvemu_fuzz::decode_check`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hvemu_fuzz::decode_check::check(data);
});
