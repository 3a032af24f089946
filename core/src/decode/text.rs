//! Intel-syntax text of decoded instructions.

use super::reg::{Reg, RegClass};

const GPR64: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];
const GPR32: [&str; 16] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
    "r13d", "r14d", "r15d",
];
const GPR16: [&str; 16] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
    "r14w", "r15w",
];
const GPR8: [&str; 16] = [
    "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
    "r13b", "r14b", "r15b",
];
const GPR8HIGH: [&str; 4] = ["ah", "ch", "dh", "bh"];
const SEG: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];

macro_rules! numbered {
    ($prefix:literal, $($n:literal)*) => {
        [$(concat!($prefix, $n)),*]
    };
}

const CR: [&str; 16] = numbered!("cr", 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
const DR: [&str; 16] = numbered!("dr", 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
const TR: [&str; 8] = numbered!("tr", 0 1 2 3 4 5 6 7);
const ST: [&str; 8] = ["st(0)", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"];
const MM: [&str; 8] = numbered!("mm", 0 1 2 3 4 5 6 7);
const K: [&str; 8] = numbered!("k", 0 1 2 3 4 5 6 7);
const BND: [&str; 4] = numbered!("bnd", 0 1 2 3);
const TMM: [&str; 8] = numbered!("tmm", 0 1 2 3 4 5 6 7);
const XMM: [&str; 32] = numbered!("xmm", 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21
    22 23 24 25 26 27 28 29 30 31);
const YMM: [&str; 32] = numbered!("ymm", 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21
    22 23 24 25 26 27 28 29 30 31);
const ZMM: [&str; 32] = numbered!("zmm", 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21
    22 23 24 25 26 27 28 29 30 31);

/// Lower-case Intel name of a register (`"?"` for a number outside its class).
pub fn reg_name(r: Reg) -> &'static str {
    let n = r.num as usize;
    let table: &[&'static str] = match r.class {
        RegClass::Gpr8 => &GPR8,
        RegClass::Gpr8High => &GPR8HIGH,
        RegClass::Gpr16 => &GPR16,
        RegClass::Gpr32 => &GPR32,
        RegClass::Gpr64 => &GPR64,
        RegClass::Seg => &SEG,
        RegClass::Cr => &CR,
        RegClass::Dr => &DR,
        RegClass::Tr => &TR,
        RegClass::St => &ST,
        RegClass::Mmx => &MM,
        RegClass::Xmm => &XMM,
        RegClass::Ymm => &YMM,
        RegClass::Zmm => &ZMM,
        RegClass::K => &K,
        RegClass::Bnd => &BND,
        RegClass::Tmm => &TMM,
        RegClass::Ip => &["rip", "eip"],
    };
    table.get(n).copied().unwrap_or("?")
}
