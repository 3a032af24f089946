//! Intel-syntax text of decoded instructions.

use super::reg::{Reg, RegClass};

/// Lower-case Intel name of a register.
pub fn reg_name(r: Reg) -> &'static str {
    const GPR64: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
    let n = r.num as usize;
    match r.class {
        RegClass::Gpr64 => GPR64.get(n).copied().unwrap_or("?"),
        _ => "?",
    }
}
