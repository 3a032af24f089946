//! The library half of the `hvemu` command-line tool: the conformance runner behind
//! `hvemu cases` (see spec/cases.md), usable from tests and other tools, and the ELF section
//! reader behind `hvemu bench`.

pub mod cases;
pub mod elf;
