//! AVX-512 moves under an opmask: VMOVDQU8/16/32/64, VMOVDQA32/64, VMOVUPS, VMOVAPS, VMOVUPD,
//! VMOVAPD at 128, 256 and 512 bits. Masked-off elements are not accessed and never fault;
//! a load merges into the destination or zeroes the masked elements; the aligned forms check
//! the alignment of the whole operand when any element is unmasked.

use super::state::MmxRegs;
use super::{Form, Vector, from_bytes, set_element, to_bytes, width};
use crate::decode::{Instruction, Mode, Operand, Seg};
use crate::emulator::{Fault, Machine, Refusal, Stop};
use crate::mem::{Intent, Transfer};

/// Runs of consecutive set bits of `mask`, as (first element, count), lowest first.
fn runs(mut mask: u64) -> impl Iterator<Item = (usize, usize)> {
    core::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let start = mask.trailing_zeros() as usize;
        let len = (mask >> start).trailing_ones() as usize;
        mask &= !(u64::MAX >> (64 - len) << start);
        Some((start, len))
    })
}

/// The bytes of the elements selected by `mask`, as lane masks.
fn byte_mask(mask: u64, e: usize) -> Vector {
    let mut out = [0u128; 4];
    for i in 0..64 / e {
        if mask >> i & 1 != 0 {
            set_element(&mut out, i * e, e, u128::MAX);
        }
    }
    out
}

#[inline(never)]
pub(super) fn execute<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
) -> Result<(), Stop> {
    let [dst, src, ..] = insn.operands;
    let vl = match (dst, src) {
        (Operand::Reg(r), _) | (_, Operand::Reg(r)) => width(r.class),
        _ => return Err(Refusal::Unsupported(insn.op).into()),
    };
    let e = form.mask_element as usize;
    let count = vl / e;
    let all = if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    };
    let mask = if insn.mask == 0 {
        all
    } else {
        m.regs.k.get(insn.mask as usize).copied().unwrap_or(0) & all
    };
    let mut no_mmx = MmxRegs::default();
    match (dst, src) {
        (Operand::Mem, Operand::Reg(s)) => {
            if insn.zeroing {
                return Err(Fault::UD.into());
            }
            let mut v = to_bytes(&m.vec_read(s, &no_mmx));
            memory(m, insn, form, vl, mask, Intent::Write, &mut v)
        }
        (Operand::Reg(d), _) => {
            let loaded = match src {
                Operand::Mem => {
                    let mut b = [0; 64];
                    memory(m, insn, form, vl, mask, Intent::Read, &mut b)?;
                    from_bytes(&b)
                }
                Operand::Reg(s) => m.vec_read(s, &no_mmx),
                _ => return Err(Refusal::Unsupported(insn.op).into()),
            };
            let mut out = if insn.zeroing {
                [0u128; 4]
            } else {
                m.vec_read(d, &no_mmx)
            };
            for ((o, l), s) in out.iter_mut().zip(&loaded).zip(&byte_mask(mask, e)) {
                *o = (l & s) | (*o & !s);
            }
            m.vec_write(d, &out, vl, true, &mut no_mmx);
            Ok(())
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// Reads (into `data`) or writes (from `data`) the unmasked elements of the memory operand, in
/// address order, after checking alignment and every run of unmasked elements.
fn memory<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    vl: usize,
    mask: u64,
    intent: Intent,
    data: &mut [u8; 64],
) -> Result<(), Stop> {
    let ea = m.effective_address(insn);
    let seg = m.operand_segment(insn);
    let e = form.mask_element as usize;
    // With every element masked off nothing is checked, alignment included (measured on the
    // AMD host; with any element unmasked a misaligned aligned form raises #GP(0)).
    if mask == 0 {
        return Ok(());
    }
    if form.aligned {
        let flat = m.mode == Mode::Long64 && !matches!(seg, Seg::Fs | Seg::Gs);
        let base = if flat { 0 } else { m.segment(seg).base };
        if base.wrapping_add(ea) & (vl as u64 - 1) != 0 {
            return Err(Fault::GP0.into());
        }
    }
    let run_offset = |start: usize| {
        let o = ea.wrapping_add((start * e) as u64);
        match insn.addr_size {
            2 => o & 0xffff,
            4 => o & 0xffff_ffff,
            _ => o,
        }
    };
    // Every run is checked before the first access, each on its own: a #PF names the first
    // unmasked byte on the faulting page (measured), not the start of the page.
    for (start, len) in runs(mask) {
        m.prepare(seg, run_offset(start), (len * e) as u16, intent)?;
    }
    for (start, len) in runs(mask) {
        let p = m.prepare(seg, run_offset(start), (len * e) as u16, intent)?;
        let at = start * e;
        let bytes = data.get_mut(at..at + len * e).unwrap_or(&mut []);
        let transfer = match intent {
            Intent::Read => Transfer::Read(bytes),
            _ => Transfer::Write(bytes),
        };
        m.access_range(&p, 0, transfer)?;
    }
    Ok(())
}
