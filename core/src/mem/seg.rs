//! Segmentation: effective address to linear address, with the limit, type, null-selector and
//! canonical checks of each mode.

use super::Intent;
use crate::decode::{Mode, Seg};
use crate::emulator::{Fault, Machine, Stop};

impl<C: ?Sized> Machine<'_, C> {
    /// The fault for a bad access through `seg`: #SS(0) for the stack segment, else #GP(0).
    fn seg_fault(seg: Seg) -> Stop {
        if seg == Seg::Ss {
            Fault::SS0.into()
        } else {
            Fault::GP0.into()
        }
    }

    /// Linear address of `size` bytes at `seg:offset`, after every segmentation check.
    pub(crate) fn linearize(
        &mut self,
        seg: Seg,
        offset: u64,
        size: u16,
        intent: Intent,
    ) -> Result<u64, Stop> {
        let last = offset.wrapping_add(size.saturating_sub(1) as u64);
        if self.mode == Mode::Long64 {
            let base = match seg {
                Seg::Fs | Seg::Gs => self.segment(seg).base,
                _ => 0,
            };
            let linear = base.wrapping_add(offset);
            let end = linear.wrapping_add(size.saturating_sub(1) as u64);
            // AMD processors also want the effective address itself canonical when an FS or GS
            // base is added (measured on the host: a non-canonical offset raises #GP(0) even
            // where base + offset is canonical; the last byte's offset counts too).
            let offsets = base != 0 && self.config.vendor == crate::decode::Vendor::Amd;
            let ok = |m: &Self| {
                m.canonical(linear)
                    && m.canonical(end)
                    && (!offsets || (m.canonical(offset) && m.canonical(last)))
            };
            if !ok(self) {
                // Non-canonical under 4-level paging: only CR4.LA57 can save it, so read CR4
                // now (the rare case that costs a second Get).
                let cr4 = crate::regs::Slot::Cr4 as u8;
                if self.regs.is_known(cr4) {
                    return Err(Self::seg_fault(seg));
                }
                self.fetch_cr4()?;
                if !ok(self) {
                    return Err(Self::seg_fault(seg));
                }
            }
            return Ok(linear);
        }
        let s = self.segment(seg);
        let protected = self.vp.cr0_pe && !self.vm86;
        if protected {
            // A segment loaded with a null selector is unusable: the host reports it not present.
            if !s.present() && seg != Seg::Cs {
                return Err(Self::seg_fault(seg));
            }
            let writes = matches!(intent, Intent::Write | Intent::ReadWrite);
            if s.is_code() {
                let readable = s.kind() & 2 != 0;
                if writes || (intent != Intent::Fetch && !readable) {
                    return Err(Self::seg_fault(seg));
                }
            } else if writes && s.kind() & 2 == 0 {
                return Err(Self::seg_fault(seg));
            }
        }
        let limit = s.limit as u64;
        let expand_down = protected && !s.is_code() && s.kind() & 4 != 0;
        if expand_down {
            let upper: u64 = if s.default_big() { 0xffff_ffff } else { 0xffff };
            if offset <= limit || last > upper || last < offset {
                return Err(Self::seg_fault(seg));
            }
        } else if (last > limit || last < offset) && !self.wraps_at_4g(limit) {
            return Err(Self::seg_fault(seg));
        }
        Ok(s.base.wrapping_add(offset) & 0xffff_ffff)
    }

    /// Intel lets an access through a 4 GiB segment (limit 0xFFFFFFFF) run past 4 GiB, wrapping
    /// its linear address, where AMD raises #GP/#SS (both measured in compatibility mode; other
    /// limits are checked as AMD does).
    fn wraps_at_4g(&self, limit: u64) -> bool {
        limit == 0xffff_ffff && self.config.vendor == crate::decode::Vendor::Intel
    }

    /// A canonical address: bits 63..47 all equal (63..56 with 5-level paging, CR4.LA57).
    pub(crate) fn canonical(&self, a: u64) -> bool {
        // 64 less the 57 or 48 address bits.
        let shift = if self.regs.cr4 & (1 << 12) != 0 {
            64 - 57
        } else {
            64 - 48
        };
        (((a << shift) as i64) >> shift) as u64 == a
    }
}
