//! Signal handling: turning the CPU's exceptions into recorded outcomes.
//!
//! One handler serves SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP and the watchdog's SIGALRM. It
//! runs on an alternate signal stack (the case's RSP may point anywhere) and never unwinds or
//! jumps: when the interrupted RIP is in the instruction zone, it copies the kernel's record
//! of the exception (signal, `si_code`, the `trapno`, `err` and `cr2` fields of the
//! `ucontext`, RIP, CS) into the control block and rewrites the saved context so that the
//! kernel's `rt_sigreturn` resumes at the trampoline's epilogue in 64-bit mode (CS = 0x33,
//! TF cleared) with every other register as it was at the fault. The epilogue then stores the
//! registers exactly as on the normal path, so a fault leaves the at-fault register state
//! (including the progress of a REP string instruction) and restores the host. The signal
//! mask is restored by `rt_sigreturn` itself, which is what makes this approach simpler and
//! more robust than `siglongjmp`.
//!
//! Signals at any other RIP are passed to the handler that was installed before (the Rust
//! runtime's stack-overflow handler, or the default action), so faults of the test program
//! itself still crash it as usual.

use super::ctrl::Ctrl;
use core::ffi::c_void;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use std::sync::OnceLock;

/// The watchdog's signal.
pub(super) const WATCHDOG_SIGNAL: libc::c_int = libc::SIGALRM;

/// The signals the handler takes.
const SIGNALS: [libc::c_int; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
    WATCHDOG_SIGNAL,
];

const TF: i64 = 1 << 8;

/// The `sigev_value` of the watchdog's timer, which tells its signals from anyone else's.
const COOKIE: usize = 0x6876_656d_7564_6f67;

/// Addresses the handler needs, fixed once the harness is set up.
#[derive(Clone, Copy, Debug)]
pub(super) struct Where {
    pub ctrl: usize,
    /// The instruction zone (stub page and landing zone), below 4 GiB.
    pub zone: (u64, u64),
    /// The generated trampoline code.
    pub code: (u64, u64),
    pub epilogue: u64,
    pub restore: u64,
    pub insn: u64,
}

static WHERE: OnceLock<Where> = OnceLock::new();
static OLD: OnceLock<Vec<(libc::c_int, libc::sigaction)>> = OnceLock::new();

/// Installs the handler for all [`SIGNALS`] (once per process), remembering the previous
/// handlers for chaining.
pub(super) fn install(w: Where) -> Result<(), String> {
    if WHERE.set(w).is_err() {
        return Err("signal handlers installed twice".into());
    }
    let mut old = Vec::new();
    for &sig in &SIGNALS {
        // SAFETY: querying the current action into a zeroed, properly typed struct.
        let mut o: libc::sigaction = unsafe { core::mem::zeroed() };
        // SAFETY: valid pointers; a null new action only queries.
        if unsafe { libc::sigaction(sig, core::ptr::null(), &mut o) } != 0 {
            return Err(format!("sigaction({sig}) query failed"));
        }
        old.push((sig, o));
    }
    OLD.set(old)
        .map_err(|_| "signal handlers installed twice".to_string())?;
    for &sig in &SIGNALS {
        // SAFETY: a zeroed sigaction is a valid starting point; the fields are set below.
        let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
        // SAFETY: sa_mask is a plain sigset_t owned by `sa`.
        unsafe {
            libc::sigemptyset(&mut sa.sa_mask);
            if sig != WATCHDOG_SIGNAL {
                libc::sigaddset(&mut sa.sa_mask, WATCHDOG_SIGNAL);
            }
        }
        // SAFETY: installing a handler that is async-signal-safe (it only reads and writes
        // plain memory) with a valid sigaction.
        if unsafe { libc::sigaction(sig, &sa, core::ptr::null_mut()) } != 0 {
            return Err(format!("sigaction({sig}) install failed"));
        }
    }
    Ok(())
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: called by the kernel with a valid siginfo and ucontext for this signal.
    unsafe {
        if !handle(sig, info, ctx) {
            chain(sig, info, ctx);
        }
    }
}

/// Handles a signal that belongs to the harness; false when it must be chained.
///
/// # Safety
/// `info` and `ctx` must be the kernel's arguments to an `SA_SIGINFO` handler.
unsafe fn handle(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) -> bool {
    let Some(w) = WHERE.get() else {
        return false;
    };
    // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers.
    let uc = unsafe { &mut *(ctx as *mut libc::ucontext_t) };
    let g = &mut uc.uc_mcontext.gregs;
    let rip = g[libc::REG_RIP as usize] as u64;
    let c = w.ctrl as *mut Ctrl;
    let in_code = rip >= w.code.0 && rip < w.code.1;
    // SAFETY: `info` is valid.
    let code = unsafe { (*info).si_code };
    // In the instruction zone, or (a branch went elsewhere) anywhere but the trampoline while
    // a case is running on the owner thread; `code > 0` excludes signals sent by processes.
    let running_case = || {
        // SAFETY: the control block is mapped for the life of the process; gettid has no
        // preconditions and is async-signal-safe.
        unsafe {
            read_volatile(addr_of!((*c).active)) != 0
                && libc::gettid() as u64 == read_volatile(addr_of!((*c).owner_tid))
        }
    };
    let in_zone = (rip >= w.zone.0 && rip < w.zone.1)
        || (!in_code && (code > 0 || sig == WATCHDOG_SIGNAL) && running_case());

    if sig == WATCHDOG_SIGNAL {
        // SAFETY: for SI_TIMER the kernel fills the timer fields, si_value among them.
        if code != libc::SI_TIMER || unsafe { (*info).si_value().sival_ptr } as usize != COOKIE {
            return false;
        }
        if !in_zone {
            return true;
        }
        // SAFETY: the control block is mapped for the life of the process.
        unsafe {
            let seq = read_volatile(addr_of!((*c).seq));
            if read_volatile(addr_of!((*c).watchdog_seen)) != seq {
                write_volatile(addr_of_mut!((*c).watchdog_seen), seq);
                return true;
            }
        }
        // The same case has been running for a whole tick: give up on it below.
    }

    if in_zone {
        let trapno = g[libc::REG_TRAPNO as usize] as u64;
        // SAFETY: the control block is mapped for the life of the process.
        let rep = unsafe { read_volatile(addr_of!((*c).rep_string)) };
        if sig == libc::SIGTRAP && trapno == 1 && rip == w.insn && rep != 0 {
            // Single-stepping a REP string instruction between iterations: let it run to
            // its end (it then falls through to the epilogue).
            g[libc::REG_EFL as usize] &= !TF;
            return true;
        }
        // SAFETY: as above.
        unsafe { record(c, sig, code, g, false) };
        redirect(g, w.epilogue);
        return true;
    }
    if in_code && sig != WATCHDOG_SIGNAL {
        // A fault of the trampoline itself (for example `iretq` to a code segment the kernel
        // does not provide). Give up on the case; a second one in the restore path is fatal.
        // SAFETY: as above.
        if unsafe { read_volatile(addr_of!((*c).harness_error)) } != 0 {
            return false;
        }
        // SAFETY: as above.
        unsafe { record(c, sig, code, g, true) };
        redirect(g, w.restore);
        return true;
    }
    // A watchdog tick outside a case (in the trampoline, the test program, or after the
    // timer was deleted): nothing to do.
    sig == WATCHDOG_SIGNAL
}

/// Copies the kernel's exception record into the control block.
///
/// # Safety
/// `c` must point to the mapped control block.
unsafe fn record(c: *mut Ctrl, sig: libc::c_int, code: libc::c_int, g: &[i64; 23], harness: bool) {
    // SAFETY: the caller guarantees `c`.
    unsafe {
        write_volatile(addr_of_mut!((*c).sig), sig as u64);
        write_volatile(addr_of_mut!((*c).sig_code), code as i64 as u64);
        write_volatile(
            addr_of_mut!((*c).sig_trapno),
            g[libc::REG_TRAPNO as usize] as u64,
        );
        write_volatile(addr_of_mut!((*c).sig_err), g[libc::REG_ERR as usize] as u64);
        write_volatile(addr_of_mut!((*c).sig_cr2), g[libc::REG_CR2 as usize] as u64);
        write_volatile(addr_of_mut!((*c).sig_rip), g[libc::REG_RIP as usize] as u64);
        write_volatile(
            addr_of_mut!((*c).sig_cs),
            g[libc::REG_CSGSFS as usize] as u64 & 0xffff,
        );
        write_volatile(addr_of_mut!((*c).harness_error), harness as u64);
    }
}

/// Makes `rt_sigreturn` resume at `to` in 64-bit mode with TF clear.
fn redirect(g: &mut [i64; 23], to: u64) {
    g[libc::REG_RIP as usize] = to as i64;
    let csgsfs = g[libc::REG_CSGSFS as usize];
    g[libc::REG_CSGSFS as usize] = (csgsfs & !0xffff) | 0x33;
    g[libc::REG_EFL as usize] &= !TF;
}

/// Passes a signal that is not the harness's to the previously installed handler.
///
/// # Safety
/// The arguments must be the kernel's arguments to this handler.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let old = OLD
        .get()
        .and_then(|v| v.iter().find(|(s, _)| *s == sig))
        .map(|(_, a)| *a);
    let Some(old) = old else {
        return;
    };
    match old.sa_sigaction {
        libc::SIG_IGN => {}
        libc::SIG_DFL => {
            // Restore the default action; a synchronous fault then happens again on return
            // and takes it, anything else is raised again (it stays pending until return).
            // SAFETY: a zeroed sigaction with SIG_DFL (0) is the default action.
            unsafe {
                let dfl: libc::sigaction = core::mem::zeroed();
                libc::sigaction(sig, &dfl, core::ptr::null_mut());
                let fault = matches!(
                    sig,
                    libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
                ) && (*info).si_code > 0;
                if !fault {
                    libc::raise(sig);
                }
            }
        }
        h if old.sa_flags & libc::SA_SIGINFO != 0 => {
            // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this type.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                unsafe { core::mem::transmute(h) };
            f(sig, info, ctx);
        }
        h => {
            // SAFETY: a handler installed without SA_SIGINFO has this type.
            let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(h) };
            f(sig);
        }
    }
}

/// The calling thread's alternate signal stack while a `Native` exists; restores the previous
/// one when dropped.
pub(super) struct AltStack {
    mem: *mut c_void,
    len: usize,
    old: libc::stack_t,
}

impl AltStack {
    const LEN: usize = 256 * 1024;

    pub(super) fn install() -> Result<AltStack, String> {
        // SAFETY: an anonymous private mapping; checked for failure below.
        let mem = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mem == libc::MAP_FAILED {
            return Err("mmap of the signal stack failed".into());
        }
        let new = libc::stack_t {
            ss_sp: mem,
            ss_flags: 0,
            ss_size: Self::LEN,
        };
        // SAFETY: a zeroed stack_t is a valid output buffer.
        let mut old: libc::stack_t = unsafe { core::mem::zeroed() };
        // SAFETY: `new` describes memory we own for the life of the AltStack.
        if unsafe { libc::sigaltstack(&new, &mut old) } != 0 {
            // SAFETY: unmapping what we mapped above.
            unsafe { libc::munmap(mem, Self::LEN) };
            return Err("sigaltstack failed".into());
        }
        Ok(AltStack {
            mem,
            len: Self::LEN,
            old,
        })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let old = if self.old.ss_flags & libc::SS_DISABLE != 0 {
            libc::stack_t {
                ss_sp: core::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            }
        } else {
            libc::stack_t {
                ss_flags: 0,
                ..self.old
            }
        };
        // SAFETY: restores the thread's previous alternate stack, then frees ours (no signal
        // handler can be running on it here: we are on the thread's normal stack).
        unsafe {
            libc::sigaltstack(&old, core::ptr::null_mut());
            libc::munmap(self.mem, self.len);
        }
    }
}

/// A periodic timer on the calling thread's CPU clock that sends [`WATCHDOG_SIGNAL`] to that
/// thread; the handler gives up on a case still running after a whole period (an instruction
/// that branches to itself, say).
pub(super) struct Watchdog(libc::timer_t);

impl Watchdog {
    pub(super) fn start(period_ms: u64) -> Result<Watchdog, String> {
        // SAFETY: a zeroed sigevent is valid; the fields are set below.
        let mut sev: libc::sigevent = unsafe { core::mem::zeroed() };
        sev.sigev_notify = libc::SIGEV_THREAD_ID;
        sev.sigev_signo = WATCHDOG_SIGNAL;
        sev.sigev_value.sival_ptr = COOKIE as *mut c_void;
        // SAFETY: gettid has no preconditions.
        sev.sigev_notify_thread_id = unsafe { libc::gettid() };
        let mut t: libc::timer_t = core::ptr::null_mut();
        // SAFETY: valid pointers to owned values.
        if unsafe { libc::timer_create(libc::CLOCK_THREAD_CPUTIME_ID, &mut sev, &mut t) } != 0 {
            return Err("timer_create failed".into());
        }
        let ts = libc::timespec {
            tv_sec: (period_ms / 1000) as libc::time_t,
            tv_nsec: ((period_ms % 1000) * 1_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: ts,
            it_value: ts,
        };
        // SAFETY: `t` was created above.
        if unsafe { libc::timer_settime(t, 0, &spec, core::ptr::null_mut()) } != 0 {
            // SAFETY: deleting the timer created above.
            unsafe { libc::timer_delete(t) };
            return Err("timer_settime failed".into());
        }
        Ok(Watchdog(t))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // SAFETY: the timer was created by `start` and is deleted once.
        unsafe { libc::timer_delete(self.0) };
    }
}
