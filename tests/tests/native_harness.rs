//! Tests of the native execution harness (`hvemu_tests::native`) itself: hand-picked
//! instructions with known results, in 64-bit and compatibility mode, and a throughput figure
//! (printed; run with `--nocapture`).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use hvemu::decode::Vendor;
use hvemu_tests::native::{
    CODE16_LIMIT, COMPARE_FLAGS, DATA16_BASE, DataSeg, EDGE, Error, Exception, GUARD_PAGE,
    INSN_ADDR, Mode, Native, Outcome, Output, RO_PAGE, SCRATCH_BASE, SCRATCH_END, State, diff,
    reg::*,
};
use hvemu_tests::native_case::host_vendor;

const CF: u64 = 1 << 0;
const ZF: u64 = 1 << 6;
const SF: u64 = 1 << 7;
const DF: u64 = 1 << 10;
const OF: u64 = 1 << 11;
const AC: u64 = 1 << 18;

const MODES: [Mode; 2] = [Mode::Long64, Mode::Compat32];

fn native() -> Native {
    Native::new().expect("native harness")
}

fn state(regs: &[(usize, u64)], rflags: u64) -> State {
    let mut s = State {
        rflags,
        ..State::default()
    };
    for &(r, v) in regs {
        s.gpr[r] = v;
    }
    s
}

fn run(n: &mut Native, mode: Mode, bytes: &[u8], s: &State) -> Output {
    n.run(mode, bytes, s)
        .unwrap_or_else(|e| panic!("{mode:?} {bytes:02x?}: {e}"))
}

#[track_caller]
fn completed(out: &Output, len: u64) {
    assert_eq!(out.outcome, Outcome::Completed, "{out:#x?}");
    assert_eq!(out.rip, INSN_ADDR + len);
}

fn exception(out: &Output) -> Exception {
    match out.outcome {
        Outcome::Exception(e) => e,
        o => panic!("expected an exception, got {o:?}"),
    }
}

/// Everything but `changed` equals the input (upper halves of compat-mode GPRs aside).
fn unchanged_except(input: &State, out: &State, changed: &[usize]) {
    for r in 0..16 {
        if !changed.contains(&r) {
            assert_eq!(out.gpr[r], input.gpr[r], "register {r} changed");
        }
    }
    assert_eq!(out.xmm, input.xmm);
}

#[test]
fn add_and_adc() {
    let mut n = native();
    for mode in MODES {
        // add eax, ecx (01 c8)
        let s = state(&[(RAX, 0x7fff_ffff), (RCX, 1)], 0x2);
        let out = run(&mut n, mode, &[0x01, 0xc8], &s);
        completed(&out, 2);
        assert_eq!(out.state.gpr[RAX], 0x8000_0000);
        assert_eq!(
            out.state.rflags & COMPARE_FLAGS,
            OF | SF | 0x10 /* AF */ | 0x4 /* PF */
        );
        unchanged_except(&s, &out.state, &[RAX]);

        // adc eax, ecx with CF = 1: 0xffffffff + 0 + 1 = 0, CF ZF
        let s = state(&[(RAX, 0xffff_ffff), (RCX, 0)], 0x2 | CF);
        let out = run(&mut n, mode, &[0x11, 0xc8], &s);
        completed(&out, 2);
        assert_eq!(out.state.gpr[RAX], 0);
        assert_eq!(
            out.state.rflags & (CF | ZF | SF | OF),
            CF | ZF,
            "{:#x}",
            out.state.rflags
        );
        // The output RFLAGS has IF and the reserved bit 1 set.
        assert_eq!(out.state.rflags & 0x202, 0x202);
    }
    // 64-bit: add rax, rcx with REX.W and the upper halves
    let s = state(&[(RAX, 0xffff_ffff_ffff_ffff), (RCX, 2), (R15, 7)], 0x2);
    let out = run(&mut n, Mode::Long64, &[0x48, 0x01, 0xc8], &s);
    completed(&out, 3);
    assert_eq!(out.state.gpr[RAX], 1);
    assert_eq!(out.state.rflags & CF, CF);
    // add r15, 5
    let out = run(&mut n, Mode::Long64, &[0x49, 0x83, 0xc7, 0x05], &s);
    assert_eq!(out.state.gpr[R15], 12);
}

#[test]
fn all_registers_round_trip() {
    let mut n = native();
    let mut s = State::default();
    for r in 0..16 {
        s.gpr[r] = 0x0123_4567_89ab_cdef_u64.rotate_left(4 * r as u32) ^ r as u64;
        s.xmm[r] = u128::from(s.gpr[r]) << 64 | (0x1111 * r as u128);
    }
    s.rflags = 0x2 | CF | ZF | SF | OF | DF | 0x10 | 0x4;
    s.mxcsr = 0x1f80 | 0x6000; // round toward zero
    let out = run(&mut n, Mode::Long64, &[0x90], &s); // nop
    completed(&out, 1);
    assert_eq!(out.state.gpr, s.gpr);
    assert_eq!(out.state.xmm, s.xmm);
    assert_eq!(out.state.mxcsr, s.mxcsr);
    assert_eq!(out.state.rflags & COMPARE_FLAGS, s.rflags & COMPARE_FLAGS);

    // xmm: paddd xmm3, xmm12 (66 41 0f fe dc)
    let out = run(&mut n, Mode::Long64, &[0x66, 0x41, 0x0f, 0xfe, 0xdc], &s);
    completed(&out, 5);
    let lanes = |v: u128| -> [u32; 4] { core::array::from_fn(|i| (v >> (32 * i)) as u32) };
    let (a, b) = (lanes(s.xmm[3]), lanes(s.xmm[12]));
    let want: u128 = (0..4)
        .map(|i| u128::from(a[i].wrapping_add(b[i])) << (32 * i))
        .sum();
    assert_eq!(out.state.xmm[3], want);

    // compat: the low halves of the legacy registers come back; r8-r15 as given
    let out = run(&mut n, Mode::Compat32, &[0x90], &s);
    completed(&out, 1);
    for r in 0..8 {
        assert_eq!(out.state.gpr[r], s.gpr[r] & 0xffff_ffff, "register {r}");
    }
    assert_eq!(out.state.gpr[8..], s.gpr[8..]);
    assert_eq!(out.state.xmm[..8], s.xmm[..8]);
}

#[test]
fn div_by_zero_is_de() {
    let mut n = native();
    for mode in MODES {
        // div ecx with ecx = 0
        let s = state(&[(RAX, 5), (RDX, 0), (RCX, 0)], 0x2);
        let out = run(&mut n, mode, &[0xf7, 0xf1], &s);
        let e = exception(&out);
        assert_eq!(e.vector, 0);
        assert_eq!(e.signal, libc_sig::SIGFPE);
        assert_eq!(out.rip, INSN_ADDR);
        unchanged_except(&s, &out.state, &[]);
    }
}

#[test]
fn ud2_is_ud() {
    let mut n = native();
    for mode in MODES {
        let out = run(&mut n, mode, &[0x0f, 0x0b], &State::default());
        let e = exception(&out);
        assert_eq!((e.vector, e.signal), (6, libc_sig::SIGILL));
        assert_eq!(out.rip, INSN_ADDR);
    }
    // inc eax (40) is a REX prefix in 64-bit mode, an instruction in compat mode
    let s = state(&[(RAX, 41)], 0x2);
    let out = run(&mut n, Mode::Compat32, &[0x40], &s);
    completed(&out, 1);
    assert_eq!(out.state.gpr[RAX], 42);
}

#[test]
fn guard_page_load_is_pf() {
    let mut n = native();
    for mode in MODES {
        // mov eax, [rbx] with rbx at the guard page: read, not present, user
        let s = state(&[(RBX, GUARD_PAGE + 0x10)], 0x2);
        let out = run(&mut n, mode, &[0x8b, 0x03], &s);
        let e = exception(&out);
        assert_eq!(e.vector, 14);
        assert_eq!(e.cr2, Some(GUARD_PAGE + 0x10));
        assert_eq!(e.error_code, 0x4, "U=1 W=0 P=0");
        assert_eq!(out.rip, INSN_ADDR);
        unchanged_except(&s, &out.state, &[]);

        // a dword store straddling into the guard page: write, CR2 = the page start
        let s = state(&[(RBX, GUARD_PAGE - 2), (RAX, 0xaabb_ccdd)], 0x2);
        n.write(GUARD_PAGE - 4, &[1, 2, 3, 4]);
        let out = run(&mut n, mode, &[0x89, 0x03], &s);
        let e = exception(&out);
        assert_eq!((e.vector, e.cr2, e.error_code), (14, Some(GUARD_PAGE), 0x6));
        assert_eq!(n.read(GUARD_PAGE - 4, 4), [1, 2, 3, 4], "nothing written");

        // below the window
        let s = state(&[(RBX, SCRATCH_BASE - 1)], 0x2);
        let e = exception(&run(&mut n, mode, &[0x8a, 0x03], &s));
        assert_eq!(
            (e.vector, e.cr2, e.error_code),
            (14, Some(SCRATCH_BASE - 1), 0x4)
        );

        // a write to the read-only page: present, write, user
        let s = state(&[(RBX, RO_PAGE + 8)], 0x2);
        let e = exception(&run(&mut n, mode, &[0x89, 0x03], &s));
        assert_eq!(
            (e.vector, e.cr2, e.error_code),
            (14, Some(RO_PAGE + 8), 0x7)
        );
        // ... which reads fine
        n.write(RO_PAGE + 8, &0x1234_5678u32.to_le_bytes());
        let out = run(&mut n, mode, &[0x8b, 0x03], &s);
        completed(&out, 2);
        assert_eq!(out.state.gpr[RAX], 0x1234_5678);
    }
}

#[test]
fn loads_and_stores() {
    let mut n = native();
    for mode in MODES {
        n.clear_mem();
        let before = n.mem().to_vec();
        // mov [rbx+8], eax
        let s = state(&[(RBX, SCRATCH_BASE + 0x100), (RAX, 0xdead_beef)], 0x2);
        let out = run(&mut n, mode, &[0x89, 0x43, 0x08], &s);
        completed(&out, 3);
        assert_eq!(
            diff(&before, n.mem()),
            vec![(SCRATCH_BASE + 0x108, vec![0xef, 0xbe, 0xad, 0xde])]
        );
        // add dword [rbx+8], 1 -> flags and memory
        let out = run(&mut n, mode, &[0x83, 0x43, 0x08, 0x01], &s);
        completed(&out, 4);
        assert_eq!(
            n.read(SCRATCH_BASE + 0x108, 4),
            0xdead_bef0u32.to_le_bytes()
        );
        assert_eq!(out.state.rflags & (SF | CF | ZF), SF);
    }
    // 64-bit RIP-relative: mov eax, [rip + disp] reaching the scratch window
    n.write(SCRATCH_BASE + 0x40, &0xcafe_f00du32.to_le_bytes());
    let disp = (SCRATCH_BASE + 0x40).wrapping_sub(INSN_ADDR + 6) as u32;
    let mut bytes = vec![0x8b, 0x05];
    bytes.extend_from_slice(&disp.to_le_bytes());
    let out = run(&mut n, Mode::Long64, &bytes, &State::default());
    completed(&out, 6);
    assert_eq!(out.state.gpr[RAX], 0xcafe_f00d);
}

#[test]
fn misaligned_access_with_ac_is_ac() {
    let mut n = native();
    for mode in MODES {
        let s = state(&[(RBX, SCRATCH_BASE + 0x101)], 0x2 | AC);
        let out = run(&mut n, mode, &[0x8b, 0x03], &s); // mov eax, [rbx]
        let e = exception(&out);
        assert_eq!((e.vector, e.error_code), (17, 0), "{e:?}");
        assert_eq!(e.signal, libc_sig::SIGBUS);
        assert_eq!(out.rip, INSN_ADDR);
        // AC is still set in the reported flags (the state at the fault)
        assert_eq!(out.state.rflags & AC, AC);
        // aligned with AC, or misaligned without AC: fine
        let s2 = state(&[(RBX, SCRATCH_BASE + 0x100)], 0x2 | AC);
        completed(&run(&mut n, mode, &[0x8b, 0x03], &s2), 2);
        let s3 = state(&[(RBX, SCRATCH_BASE + 0x101)], 0x2);
        completed(&run(&mut n, mode, &[0x8b, 0x03], &s3), 2);
    }
}

#[test]
fn non_canonical_is_gp_and_ss() {
    let mut n = native();
    // mov [rax], rbx with a non-canonical rax: #GP(0)
    let s = state(&[(RAX, 0x8000_0000_0000_0000), (RBX, 1)], 0x2);
    let out = run(&mut n, Mode::Long64, &[0x48, 0x89, 0x18], &s);
    let e = exception(&out);
    assert_eq!(
        (e.vector, e.error_code, e.signal),
        (13, 0, libc_sig::SIGSEGV)
    );
    assert_eq!(out.rip, INSN_ADDR);
    // through RBP (SS-relative): #SS(0)
    let s = state(&[(RBP, 0x0000_8000_0000_0000), (RBX, 1)], 0x2);
    let out = run(&mut n, Mode::Long64, &[0x48, 0x89, 0x5d, 0x00], &s);
    let e = exception(&out);
    assert_eq!(
        (e.vector, e.error_code, e.signal),
        (12, 0, libc_sig::SIGBUS)
    );
    // push with a non-canonical RSP: #SS(0), RSP unchanged
    let s = state(&[(RSP, 0x0000_8000_0000_0010), (RBX, 1)], 0x2);
    let out = run(&mut n, Mode::Long64, &[0x53], &s);
    assert_eq!(exception(&out).vector, 12);
    assert_eq!(out.state.gpr[RSP], 0x0000_8000_0000_0010);
    // hlt and cli at CPL 3: #GP(0)
    for mode in MODES {
        for insn in [[0xf4], [0xfa]] {
            let e = exception(&run(&mut n, mode, &insn, &State::default()));
            assert_eq!((e.vector, e.error_code), (13, 0));
        }
    }
    // int 0x21: #GP with the IDT error code (vector * 8 + 2)
    let e = exception(&run(&mut n, Mode::Long64, &[0xcd, 0x21], &State::default()));
    assert_eq!((e.vector, e.error_code), (13, 0x21 * 8 + 2));
}

#[test]
fn push_pop_via_scratch_stack() {
    let mut n = native();
    for mode in MODES {
        let w = if mode == Mode::Long64 { 8 } else { 4 };
        let top = SCRATCH_BASE + 0x2000;
        n.clear_mem();
        // push rbx / push ebx
        let s = state(&[(RSP, top), (RBX, 0x1122_3344_5566_7788)], 0x2);
        let out = run(&mut n, mode, &[0x53], &s);
        completed(&out, 1);
        assert_eq!(out.state.gpr[RSP], top - w);
        let want = 0x1122_3344_5566_7788u64.to_le_bytes();
        assert_eq!(n.read(top - w, w as usize), &want[..w as usize]);
        // pop rcx
        let s = state(&[(RSP, top - w)], 0x2);
        let out = run(&mut n, mode, &[0x59], &s);
        completed(&out, 1);
        assert_eq!(out.state.gpr[RSP], top);
        let mask = if w == 8 { u64::MAX } else { 0xffff_ffff };
        assert_eq!(out.state.gpr[RCX], 0x1122_3344_5566_7788 & mask);
        // pushf stores the case's flags (without TF, with IF)
        let s = state(&[(RSP, top)], 0x2 | CF | DF);
        let out = run(&mut n, mode, &[0x9c], &s);
        completed(&out, 1);
        let img = u32::from_le_bytes(n.read(top - w, 4).try_into().unwrap());
        assert_eq!(img & 0xfff, 0x602 | CF as u32 | DF as u32, "{img:#x}");
        // popf from the scratch stack sets the flags, DF included
        n.write(top - w, &((0x2 | ZF | DF | OF) as u32).to_le_bytes());
        let s = state(&[(RSP, top - w)], 0x2);
        let out = run(&mut n, mode, &[0x9d], &s);
        completed(&out, 1);
        assert_eq!(out.state.rflags & COMPARE_FLAGS, ZF | DF | OF);
        // push to the guard page: #PF write
        let s = state(&[(RSP, GUARD_PAGE + 8)], 0x2);
        let out = run(&mut n, mode, &[0x53], &s);
        let e = exception(&out);
        assert_eq!(
            (e.vector, e.cr2, e.error_code),
            (14, Some(GUARD_PAGE + 8 - w), 0x6)
        );
        assert_eq!(out.state.gpr[RSP], GUARD_PAGE + 8);
    }
}

#[test]
fn rep_string_progress_at_fault() {
    let mut n = native();
    for mode in MODES {
        n.clear_mem();
        // rep stosb from 0x10 below the guard page with rcx = 0x20: 16 bytes then #PF
        let dst = GUARD_PAGE - 0x10;
        let s = state(&[(RDI, dst), (RCX, 0x20), (RAX, 0xab)], 0x2);
        let out = run(&mut n, mode, &[0xf3, 0xaa], &s);
        let e = exception(&out);
        assert_eq!((e.vector, e.cr2), (14, Some(GUARD_PAGE)));
        assert_eq!(out.state.gpr[RCX], 0x10);
        assert_eq!(out.state.gpr[RDI], GUARD_PAGE);
        assert!(n.read(dst, 0x10).iter().all(|&b| b == 0xab));
        // rep movsb backwards (DF = 1) inside the window completes
        n.write(SCRATCH_BASE + 0x200, b"abcdefgh");
        let s = state(
            &[
                (RSI, SCRATCH_BASE + 0x207),
                (RDI, SCRATCH_BASE + 0x307),
                (RCX, 8),
            ],
            0x2 | DF,
        );
        let out = run(&mut n, mode, &[0xf3, 0xa4], &s);
        completed(&out, 2);
        assert_eq!(n.read(SCRATCH_BASE + 0x300, 8), b"abcdefgh");
        assert_eq!(out.state.gpr[RCX], 0);
        assert_eq!(out.state.rflags & DF, DF);
    }
}

#[test]
fn traps_and_branches() {
    let mut n = native();
    for mode in MODES {
        for step in [false, true] {
            n.set_single_step(step);
            // int3: #BP, a trap: RIP after it
            let out = run(&mut n, mode, &[0xcc], &State::default());
            assert_eq!(exception(&out).vector, 3);
            assert_eq!(out.rip, INSN_ADDR + 1);
            // jmp short +0x10
            let out = run(&mut n, mode, &[0xeb, 0x10], &State::default());
            assert_eq!(out.outcome, Outcome::Completed);
            assert_eq!(out.rip, INSN_ADDR + 2 + 0x10);
            // jz taken and not taken
            let zf = state(&[], 0x2 | ZF);
            let out = run(&mut n, mode, &[0x74, 0xf0], &zf);
            assert_eq!(out.rip, INSN_ADDR + 2 - 0x10);
            completed(&run(&mut n, mode, &[0x74, 0xf0], &State::default()), 2);
            // jmp rel32 far into unmapped memory: a completed branch
            let out = run(&mut n, mode, &[0xe9, 0, 0, 0, 0x10], &State::default());
            assert_eq!(out.outcome, Outcome::Completed, "{out:x?}");
            assert_eq!(out.rip, INSN_ADDR + 5 + 0x1000_0000);
            // call via the scratch stack, then ret
            let top = SCRATCH_BASE + 0x1000;
            let w = if mode == Mode::Long64 { 8 } else { 4 };
            let s = state(&[(RSP, top)], 0x2);
            let out = run(&mut n, mode, &[0xe8, 0x20, 0, 0, 0], &s);
            assert_eq!(out.rip, INSN_ADDR + 5 + 0x20);
            assert_eq!(out.state.gpr[RSP], top - w);
            let mut ret = [0u8; 8];
            ret[..w as usize].copy_from_slice(n.read(top - w, w as usize));
            assert_eq!(u64::from_le_bytes(ret), INSN_ADDR + 5);
            // (a return into the trailing jump would execute its bytes: return further on)
            n.write(top - w, &(INSN_ADDR + 0x40).to_le_bytes()[..w as usize]);
            let s = state(&[(RSP, top - w)], 0x2);
            let out = run(&mut n, mode, &[0xc3], &s);
            assert_eq!(
                (out.outcome, out.rip),
                (Outcome::Completed, INSN_ADDR + 0x40)
            );
            assert_eq!(out.state.gpr[RSP], top);
        }
        // a jump to itself: single-stepping gives RIP = itself, otherwise the watchdog
        n.set_single_step(true);
        let out = run(&mut n, mode, &[0xeb, 0xfe], &State::default());
        assert_eq!((out.outcome, out.rip), (Outcome::Completed, INSN_ADDR));
        n.set_single_step(false);
        let out = run(&mut n, mode, &[0xeb, 0xfe], &State::default());
        assert_eq!(out.outcome, Outcome::Hung);
        assert_eq!(out.rip, INSN_ADDR);
        // the harness is fine afterwards
        completed(&run(&mut n, mode, &[0x90], &State::default()), 1);
    }
}

#[test]
fn single_step_matches_fallthrough() {
    let mut n = native();
    let top = SCRATCH_BASE + 0x1800;
    let cases: &[&[u8]] = &[
        &[0x01, 0xc8],       // add eax, ecx
        &[0x0f, 0xaf, 0xc1], // imul eax, ecx
        &[0xf3, 0xa4],       // rep movsb
        &[0x9c],             // pushf
        &[0x53],             // push rbx
        &[0xf7, 0xf1],       // div ecx
    ];
    for mode in MODES {
        for bytes in cases {
            let s = state(
                &[
                    (RAX, 0x1234_5678),
                    (RCX, 7),
                    (RDX, 0),
                    (RBX, 0x55),
                    (RSI, SCRATCH_BASE + 0x10),
                    (RDI, SCRATCH_BASE + 0x400),
                    (RSP, top),
                ],
                0x2 | CF,
            );
            n.clear_mem();
            n.set_single_step(false);
            let a = run(&mut n, mode, bytes, &s);
            let mem_a = n.mem().to_vec();
            n.clear_mem();
            n.set_single_step(true);
            let b = run(&mut n, mode, bytes, &s);
            assert_eq!(a, b, "{mode:?} {bytes:02x?}");
            assert_eq!(mem_a, n.mem(), "{mode:?} {bytes:02x?}");
        }
    }
}

#[test]
fn refusals_and_errors() {
    let mut n = native();
    assert!(
        n.run(Mode::Long64, &[0x0f, 0x05], &State::default())
            .is_err()
    );
    assert!(
        n.run(Mode::Compat32, &[0xcd, 0x80], &State::default())
            .is_err()
    );
    assert!(n.run(Mode::Long64, &[], &State::default()).is_err());
    assert!(n.run(Mode::Long64, &[0x90; 16], &State::default()).is_err());
    // 15 bytes run; 16 prefixes would not fit
    let mut long = vec![0x66; 14];
    long.push(0x90);
    completed(&run(&mut n, Mode::Long64, &long, &State::default()), 15);
    assert!(n.read(SCRATCH_BASE, 1).len() == 1 && SCRATCH_END > RO_PAGE);
    // a second harness in the same thread is an error, not a deadlock
    assert!(Native::new().is_err());
    drop(n);
    drop(native());
}

#[test]
fn threads_take_turns() {
    let handles: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..2000u64 {
                    let mut n = native();
                    let s = state(&[(RAX, i), (RCX, t)], 0x2);
                    let out = run(&mut n, Mode::Long64, &[0x48, 0x01, 0xc8], &s);
                    assert_eq!(out.state.gpr[RAX], i + t);
                    let e = exception(&run(&mut n, Mode::Compat32, &[0x0f, 0x0b], &s));
                    assert_eq!(e.vector, 6);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn throughput() {
    let mut n = native();
    let s = state(&[(RAX, 1), (RCX, 2), (RBX, SCRATCH_BASE + 0x100)], 0x2);
    let measure = |n: &mut Native, mode: Mode, bytes: &[u8], count: u32| -> f64 {
        let t = std::time::Instant::now();
        for _ in 0..count {
            n.run(mode, bytes, &s).unwrap();
        }
        f64::from(count) / t.elapsed().as_secs_f64()
    };
    for mode in MODES {
        let ok = measure(&mut n, mode, &[0x01, 0xc8], 200_000);
        let mem = measure(&mut n, mode, &[0x01, 0x03], 200_000);
        let fault = measure(&mut n, mode, &[0x0f, 0x0b], 20_000);
        n.set_single_step(true);
        let step = measure(&mut n, mode, &[0x01, 0xc8], 20_000);
        n.set_single_step(false);
        println!(
            "{mode:?}: {ok:.0} cases/s (register), {mem:.0} (memory), {fault:.0} (faulting), \
             {step:.0} (single-step)"
        );
    }
}

/// Signal numbers (Linux x86-64), without a libc dependency in the test.
mod libc_sig {
    pub const SIGILL: i32 = 4;
    pub const SIGBUS: i32 = 7;
    pub const SIGFPE: i32 = 8;
    pub const SIGSEGV: i32 = 11;
}

#[test]
fn far_branches_and_special_traps() {
    let mut n = native();
    for step in [false, true] {
        n.set_single_step(step);
        // jmp rax to an unmapped address far above 4 GiB: a completed branch
        let s = state(&[(RAX, 0x1234_5678_9000)], 0x2);
        let out = run(&mut n, Mode::Long64, &[0xff, 0xe0], &s);
        assert_eq!(
            (out.outcome, out.rip),
            (Outcome::Completed, 0x1234_5678_9000)
        );
        // jmp rax to the non-executable scratch window
        let s = state(&[(RAX, SCRATCH_BASE + 0x10)], 0x2);
        let out = run(&mut n, Mode::Long64, &[0xff, 0xe0], &s);
        assert_eq!(
            (out.outcome, out.rip),
            (Outcome::Completed, SCRATCH_BASE + 0x10)
        );
        // jmp rax to a non-canonical address: #GP(0) at the jump
        let s = state(&[(RAX, 0x8000_0000_0000_0000)], 0x2);
        let out = run(&mut n, Mode::Long64, &[0xff, 0xe0], &s);
        println!(
            "jmp non-canonical (step {step}): {:x?} rip {:#x}",
            out.outcome, out.rip
        );
        let e = exception(&out);
        assert_eq!((e.vector, e.error_code), (13, 0));
        // mov ss, ax delays the single-step trap past the trailing jump: still exact
        for mode in MODES {
            let s = state(&[(RAX, 0x2b)], 0x2);
            completed(&run(&mut n, mode, &[0x8e, 0xd0], &s), 2);
        }
        // int1 (icebp): #DB. Architecturally a trap (RIP after it), but hypervisors that
        // intercept it may report it at the instruction: only the vector is checked.
        for mode in MODES {
            let out = run(&mut n, mode, &[0xf1], &State::default());
            assert_eq!(exception(&out).vector, 1);
            println!("int1 {mode:?} (step {step}): rip {:#x}", out.rip);
        }
        // into with OF in compat mode: #OF (4), a trap
        let out = run(&mut n, Mode::Compat32, &[0xce], &state(&[], 0x2 | OF));
        assert_eq!((exception(&out).vector, out.rip), (4, INSN_ADDR + 1));
        completed(&run(&mut n, Mode::Compat32, &[0xce], &State::default()), 1);
    }
}

#[test]
fn host_state_is_restored() {
    thread_local! {
        static TLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0x1234) };
    }
    let mut n = native();
    let third = |x: f64| std::hint::black_box(x) / 3.0;
    let want = third(1.0).to_bits();
    // FS changed by a selector load (FS now 0x2b, base 0) and by wrfsbase; x87 pushed and its
    // control word loaded; MXCSR set to round toward zero; DF and AC left set.
    n.write(SCRATCH_BASE, &0x0c7fu16.to_le_bytes()); // x87 CW: round toward zero
    let s = state(&[(RAX, 0x2b), (RBX, SCRATCH_BASE)], 0x2 | DF | AC);
    let cases: &[&[u8]] = &[
        &[0x8e, 0xe0],                   // mov fs, eax
        &[0x8e, 0xe8],                   // mov gs, eax
        &[0xf3, 0x48, 0x0f, 0xae, 0xd0], // wrfsbase rax
        &[0xd9, 0xe8],                   // fld1
        &[0xd9, 0x2b],                   // fldcw [rbx]
        &[0x90],
    ];
    for bytes in cases {
        let mut s = s;
        s.mxcsr = 0x7f80;
        let out = run(&mut n, Mode::Long64, bytes, &s);
        assert!(
            matches!(out.outcome, Outcome::Completed | Outcome::Exception(_)),
            "{bytes:02x?}"
        );
        assert_eq!(out.state.mxcsr, 0x7f80);
        // The thread pointer, rounding, DF (for copies) and AC (for misaligned loads) are the
        // host's again.
        TLS.with(|t| assert_eq!(t.get(), 0x1234));
        assert_eq!(third(1.0).to_bits(), want);
        let mut buf = *b"0123456789abcdef";
        buf.copy_within(0..8, std::hint::black_box(3));
        assert_eq!(&buf, b"01201234567bcdef");
        let bytes = std::hint::black_box([1u8; 16]);
        // SAFETY: an unaligned read of a u32 inside a 16-byte array.
        let v = unsafe { bytes.as_ptr().add(1).cast::<u32>().read_unaligned() };
        assert_eq!(v, 0x0101_0101);
    }
    // the same in compat mode (where FS/GS loads and wrfsbase do not exist)
    for bytes in [&[0xd9, 0xe8][..], &[0xd9, 0x2b]] {
        run(&mut n, Mode::Compat32, bytes, &s);
        TLS.with(|t| assert_eq!(t.get(), 0x1234));
        assert_eq!(third(1.0).to_bits(), want);
    }
}

/// Random valid instructions (iced gives the length) with registers pointing into the scratch
/// window: the harness must survive every one, and where an instruction falls through in both
/// modes of running (fall-through jump and single-step), the two must agree exactly.
#[test]
fn random_instructions_survive_and_agree() {
    use hvemu_tests::randgen::{Rng, random_insn};
    use iced_x86::{Decoder, DecoderOptions, Mnemonic};
    let count: usize = std::env::var("HVEMU_NATIVE_FUZZ_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut n = native();
    let mut rng = Rng::new(0x6e61_7469_7665);
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    let mut mismatches = Vec::new();
    for i in 0..count {
        let mode = MODES[i % 2];
        let mut buf = [0u8; 15];
        random_insn(&mut rng, mode == Mode::Long64, &mut buf);
        let bits = if mode == Mode::Long64 { 64 } else { 32 };
        let insn = Decoder::with_ip(bits, &buf, INSN_ADDR, DecoderOptions::NONE).decode();
        if insn.is_invalid() {
            continue;
        }
        let bytes = &buf[..insn.len()];
        let mut s = State::default();
        for r in 0..16 {
            s.gpr[r] = match rng.below(4) {
                0 => rng.below(0x100),
                1 => rng.next_u64(),
                _ => SCRATCH_BASE + rng.below(0x4000),
            };
            s.xmm[r] = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
        }
        if rng.chance(50) {
            random_vectors(&mut rng, &mut s);
        }
        s.gpr[RSP] = SCRATCH_BASE + 0x2000 + rng.below(0x100) * 8;
        s.gpr[RCX] &= 0xffff; // bound REP counts
        s.rflags = rng.next_u64() & 0xcd5 | if rng.chance(20) { DF } else { 0 };
        let mut outs = Vec::new();
        for step in [false, true] {
            n.set_single_step(step);
            for (j, b) in n.mem_mut().iter_mut().enumerate() {
                *b = (j as u8).wrapping_mul(0x9d) ^ 0x5a;
            }
            if std::env::var_os("HVEMU_NATIVE_TRACE").is_some() {
                eprintln!(
                    "{i} {mode:?} step={step} {bytes:02x?} {:?}",
                    insn.mnemonic()
                );
            }
            match n.run(mode, bytes, &s) {
                Ok(out) => outs.push((out, n.mem().to_vec())),
                Err(e) => {
                    *tally.entry(format!("{e}")).or_default() += 1;
                    break;
                }
            }
        }
        let [(a, ma), (b, mb)] = &outs[..] else {
            continue;
        };
        let kind = match a.outcome {
            Outcome::Completed => "completed".to_string(),
            Outcome::Exception(e) if e.vector == 1 => format!("vector 1 {:?}", insn.mnemonic()),
            Outcome::Exception(e) => format!("vector {}", e.vector),
            Outcome::Hung => "hung".to_string(),
        };
        *tally.entry(kind).or_default() += 1;
        let end = INSN_ADDR + bytes.len() as u64;
        let nondeterministic = matches!(
            insn.mnemonic(),
            Mnemonic::Rdtsc
                | Mnemonic::Rdtscp
                | Mnemonic::Rdrand
                | Mnemonic::Rdseed
                | Mnemonic::Rdpid
                | Mnemonic::Rdpru
                | Mnemonic::Cpuid
        );
        if a.outcome == Outcome::Completed
            && b.outcome == Outcome::Completed
            && a.rip == end
            && b.rip == end
            && !nondeterministic
            && (a != b || ma != mb)
        {
            mismatches.push(format!("{mode:?} {bytes:02x?} {:?}", insn.mnemonic()));
        }
    }
    println!("{tally:#?}");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Random contents for all 32 ZMM registers and the 8 opmasks.
fn random_vectors(rng: &mut hvemu_tests::randgen::Rng, s: &mut State) {
    for z in 0..32 {
        let lanes =
            core::array::from_fn(|_| u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()));
        s.set_zmm(z, lanes);
    }
    for k in &mut s.k {
        *k = rng.next_u64();
    }
}

/// A ZMM register as eight qwords or sixteen dwords (element 0 = the low bits), and back.
fn qwords(z: [u128; 4]) -> [u64; 8] {
    core::array::from_fn(|i| (z[i / 2] >> (64 * (i % 2))) as u64)
}
fn dwords(z: [u128; 4]) -> [u32; 16] {
    core::array::from_fn(|i| (z[i / 4] >> (32 * (i % 4))) as u32)
}
fn from_dwords(d: [u32; 16]) -> [u128; 4] {
    core::array::from_fn(|l| (0..4).map(|i| u128::from(d[4 * l + i]) << (32 * i)).sum())
}

/// The vector part of a state: every ZMM and opmask register, and MXCSR.
fn vectors(s: &State) -> ([[u128; 4]; 32], [u64; 8], u32) {
    (core::array::from_fn(|z| s.zmm(z)), s.k, s.mxcsr)
}

/// All ZMM and opmask registers but `zmm` and `k` equal the input.
fn vectors_unchanged_except(input: &State, out: &State, zmm: &[usize], k: &[usize]) {
    for z in (0..32).filter(|z| !zmm.contains(z)) {
        assert_eq!(out.zmm(z), input.zmm(z), "zmm{z} changed");
    }
    for i in (0..8).filter(|i| !k.contains(i)) {
        assert_eq!(out.k[i], input.k[i], "k{i} changed");
    }
}

/// Runs `bytes` with single-stepping off and on (the signal path: the kernel saves and
/// restores the vector state around the handler); both must give the same output.
fn run_both(n: &mut Native, mode: Mode, bytes: &[u8], s: &State) -> Output {
    let before = n.mem().to_vec();
    let a = run(n, mode, bytes, s);
    let after = n.mem().to_vec();
    n.mem_mut().copy_from_slice(&before);
    n.set_single_step(true);
    let b = run(n, mode, bytes, s);
    n.set_single_step(false);
    assert_eq!(a, b, "{mode:?} {bytes:02x?}: single-stepped run differs");
    assert_eq!(
        after,
        n.mem(),
        "{mode:?} {bytes:02x?}: single-stepped run differs in memory"
    );
    a
}

/// The whole AVX-512 state (ZMM0–ZMM31, K0–K7) is loaded from the case and comes back
/// unchanged when the instruction leaves it alone: after a NOP, after a fault (#UD, at the
/// fault through the signal path) and single-stepped, in both modes (in compatibility mode the
/// harness reports ZMM8–ZMM31 as their inputs, so there it is ZMM0–ZMM7 and K0–K7 that are
/// checked). A state with one nonzero component (the others loaded in their initial
/// configuration) and the all-zero state read back as they were.
#[test]
fn vector_state_round_trips() {
    let mut n = native();
    let mut rng = hvemu_tests::randgen::Rng::new(0x7a6d_6d5f_726f_756e);
    for mode in MODES {
        for round in 0..8 {
            let mut s = state(&[], 0x2);
            random_vectors(&mut rng, &mut s);
            s.mxcsr = 0x1f80 | (round as u32 & 3) << 13;
            let out = run_both(&mut n, mode, &[0x90], &s);
            completed(&out, 1);
            assert_eq!(out.state.mxcsr, s.mxcsr);
            vectors_unchanged_except(&s, &out.state, &[], &[]);
            let out = run_both(&mut n, mode, &[0x0f, 0x0b], &s); // ud2
            assert_eq!(exception(&out).vector, 6);
            vectors_unchanged_except(&s, &out.state, &[], &[]);
        }
        // One component at a time nonzero (the others in their initial state).
        for z in [0, 7, 8, 15, 16, 31] {
            for lane in 0..4 {
                let mut s = State::default();
                let mut v = [0; 4];
                v[lane] = 0x8000_0000_0000_0000_0000_0000_0000_0001 | (z as u128) << 64;
                s.set_zmm(z, v);
                let out = run(&mut n, mode, &[0x90], &s);
                assert_eq!(
                    vectors(&out.state),
                    vectors(&s),
                    "{mode:?} zmm{z} lane {lane}"
                );
            }
        }
        let mut s = State::default();
        s.k[5] = 1 << 63;
        assert_eq!(vectors(&run(&mut n, mode, &[0x90], &s).state), vectors(&s));
        let out = run(&mut n, mode, &[0x90], &State::default());
        assert_eq!(vectors(&out.state), vectors(&State::default()));
    }
}

/// Instructions that read and write ZMM and opmask registers see the case's values and their
/// results are observed; expectations computed here from the inputs. Each case that completes
/// also runs single-stepped (the signal path) and must give the same output.
#[test]
fn avx512_instructions_see_and_set_the_state() {
    let mut n = native();
    let mut rng = hvemu_tests::randgen::Rng::new(0x6176_7835_3132);
    let data = SCRATCH_BASE + 0x200;
    for mode in MODES {
        for _ in 0..8 {
            let mut s = state(&[(RAX, data)], 0x2);
            random_vectors(&mut rng, &mut s);
            let mem: [u8; 64] = core::array::from_fn(|_| rng.byte());
            n.write(data, &mem);
            let mem_q: [u64; 8] = core::array::from_fn(|i| {
                u64::from_le_bytes(mem[8 * i..8 * i + 8].try_into().unwrap())
            });

            // vmovdqu64 zmm5{k3}, [rax]: qword i from memory where k3 bit i is set (merging)
            let out = run_both(&mut n, mode, &[0x62, 0xf1, 0xfe, 0x4b, 0x6f, 0x28], &s);
            completed(&out, 6);
            let old = qwords(s.zmm(5));
            let want = core::array::from_fn(|i| {
                if s.k[3] >> i & 1 != 0 {
                    mem_q[i]
                } else {
                    old[i]
                }
            });
            assert_eq!(
                qwords(out.state.zmm(5)),
                want,
                "{mode:?} k3 = {:#x}",
                s.k[3]
            );
            vectors_unchanged_except(&s, &out.state, &[5], &[]);

            // vmovdqu64 zmm21{k3}{z}, [rax+64] in 64-bit mode (zeroing): from the next 64 bytes
            if mode == Mode::Long64 {
                let out = run_both(
                    &mut n,
                    mode,
                    &[0x62, 0xe1, 0xfe, 0xcb, 0x6f, 0x68, 0x01],
                    &s,
                );
                completed(&out, 7);
                let next = n.read(data + 64, 64);
                let want: [u64; 8] = core::array::from_fn(|i| match s.k[3] >> i & 1 {
                    0 => 0,
                    _ => u64::from_le_bytes(next[8 * i..8 * i + 8].try_into().unwrap()),
                });
                assert_eq!(qwords(out.state.zmm(21)), want);
                vectors_unchanged_except(&s, &out.state, &[21], &[]);
            }

            // vmovdqu64 zmm5{k3}, [GUARD_PAGE]: #PF, zmm5 as it was
            let s_pf = State {
                gpr: {
                    let mut g = s.gpr;
                    g[RAX] = GUARD_PAGE;
                    g
                },
                ..s
            };
            let out = run(&mut n, mode, &[0x62, 0xf1, 0xfe, 0x4b, 0x6f, 0x28], &s_pf);
            if s.k[3] & 0xff != 0 {
                // CR2 is the first unmasked element on AMD Zen 4; at least not past it.
                let e = exception(&out);
                let first = GUARD_PAGE + 8 * u64::from((s.k[3] & 0xff).trailing_zeros());
                assert_eq!(e.vector, 14);
                assert!(
                    (GUARD_PAGE..=first).contains(&e.cr2.unwrap()),
                    "{e:x?} k3 = {:#x}",
                    s.k[3]
                );
            } else {
                completed(&out, 6);
            }
            vectors_unchanged_except(&s, &out.state, &[], &[]);

            // vmovdqu8 zmm5{k3}, [GUARD_PAGE - 32]: masked-off bytes do not fault, so with k3
            // limited to the readable low 32 bytes it completes
            let mut s_sup = s_pf;
            s_sup.gpr[RAX] = GUARD_PAGE - 32;
            s_sup.k[3] &= 0xffff_ffff;
            let below = n.read(GUARD_PAGE - 32, 32).to_vec();
            let out = run(&mut n, mode, &[0x62, 0xf1, 0x7f, 0x4b, 0x6f, 0x28], &s_sup);
            completed(&out, 6);
            let old = s.zmm_bytes(5);
            let want: [u8; 64] = core::array::from_fn(|i| {
                if s_sup.k[3] >> i & 1 != 0 {
                    below[i]
                } else {
                    old[i]
                }
            });
            assert_eq!(out.state.zmm_bytes(5), want);

            // kmovq k2, k1
            let out = run_both(&mut n, mode, &[0xc4, 0xe1, 0xf8, 0x90, 0xd1], &s);
            completed(&out, 5);
            assert_eq!(out.state.k[2], s.k[1]);
            vectors_unchanged_except(&s, &out.state, &[], &[2]);

            // kaddq k7, k6, k5
            let out = run_both(&mut n, mode, &[0xc4, 0xe1, 0xcc, 0x4a, 0xfd], &s);
            assert_eq!(out.state.k[7], s.k[6].wrapping_add(s.k[5]));
            vectors_unchanged_except(&s, &out.state, &[], &[7]);

            // 62 e1 fd 48 6f cb: vmovdqa64 zmm17, zmm3 in 64-bit mode. In compatibility mode
            // EVEX.R' is ignored (observed on AMD Zen 4): it is vmovdqa64 zmm1, zmm3.
            let dst = if mode == Mode::Long64 { 17 } else { 1 };
            let out = run_both(&mut n, mode, &[0x62, 0xe1, 0xfd, 0x48, 0x6f, 0xcb], &s);
            completed(&out, 6);
            assert_eq!(out.state.zmm(dst), s.zmm(3));
            vectors_unchanged_except(&s, &out.state, &[dst], &[]);

            // vpaddd ymm1, ymm2, ymm3: dword sums in bits 255:0, bits 511:256 zeroed (VEX)
            let out = run_both(&mut n, mode, &[0xc5, 0xed, 0xfe, 0xcb], &s);
            completed(&out, 4);
            let (a, b) = (dwords(s.zmm(2)), dwords(s.zmm(3)));
            let want = from_dwords(core::array::from_fn(|i| match i {
                0..8 => a[i].wrapping_add(b[i]),
                _ => 0,
            }));
            assert_eq!(out.state.zmm(1), want);
            assert_eq!(out.state.ymm(1), [want[0], want[1]]);
            vectors_unchanged_except(&s, &out.state, &[1], &[]);

            // vpaddd zmm1{k4}, zmm18, zmm3 in 64-bit mode (62 f1 6d 44 fe cb: EVEX.V' = 0,
            // merging); in compatibility mode AMD ignores V' (observed on Zen 4: zmm2 is the
            // first source) and Intel raises #UD (observed on a 5th-generation Xeon).
            let src = if mode == Mode::Long64 { 18 } else { 2 };
            let out = run_both(&mut n, mode, &[0x62, 0xf1, 0x6d, 0x44, 0xfe, 0xcb], &s);
            if mode == Mode::Compat32 && host_vendor() == Vendor::Intel {
                assert_eq!(exception(&out).vector, 6);
                vectors_unchanged_except(&s, &out.state, &[], &[]);
            } else {
                completed(&out, 6);
                let (a, b, old) = (dwords(s.zmm(src)), dwords(s.zmm(3)), dwords(s.zmm(1)));
                let want = from_dwords(core::array::from_fn(|i| match s.k[4] >> i & 1 {
                    0 => old[i],
                    _ => a[i].wrapping_add(b[i]),
                }));
                assert_eq!(out.state.zmm(1), want);
                vectors_unchanged_except(&s, &out.state, &[1], &[]);
            }

            // vzeroall: ZMM0–ZMM15 (64-bit) or ZMM0–ZMM7 (compatibility mode) are zeroed;
            // ZMM16–ZMM31 are untouched
            let out = run_both(&mut n, mode, &[0xc5, 0xfc, 0x77], &s);
            completed(&out, 3);
            let zeroed: Vec<usize> = (0..if mode == Mode::Long64 { 16 } else { 8 }).collect();
            for &z in &zeroed {
                assert_eq!(out.state.zmm(z), [0; 4], "zmm{z}");
            }
            vectors_unchanged_except(&s, &out.state, &zeroed, &[]);
        }
    }
}

#[test]
fn run_at_edge_tells_whole_instructions_from_prefixes() {
    let mut n = native();
    let s = state(&[(RBX, 7)], 0);
    for mode in [Mode::Long64, Mode::Compat32, Mode::Compat16] {
        // mov ebx, eax (89 c3; mov bx, ax in 16-bit code): one byte is a prefix of it, two are
        // it; falling through is the
        // fetch fault of the next instruction at the edge.
        let out = n.run_at_edge(mode, &[0x89], &s).unwrap();
        assert!(out.wants_more_bytes(1), "{mode:?}: {out:#x?}");
        let out = n.run_at_edge(mode, &[0x89, 0xc3], &s).unwrap();
        assert!(!out.wants_more_bytes(2), "{mode:?}: {out:#x?}");
        assert_eq!(out.outcome, Outcome::Completed, "{mode:?}");
        assert_eq!((out.rip, out.state.gpr[RBX]), (EDGE, 0), "{mode:?}");

        // ud2 (0f 0b): #UD once whole, at its own start.
        let out = n.run_at_edge(mode, &[0x0f], &s).unwrap();
        assert!(out.wants_more_bytes(1), "{mode:?}: {out:#x?}");
        let out = n.run_at_edge(mode, &[0x0f, 0x0b], &s).unwrap();
        assert!(!out.wants_more_bytes(2));
        assert_eq!((exception(&out).vector, out.rip), (6, EDGE - 2), "{mode:?}");

        // jmp $+1 (eb ff) lands on its own last byte (ff), which then needs more bytes: the
        // fetch fault is the second instruction's, so the jump itself was whole.
        let out = n.run_at_edge(mode, &[0xeb, 0xff], &s).unwrap();
        assert!(!out.wants_more_bytes(2), "{mode:?}: {out:#x?}");
        assert_eq!(out.rip, EDGE - 1, "{mode:?}");
    }
}

/// 16-bit code (`Mode::Compat16`): operand and address size 16 unless prefixed, IP relative to
/// the code segment's base (`INSN_ADDR`), RIPs reported as linear addresses, and branches
/// beyond the segment's limit faulting.
#[test]
fn sixteen_bit_code() {
    let mut n = native();
    let s = state(&[(RAX, 0xdead_0000), (RBX, 0x1111_2222)], 0);
    let mode = Mode::Compat16;
    // mov ax, 0x1234: three bytes, only AX written.
    let out = run(&mut n, mode, &[0xb8, 0x34, 0x12], &s);
    completed(&out, 3);
    assert_eq!(out.state.gpr[RAX], 0xdead_1234);
    // 66 mov eax, 0x12345678: the operand-size prefix makes it 32-bit.
    let out = run(&mut n, mode, &[0x66, 0xb8, 0x78, 0x56, 0x34, 0x12], &s);
    completed(&out, 6);
    assert_eq!(out.state.gpr[RAX], 0x1234_5678);
    // add bx, bx with 16-bit wrap-around: 0x2222 + 0x2222.
    let out = run(&mut n, mode, &[0x01, 0xdb], &s);
    completed(&out, 2);
    assert_eq!(out.state.gpr[RBX], 0x1111_4444);
    // ud2 at IP 0.
    let out = run(&mut n, mode, &[0x0f, 0x0b], &s);
    assert_eq!((exception(&out).vector, out.rip), (6, INSN_ADDR));
    // jmp near +0x100 (rel16) lands on the int3 filler at INSN_ADDR + 3 + 0x100.
    let out = run(&mut n, mode, &[0xe9, 0x00, 0x01], &s);
    assert_eq!(
        (out.outcome, out.rip),
        (Outcome::Completed, INSN_ADDR + 0x103)
    );
    // jmp near -16: IP wraps to 0xfff3, beyond the limit: #GP(0) at the jump.
    let out = run(&mut n, mode, &[0xe9, 0xf0, 0xff], &s);
    const _: () = assert!(0xfff3 > CODE16_LIMIT);
    let e = exception(&out);
    assert_eq!((e.vector, e.error_code, out.rip), (13, 0, INSN_ADDR));
}

/// A stack in the LDT's 16-bit data segments: SS.B = 0 makes PUSH and POP use SP alone (the
/// harness's ESP upper half, `Output::entry_rsp`, survives), SP wraps at 64 KiB, and offsets
/// past an expand-up limit or at or below an expand-down one are #SS(0). Read-only SS is
/// refused, and the host's SS is back for the next case.
#[test]
fn sixteen_bit_stack() {
    let mut n = native();
    n.clear_mem();
    for mode in [Mode::Compat16, Mode::Compat32] {
        // push ax in 16-bit code, push eax in 32-bit code: 2 or 4 bytes below SP 0x8010, at
        // DATA16_BASE + 0x8010 = SCRATCH_BASE + 0x10.
        let w = if mode == Mode::Compat16 { 2 } else { 4 };
        let mut s = state(&[(RSP, 0x8010), (RAX, 0x1234_5678)], 0x2);
        s.ss = DataSeg::Data16;
        let out = run(&mut n, mode, &[0x50], &s);
        completed(&out, 1);
        assert_eq!(out.entry_rsp & 0xffff, 0x8010);
        assert_eq!(out.state.gpr[RSP], out.entry_rsp - w, "{mode:?}");
        assert_eq!(DATA16_BASE + 0x8010, SCRATCH_BASE + 0x10);
        let want = 0x1234_5678u32.to_le_bytes();
        assert_eq!(
            n.read(SCRATCH_BASE + 0x10 - w, w as usize),
            &want[..w as usize]
        );
        // SP 0 wraps to 0xfffe (or 0xfffc), past the limit 0xbfff: #SS(0), nothing written.
        s.gpr[RSP] = 0;
        let out = run(&mut n, mode, &[0x50], &s);
        let e = exception(&out);
        assert_eq!((e.vector, e.error_code), (12, 0), "{mode:?}");
        assert_eq!(out.state.gpr[RSP], out.entry_rsp);
        // Expand-down: offsets above the limit are valid (pop from SP 0x9010, at
        // SCRATCH_BASE + 0x1010); a push from SP 0x9001 reaches the limit: #SS(0).
        n.write(SCRATCH_BASE + 0x1010, &0xcafe_f00du32.to_le_bytes());
        let mut s = state(&[(RSP, 0x9010)], 0x2);
        s.ss = DataSeg::ExpandDown16;
        let out = run(&mut n, mode, &[0x59], &s);
        completed(&out, 1);
        let mask = if w == 2 { 0xffff } else { 0xffff_ffff };
        assert_eq!(out.state.gpr[RCX] & mask, 0xcafe_f00d & mask);
        assert_eq!(out.state.gpr[RSP], out.entry_rsp + w);
        s.gpr[RSP] = 0x9001;
        let e = exception(&run(&mut n, mode, &[0x50], &s));
        assert_eq!((e.vector, e.error_code), (12, 0), "{mode:?}");
        // The 32-bit expand-down segment is a 32-bit stack: ESP whole.
        let mut s = state(
            &[(RSP, SCRATCH_BASE + 0x1010 - DataSeg::ExpandDown32.base())],
            0x2,
        );
        s.ss = DataSeg::ExpandDown32;
        let out = run(&mut n, mode, &[0x50], &s);
        completed(&out, 1);
        assert_eq!(out.entry_rsp, s.gpr[RSP]);
        assert_eq!(out.state.gpr[RSP], s.gpr[RSP] - w);
        let mut s = state(&[(RSP, 0x8010)], 0x2);
        s.ss = DataSeg::ReadOnly16;
        assert!(matches!(n.run(mode, &[0x50], &s), Err(Error::Refused(_))));
        // The next case runs on the mode's flat stack again.
        let s = state(&[(RSP, SCRATCH_BASE + 0x2000)], 0x2);
        let out = run(&mut n, Mode::Compat32, &[0x50], &s);
        completed(&out, 1);
        assert_eq!(out.state.gpr[RSP], SCRATCH_BASE + 0x2000 - 4);
    }
}
