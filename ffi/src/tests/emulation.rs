//! Emulation through the exported functions: status bits, Set once and only on success,
//! Context passthrough, register traffic, page splits, fetching missing bytes, port I/O of every
//! size, and the real-mode and 32-bit paths.

use super::vm::*;
use crate::abi::*;

const OK: u32 = WHV_EMULATOR_STATUS::EMULATION_SUCCESSFUL;
const INTERNAL: u32 = WHV_EMULATOR_STATUS::INTERNAL_EMULATION_FAILURE;

/// What every call must respect, whatever the instruction.
fn invariants(vm: &Vm, status: u32) {
    let ctx = vm as *const Vm as usize;
    assert!(
        vm.contexts.iter().all(|c| *c == ctx),
        "Context passed through unchanged"
    );
    assert!(!vm.misaligned_regs, "register buffers 16-byte aligned");
    assert!(!vm.dirty_read_buffer, "read buffers zeroed");
    // At most one Get. The one exception is the core's lazy CR4 read, made only for an address
    // that is not canonical with 4-level paging (to learn whether 5-level paging makes it so).
    let gets = vm.gets();
    let lazy_cr4 = gets.len() == 2 && gets[1] == &vec![reg::CR4];
    assert!(gets.len() <= 1 || lazy_cr4, "at most one Get: {:?}", vm.log);
    let sets = vm.sets().len();
    assert!(sets <= 1, "at most one Set: {:?}", vm.log);
    if status & OK != 0 {
        assert_eq!(status, OK, "success carries no other bit");
        assert_eq!(sets, 1, "success means exactly one Set");
    } else if status != WHV_EMULATOR_STATUS::SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED {
        assert_eq!(sets, 0, "no Set without success: {:?}", vm.log);
    }
    if sets == 1 {
        assert!(
            matches!(vm.log.last(), Some(Call::Set(_))),
            "Set comes last"
        );
    }
    assert_eq!(
        status.count_ones(),
        1,
        "exactly one status bit: {status:#x}"
    );
    // Every translation is of a page.
    assert!(vm.translates().iter().all(|(gva, _)| gva & 0xfff == 0));
}

pub(super) fn mmio(vm: &mut Vm, bytes: &[u8], gpa: u64, write: bool) -> u32 {
    let emu = Emu::new();
    let vp = vm.vp(bytes.len().min(15) as u8);
    let c = vm.mmio_ctx(bytes, gpa, write as u32);
    let (hr, status) = emu.mmio(vm, &vp, &c);
    assert_eq!(hr, S_OK);
    invariants(vm, status);
    status
}

fn io(vm: &mut Vm, bytes: &[u8], port: u16, size: u32, write: bool) -> u32 {
    let emu = Emu::new();
    let vp = vm.vp(bytes.len() as u8);
    let c = vm.io_ctx(bytes, port, size, write);
    let (hr, status) = emu.io(vm, &vp, &c);
    assert_eq!(hr, S_OK);
    invariants(vm, status);
    status
}

fn subset(names: &[i32], allowed: &[i32]) -> bool {
    names.iter().all(|n| allowed.contains(n))
}

#[test]
fn mmio_write_asks_only_for_what_it_needs() {
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RAX, 0x1234_5678_9abc_def0);
    vm.set_reg(reg::RDI, DEV_BASE);
    // mov [rdi+0xb0], eax
    let st = mmio(&mut vm, &[0x89, 0x87, 0xb0, 0, 0, 0], DEV_BASE + 0xb0, true);
    assert_eq!(st, OK);
    assert_eq!(
        vm.mems(),
        vec![(
            DEV_BASE + 0xb0,
            4,
            true,
            [0xf0, 0xde, 0xbc, 0x9a, 0, 0, 0, 0]
        )]
    );
    let gets = vm.gets();
    assert!(gets[0].contains(&reg::RAX) && gets[0].contains(&reg::RDI));
    assert!(
        subset(
            gets[0],
            &[reg::RAX, reg::RDI, reg::DS, reg::CR0, reg::CR4, reg::EFER]
        ),
        "{gets:?}"
    );
    // Only RIP changed.
    assert_eq!(vm.set_names(), vec![reg::RIP]);
    assert_eq!(vm.reg(reg::RIP), 0x1006);
    assert_eq!(&vm.dev[0xb0..0xb4], &[0xf0, 0xde, 0xbc, 0x9a]);
}

#[test]
fn mmio_reads_of_every_size_merge_as_the_processor_does() {
    // (bytes, size, expected RAX from RAX = all ones and device bytes 01 08 0f 16 ...)
    let dev = |n: usize| -> u64 {
        let mut v = 0u64;
        for i in 0..n {
            v |= ((i as u8).wrapping_mul(7).wrapping_add(1) as u64) << (8 * i);
        }
        v
    };
    let cases: [(&[u8], u8, u64); 6] = [
        (&[0x8a, 0x07], 1, 0xffff_ffff_ffff_ff00 | dev(1)), // mov al, [rdi]
        (&[0x66, 0x8b, 0x07], 2, 0xffff_ffff_ffff_0000 | dev(2)), // mov ax, [rdi]
        (&[0x8b, 0x07], 4, dev(4)),                         // mov eax, [rdi]
        (&[0x48, 0x8b, 0x07], 8, dev(8)),                   // mov rax, [rdi]
        (&[0x0f, 0xb6, 0x07], 1, dev(1)),                   // movzx eax, byte [rdi]
        (&[0x48, 0x0f, 0xbf, 0x07], 2, dev(2)),             // movsx rax, word [rdi]
    ];
    for (bytes, size, want) in cases {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RAX, u64::MAX);
        vm.set_reg(reg::RDI, DEV_BASE);
        assert_eq!(mmio(&mut vm, bytes, DEV_BASE, false), OK, "{bytes:02x?}");
        assert_eq!(
            vm.mems(),
            vec![(DEV_BASE, size, false, [0; 8])],
            "{bytes:02x?}"
        );
        assert_eq!(vm.reg(reg::RAX), want, "{bytes:02x?}");
        assert_eq!(vm.reg(reg::RIP), 0x1000 + bytes.len() as u64);
        let mut names = vm.set_names();
        names.sort();
        assert_eq!(names, vec![reg::RAX, reg::RIP]);
    }
}

#[test]
fn mmio_writes_of_every_size_and_form() {
    let cases: [(&[u8], u8, u64); 7] = [
        (&[0x88, 0x07], 1, 0x88),                                   // mov [rdi], al
        (&[0x66, 0x89, 0x07], 2, 0x7788),                           // mov [rdi], ax
        (&[0x89, 0x07], 4, 0x5566_7788),                            // mov [rdi], eax
        (&[0x48, 0x89, 0x07], 8, 0x1122_3344_5566_7788),            // mov [rdi], rax
        (&[0xc6, 0x07, 0x5a], 1, 0x5a),                             // mov byte [rdi], 0x5a
        (&[0xc7, 0x07, 0x78, 0x56, 0x34, 0x12], 4, 0x1234_5678),    // mov dword [rdi], imm32
        (&[0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff], 8, u64::MAX), // mov qword [rdi], -1
    ];
    for (bytes, size, want) in cases {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RAX, 0x1122_3344_5566_7788);
        vm.set_reg(reg::RDI, DEV_BASE + 0x10);
        assert_eq!(
            mmio(&mut vm, bytes, DEV_BASE + 0x10, true),
            OK,
            "{bytes:02x?}"
        );
        assert_eq!(
            vm.mems(),
            vec![(DEV_BASE + 0x10, size, true, want.to_le_bytes())],
            "{bytes:02x?}"
        );
        assert_eq!(vm.set_names(), vec![reg::RIP]);
    }
}

#[test]
fn read_modify_write_sets_flags_once() {
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RAX, 1);
    vm.set_reg(reg::RDI, DEV_BASE);
    vm.dev[..4].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
    // add [rdi], eax -> 0 with CF, ZF, PF, AF
    assert_eq!(mmio(&mut vm, &[0x01, 0x07], DEV_BASE, true), OK);
    let m = vm.mems();
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].0, m[0].1, m[0].2), (DEV_BASE, 4, false));
    assert_eq!(m[1], (DEV_BASE, 4, true, [0; 8]));
    let f = vm.reg(reg::RFLAGS);
    assert_eq!(f & 0x8d5, 0x1 | 0x4 | 0x10 | 0x40);
    let mut names = vm.set_names();
    names.sort();
    assert_eq!(names, vec![reg::RIP, reg::RFLAGS]);
}

#[test]
fn a_page_crossing_access_is_one_memory_call_per_page() {
    let mut vm = Vm::new(Mode::Long64);
    // GVA 0x7000 -> device page 3, GVA 0x8000 -> device page 5 (not contiguous).
    vm.pages.insert(0x7000, DEV_BASE + 0x3000);
    vm.pages.insert(0x8000, DEV_BASE + 0x5000);
    vm.set_reg(reg::RDI, 0x7ffe);
    vm.set_reg(reg::RAX, 0x8877_6655_4433_2211);
    // mov [rdi], rax
    assert_eq!(
        mmio(&mut vm, &[0x48, 0x89, 0x07], DEV_BASE + 0x3ffe, true),
        OK
    );
    assert_eq!(
        vm.mems(),
        vec![
            (DEV_BASE + 0x3ffe, 2, true, [0x11, 0x22, 0, 0, 0, 0, 0, 0]),
            (
                DEV_BASE + 0x5000,
                6,
                true,
                [0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0]
            ),
        ]
    );
    let t = vm.translates();
    assert_eq!(
        t.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![0x7000, 0x8000]
    );
    assert!(
        t.iter()
            .all(|x| x.1 & WHvTranslateGvaFlagValidateWrite != 0)
    );
    // And a read across the same boundary.
    let mut vm2 = Vm::new(Mode::Long64);
    vm2.pages = vm.pages.clone();
    vm2.set_reg(reg::RDI, 0x7ffd);
    // mov eax, [rdi]
    assert_eq!(mmio(&mut vm2, &[0x8b, 0x07], DEV_BASE + 0x3ffd, false), OK);
    let m = vm2.mems();
    assert_eq!((m[0].0, m[0].1), (DEV_BASE + 0x3ffd, 3));
    assert_eq!((m[1].0, m[1].1), (DEV_BASE + 0x5000, 1));
    let d = &vm2.dev;
    let want = u32::from_le_bytes([d[0x3ffd], d[0x3ffe], d[0x3fff], d[0x5000]]) as u64;
    assert_eq!(vm2.reg(reg::RAX), want);
}

#[test]
fn missing_instruction_bytes_are_fetched() {
    let code = [0x89, 0x87, 0xb0, 0, 0, 0]; // mov [rdi+0xb0], eax
    for have in [0usize, 1, 2, 5] {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RAX, 0xabcd);
        vm.set_reg(reg::RDI, DEV_BASE);
        vm.put_code(&code);
        let emu = Emu::new();
        let vp = vm.vp(6);
        let c = vm.mmio_ctx(&code[..have], DEV_BASE + 0xb0, 1);
        let (hr, st) = emu.mmio(&mut vm, &vp, &c);
        assert_eq!((hr, st), (S_OK, OK), "{have} bytes given");
        invariants(&vm, st);
        let t = vm.translates();
        assert_eq!(t[0], (0x1000, WHvTranslateGvaFlagValidateExecute), "{have}");
        let m = vm.mems();
        // Code reads from RAM at 0x1000+have, then the device write.
        assert!(
            m[..m.len() - 1]
                .iter()
                .all(|x| !x.2 && x.0 >= 0x1000 + have as u64 && x.0 < 0x1010)
        );
        assert_eq!(m[0].0, 0x1000 + have as u64);
        assert_eq!(
            m.last().unwrap(),
            &(DEV_BASE + 0xb0, 4, true, [0xcd, 0xab, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(vm.reg(reg::RIP), 0x1006);
    }
}

#[test]
fn missing_bytes_across_a_page_boundary() {
    let code = [0x89, 0x87, 0xb0, 0, 0, 0];
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RIP, 0x1ffd);
    vm.pages.insert(0x2000, 0x9000);
    vm.set_reg(reg::RDI, DEV_BASE);
    vm.put_code(&code);
    assert_eq!(vm.ram[0x9000..0x9003], [0, 0, 0]);
    let emu = Emu::new();
    let vp = vm.vp(6);
    let c = vm.mmio_ctx(&[], DEV_BASE + 0xb0, 1);
    let (hr, st) = emu.mmio(&mut vm, &vp, &c);
    assert_eq!((hr, st), (S_OK, OK));
    invariants(&vm, st);
    let pages: Vec<u64> = vm.translates().iter().map(|t| t.0).collect();
    assert!(pages.starts_with(&[0x1000, 0x2000]), "{pages:x?}");
    // No code read crosses a page, and the second page comes from GPA 0x9000.
    assert!(vm.mems().iter().any(|m| m.0 == 0x9000 && !m.2));
    assert_eq!(vm.reg(reg::RIP), 0x2003);
}

#[test]
fn bytes_in_memory_that_do_not_make_the_access_are_refused() {
    // The exit says a write to the device, the bytes fetched from memory are a read of RAM:
    // the guest rewrote its code; nothing happens.
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RDI, 0x3000);
    vm.put_code(&[0x8b, 0x07]);
    let emu = Emu::new();
    let vp = vm.vp(2);
    let c = vm.mmio_ctx(&[], DEV_BASE, 1);
    let (hr, st) = emu.mmio(&mut vm, &vp, &c);
    assert_eq!((hr, st), (S_OK, INTERNAL));
    invariants(&vm, st);
    assert!(
        vm.mems().iter().all(|m| !m.2 && m.0 < 0x2000),
        "no data access: {:?}",
        vm.log
    );
}

#[test]
fn interrupt_caused_intercept() {
    let mut vm = Vm::new(Mode::Long64);
    vm.interruption_pending = true;
    let st = mmio(&mut vm, &[0x89, 0x07], DEV_BASE, true);
    assert_eq!(st, WHV_EMULATOR_STATUS::INTERRUPT_CAUSED_INTERCEPT);
    assert!(vm.log.is_empty(), "no callback at all: {:?}", vm.log);
    let st = io(&mut vm, &[0xee], 0x80, 1, true);
    assert_eq!(st, WHV_EMULATOR_STATUS::INTERRUPT_CAUSED_INTERCEPT);
    assert!(vm.log.is_empty());
}

#[test]
fn each_callback_failure_sets_only_its_bit() {
    type S = WHV_EMULATOR_STATUS;
    for (cb, bit) in [
        (Cb::Memory, S::MEMORY_CALLBACK_FAILED),
        (Cb::Get, S::GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED),
        (Cb::Set, S::SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK_FAILED),
        (Cb::Translate, S::TRANSLATE_GVA_PAGE_CALLBACK_FAILED),
    ] {
        for code in [E_FAIL, E_UNEXPECTED, 1 /* S_FALSE is not S_OK */] {
            let mut vm = Vm::new(Mode::Long64);
            vm.set_reg(reg::RDI, DEV_BASE);
            vm.fail = Some(cb);
            vm.fail_code = code;
            let st = mmio(&mut vm, &[0x89, 0x07], DEV_BASE, true);
            assert_eq!(st, bit, "{cb:?} {code:#x}");
            let set_attempts = vm.sets().len();
            assert_eq!(set_attempts, (cb == Cb::Set) as usize, "{cb:?}");
            // Nothing of the guest changed: the VMM's registers are as before.
            assert_eq!(vm.reg(reg::RIP), 0x1000);
        }
    }
    // The port callback, on IN and OUT.
    for bytes in [[0xec], [0xee]] {
        let mut vm = Vm::new(Mode::Long64);
        vm.fail = Some(Cb::Io);
        let st = io(&mut vm, &bytes, 0x60, 1, bytes[0] == 0xee);
        assert_eq!(st, S::IO_PORT_CALLBACK_FAILED);
        assert!(vm.sets().is_empty());
    }
    // A failing Get on a fetch-less port exit cannot happen (no Get); on a memory exit that
    // must fetch its bytes, a failing translation stops the fetch.
    let mut vm = Vm::new(Mode::Long64);
    vm.fail = Some(Cb::Translate);
    let st = mmio(&mut vm, &[], DEV_BASE, true);
    assert_eq!(st, S::TRANSLATE_GVA_PAGE_CALLBACK_FAILED);
}

#[test]
fn a_gpa_that_is_not_page_aligned() {
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RDI, DEV_BASE);
    vm.gpa_skew = 0x10;
    let st = mmio(&mut vm, &[0x89, 0x07], DEV_BASE, true);
    assert_eq!(
        st,
        WHV_EMULATOR_STATUS::TRANSLATE_GVA_PAGE_CALLBACK_GPA_IS_NOT_ALIGNED
    );
    assert!(vm.mems().is_empty());
}

#[test]
fn a_failed_translation_is_no_callback_failure() {
    for result in [
        WHvTranslateGvaResultPageNotPresent,
        WHvTranslateGvaResultPrivilegeViolation,
        WHvTranslateGvaResultInvalidPageTableFlags,
        WHvTranslateGvaResultGpaUnmapped,
        WHvTranslateGvaResultIntercept,
        0x1234,
    ] {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RDI, DEV_BASE);
        vm.translate_result = result;
        let st = mmio(&mut vm, &[0x89, 0x07], DEV_BASE, true);
        assert_eq!(st, INTERNAL, "result {result}");
        assert!(vm.mems().is_empty());
    }
}

#[test]
fn an_instruction_that_faults_is_an_internal_failure() {
    // ud2 at a memory exit: #UD, nothing changes.
    let mut vm = Vm::new(Mode::Long64);
    assert_eq!(mmio(&mut vm, &[0x0f, 0x0b], DEV_BASE, false), INTERNAL);
    assert!(vm.mems().is_empty());
    // A non-canonical address: #GP.
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RDI, 0x8000_0000_0000_0000);
    assert_eq!(mmio(&mut vm, &[0x89, 0x07], DEV_BASE, true), INTERNAL);
    assert!(vm.mems().is_empty());
}

#[test]
fn plain_out_needs_no_get() {
    // (bytes, port, size, data)
    let cases: [(&[u8], u16, u16, u32); 6] = [
        (&[0xee], 0x3f8, 1, 0x88),              // out dx, al
        (&[0x66, 0xef], 0x3f8, 2, 0x7788),      // out dx, ax
        (&[0xef], 0x3f8, 4, 0x5566_7788),       // out dx, eax
        (&[0xe6, 0x80], 0x80, 1, 0x88),         // out 0x80, al
        (&[0x66, 0xe7, 0x70], 0x70, 2, 0x7788), // out 0x70, ax
        (&[0xe7, 0xcf], 0xcf, 4, 0x5566_7788),  // out 0xcf, eax
    ];
    for (bytes, port, size, data) in cases {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RAX, 0x1122_3344_5566_7788);
        vm.set_reg(reg::RDX, port as u64);
        let st = io(&mut vm, bytes, port, size as u32, true);
        assert_eq!(st, OK, "{bytes:02x?}");
        assert!(vm.gets().is_empty(), "no Get for a plain OUT: {:?}", vm.log);
        assert_eq!(vm.ios(), vec![(port, size, true, data)]);
        assert_eq!(vm.set_names(), vec![reg::RIP]);
        assert_eq!(vm.reg(reg::RIP), 0x1000 + bytes.len() as u64);
        assert!(vm.mems().is_empty() && vm.translates().is_empty());
    }
}

#[test]
fn plain_in_needs_no_get_and_merges_rax() {
    let cases: [(&[u8], u16, u16, u64); 6] = [
        (&[0xec], 0x60, 1, 0xffff_ffff_ffff_ffd4), // in al, dx
        (&[0x66, 0xed], 0x60, 2, 0xffff_ffff_ffff_c3d4), // in ax, dx
        (&[0xed], 0x60, 4, 0xa1b2_c3d4),           // in eax, dx (zero-extends)
        (&[0xe4, 0x71], 0x71, 1, 0xffff_ffff_ffff_ffd4), // in al, 0x71
        (&[0x66, 0xe5, 0x92], 0x92, 2, 0xffff_ffff_ffff_c3d4),
        (&[0xe5, 0xfe], 0xfe, 4, 0xa1b2_c3d4),
    ];
    for (bytes, port, size, rax) in cases {
        let mut vm = Vm::new(Mode::Long64);
        vm.set_reg(reg::RAX, u64::MAX);
        vm.set_reg(reg::RDX, port as u64);
        let st = io(&mut vm, bytes, port, size as u32, false);
        assert_eq!(st, OK, "{bytes:02x?}");
        assert!(vm.gets().is_empty(), "no Get for a plain IN: {:?}", vm.log);
        assert_eq!(vm.ios(), vec![(port, size, false, 0)]);
        assert_eq!(vm.reg(reg::RAX), rax, "{bytes:02x?}");
        let mut names = vm.set_names();
        names.sort();
        assert_eq!(names, vec![reg::RAX, reg::RIP]);
    }
}

#[test]
fn port_exits_with_missing_bytes_fetch_them() {
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RAX, 0x41);
    vm.put_code(&[0x66, 0xef]);
    let emu = Emu::new();
    let vp = vm.vp(2);
    let c = vm.io_ctx(&[], 0x3f8, 2, true);
    let (hr, st) = emu.io(&mut vm, &vp, &c);
    assert_eq!((hr, st), (S_OK, OK));
    invariants(&vm, st);
    assert_eq!(vm.ios(), vec![(0x3f8, 2, true, 0x41)]);
    assert_eq!(
        vm.translates()[0],
        (0x1000, WHvTranslateGvaFlagValidateExecute)
    );
}

#[test]
fn a_port_exit_whose_length_disagrees_with_the_bytes_is_refused() {
    for len in [2u8, 3, 15] {
        let mut vm = Vm::new(Mode::Long64);
        let emu = Emu::new();
        let vp = vm.vp(len);
        let c = vm.io_ctx(&[0xee], 0x80, 1, true);
        let (hr, st) = emu.io(&mut vm, &vp, &c);
        assert_eq!((hr, st), (S_OK, INTERNAL), "length {len}");
        invariants(&vm, st);
        assert!(vm.ios().is_empty());
    }
}

#[test]
fn a_port_exit_for_another_port_or_direction_is_refused() {
    // The exit names port 0x81 but the instruction is `out 0x80, al`.
    let mut vm = Vm::new(Mode::Long64);
    assert_eq!(io(&mut vm, &[0xe6, 0x80], 0x81, 1, true), INTERNAL);
    assert!(vm.ios().is_empty());
    // The exit says IN, the instruction is OUT.
    let mut vm = Vm::new(Mode::Long64);
    assert_eq!(io(&mut vm, &[0xee], 0x80, 1, false), INTERNAL);
    assert!(vm.ios().is_empty());
}

#[test]
fn real_mode_mmio_uses_segment_bases_and_16_bit_addresses() {
    let mut vm = Vm::new(Mode::Real);
    // DS = 0x2000 (base 0x20000); BX + SI + 0x10 = 0x1234 + 0x0100 + 0x10.
    vm.regs
        .insert(reg::DS, (0x20000, 0xffff | 0x2000 << 32 | 0x93 << 48));
    vm.set_reg(reg::RBX, 0xffff_0000_0000_1234);
    vm.set_reg(reg::RSI, 0x0100);
    vm.set_reg(reg::RAX, 0x77);
    let gpa = 0x20000 + 0x1344;
    // mov [bx+si+0x10], al
    assert_eq!(mmio(&mut vm, &[0x88, 0x40, 0x10], gpa, true), OK);
    assert_eq!(vm.mems(), vec![(gpa, 1, true, [0x77, 0, 0, 0, 0, 0, 0, 0])]);
    assert_eq!(vm.reg(reg::RIP), 3);
    assert!(vm.gets()[0].contains(&reg::DS));
}

#[test]
fn real_mode_port_io() {
    let mut vm = Vm::new(Mode::Real);
    vm.set_reg(reg::RAX, 0x1234);
    vm.set_reg(reg::RIP, 0xfffe);
    // out dx, ax in real mode: 16-bit operand by default; RIP wraps at 64 KiB.
    assert_eq!(io(&mut vm, &[0xef], 0x3f8, 2, true), OK);
    assert_eq!(vm.ios(), vec![(0x3f8, 2, true, 0x1234)]);
    assert_eq!(vm.reg(reg::RIP), 0xffff);
    // in eax, dx with an operand-size prefix.
    let mut vm = Vm::new(Mode::Real);
    assert_eq!(io(&mut vm, &[0x66, 0xed], 0x60, 4, false), OK);
    assert_eq!(vm.reg(reg::RAX), 0xa1b2_c3d4);
}

#[test]
fn protected_32_bit_mmio() {
    let mut vm = Vm::new(Mode::Prot32);
    // DS base 0x10000: the segment base is part of the address.
    vm.regs
        .insert(reg::DS, (0x10000, 0xffff_ffff | 0x10 << 32 | 0xc093 << 48));
    vm.set_reg(reg::RBX, DEV_BASE - 0x10000);
    vm.set_reg(reg::RCX, 0xcafe_f00d);
    // mov [ebx+4], ecx
    assert_eq!(mmio(&mut vm, &[0x89, 0x4b, 0x04], DEV_BASE + 4, true), OK);
    assert_eq!(
        vm.mems(),
        vec![(DEV_BASE + 4, 4, true, 0xcafe_f00du64.to_le_bytes())]
    );
    assert!(vm.gets()[0].contains(&reg::DS));
    assert_eq!(vm.reg(reg::RIP), 0x1003);
    // A 32-bit read of a 16-bit register: mov cx, [ebx+4]
    let mut vm2 = Vm::new(Mode::Prot32);
    vm2.set_reg(reg::RBX, DEV_BASE);
    vm2.set_reg(reg::RCX, 0xffff_ffff);
    assert_eq!(
        mmio(&mut vm2, &[0x66, 0x8b, 0x4b, 0x04], DEV_BASE + 4, false),
        OK
    );
    let d = &vm2.dev;
    assert_eq!(
        vm2.reg(reg::RCX),
        0xffff_0000 | u16::from_le_bytes([d[4], d[5]]) as u64
    );
}

#[test]
fn a_segment_limit_violation_in_32_bit_mode_changes_nothing() {
    let mut vm = Vm::new(Mode::Prot32);
    vm.regs
        .insert(reg::DS, (0, 0xfff | 0x10 << 32 | 0x4093 << 48));
    vm.set_reg(reg::RBX, 0x2000);
    assert_eq!(mmio(&mut vm, &[0x89, 0x0b], 0x2000, true), INTERNAL);
    assert!(vm.mems().is_empty());
}

#[test]
fn string_port_io_gives_a_documented_outcome() {
    // OUTSB with DS:RSI in RAM. String instructions may be emulated or declined; either way the
    // call is well-formed: success with the exact effects, or an internal failure that changed
    // nothing.
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RSI, 0x3000);
    vm.ram[0x3000] = 0x5a;
    let emu = Emu::new();
    let vp = vm.vp(1);
    let mut c = vm.io_ctx(&[0x6e], 0x3f8, 1, true);
    c.AccessInfo.AsUINT32 |= WHV_X64_IO_PORT_ACCESS_INFO::STRING_OP;
    let (hr, st) = emu.io(&mut vm, &vp, &c);
    assert_eq!(hr, S_OK);
    invariants(&vm, st);
    if st == OK {
        assert_eq!(vm.ios(), vec![(0x3f8, 1, true, 0x5a)]);
        assert_eq!(vm.reg(reg::RSI), 0x3001);
        assert_eq!(vm.reg(reg::RIP), 0x1001);
    } else {
        assert_eq!(st, INTERNAL);
        assert!(vm.ios().is_empty());
    }
}

#[test]
fn a_rep_string_that_faults_part_way_keeps_its_progress() {
    // rep stosb over the end of a page whose successor is not present. Either the string is
    // emulated up to the fault (its progress is Set, RIP is not: the call reports success and
    // the processor raises the #PF itself when the guest re-executes the instruction), or it is
    // declined with nothing changed.
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RDI, 0x4ff0);
    vm.set_reg(reg::RCX, 0x20);
    vm.set_reg(reg::RAX, 0xab);
    vm.absent.push(0x5000);
    let st = mmio(&mut vm, &[0xf3, 0xaa], 0x4ff0, true);
    let done = 0x20 - vm.reg(reg::RCX);
    if st == OK {
        assert_eq!(
            vm.reg(reg::RIP),
            0x1000,
            "RIP stays on the faulting instruction"
        );
        assert_eq!(vm.reg(reg::RDI), 0x4ff0 + done);
        assert!(done <= 0x10, "nothing written to the absent page");
        assert!(
            vm.ram[0x4ff0..0x4ff0 + done as usize]
                .iter()
                .all(|b| *b == 0xab)
        );
    } else {
        assert_eq!(st, INTERNAL);
        assert_eq!(done, 0);
        assert!(vm.mems().iter().all(|m| !m.2));
    }
}

#[test]
fn string_mmio_gives_a_documented_outcome() {
    // movsd from the device to RAM.
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RSI, DEV_BASE);
    vm.set_reg(reg::RDI, 0x5000);
    let st = mmio(&mut vm, &[0xa5], DEV_BASE, false);
    if st == OK {
        assert_eq!(vm.ram[0x5000..0x5004], vm.dev[..4]);
        assert_eq!(vm.reg(reg::RSI), DEV_BASE + 4);
        assert_eq!(vm.reg(reg::RDI), 0x5004);
        assert_eq!(vm.reg(reg::RIP), 0x1001);
    } else {
        assert_eq!(st, INTERNAL);
        assert!(vm.mems().iter().all(|m| !m.2));
    }
}
