//! Shared helpers for hvemu's differential and conformance tests.
