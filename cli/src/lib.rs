//! The library half of the `hvemu` command-line tool: the conformance runner behind
//! `hvemu cases` (see spec/cases.md), usable from tests and other tools.

pub mod cases;
