//! Shared parts of hvemu's fuzz targets (issue 7).
//!
//! - [`codec`]: one description of a structured input's byte layout, read through `arbitrary`
//!   by the targets and written by the seed-corpus generator (`gen/`), so every seed means what
//!   the generator meant.
//! - [`alloc_guard`]: a global allocator that aborts on any allocation while an emulation call
//!   runs (the core promises no heap).
//! - [`emu`]: the `emulate` target: a structured input (register state, mode, vendor,
//!   instruction bytes, exit, memory, a schedule of host behaviours), a simulated host that
//!   records every callback, and the oracles.
//! - [`decode_check`]: the `decode` target's oracles.

pub mod alloc_guard;
pub mod codec;
pub mod decode_check;
pub mod emu;

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
