//! Reproducers of what the fuzz targets (fuzz/, issue 7) found, one test per finding, written
//! against the public API with a small host of their own so they run with the ordinary tests.
//!
//! Each test names the oracle that fired (`[finding <id>]` in the fuzzer's report, see
//! fuzz/lib/src/emu.rs) or the panic, and the fuzzer input it was reduced from. A test that
//! fails here is a finding not fixed yet (see fuzz/known_findings).

use hvemu::decode::{Mode, Vendor, decode};
use hvemu::emulator::{
    CallbackKind, Config, Emulator, InstructionBytes, IoExit, MmioExit, Outcome, Refusal, VpContext,
};
use hvemu::host::{
    Callbacks, Host, HostError, IoAccess, MemAccess, TranslateFlags, TranslateResult,
};
use hvemu::regs::{RegName, RegValue, Segment};
use std::collections::BTreeMap;

/// Identity-paged guest memory, registers, and a log of everything guest-visible.
#[derive(Default)]
struct Vm {
    mem: BTreeMap<u64, u8>,
    gpr: [u64; 16],
    rip: u64,
    rflags: u64,
    seg: [Segment; 6],
    cr0: u64,
    cr4: u64,
    efer: u64,
    /// (gpa, size, bytes) of every memory write.
    writes: Vec<(u64, u8, u64)>,
    /// Every port access: (port, size, write, data).
    ports: Vec<(u16, u8, bool, u32)>,
    sets: usize,
    /// Fail a Get that includes CR4.
    fail_cr4: bool,
    /// Fail a Get that includes XCR0.
    fail_xcr0: bool,
    /// A call failed: every later call is counted in `calls_after_failure`.
    failed: bool,
    calls_after_failure: usize,
}

impl Vm {
    /// Counts a host call made after one failed.
    fn called(&mut self) {
        if self.failed {
            self.calls_after_failure += 1;
        }
    }
    fn load(&mut self, gpa: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.mem.insert(gpa + i as u64, *b);
        }
    }
    fn byte(&self, gpa: u64) -> u8 {
        self.mem.get(&gpa).copied().unwrap_or(0)
    }
}

impl Host for Vm {
    fn io_port(&mut self, io: &mut IoAccess) -> Result<(), HostError> {
        self.called();
        if !io.write {
            io.data = 0xff;
        }
        self.ports.push((io.port, io.size, io.write, io.data));
        Ok(())
    }
    fn memory(&mut self, a: &mut MemAccess) -> Result<(), HostError> {
        self.called();
        let n = a.size as usize;
        if a.write {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&a.data[..n]);
            self.writes.push((a.gpa, a.size, u64::from_le_bytes(v)));
            let d = a.data;
            self.load(a.gpa, &d[..n]);
        } else {
            for i in 0..n {
                a.data[i] = self.byte(a.gpa + i as u64);
            }
        }
        Ok(())
    }
    fn get_registers(
        &mut self,
        names: &[RegName],
        values: &mut [RegValue],
    ) -> Result<(), HostError> {
        self.called();
        if (self.fail_cr4 && names.contains(&RegName::CR4))
            || (self.fail_xcr0 && names.contains(&RegName::XCR0))
        {
            self.failed = true;
            return Err(HostError { code: -1 });
        }
        for (n, v) in names.iter().zip(values.iter_mut()) {
            *v = match n.0 {
                0..=15 => RegValue::from_u64(self.gpr[n.0 as usize]),
                0x10 => RegValue::from_u64(self.rip),
                0x11 => RegValue::from_u64(self.rflags),
                0x12..=0x17 => RegValue::from_segment(self.seg[(n.0 - 0x12) as usize]),
                0x1c => RegValue::from_u64(self.cr0),
                0x1f => RegValue::from_u64(self.cr4),
                0x2001 => RegValue::from_u64(self.efer),
                _ => RegValue::default(),
            };
        }
        Ok(())
    }
    fn set_registers(&mut self, names: &[RegName], values: &[RegValue]) -> Result<(), HostError> {
        self.called();
        self.sets += 1;
        for (n, v) in names.iter().zip(values) {
            match n.0 {
                0..=15 => self.gpr[n.0 as usize] = v.lo,
                0x10 => self.rip = v.lo,
                0x11 => self.rflags = v.lo,
                0x12..=0x17 => self.seg[(n.0 - 0x12) as usize] = v.segment(),
                _ => {}
            }
        }
        Ok(())
    }
    fn translate_gva_page(
        &mut self,
        gva: u64,
        _flags: TranslateFlags,
    ) -> Result<(TranslateResult, u64), HostError> {
        self.called();
        Ok((TranslateResult::Success, gva))
    }
}

/// A real-mode machine: CS = DS = ES = SS = 0.
fn real_mode(rip: u64) -> (Vm, VpContext) {
    let seg = Segment {
        base: 0,
        limit: 0xffff,
        selector: 0,
        attributes: 0x93,
    };
    let cs = Segment {
        attributes: 0x9b,
        ..seg
    };
    let mut vm = Vm {
        rip,
        rflags: 0x2,
        seg: [seg, cs, seg, seg, seg, seg],
        ..Vm::default()
    };
    vm.cr0 = 0x10;
    let vp = VpContext {
        cs,
        rip,
        rflags: 0x2,
        ..VpContext::default()
    };
    (vm, vp)
}

/// A 64-bit machine with flat segments.
fn long_mode(rip: u64) -> (Vm, VpContext) {
    let data = Segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: 0x10,
        attributes: 0xc093,
    };
    let cs = Segment {
        selector: 0x8,
        attributes: 0xa09b,
        ..data
    };
    let mut vm = Vm {
        rip,
        rflags: 0x2,
        seg: [data, cs, data, data, data, data],
        ..Vm::default()
    };
    vm.cr0 = 0x8000_0011;
    vm.cr4 = 0x20;
    vm.efer = 0xd00;
    let vp = VpContext {
        cr0_pe: true,
        efer_lma: true,
        cs,
        rip,
        rflags: 0x2,
        ..VpContext::default()
    };
    (vm, vp)
}

/// `[finding write-then-refused-ExitMismatch]` (emulate target; first input the fuzzer tried,
/// an empty one). A port exit whose instruction bytes had to be fetched from guest memory, where
/// the guest now has `add [bx+si], al` (00 00) rather than a port instruction: the emulator
/// performs the read-modify-write of guest memory and only then refuses with `ExitMismatch`.
/// A refusal must change nothing (DESIGN.md, invariant 4; `Outcome::Refused`): the exit check
/// has to come before the first guest-visible access for port exits too, as it does for MMIO
/// exits (`Machine::before_perform` checks only `ExitAccess::Mmio`).
#[test]
fn port_exit_with_fetched_memory_instruction_writes_nothing() {
    let (mut vm, vp) = real_mode(0x100);
    vm.load(0x100, &[0x00, 0x00]);
    vm.gpr[0] = 0x01; // al
    vm.gpr[3] = 0x200; // bx
    vm.gpr[6] = 0x10; // si
    let exit = IoExit {
        bytes: InstructionBytes::default(),
        port: 0x60,
        write: false,
        size: 1,
        rax: vm.gpr[0],
        rcx: vm.gpr[1],
        rsi: vm.gpr[6],
        rdi: vm.gpr[7],
        ds: vm.seg[3],
        es: vm.seg[0],
        ..IoExit::default()
    };
    let cb = Callbacks::<Vm>::for_host();
    let out = Emulator::default().emulate_io(&cb, &mut vm, &vp, &exit);
    assert!(matches!(out, Outcome::Refused(_)), "{out:?}");
    assert_eq!(
        vm.writes,
        vec![],
        "guest memory written before the refusal {out:?}"
    );
    assert_eq!(vm.sets, 0);
}

/// The same with an MMIO exit (passes: the MMIO path checks before the first access); kept so
/// the two exits are held to one rule.
#[test]
fn mmio_exit_with_fetched_other_instruction_writes_nothing() {
    let (mut vm, vp) = real_mode(0x100);
    vm.load(0x100, &[0x00, 0x00]);
    vm.gpr[0] = 0x01;
    vm.gpr[3] = 0x200;
    vm.gpr[6] = 0x10;
    let exit = MmioExit {
        bytes: InstructionBytes::default(),
        gpa: 0xfee0_0000,
        ..MmioExit::default()
    };
    let cb = Callbacks::<Vm>::for_host();
    let out = Emulator::default().emulate_mmio(&cb, &mut vm, &vp, &exit);
    assert_eq!(out, Outcome::Refused(Refusal::ExitMismatch));
    assert_eq!(vm.writes, vec![]);
    assert_eq!(vm.sets, 0);
}

/// `[finding write-then-refused-ExitMismatch]` again (emulate target, after the port-exit fix):
/// an MMIO exit whose bytes had to be fetched, where guest memory now holds
/// `lock cmpxchg8b [rdi]` (f0 0f c7 0f) at an address other than the exit's GPA, with a host that
/// offers compare-exchange. The compare-exchange callback (a guest-visible write) runs before
/// the exit check, then the call is refused with `ExitMismatch`: the atomic paths of
/// exec/arith.rs (`cmpxchg_wide`, `cmpxchg`, `update_dest`) call the host's compare-exchange
/// without `before_perform`.
#[test]
fn mmio_exit_with_fetched_locked_cmpxchg8b_elsewhere_writes_nothing() {
    let (mut vm, vp) = long_mode(0x4000);
    vm.load(0x4000, &[0xf0, 0x0f, 0xc7, 0x0f]); // lock cmpxchg8b [rdi]
    vm.gpr[7] = 0x3000; // rdi
    let exit = MmioExit {
        bytes: InstructionBytes::default(),
        gpa: 0xfee0_0000,
        ..MmioExit::default()
    };
    let mut cb = Callbacks::<Vm>::for_host();
    cb.compare_exchange = Some(|vm, gpa, size, expected, new| {
        let mut old = [0u8; 16];
        for (i, b) in old.iter_mut().enumerate().take(size as usize) {
            *b = vm.byte(gpa + i as u64);
        }
        let old = u128::from_le_bytes(old);
        // Counted as a write whether or not the values are equal: the exchange was attempted.
        vm.writes.push((gpa, size, new as u64));
        if old == expected {
            vm.load(gpa, &new.to_le_bytes()[..size as usize]);
        }
        Ok(old)
    });
    let out = Emulator::default().emulate_mmio(&cb, &mut vm, &vp, &exit);
    assert_eq!(out, Outcome::Refused(Refusal::ExitMismatch));
    assert_eq!(vm.writes, vec![], "compare-exchange before the refusal");
    assert_eq!(vm.sets, 0);
}

/// `attempt to add with overflow` at core/src/exec/string.rs (`plan_side`, the elements left
/// before the offset wraps: `(room - (sz - 1)) / sz + 1` with `room = u64::MAX`), found by the
/// emulate target in its first minute (fuzzer input `gQAt/98AiiSmJbU=` in base64). A REP string
/// instruction with 64-bit addressing whose source or destination offset is 0 and element size
/// 1 overflows: a panic in debug builds; in release the count wraps to 0 and every run is cut to
/// one element (no batching, one bulk call per element).
#[test]
fn rep_movsb_from_offset_zero_in_64_bit_mode() {
    let (mut vm, vp) = long_mode(0x4000);
    vm.load(0x4000, &[0xf3, 0xa4]); // rep movsb
    vm.load(0x0, b"ab");
    vm.gpr[1] = 2; // rcx
    vm.gpr[6] = 0; // rsi
    vm.gpr[7] = 0x2000; // rdi
    let exit = MmioExit {
        bytes: InstructionBytes::new(&[0xf3, 0xa4]),
        gpa: 0x0,
        ..MmioExit::default()
    };
    let cb = Callbacks::<Vm>::for_host();
    let out = Emulator::default().emulate_mmio(&cb, &mut vm, &vp, &exit);
    assert_eq!(out, Outcome::Completed);
    assert_eq!((vm.byte(0x2000), vm.byte(0x2001)), (b'a', b'b'));
    assert_eq!((vm.gpr[1], vm.gpr[6], vm.gpr[7]), (0, 2, 0x2002));
}

/// The other branch of the same computation: with RFLAGS.DF set the elements left before the
/// offset wraps are `off / sz + 1`, which overflows for offset `u64::MAX` (canonical) and
/// element size 1. Written from reading the code next to the finding above, not found by the
/// fuzzer (which stops at the first overflow).
#[test]
fn std_rep_movsb_from_the_top_offset_in_64_bit_mode() {
    let (mut vm, vp) = long_mode(0x4000);
    vm.rflags |= hvemu::flags::DF;
    let vp = VpContext {
        rflags: vm.rflags,
        ..vp
    };
    vm.load(0xffff_ffff_ffff_ffff, b"z");
    vm.gpr[1] = 1; // rcx
    vm.gpr[6] = u64::MAX; // rsi
    vm.gpr[7] = 0x2000; // rdi
    let exit = MmioExit {
        bytes: InstructionBytes::new(&[0xf3, 0xa4]),
        gpa: 0x2000,
        access: hvemu::emulator::AccessKind::Write,
        ..MmioExit::default()
    };
    let cb = Callbacks::<Vm>::for_host();
    let out = Emulator::new(Config::default()).emulate_mmio(&cb, &mut vm, &vp, &exit);
    assert_eq!(out, Outcome::Completed);
    assert_eq!(vm.byte(0x2000), b'z');
    assert_eq!((vm.gpr[1], vm.gpr[6], vm.gpr[7]), (0, u64::MAX - 1, 0x1fff));
}

/// The decoder found nothing in any mode for either vendor: keep one decode of each mode here
/// so this file also guards the decode target's determinism oracle.
#[test]
fn decode_own_bytes_again() {
    for mode in [
        Mode::Real,
        Mode::Prot16,
        Mode::Prot32,
        Mode::Compat32,
        Mode::Long64,
    ] {
        for vendor in [Vendor::Intel, Vendor::Amd] {
            let bytes = [0x66, 0x0f, 0x38, 0x00, 0x44, 0x24, 0x08, 0x90, 0x90];
            if let Ok(i) = decode(&bytes, mode, vendor) {
                assert_eq!(decode(&bytes[..i.len as usize], mode, vendor), Ok(i));
            }
        }
    }
}

/// `[finding host-error-ignored]` (emulate target, Intel vendor; fuzzer input
/// crash-d6b5a1997e53f2ab1548eb2e989836fa92310b42): `ror byte ptr [rax], 0` (c0 08 00) at a
/// non-canonical address, where the host fails the Get of CR4 that the canonical check needs
/// (only CR4.LA57 could make the address good). Intel's #AC-before-canonical fallback ran the
/// segmentation checks again after the failure, so the host was called again: a failed host
/// call must end the call with `CallbackFailed` and nothing else.
#[test]
fn failed_cr4_read_ends_the_call_on_intel() {
    let (mut vm, vp) = long_mode(0x4000);
    vm.gpr[0] = 0x8000_0000_0000_0000; // rax: non-canonical
    vm.fail_cr4 = true;
    let exit = MmioExit {
        bytes: InstructionBytes::new(&[0xc0, 0x08, 0x00]),
        gpa: 0x0,
        ..MmioExit::default()
    };
    assert_failed_get_ends_the_call(&mut vm, &vp, &exit, Vendor::Intel, "CR4");
}

/// Runs `exit` for `vendor` on a host whose Get of `what` fails: the call must end with
/// `CallbackFailed(GetRegisters)` once that Get was made, with no host call after it and
/// nothing written.
fn assert_failed_get_ends_the_call(
    vm: &mut Vm,
    vp: &VpContext,
    exit: &MmioExit,
    vendor: Vendor,
    what: &str,
) {
    let cb = Callbacks::<Vm>::for_host();
    let config = Config {
        vendor,
        ..Config::default()
    };
    let out = Emulator::new(config).emulate_mmio(&cb, vm, vp, exit);
    assert_eq!(
        out,
        Outcome::Refused(Refusal::CallbackFailed(CallbackKind::GetRegisters)),
        "{vendor:?}"
    );
    assert!(
        vm.failed,
        "the host's {what} Get was not reached ({vendor:?})"
    );
    assert_eq!(vm.calls_after_failure, 0, "host called after its failure");
    assert_eq!((vm.writes.len(), vm.sets), (0, 0));
}

/// `[finding host-error-ignored]` (emulate target, AMD vendor; fuzzer input
/// crash-3a6c5e1114e60072f5ebb70e124abbe91d9a67a3, the bytes d5 ff 9a ...): bytes that are #UD
/// without APX but an instruction under its REX2 prefix make the emulator read XCR0 (a guest
/// with APX gets a refusal, not #UD). The first version took a failed read of XCR0 as "no APX"
/// and raised #UD: a failed host call must end the call with `CallbackFailed`.
#[test]
fn failed_xcr0_read_ends_the_call() {
    let exit = MmioExit {
        // mov [r23],eax under REX2.
        bytes: InstructionBytes::new(&[0xd5, 0x11, 0x89, 0x07]),
        gpa: 0x0,
        ..MmioExit::default()
    };
    for vendor in [Vendor::Intel, Vendor::Amd] {
        let (mut vm, vp) = long_mode(0x4000);
        vm.fail_xcr0 = true;
        assert_failed_get_ends_the_call(&mut vm, &vp, &exit, vendor, "XCR0");
    }
}
