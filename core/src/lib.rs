//! hvemu: an exact x86 instruction decoder and emulator for hypervisors.
//!
//! The crate is `#![no_std]`, allocates nothing and contains no `unsafe` code. The decoder is a
//! pure function of the instruction bytes, the processor mode and the vendor:
//!
//! ```
//! use hvemu::decode::{decode, Mode, Vendor, Op};
//! let insn = decode(&[0x48, 0x89, 0x1f], Mode::Long64, Vendor::Amd).unwrap();
//! assert_eq!(insn.len, 3);
//! assert_eq!(insn.op, Op::Mov);
//! ```
#![no_std]

pub mod decode;
pub mod emulator;
pub mod exec;
pub mod flags;
pub mod host;
mod mem;
pub mod regs;
