//! The WinHvEmulation C ABI over hvemu (issue 6).
//!
//! This crate will export `WHvEmulatorCreateEmulator`, `WHvEmulatorDestroyEmulator`,
//! `WHvEmulatorTryIoEmulation` and `WHvEmulatorTryMmioEmulation` byte for byte as
//! ../shared/spec/winhv-abi.md describes, with the open header in `include/`. It exports nothing
//! yet: nothing here pretends to work.
#![no_std]
#![allow(non_snake_case)]
