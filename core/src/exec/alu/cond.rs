//! The sixteen condition codes of Jcc, SETcc and CMOVcc.
//!
//! The code is the low four bits of the opcode (`70+cc`, `0F 80+cc`, `0F 90+cc`, `0F 40+cc`):
//! even codes test a condition, the following odd code its negation.

use crate::flags::{CF, OF, PF, SF, ZF};

/// The condition codes by number, for readability at call sites.
pub mod cc {
    /// Overflow (OF = 1).
    pub const O: u8 = 0x0;
    /// No overflow (OF = 0).
    pub const NO: u8 = 0x1;
    /// Below / carry (CF = 1).
    pub const B: u8 = 0x2;
    /// Above or equal / no carry (CF = 0).
    pub const AE: u8 = 0x3;
    /// Equal / zero (ZF = 1).
    pub const E: u8 = 0x4;
    /// Not equal / not zero (ZF = 0).
    pub const NE: u8 = 0x5;
    /// Below or equal (CF = 1 or ZF = 1).
    pub const BE: u8 = 0x6;
    /// Above (CF = 0 and ZF = 0).
    pub const A: u8 = 0x7;
    /// Sign (SF = 1).
    pub const S: u8 = 0x8;
    /// No sign (SF = 0).
    pub const NS: u8 = 0x9;
    /// Parity even (PF = 1).
    pub const P: u8 = 0xa;
    /// Parity odd (PF = 0).
    pub const NP: u8 = 0xb;
    /// Less (SF != OF).
    pub const L: u8 = 0xc;
    /// Greater or equal (SF = OF).
    pub const GE: u8 = 0xd;
    /// Less or equal (ZF = 1 or SF != OF).
    pub const LE: u8 = 0xe;
    /// Greater (ZF = 0 and SF = OF).
    pub const G: u8 = 0xf;
}

/// Whether condition `code` (only its low four bits count) holds for `rflags`.
#[inline]
pub const fn holds(code: u8, rflags: u64) -> bool {
    let f = rflags;
    let less = (f & SF != 0) != (f & OF != 0);
    let holds = match (code >> 1) & 7 {
        0 => f & OF != 0,
        1 => f & CF != 0,
        2 => f & ZF != 0,
        3 => f & (CF | ZF) != 0,
        4 => f & SF != 0,
        5 => f & PF != 0,
        6 => less,
        _ => less || f & ZF != 0,
    };
    holds != (code & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert!(holds(cc::E, ZF));
        assert!(!holds(cc::NE, ZF));
        assert!(holds(cc::L, SF));
        assert!(!holds(cc::L, SF | OF));
        assert!(holds(cc::G, SF | OF));
        assert!(holds(cc::BE, CF));
        assert!(holds(cc::A | 0x10, 0));
    }
}
