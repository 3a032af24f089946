//! The generated code: a tiny x86-64 encoder and the trampoline built with it.
//!
//! All memory operands of the trampoline are RIP-relative references to the control block
//! ([`super::ctrl::Ctrl`]), which sits right after the code, and to the XSAVE areas after it
//! ([`super::ctrl::XAreas`]), so the code works at whatever address the kernel chose for it.

use super::Mode;
use super::ctrl::{Ctrl, XAreas};
use core::mem::offset_of;

/// Hardware register numbers.
const RAX: u8 = 0;
const RSP: u8 = 4;

/// Segment register numbers in the ModRM reg field of `8C`/`8E`.
const ES: u8 = 0;
const DS: u8 = 3;
const FS: u8 = 4;
const GS: u8 = 5;

/// Addresses of the entry points inside the generated code.
#[derive(Clone, Copy, Debug)]
pub(super) struct Labels {
    /// `extern "sysv64" fn()`: runs the prepared case and returns.
    pub entry: u64,
    /// Where the instruction falls through to (via the stub) and where the signal handler sends
    /// a faulting case: stores all registers, then restores the host.
    pub epilogue: u64,
    /// Restores the host without storing anything (for errors of the trampoline itself).
    pub restore: u64,
}

/// A byte buffer that knows the address it will run at.
struct Asm {
    base: u64,
    buf: Vec<u8>,
}

impl Asm {
    fn here(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    fn b(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `opcode` bytes (prefixes, REX, opcode), then ModRM with `reg` and a RIP-relative
    /// `[target]`; the displacement is the last field of every instruction emitted this way.
    fn riprel(&mut self, opcode: &[u8], reg: u8, target: u64) {
        self.b(opcode);
        self.b(&[((reg & 7) << 3) | 0b101]);
        let next = self.here() + 4;
        let disp = target.wrapping_sub(next) as i64;
        let disp = i32::try_from(disp).expect("control block within ±2 GiB of the code");
        self.b(&disp.to_le_bytes());
    }

    /// `mov byte [target], imm` (the immediate follows the displacement).
    fn store_byte(&mut self, target: u64, imm: u8) {
        self.b(&[0xc6, 0x05]);
        let next = self.here() + 5;
        let disp = target.wrapping_sub(next) as i64;
        let disp = i32::try_from(disp).expect("control block within ±2 GiB of the code");
        self.b(&disp.to_le_bytes());
        self.b(&[imm]);
    }

    fn rex_w(reg: u8) -> u8 {
        0x48 | ((reg >> 3) << 2)
    }

    /// `mov reg64, [target]`
    fn load(&mut self, reg: u8, target: u64) {
        self.riprel(&[Self::rex_w(reg), 0x8b], reg, target);
    }

    /// `mov [target], reg64`
    fn store(&mut self, reg: u8, target: u64) {
        self.riprel(&[Self::rex_w(reg), 0x89], reg, target);
    }

    /// `mov eax, mask[31:0]; mov edx, mask[63:32]`, then `xsave64 [target]` (`save`) or
    /// `xrstor64 [target]`: the requested-feature bitmap is EDX:EAX.
    fn xsave(&mut self, target: u64, mask: u64, save: bool) {
        self.b(&[0xb8]);
        self.b(&(mask as u32).to_le_bytes());
        self.b(&[0xba]);
        self.b(&((mask >> 32) as u32).to_le_bytes());
        self.riprel(&[0x48, 0x0f, 0xae], if save { 4 } else { 5 }, target);
    }

    /// `mov [target], sreg` (16-bit store).
    fn store_sreg(&mut self, sreg: u8, target: u64) {
        self.riprel(&[0x8c], sreg, target);
    }

    /// `mov sreg, [target]`.
    fn load_sreg(&mut self, sreg: u8, target: u64) {
        self.riprel(&[0x8e], sreg, target);
    }

    /// Reloads FS or GS from `[target]` only when the selector differs (reloading a null
    /// selector can clear the hidden base, which holds the host's thread pointer):
    /// `mov eax, sreg; cmp ax, [target]; je +6; mov sreg, [target]`.
    fn restore_sreg_if_changed(&mut self, sreg: u8, target: u64) {
        self.b(&[0x8c, 0xc0 | (sreg << 3)]);
        self.riprel(&[0x66, 0x3b], RAX, target);
        self.b(&[0x74, 0x06]);
        let before = self.buf.len();
        self.load_sreg(sreg, target);
        debug_assert_eq!(self.buf.len() - before, 6);
    }
}

/// Generates the trampoline for code at `code` with the control block at `ctrl`.
///
/// ```text
/// entry:    push rbx, rbp, r12-r15          ; callee-saved
///           mov [host_rsp], rsp
///           xsave64 [x.host]                ; host x87/SSE/AVX/AVX-512 state (EDX:EAX = mask)
///           mov [host_ds/es/fs/gs], sreg
///           rdfsbase/rdgsbase -> [host_fsbase/gsbase]        (when FSGSBASE is enabled)
///           xrstor64 [x.input]              ; the case's MXCSR, XMM/YMM/ZMM, K; x87 to init
///           mov ds, [in_ds]; mov es, [in_es]
///           mov fs, [in_fs]; mov gs, [in_gs]; wrfsbase/wrgsbase [in_fsbase/gsbase] (FSGSBASE)
///           lea rsp, [frame]; mov GPRs except RSP, [in_gpr]
///           mov byte [active], 1
///           iretq                           ; RIP, CS, RFLAGS, RSP, SS at once
/// epilogue: mov [out_gpr+4*8], rsp
///           lea rsp, [out_rflags+8]; pushfq
///           mov [out_gpr], GPRs except RSP
///           xsave64 [x.output]              ; MXCSR, XMM/YMM/ZMM, K (EDX:EAX = mask)
///           rdfsbase/rdgsbase -> [out_fsbase/gsbase]                (when FSGSBASE is enabled)
/// restore:  mov byte [active], 0
///           mov rsp, [host_rsp]; push 2; popfq   ; DF = AC = TF = 0
///           mov eax, host_ss; mov ss, eax      ; the case may have run with another SS
///           xrstor64 [x.host]; mov ds/es, [host_ds/es]; FS, GS if changed
///           wrfsbase/wrgsbase from [host_fsbase/gsbase]       (when FSGSBASE is enabled)
///           pop r15-r12, rbp, rbx; ret
/// ```
pub(super) fn trampoline(
    code: u64,
    ctrl: u64,
    fsgsbase: bool,
    host_ss: u16,
    x: &XAreas,
) -> (Vec<u8>, Labels) {
    let f = |off: usize| ctrl + off as u64;
    let in_gpr = |i: u8| f(offset_of!(Ctrl, in_gpr) + 8 * i as usize);
    let out_gpr = |i: u8| f(offset_of!(Ctrl, out_gpr) + 8 * i as usize);
    let host_rsp = f(offset_of!(Ctrl, host_rsp));
    let host_sreg = [
        (DS, f(offset_of!(Ctrl, host_ds))),
        (ES, f(offset_of!(Ctrl, host_es))),
        (FS, f(offset_of!(Ctrl, host_fs))),
        (GS, f(offset_of!(Ctrl, host_gs))),
    ];
    let host_fsbase = f(offset_of!(Ctrl, host_fsbase));
    let host_gsbase = f(offset_of!(Ctrl, host_gsbase));

    let mut a = Asm {
        base: code,
        buf: Vec::with_capacity(1024),
    };

    // ---- entry ----
    let entry = a.here();
    a.b(&[0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57]);
    a.store(RSP, host_rsp);
    a.xsave(x.host, x.mask, true);
    for &(s, at) in &host_sreg {
        a.store_sreg(s, at);
    }
    if fsgsbase {
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xc0]); // rdfsbase rax
        a.store(RAX, host_fsbase);
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xc8]); // rdgsbase rax
        a.store(RAX, host_gsbase);
    }
    // The components whose XSTATE_BV bit is clear in the image (always x87) go to their
    // initial state: zero registers, empty x87 stack.
    a.xsave(x.input, x.mask, false);
    a.load_sreg(DS, f(offset_of!(Ctrl, in_ds)));
    a.load_sreg(ES, f(offset_of!(Ctrl, in_es)));
    if fsgsbase {
        a.load_sreg(FS, f(offset_of!(Ctrl, in_fs)));
        a.load_sreg(GS, f(offset_of!(Ctrl, in_gs)));
        a.load(RAX, f(offset_of!(Ctrl, in_fsbase)));
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xd0]); // wrfsbase rax
        a.load(RAX, f(offset_of!(Ctrl, in_gsbase)));
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xd8]); // wrgsbase rax
    }
    a.riprel(&[0x48, 0x8d], RSP, f(offset_of!(Ctrl, frame))); // lea rsp, [frame]
    for r in (0..16).filter(|&r| r != RSP) {
        a.load(r, in_gpr(r));
    }
    a.store_byte(f(offset_of!(Ctrl, active)), 1);
    a.b(&[0x48, 0xcf]); // iretq

    // ---- epilogue ----
    let epilogue = a.here();
    a.store(RSP, out_gpr(RSP));
    a.riprel(&[0x48, 0x8d], RSP, f(offset_of!(Ctrl, out_rflags) + 8));
    a.b(&[0x9c]); // pushfq
    for r in (0..16).filter(|&r| r != RSP) {
        a.store(r, out_gpr(r));
    }
    // RAX and RDX are stored: free for the mask.
    a.xsave(x.output, x.mask, true);
    if fsgsbase {
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xc0]); // rdfsbase rax
        a.store(RAX, f(offset_of!(Ctrl, out_fsbase)));
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xc8]); // rdgsbase rax
        a.store(RAX, f(offset_of!(Ctrl, out_gsbase)));
    }

    // ---- restore ----
    let restore = a.here();
    a.store_byte(f(offset_of!(Ctrl, active)), 0);
    a.load(RSP, host_rsp);
    a.b(&[0x6a, 0x02, 0x9d]); // push 2; popfq
    a.b(&[0xb8]); // mov eax, imm32
    a.b(&u32::from(host_ss).to_le_bytes());
    a.b(&[0x8e, 0xd0]); // mov ss, eax
    a.xsave(x.host, x.mask, false);
    a.load_sreg(DS, host_sreg[0].1);
    a.load_sreg(ES, host_sreg[1].1);
    a.restore_sreg_if_changed(FS, host_sreg[2].1);
    a.restore_sreg_if_changed(GS, host_sreg[3].1);
    if fsgsbase {
        a.load(RAX, host_fsbase);
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xd0]); // wrfsbase rax
        a.load(RAX, host_gsbase);
        a.b(&[0xf3, 0x48, 0x0f, 0xae, 0xd8]); // wrgsbase rax
    }
    a.b(&[
        0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3,
    ]);

    (
        a.buf,
        Labels {
            entry,
            epilogue,
            restore,
        },
    )
}

/// The stub at the start of the instruction zone that both modes' fall-through paths reach:
/// `jmp qword [rip+2]`, two bytes of padding, and the 64-bit address of the epilogue at offset
/// 8 (aligned: the case's RFLAGS.AC is still in force here).
pub(super) fn stub(epilogue: u64) -> Vec<u8> {
    let mut v = vec![0xff, 0x25, 2, 0, 0, 0, 0xcc, 0xcc];
    v.extend_from_slice(&epilogue.to_le_bytes());
    v
}

/// The fall-through jump placed right after the instruction at `end`: `jmp rel32` to `stub` in
/// 64-bit mode, `jmp far 0x33:stub` in compatibility mode (which also switches to 64-bit mode;
/// `66` first in 16-bit code, for the 32-bit offset).
/// At most [`FALLTHROUGH_MAX`] bytes.
pub(super) fn fallthrough(mode: Mode, end: u64, stub: u64) -> ([u8; FALLTHROUGH_MAX], usize) {
    let mut out = [0u8; FALLTHROUGH_MAX];
    match mode {
        // jmp far 0x33:stub; in 16-bit code with 66 for the 32-bit offset.
        Mode::Compat32 | Mode::Compat16 => {
            let o = usize::from(mode == Mode::Compat16);
            out[0] = 0x66;
            out[o] = 0xea;
            out[o + 1..o + 5].copy_from_slice(&(stub as u32).to_le_bytes());
            out[o + 5..o + 7].copy_from_slice(&0x33u16.to_le_bytes());
            (out, o + 7)
        }
        Mode::Long64 => {
            let rel = stub.wrapping_sub(end + 5) as i64;
            let rel = i32::try_from(rel).expect("stub within ±2 GiB of the instruction");
            out[0] = 0xe9;
            out[1..5].copy_from_slice(&rel.to_le_bytes());
            (out, 5)
        }
    }
}

/// Longest fall-through jump.
pub(super) const FALLTHROUGH_MAX: usize = 8;
