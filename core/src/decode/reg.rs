//! Register names as the decoder reports them.

/// The kind of a register operand.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum RegClass {
    /// AL, CL, DL, BL, SPL, BPL, SIL, DIL, R8B..R31B (SPL..DIL need REX).
    Gpr8,
    /// AH, CH, DH, BH (numbers 0..3), only without REX.
    Gpr8High,
    /// AX..R31W.
    Gpr16,
    /// EAX..R31D.
    Gpr32,
    /// RAX..R31.
    Gpr64,
    /// ES, CS, SS, DS, FS, GS (0..5); 6 and 7 are reserved encodings.
    Seg,
    /// CR0..CR15.
    Cr,
    /// DR0..DR15.
    Dr,
    /// TR0..TR7 (test registers of old processors).
    Tr,
    /// ST(0)..ST(7), relative to the x87 stack top.
    St,
    /// MM0..MM7.
    Mmx,
    /// XMM0..XMM31.
    Xmm,
    /// YMM0..YMM31.
    Ymm,
    /// ZMM0..ZMM31.
    Zmm,
    /// K0..K7 opmask registers.
    K,
    /// BND0..BND3 (MPX).
    Bnd,
    /// TMM0..TMM7 (AMX tiles).
    Tmm,
    /// The instruction pointer used as a base (RIP-relative: 0 = RIP, 1 = EIP).
    Ip,
}

/// A register: a class and a number within it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reg {
    /// What kind of register.
    pub class: RegClass,
    /// The number within the class (for example 3 for RBX, EBX, BX, BL; 0..3 for AH..BH).
    pub num: u8,
}

impl Reg {
    /// Makes a register from its class and number.
    pub const fn new(class: RegClass, num: u8) -> Reg {
        Reg { class, num }
    }

    /// The general-purpose register of `size` bytes (1, 2, 4 or 8) with number `num`.
    pub const fn gpr(size: u8, num: u8) -> Reg {
        let class = match size {
            1 => RegClass::Gpr8,
            2 => RegClass::Gpr16,
            4 => RegClass::Gpr32,
            _ => RegClass::Gpr64,
        };
        Reg { class, num }
    }

    /// RIP, as the base of a RIP-relative memory operand.
    pub const RIP: Reg = Reg::new(RegClass::Ip, 0);
    /// EIP, as the base of an EIP-relative memory operand (67 prefix in 64-bit mode).
    pub const EIP: Reg = Reg::new(RegClass::Ip, 1);

    /// Size in bytes of the register's value (0 for the instruction pointer marker).
    pub const fn size(self) -> u16 {
        match self.class {
            RegClass::Gpr8 | RegClass::Gpr8High => 1,
            RegClass::Gpr16 | RegClass::Seg => 2,
            RegClass::Gpr32 => 4,
            RegClass::Gpr64 | RegClass::Cr | RegClass::Dr | RegClass::Tr | RegClass::Mmx => 8,
            RegClass::K => 8,
            RegClass::St => 10,
            RegClass::Xmm | RegClass::Bnd => 16,
            RegClass::Ymm => 32,
            RegClass::Zmm => 64,
            RegClass::Tmm => 1024,
            RegClass::Ip => 0,
        }
    }

    /// Lower-case Intel name of the register (`"rax"`, `"r8d"`, `"xmm17"`, `"st(3)"`).
    #[cfg(feature = "text")]
    pub fn name(self) -> &'static str {
        crate::decode::text::reg_name(self)
    }
}

/// A segment register.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Seg {
    /// ES.
    Es = 0,
    /// CS.
    Cs = 1,
    /// SS.
    Ss = 2,
    /// DS.
    Ds = 3,
    /// FS.
    Fs = 4,
    /// GS.
    Gs = 5,
}

impl Seg {
    /// The segment register with encoding `n` (0..5); 6 and 7 give `None`.
    pub const fn from_num(n: u8) -> Option<Seg> {
        match n {
            0 => Some(Seg::Es),
            1 => Some(Seg::Cs),
            2 => Some(Seg::Ss),
            3 => Some(Seg::Ds),
            4 => Some(Seg::Fs),
            5 => Some(Seg::Gs),
            _ => None,
        }
    }

    /// Lower-case name (`"ds"`).
    pub const fn name(self) -> &'static str {
        match self {
            Seg::Es => "es",
            Seg::Cs => "cs",
            Seg::Ss => "ss",
            Seg::Ds => "ds",
            Seg::Fs => "fs",
            Seg::Gs => "gs",
        }
    }
}
