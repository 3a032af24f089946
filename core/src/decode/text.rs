//! Intel-syntax text of decoded instructions.

use super::insn::{Instruction, Operand, Prefixes};
use super::op::Op;
use super::reg::{Reg, RegClass, Seg};
use core::fmt;

const GPR64: [&str; 32] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26",
    "r27", "r28", "r29", "r30", "r31",
];
const GPR32: [&str; 32] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
    "r13d", "r14d", "r15d", "r16d", "r17d", "r18d", "r19d", "r20d", "r21d", "r22d", "r23d", "r24d",
    "r25d", "r26d", "r27d", "r28d", "r29d", "r30d", "r31d",
];
const GPR16: [&str; 32] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
    "r14w", "r15w", "r16w", "r17w", "r18w", "r19w", "r20w", "r21w", "r22w", "r23w", "r24w", "r25w",
    "r26w", "r27w", "r28w", "r29w", "r30w", "r31w",
];
const GPR8: [&str; 32] = [
    "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
    "r13b", "r14b", "r15b", "r16b", "r17b", "r18b", "r19b", "r20b", "r21b", "r22b", "r23b", "r24b",
    "r25b", "r26b", "r27b", "r28b", "r29b", "r30b", "r31b",
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
const ST: [&str; 8] = [
    "st(0)", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)",
];
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

/// Size keyword for a memory operand of `size` bytes, if Intel syntax has one.
fn size_keyword(size: u16) -> Option<&'static str> {
    Some(match size {
        1 => "byte",
        2 => "word",
        4 => "dword",
        6 => "fword",
        8 => "qword",
        10 => "tbyte",
        16 => "xmmword",
        32 => "ymmword",
        64 => "zmmword",
        _ => return None,
    })
}

/// Names of the EVEX rounding field values 1..=5.
const ROUNDING: [&str; 5] = ["{rn-sae}", "{rd-sae}", "{ru-sae}", "{rz-sae}", "{sae}"];

/// An instruction with the address it was decoded at, displayed in Intel syntax.
///
/// Made by [`Instruction::display`].
#[derive(Copy, Clone, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Intel<'a> {
    insn: &'a Instruction,
    ip: u64,
}

impl fmt::Display for Intel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.insn.format(self.ip, f)
    }
}

/// Intel syntax with the instruction at address 0 (relative branch targets are offsets from the
/// start of the instruction); [`Instruction::display`] takes the real address.
impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.format(0, f)
    }
}

impl Instruction {
    /// Intel-syntax display of the instruction located at `ip` (used for branch targets).
    ///
    /// ```
    /// use hvemu::decode::{decode, Mode, Vendor};
    /// let insn = decode(&[0x48, 0x89, 0x1f], Mode::Long64, Vendor::Amd).unwrap();
    /// assert_eq!(insn.display(0x1000).to_string(), "mov [rdi],rbx");
    /// ```
    pub fn display(&self, ip: u64) -> Intel<'_> {
        Intel { insn: self, ip }
    }

    /// Writes the instruction located at `ip` in Intel syntax, as objdump -M intel and iced do:
    /// lower case, hex numbers, no space after commas, a size keyword (`dword ptr`) only where no
    /// register operand implies the memory size, string instructions in the short form
    /// (`rep movsb`) unless a segment or address-size override needs the explicit operands.
    pub fn format(&self, ip: u64, w: &mut dyn fmt::Write) -> fmt::Result {
        let ops = self.operands.get(..self.operand_count()).unwrap_or(&[]);
        let string = ops
            .iter()
            .any(|o| matches!(o, Operand::StrSrc { .. } | Operand::StrDst { .. }));
        if self.has_lock() {
            w.write_str("lock ")?;
        }
        if string {
            let cmp = matches!(
                self.op,
                Op::Cmpsb
                    | Op::Cmpsw
                    | Op::Cmpsd
                    | Op::Cmpsq
                    | Op::Scasb
                    | Op::Scasw
                    | Op::Scasd
                    | Op::Scasq
            );
            if self.prefixes.has(Prefixes::REPNE) {
                w.write_str("repne ")?;
            } else if self.prefixes.has(Prefixes::REP) {
                w.write_str(if cmp { "repe " } else { "rep " })?;
            }
        }
        // Op's Display drops the `Far` suffix; the far return keeps its own mnemonic.
        if self.op == Op::RetFar {
            w.write_str("retf")?;
        } else {
            write!(w, "{}", self.op)?;
        }
        // The short form (`rep movsb`) unless the source segment or the address size is not the
        // default.
        let src = ops.iter().any(|o| matches!(o, Operand::StrSrc { .. }));
        let explicit = self.prefixes.has(Prefixes::ADDRSIZE) || (src && self.mem.seg != Seg::Ds);
        if string && !explicit {
            return Ok(());
        }
        // The memory size is shown unless a register operand implies it (not for shift counts, x87
        // registers, or the extending moves whose source size is part of the meaning).
        let shift = matches!(
            self.op,
            Op::Rol
                | Op::Ror
                | Op::Rcl
                | Op::Rcr
                | Op::Shl
                | Op::Shr
                | Op::Sal
                | Op::Sar
                | Op::Movzx
                | Op::Movsx
                | Op::Crc32
        );
        let implied = !shift
            && ops
                .iter()
                .any(|o| matches!(o, Operand::Reg(r) if r.size() == self.mem.size && r.class != RegClass::St));
        let vector = |o: &Operand| matches!(o, Operand::Reg(r) if matches!(r.class, RegClass::Xmm | RegClass::Ymm | RegClass::Zmm));
        let round_after = ops
            .iter()
            .rposition(vector)
            .unwrap_or(ops.len().saturating_sub(1));
        let has_mem = ops.contains(&Operand::Mem);
        let mut first = true;
        for (n, o) in ops.iter().enumerate() {
            // x87 memory forms: ST(0) is implied.
            if has_mem && *o == Operand::Reg(Reg::new(RegClass::St, 0)) {
                continue;
            }
            w.write_str(if first { " " } else { "," })?;
            match *o {
                Operand::None => {}
                Operand::Reg(r) => w.write_str(r.name())?,
                Operand::Mem => self.write_mem(w, self.broadcast || !implied)?,
                Operand::Imm { .. } => write!(w, "{:#x}", self.imm)?,
                Operand::Imm2 => write!(w, "{:#x}", self.imm2)?,
                Operand::Rel { .. } => write!(w, "{:#x}", self.branch_target(ip))?,
                Operand::FarPtr => write!(w, "{:#x}:{:#x}", self.imm2, self.imm)?,
                Operand::StrSrc { size } => self.write_str_op(w, size, self.mem.seg.name(), 6)?,
                Operand::StrDst { size } => self.write_str_op(w, size, "es", 7)?,
                Operand::One => w.write_str("1")?,
            }
            if first && self.mask != 0 {
                write!(w, "{{k{}}}", self.mask)?;
            }
            if first && self.zeroing {
                w.write_str("{z}")?;
            }
            first = false;
            let rounding = ROUNDING.get(usize::from(self.rounding).wrapping_sub(1));
            if let Some(r) = rounding.filter(|_| n == round_after) {
                write!(w, ",{r}")?;
            }
        }
        Ok(())
    }

    /// `[base+index*scale+disp]` with the override segment and, if `sized`, the size keyword.
    fn write_mem(&self, w: &mut dyn fmt::Write, sized: bool) -> fmt::Result {
        let m = &self.mem;
        if let Some(k) = size_keyword(m.size).filter(|_| sized) {
            write!(w, "{k} ptr ")?;
        }
        // The segment is shown when an override changes it (64-bit mode ignores ES, CS, SS, DS).
        let stack = matches!(m.base, Some(b) if b.class != RegClass::Ip && matches!(b.num, 4 | 5));
        let default = if stack { Seg::Ss } else { Seg::Ds };
        if self.seg_override == Some(m.seg) && m.seg != default {
            write!(w, "{}:", m.seg.name())?;
        }
        w.write_char('[')?;
        let mut sep = "";
        if let Some(b) = m.base {
            w.write_str(b.name())?;
            sep = "+";
        }
        if let Some(x) = m.index {
            write!(w, "{sep}{}", x.name())?;
            if m.scale > 1 || m.base.is_none() {
                write!(w, "*{}", m.scale)?;
            }
            sep = "+";
        }
        if sep.is_empty() {
            let mask = match self.addr_size {
                2 => 0xffff,
                4 => 0xffff_ffff,
                _ => u64::MAX,
            };
            write!(w, "{:#x}", m.disp as u64 & mask)?;
        } else if m.disp < 0 {
            write!(w, "-{:#x}", m.disp.unsigned_abs())?;
        } else if m.disp > 0 {
            write!(w, "+{:#x}", m.disp)?;
        }
        w.write_char(']')?;
        if self.broadcast {
            // Elements in the vector: the wider of the broadcast and destination elements
            // decides (VCVTDQ2PD zmm0,[rax]{1to8}).
            let elem = m.size.max(self.dest_elem()).max(1);
            let n = u16::from(self.vl).checked_div(elem).unwrap_or_default();
            write!(w, "{{1to{n}}}")?;
        }
        Ok(())
    }

    /// Explicit string operand `size ptr seg:[rSI]` (`reg` 6) or `es:[rDI]` (`reg` 7).
    fn write_str_op(&self, w: &mut dyn fmt::Write, size: u8, seg: &str, reg: u8) -> fmt::Result {
        let kw = size_keyword(u16::from(size)).unwrap_or("byte");
        let r = Reg::gpr(self.addr_size, reg).name();
        write!(w, "{kw} ptr {seg}:[{r}]")
    }

    /// Destination element size of a conversion (`Vcvtdq2pd`: 8), 0 for other operations.
    fn dest_elem(&self) -> u16 {
        // Byte-wise: `str` searching keeps panic paths in a freestanding build.
        let name = self.op.name().as_bytes();
        let Some(cvt) = name.strip_prefix(b"Vcvt") else {
            return 0;
        };
        let dst = match cvt.iter().rposition(|&c| c == b'2') {
            Some(p) => cvt.get(p.saturating_add(1)..).unwrap_or(&[]),
            None => return 0,
        };
        if dst.starts_with(b"ph") || dst.starts_with(b"bf") || dst.ends_with(b"w") {
            2
        } else if dst.ends_with(b"pd") || dst.ends_with(b"qq") {
            8
        } else {
            4
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::insn::{Encoding, Map, MemOperand};
    use super::*;
    use std::string::{String, ToString};

    const fn r(class: RegClass, num: u8) -> Operand {
        Operand::Reg(Reg::new(class, num))
    }
    const RAX: Operand = r(RegClass::Gpr64, 0);
    const RDI: Reg = Reg::new(RegClass::Gpr64, 7);

    fn insn(op: Op, operands: &[Operand]) -> Instruction {
        let mut ops = [Operand::None; 4];
        ops[..operands.len()].copy_from_slice(operands);
        Instruction {
            len: 3,
            op,
            op_size: 8,
            addr_size: 8,
            encoding: Encoding::Legacy,
            map: Map::Primary,
            opcode: 0,
            modrm: 0,
            prefixes: Prefixes(0),
            seg_override: None,
            operands: ops,
            mem: MemOperand::EMPTY,
            imm: 0,
            imm2: 0,
            vl: 0,
            mask: 0,
            zeroing: false,
            broadcast: false,
            rounding: 0,
        }
    }

    fn mem(base: Option<Reg>, index: Option<Reg>, scale: u8, disp: i64, size: u16) -> MemOperand {
        MemOperand {
            seg: Seg::Ds,
            base,
            index,
            scale,
            disp,
            disp_size: 1,
            size,
        }
    }

    fn text(i: &Instruction) -> String {
        i.to_string()
    }

    #[test]
    fn registers_and_memory() {
        let mut i = insn(Op::Mov, &[Operand::Mem, r(RegClass::Gpr64, 3)]);
        i.mem = mem(Some(RDI), None, 1, 0, 8);
        assert_eq!(text(&i), "mov [rdi],rbx");
        i.mem.disp = 8;
        assert_eq!(text(&i), "mov [rdi+0x8],rbx");
        // An immediate does not imply the size.
        let mut i = insn(Op::Mov, &[Operand::Mem, Operand::Imm { size: 4 }]);
        i.mem = mem(Some(Reg::gpr(8, 0)), None, 1, 0x3818, 4);
        i.imm = 5;
        assert_eq!(text(&i), "mov dword ptr [rax+0x3818],0x5");
        // Register of another size: movzx.
        let mut i = insn(Op::Movzx, &[r(RegClass::Gpr32, 0), Operand::Mem]);
        i.mem = mem(Some(RDI), None, 1, 5, 1);
        assert_eq!(text(&i), "movzx eax,byte ptr [rdi+0x5]");
        // Negative displacement, index and scale, segment override.
        let mut i = insn(Op::Mov, &[RAX, Operand::Mem]);
        i.mem = mem(Some(Reg::gpr(8, 5)), Some(Reg::gpr(8, 9)), 4, -8, 8);
        i.seg_override = Some(Seg::Fs);
        i.mem.seg = Seg::Fs;
        assert_eq!(text(&i), "mov rax,fs:[rbp+r9*4-0x8]");
        // An override without effect (CS in 64-bit mode, SS for RBP) is not shown.
        i.seg_override = Some(Seg::Cs);
        i.mem.seg = Seg::Ss;
        assert_eq!(text(&i), "mov rax,[rbp+r9*4-0x8]");
        i.seg_override = Some(Seg::Ss);
        assert_eq!(text(&i), "mov rax,[rbp+r9*4-0x8]");
        i.mem.base = Some(Reg::gpr(8, 13));
        assert_eq!(text(&i), "mov rax,ss:[r13+r9*4-0x8]");
        // An index without a base keeps its scale of 1.
        i.mem = mem(None, Some(Reg::gpr(8, 0)), 1, 0x10, 8);
        assert_eq!(text(&i), "mov rax,[rax*1+0x10]");
        // Absolute address, masked to the address size; RIP-relative.
        let mut i = insn(Op::Mov, &[r(RegClass::Gpr32, 0), Operand::Mem]);
        i.mem = mem(None, None, 1, -16, 4);
        i.addr_size = 4;
        assert_eq!(text(&i), "mov eax,[0xfffffff0]");
        i.mem.base = Some(Reg::RIP);
        i.mem.disp = 0x10;
        i.addr_size = 8;
        assert_eq!(text(&i), "mov eax,[rip+0x10]");
        // LEA: no size keyword for an address-only operand.
        let mut i = insn(Op::Lea, &[RAX, Operand::Mem]);
        i.mem = mem(None, Some(Reg::gpr(8, 3)), 8, 0, 0);
        assert_eq!(text(&i), "lea rax,[rbx*8]");
        // 16-bit addressing.
        let mut i = insn(Op::Mov, &[r(RegClass::Gpr8, 0), Operand::Mem]);
        i.mem = mem(Some(Reg::gpr(2, 3)), Some(Reg::gpr(2, 6)), 1, 0x10, 1);
        i.seg_override = Some(Seg::Es);
        i.mem.seg = Seg::Es;
        i.addr_size = 2;
        assert_eq!(text(&i), "mov al,es:[bx+si+0x10]");
        // Shift counts do not imply the memory size.
        let mut i = insn(Op::Shl, &[Operand::Mem, r(RegClass::Gpr8, 1)]);
        i.mem = mem(Some(RDI), None, 1, 0, 1);
        assert_eq!(text(&i), "shl byte ptr [rdi],cl");
        let mut i = insn(Op::Movzx, &[r(RegClass::Gpr16, 2), Operand::Mem]);
        i.mem = mem(Some(RDI), None, 1, 0, 2);
        assert_eq!(text(&i), "movzx dx,word ptr [rdi]");
        let mut i = insn(Op::Sar, &[r(RegClass::Gpr32, 2), Operand::One]);
        i.op_size = 4;
        assert_eq!(text(&i), "sar edx,1");
    }

    #[test]
    fn prefixes_and_strings() {
        let mut i = insn(Op::Or, &[Operand::Mem, Operand::Imm { size: 1 }]);
        i.mem = mem(Some(RDI), None, 1, 0, 4);
        i.imm = 1;
        i.prefixes = Prefixes(Prefixes::LOCK);
        assert_eq!(text(&i), "lock or dword ptr [rdi],0x1");
        let mut i = insn(
            Op::Movsb,
            &[Operand::StrDst { size: 1 }, Operand::StrSrc { size: 1 }],
        );
        i.prefixes = Prefixes(Prefixes::REP | Prefixes::F3);
        assert_eq!(text(&i), "rep movsb");
        let mut i = insn(Op::Stosq, &[Operand::StrDst { size: 8 }, RAX]);
        i.prefixes = Prefixes(Prefixes::REP);
        assert_eq!(text(&i), "rep stosq");
        let mut i = insn(
            Op::Cmpsb,
            &[Operand::StrSrc { size: 1 }, Operand::StrDst { size: 1 }],
        );
        i.prefixes = Prefixes(Prefixes::REP);
        assert_eq!(text(&i), "repe cmpsb");
        i.prefixes = Prefixes(Prefixes::REPNE);
        assert_eq!(text(&i), "repne cmpsb");
        // A DS override is the default for the source: still the short form.
        i.seg_override = Some(Seg::Ds);
        assert_eq!(text(&i), "repne cmpsb");
        let mut i = insn(
            Op::Outsb,
            &[r(RegClass::Gpr16, 2), Operand::StrSrc { size: 1 }],
        );
        i.prefixes = Prefixes(Prefixes::REP);
        assert_eq!(text(&i), "rep outsb");
        // Overrides need the explicit form.
        i.seg_override = Some(Seg::Fs);
        i.mem.seg = Seg::Fs;
        i.addr_size = 4;
        i.prefixes = Prefixes(Prefixes::REP | Prefixes::ADDRSIZE);
        assert_eq!(text(&i), "rep outsb dx,byte ptr fs:[esi]");
        // REP on a non-string instruction is not shown.
        let mut i = insn(Op::Ret, &[]);
        i.prefixes = Prefixes(Prefixes::REP);
        assert_eq!(text(&i), "ret");
        assert_eq!(text(&insn(Op::RetFar, &[])), "retf");
        let i = insn(Op::In, &[r(RegClass::Gpr8, 0), r(RegClass::Gpr16, 2)]);
        assert_eq!(text(&i), "in al,dx");
    }

    #[test]
    fn branches_and_immediates() {
        let mut i = insn(Op::Call, &[Operand::Rel { size: 4 }]);
        i.len = 5;
        i.imm = (-5i64) as u64;
        assert_eq!(i.display(0x1000).to_string(), "call 0x1000");
        i.imm = 0x10;
        assert_eq!(i.display(0x1000).to_string(), "call 0x1015");
        let mut i = insn(Op::JmpFar, &[Operand::FarPtr]);
        i.imm = 0x1000;
        i.imm2 = 0x10;
        assert_eq!(text(&i), "jmp 0x10:0x1000");
        let mut i = insn(Op::JmpFar, &[Operand::Mem]);
        i.mem = mem(Some(Reg::gpr(8, 0)), None, 1, 0, 6);
        assert_eq!(text(&i), "jmp fword ptr [rax]");
        let mut i = insn(Op::Enter, &[Operand::Imm { size: 2 }, Operand::Imm2]);
        i.imm = 0x20;
        assert_eq!(text(&i), "enter 0x20,0x0");
        let mut i = insn(Op::Add, &[RAX, Operand::Imm { size: 1 }]);
        i.imm = (-8i64) as u64;
        assert_eq!(text(&i), "add rax,0xfffffffffffffff8");
    }

    #[test]
    fn x87() {
        let i = insn(Op::Fadd, &[r(RegClass::St, 0), r(RegClass::St, 3)]);
        assert_eq!(text(&i), "fadd st(0),st(3)");
        let mut i = insn(Op::Fld, &[r(RegClass::St, 0), Operand::Mem]);
        i.mem = mem(Some(RDI), None, 1, 0, 10);
        assert_eq!(text(&i), "fld tbyte ptr [rdi]");
    }

    #[test]
    fn vector() {
        let xmm = |n| r(RegClass::Xmm, n);
        let zmm = |n| r(RegClass::Zmm, n);
        let mut i = insn(Op::Movdqu, &[xmm(0), Operand::Mem]);
        i.mem = mem(Some(RDI), None, 1, 0, 16);
        assert_eq!(text(&i), "movdqu xmm0,[rdi]");
        let mut i = insn(Op::Movq, &[xmm(1), Operand::Mem]);
        i.mem = mem(Some(RDI), None, 1, 0, 8);
        assert_eq!(text(&i), "movq xmm1,qword ptr [rdi]");
        // EVEX masking, zeroing and rounding.
        let mut i = insn(Op::Vaddps, &[zmm(0), zmm(1), zmm(2)]);
        i.encoding = Encoding::Evex;
        i.vl = 64;
        i.mask = 1;
        i.zeroing = true;
        i.rounding = 1;
        assert_eq!(text(&i), "vaddps zmm0{k1}{z},zmm1,zmm2,{rn-sae}");
        i.rounding = 5;
        i.operands[3] = Operand::Imm { size: 1 };
        i.imm = 0x4;
        assert_eq!(text(&i), "vaddps zmm0{k1}{z},zmm1,zmm2,{sae},0x4");
        // Broadcast of a dword and of a qword.
        let mut i = insn(Op::Vaddps, &[zmm(0), zmm(1), Operand::Mem]);
        i.vl = 64;
        i.broadcast = true;
        i.mem = mem(Some(Reg::gpr(8, 0)), None, 1, 0, 4);
        assert_eq!(text(&i), "vaddps zmm0,zmm1,dword ptr [rax]{1to16}");
        i.op = Op::Vaddpd;
        i.prefixes = Prefixes(Prefixes::W);
        i.mem.size = 8;
        assert_eq!(text(&i), "vaddpd zmm0,zmm1,qword ptr [rax]{1to8}");
        // Conversions: the wider of the two element sizes gives the count.
        let mut i = insn(Op::Vcvtdq2pd, &[zmm(0), Operand::Mem]);
        i.vl = 64;
        i.broadcast = true;
        i.mem = mem(Some(Reg::gpr(8, 0)), None, 1, 0, 4);
        assert_eq!(text(&i), "vcvtdq2pd zmm0,dword ptr [rax]{1to8}");
        i.op = Op::Vcvtph2psx;
        i.mem.size = 2;
        assert_eq!(text(&i), "vcvtph2psx zmm0,word ptr [rax]{1to16}");
        i.op = Op::Vcvtpd2ps;
        i.operands[0] = r(RegClass::Ymm, 0);
        i.mem.size = 8;
        assert_eq!(text(&i), "vcvtpd2ps ymm0,qword ptr [rax]{1to8}");
        let mut i = insn(Op::Vaddph, &[zmm(0), zmm(1), Operand::Mem]);
        i.vl = 64;
        i.broadcast = true;
        i.mem = mem(Some(Reg::gpr(8, 0)), None, 1, 0, 2);
        assert_eq!(text(&i), "vaddph zmm0,zmm1,word ptr [rax]{1to32}");
        // VSIB with a mask on the destination.
        let mut i = insn(Op::Vpgatherdd, &[zmm(1), Operand::Mem]);
        i.mask = 2;
        i.mem = mem(
            Some(Reg::gpr(8, 0)),
            Some(Reg::new(RegClass::Zmm, 1)),
            4,
            0,
            4,
        );
        assert_eq!(text(&i), "vpgatherdd zmm1{k2},dword ptr [rax+zmm1*4]");
        // VEX is4 register and opmask destination.
        let mut i = insn(
            Op::Vpcmpd,
            &[r(RegClass::K, 1), zmm(2), zmm(3), Operand::Imm { size: 1 }],
        );
        i.mask = 7;
        i.imm = 2;
        assert_eq!(text(&i), "vpcmpd k1{k7},zmm2,zmm3,0x2");
    }
}
