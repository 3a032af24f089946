//! Vector register access, the x87/MMX bookkeeping of MMX instructions, the enabling rules
//! (#UD, #NM, #MF) and aligned memory operands.

use super::{Family, Vector, width};
use crate::decode::{Instruction, Mode, Reg, RegClass, Seg};
use crate::emulator::{Fault, Machine, Stop, VectorState};
use crate::mem::{Intent, Prepared};
use crate::regs::{RegValue, Slot};

const CR0_EM: u64 = 1 << 2;
const CR0_TS: u64 = 1 << 3;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXSAVE: u64 = 1 << 18;
/// XCR0: x87, SSE and AVX state.
const XCR0_AVX: u64 = 0b110;
/// XCR0: AVX plus opmask, ZMM_Hi256 and Hi16_ZMM state.
const XCR0_AVX512: u64 = 0b1110_0110;
/// FSW: exception summary (an unmasked x87 exception is pending).
const FSW_ES: u64 = 1 << 7;
/// FSW: TOP, bits 11..14.
const FSW_TOP: u64 = 7 << 11;
/// #MF.
const MF: Fault = Fault {
    vector: 16,
    error_code: None,
    cr2: None,
};

/// The MMX registers in architectural order (MM0..MM7) while an MMX instruction runs.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct MmxRegs {
    /// Whether the instruction uses MMX registers at all.
    active: bool,
    /// FSW.TOP before the instruction: MM`n` was in FXSAVE slot ST((n - top) mod 8).
    top: u8,
    /// MM0..MM7.
    pub mm: [u64; 8],
    /// Registers written.
    pub written: u8,
}

impl MmxRegs {
    /// No MMX instruction running (for reads of XMM, YMM and ZMM registers).
    pub(super) const NONE: MmxRegs = MmxRegs {
        active: false,
        top: 0,
        mm: [0; 8],
        written: 0,
    };
}

impl<C: ?Sized> Machine<'_, C> {
    /// #UD and #NM (and #MF for MMX) from CR0, CR4, XCR0 and the x87 status.
    #[inline(never)]
    pub(super) fn check_enabled(&self, fam: Family) -> Result<(), Stop> {
        let (cr0, cr4, xcr0) = (self.regs.cr0, self.regs.cr4, self.regs.xcr0);
        let ud = match fam {
            Family::Mmx => cr0 & CR0_EM != 0,
            Family::Sse => cr0 & CR0_EM != 0 || cr4 & CR4_OSFXSR == 0,
            Family::Vex => cr4 & CR4_OSXSAVE == 0 || xcr0 & XCR0_AVX != XCR0_AVX,
            Family::Evex => cr4 & CR4_OSXSAVE == 0 || xcr0 & XCR0_AVX512 != XCR0_AVX512,
        };
        if ud {
            return Err(Fault::UD.into());
        }
        if cr0 & CR0_TS != 0 {
            return Err(Fault::NM.into());
        }
        if fam == Family::Mmx && self.regs.fp_control.lo & (FSW_ES << 16) != 0 {
            return Err(MF.into());
        }
        Ok(())
    }

    /// The MMX registers, for an MMX instruction (FXSAVE slots reordered by the x87 TOP).
    #[inline(never)]
    pub(super) fn mmx_enter(&self, fam: Family) -> MmxRegs {
        if fam != Family::Mmx {
            return MmxRegs::default();
        }
        let top = ((self.regs.fp_control.lo >> 16 & FSW_TOP) >> 11) as u8;
        let mut r = MmxRegs {
            active: true,
            top,
            ..MmxRegs::default()
        };
        for (n, mm) in r.mm.iter_mut().enumerate() {
            let slot = (n as u8).wrapping_sub(top) & 7;
            *mm = self.regs.fp_mmx.get(slot as usize).map_or(0, |v| v.lo);
        }
        r
    }

    /// After an MMX instruction: TOP = 0 and every tag valid (so the FXSAVE slots now hold
    /// MM0..MM7 in order), written registers get exponent and sign all ones.
    #[inline(never)]
    pub(super) fn mmx_leave(&mut self, r: MmxRegs) {
        if !r.active {
            return;
        }
        let old = self.regs.fp_mmx;
        for n in 0..8u8 {
            let from = n.wrapping_sub(r.top) & 7;
            let mut v = old.get(from as usize).copied().unwrap_or_default();
            if r.written & (1 << n) != 0 {
                v = RegValue {
                    lo: r.mm.get(n as usize).copied().unwrap_or(0),
                    hi: 0xffff,
                };
            }
            if old.get(n as usize) != Some(&v) || r.top != 0 {
                if let Some(s) = self.regs.fp_mmx.get_mut(n as usize) {
                    *s = v;
                }
                self.regs.mark_dirty(Slot::FpMmx0.nth(n));
            }
        }
        let fc = self.regs.fp_control;
        let lo = (fc.lo & !(FSW_TOP << 16) & !(0xff << 32)) | (0xff << 32);
        if lo != fc.lo {
            self.regs.fp_control.lo = lo;
            self.regs.mark_dirty(Slot::FpControlStatus as u8);
        }
    }

    /// Bytes of the widest vector register the host serves (the processor's MAXVL).
    pub(super) fn max_vl(&self) -> usize {
        match self.config.vector_state {
            VectorState::Xmm => 16,
            VectorState::Ymm => 32,
            VectorState::Zmm => 64,
        }
    }

    fn part(&self, n: u8, p: usize) -> u128 {
        if p == 0 && n < 16 {
            self.regs.xmm.get(n as usize).copied().unwrap_or(0)
        } else {
            self.regs.wide.get(p).copied().unwrap_or(0)
        }
    }

    fn set_part(&mut self, n: u8, p: usize, v: u128) {
        if p == 0 && n < 16 {
            if let Some(x) = self.regs.xmm.get_mut(n as usize) {
                *x = v;
            }
            self.regs.mark_dirty(Slot::Xmm0.nth(n));
        } else {
            if let Some(x) = self.regs.wide.get_mut(p) {
                *x = v;
            }
            self.regs.mark_ext_dirty(p as u8);
        }
    }

    /// The value of vector or MMX register `r` (its class's width; the rest zero).
    #[inline(never)]
    pub(super) fn vec_read(&self, r: Reg, mmx: &MmxRegs) -> Vector {
        let mut out = [0u128; 4];
        if r.class == RegClass::Mmx {
            out[0] = mmx.mm.get((r.num & 7) as usize).copied().unwrap_or(0) as u128;
            return out;
        }
        for (p, lane) in out.iter_mut().enumerate().take(width(r.class) / 16) {
            *lane = self.part(r.num, p);
        }
        out
    }

    /// Writes the first `len` bytes of `v` to vector or MMX register `r` (8 for MMX, a
    /// multiple of 16 otherwise); with `zero_upper` (VEX and EVEX) the bytes from `len` up to
    /// MAXVL become 0, else they keep their value.
    pub(super) fn vec_write(
        &mut self,
        r: Reg,
        v: &Vector,
        len: usize,
        zero_upper: bool,
        mmx: &mut MmxRegs,
    ) {
        if r.class == RegClass::Mmx {
            let n = (r.num & 7) as usize;
            if let Some(mm) = mmx.mm.get_mut(n) {
                *mm = v[0] as u64;
            }
            mmx.written |= 1 << n;
        } else {
            self.xmm_write(r, v, len, zero_upper);
        }
    }

    /// [`vec_write`](Self::vec_write) for XMM, YMM and ZMM registers.
    pub(super) fn xmm_write(&mut self, r: Reg, v: &Vector, len: usize, zero_upper: bool) {
        let top = if zero_upper { self.max_vl() } else { len };
        for (p, lane) in v.iter().enumerate().take(top / 16) {
            let value = if p.wrapping_mul(16) < len { *lane } else { 0 };
            self.set_part(r.num, p, value);
        }
    }

    /// Prepares the memory operand for `size` bytes; `align` > 1 requires that alignment of the
    /// linear address (#GP(0) otherwise, whatever the segment).
    pub(super) fn prepare_vector(
        &mut self,
        insn: &Instruction,
        size: u16,
        intent: Intent,
        align: u16,
    ) -> Result<Prepared, Stop> {
        let ea = self.effective_address(insn);
        let seg = self.operand_segment(insn);
        if align > 1 {
            let flat = self.mode == Mode::Long64 && !matches!(seg, Seg::Fs | Seg::Gs);
            let base = if flat { 0 } else { self.segment(seg).base };
            if base.wrapping_add(ea) & (align as u64).wrapping_sub(1) != 0 {
                return Err(Fault::GP0.into());
            }
        }
        let linear = self.linearize_checked(seg, ea, size, intent)?;
        self.prepare_linear(linear, size, intent)
    }
}
