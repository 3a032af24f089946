//! Emulator instance storage for hvemu (issue 6).
//!
//! This crate will hold a fixed static pool of emulator instances with lock-free slot claiming
//! and checked handles, and a feature that uses `Box` where a global allocator exists. It has no
//! items yet: nothing here pretends to work.
#![no_std]
