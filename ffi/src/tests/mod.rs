//! Tests of the C ABI: layouts against windows-sys, argument checking, and emulation through
//! the exported functions with Rust-implemented callbacks.
#![allow(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod api;
mod emulation;
mod layout;
mod vector;
mod vm;
