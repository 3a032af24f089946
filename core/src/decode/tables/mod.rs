//! The opcode maps, one file per map family. All data is `const`.

pub(crate) mod evex;
pub(crate) mod legacy_0f;
pub(crate) mod legacy_0f38;
pub(crate) mod legacy_0f3a;
pub(crate) mod now3d;
pub(crate) mod primary;
pub(crate) mod vex;
pub(crate) mod x87;
pub(crate) mod xop;
