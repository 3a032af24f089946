//! AVX-512 moves under an opmask: VMOVDQU8/16/32/64, VMOVDQA32/64, VMOVUPS, VMOVAPS, VMOVUPD,
//! VMOVAPD at 128, 256 and 512 bits. Masked-off elements are not accessed and never fault;
//! a load merges into the destination or zeroes the masked elements; see [`memory`] for the
//! order of the checks.

use core::num::NonZeroUsize;

use super::state::MmxRegs;
use super::{Form, from_bytes, to_bytes, width};
use crate::decode::{Instruction, Mode, Operand, Seg, Vendor};
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
        mask &= !(u64::MAX >> 64usize.wrapping_sub(len) << start);
        Some((start, len))
    })
}

/// The bytes of lane `lane` that belong to the elements selected by `mask` (`e` bytes each).
fn lane_mask(mask: u64, e: NonZeroUsize, lane: usize) -> u128 {
    // At most 16 elements of a lane, four lanes: the products stay small.
    let per_lane = 16 / e;
    let bits = (mask >> lane.wrapping_mul(per_lane)) & (1u64 << per_lane).wrapping_sub(1);
    let mut out = 0u128;
    for i in 0..per_lane {
        if bits >> i & 1 != 0 {
            out |= super::low_bytes(e.get()) << i.wrapping_mul(e.get()).wrapping_mul(8);
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
    // Only the masked forms come here, whose element size is not 0.
    let Some(e) = NonZeroUsize::new(form.mask_element as usize) else {
        return Err(Refusal::Unsupported(insn.op).into());
    };
    let count = vl / e;
    let all = if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count).wrapping_sub(1)
    };
    let mask = if insn.mask == 0 {
        all
    } else {
        m.regs.k.get(insn.mask as usize).copied().unwrap_or(0) & all
    };
    let no_mmx = &MmxRegs::NONE;
    match (dst, src) {
        (Operand::Mem, Operand::Reg(s)) => {
            if insn.zeroing {
                return Err(Fault::UD.into());
            }
            let mut v = to_bytes(&m.vec_read(s, no_mmx));
            memory(m, insn, form, vl, mask, Intent::Write, &mut v)
        }
        (Operand::Reg(d), _) => {
            let loaded = match src {
                Operand::Mem => {
                    let mut b = [0; 64];
                    memory(m, insn, form, vl, mask, Intent::Read, &mut b)?;
                    from_bytes(&b)
                }
                Operand::Reg(s) => m.vec_read(s, no_mmx),
                _ => return Err(Refusal::Unsupported(insn.op).into()),
            };
            let mut out = if insn.zeroing {
                [0u128; 4]
            } else {
                m.vec_read(d, no_mmx)
            };
            for (lane, (o, l)) in out.iter_mut().zip(&loaded).enumerate() {
                let s = lane_mask(mask, e, lane);
                *o = (l & s) | (*o & !s);
            }
            m.xmm_write(d, &out, vl, true);
            Ok(())
        }
        _ => Err(Refusal::Unsupported(insn.op).into()),
    }
}

/// Reads (into `data`) or writes (from `data`) the unmasked elements of the memory operand,
/// in address order, once every one of them is known not to fault.
///
/// As measured on the AMD host (Zen 4; Intel differs where `check` says so):
/// - an all-zero mask accesses nothing and faults on nothing, the aligned forms' #GP included;
/// - the aligned forms' alignment (#GP(0), to the vector length) comes first;
/// - without an opmask (`{k0}`) the operand is one access of the whole vector: the alignment
///   check (#AC) takes it as a 16-, 32- or 64-byte access, canonical and limit checks cover
///   all of it; but a 512-bit store is checked as two 32-byte halves, the low one first (limit
///   or canonical form, alignment, pages: a ZMM store whose low half ends below the 4 GiB
///   limit or the non-canonical hole faults on the low half's page first, where a ZMM load
///   raises #GP);
/// - under an opmask the unmasked elements are checked one by one, lowest address first:
///   segment limit or canonical form (#GP(0) or #SS(0)), then the alignment check (#AC(0) to
///   the element size, not the vector's: every element shares the first one's alignment)
///   before the first element's page, then the page (#PF, CR2 the element's first byte on the
///   faulting page). So an unmasked element at a not-present page faults before a
///   non-canonical one after it, and element offsets run past the 4 GiB limit (#GP) rather
///   than wrapping at the address size;
/// - nothing is written unless every unmasked element can be.
#[allow(clippy::too_many_arguments)]
fn memory<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    vl: usize,
    mask: u64,
    intent: Intent,
    data: &mut [u8; 64],
) -> Result<(), Stop> {
    // Two functions, so that the checks' deepest calls (the host's) do not carry the
    // transfer's frame.
    let (seg, ea) = check(m, insn, form, vl, mask, intent)?;
    transfer(m, seg, ea, form.mask_element as usize, mask, intent, data)
}

/// The checks of [`memory`]; the operand's segment and effective address.
#[inline(never)]
fn check<C: ?Sized>(
    m: &mut Machine<'_, C>,
    insn: &Instruction,
    form: Form,
    vl: usize,
    mask: u64,
    intent: Intent,
) -> Result<(Seg, u64), Stop> {
    let ea = m.effective_address(insn);
    let seg = m.operand_segment(insn);
    let e = form.mask_element as usize;
    if mask == 0 {
        return Ok((seg, ea));
    }
    if form.aligned {
        let flat = m.mode == Mode::Long64 && !matches!(seg, Seg::Fs | Seg::Gs);
        let base = if flat { 0 } else { m.segment(seg).base };
        if base.wrapping_add(ea) & (vl as u64).wrapping_sub(1) != 0 {
            return Err(Fault::GP0.into());
        }
    }
    if insn.mask == 0 {
        let (parts, part): (usize, usize) = if vl == 64 && intent == Intent::Write {
            (2, 32)
        } else {
            (1, vl)
        };
        for i in 0..parts {
            let at = ea.wrapping_add(i.wrapping_mul(part) as u64);
            m.prepare(seg, at, part as u16, intent)?;
        }
        return Ok((seg, ea));
    }
    if intent == Intent::Write && m.config.vendor == Vendor::Intel {
        store_span_pages(m, seg, ea, e, mask)?;
    }
    let mut first_element = true;
    for (start, len) in runs(mask) {
        // The elements of the run that pass segmentation (a prefix), then their pages.
        let mut linear = None;
        let mut passed = 0usize;
        let mut seg_fault = None;
        // Element indices below 64 and element sizes of at most 8 bytes: no overflow.
        for i in start..start.wrapping_add(len) {
            let at = ea.wrapping_add(i.wrapping_mul(e) as u64);
            match m.linearize(seg, at, e as u16, intent) {
                Ok(l) => {
                    linear.get_or_insert(l);
                    passed = passed.wrapping_add(1);
                }
                Err(f) => {
                    seg_fault = Some(f);
                    break;
                }
            }
        }
        if let Some(l) = linear {
            // Intel checks the alignment of no vector move's elements (measured).
            if first_element && m.config.vendor == Vendor::Amd {
                m.check_alignment(l, e as u16)?;
                first_element = false;
            }
            m.translate_range(l, passed.wrapping_mul(e) as u16, intent)?;
        }
        if let Some(f) = seg_fault {
            return Err(f);
        }
    }
    Ok((seg, ea))
}

/// Intel (5th-generation Xeon) checks the pages of a masked store as of one access from the
/// first unmasked element to the last one's last byte: the first byte's page, then the last
/// byte's, which is CR2 when that page faults (measured); AMD checks element by element.
#[inline(never)]
fn store_span_pages<C: ?Sized>(
    m: &mut Machine<'_, C>,
    seg: Seg,
    ea: u64,
    e: usize,
    mask: u64,
) -> Result<(), Stop> {
    let first = mask.trailing_zeros() as usize;
    let last = 63usize.wrapping_sub(mask.leading_zeros() as usize);
    let lo = ea.wrapping_add(first.wrapping_mul(e) as u64);
    let hi = ea.wrapping_add(last.wrapping_add(1).wrapping_mul(e).wrapping_sub(1) as u64);
    // A segmentation fault is left to the element checks; a failed host call ends here.
    let linear = |m: &mut Machine<'_, C>, at| match m.linearize(seg, at, 1, Intent::Write) {
        Ok(l) => Ok(Some(l)),
        Err(Stop::Fault(_)) => Ok(None),
        Err(other) => Err(other),
    };
    if let Some(l) = linear(m, lo)?
        && let Some(h) = linear(m, hi)?
    {
        m.translate_range(l, 1, Intent::Write)?;
        m.translate_range(h, 1, Intent::Write)?;
    }
    Ok(())
}

/// The accesses of [`memory`] once [`check`] has passed: every run of unmasked elements of
/// `e` bytes in address order.
#[inline(never)]
fn transfer<C: ?Sized>(
    m: &mut Machine<'_, C>,
    seg: Seg,
    ea: u64,
    e: usize,
    mask: u64,
    intent: Intent,
    data: &mut [u8; 64],
) -> Result<(), Stop> {
    for (start, len) in runs(mask) {
        // Within the 64 bytes of `data`: element indices below 64, at most 8 bytes each.
        let (at, n) = (start.wrapping_mul(e), len.wrapping_mul(e));
        // Alignment was checked with the elements (by the element size), not by the run.
        let linear = m.linearize(seg, ea.wrapping_add(at as u64), n as u16, intent)?;
        let p = m.translate_range(linear, n as u16, intent)?;
        let bytes = data.get_mut(at..at.wrapping_add(n)).unwrap_or(&mut []);
        let xfer = match intent {
            Intent::Read => Transfer::Read(bytes),
            _ => Transfer::Write(bytes),
        };
        m.access_range(&p, 0, xfer)?;
    }
    Ok(())
}
