//! The ALU semantics of `hvemu::exec::alu` against the host processor, bit for bit.
//!
//! Every operation is run on the host with inline `asm!`: RFLAGS are loaded with `popfq` (the
//! six status flags chosen at random, IF and the reserved bit 1 set, TF, DF, AC and the rest
//! clear), the instruction runs on registers, and `pushfq` reads the flags back. The result and
//! all six status flags must equal what the emulator computes for the host's vendor
//! ([`Vendor::Amd`] on an AMD host, measured on a Zen 4; [`Vendor::Intel`] on an Intel host,
//! measured on a 5th-generation Xeon), and
//! the emulator must leave every other RFLAGS bit alone.
//!
//! Inputs come from a fixed-seed generator ([`Rng`]) biased toward the edges: 0, 1, all ones,
//! the sign boundaries, nibble carries, single bits, counts 0, 1, width - 1, width, width + 1,
//! 31, 32, 63, 64 and beyond, with random garbage above the operand size (which must be
//! ignored). `HVEMU_ALU_N` (default 200,000) random cases run per operation and size, plus
//! exhaustive sweeps: the 8-bit forms (all operand pairs with CF clear and set; all values with
//! all 64 status-flag inputs for the unary operations; all values and all 256 counts for the
//! shifts and rotates; every AX and divisor for DIV/IDIV; all products for MUL/IMUL), every
//! 16-bit source for BSF BSR POPCNT LZCNT TZCNT, every count 0..63 for SHLD/SHRD, and all 16
//! conditions under all 64 status-flag combinations. Shifts and rotates are run with the count
//! in CL and, for a set of counts, as immediates (including the one-bit `D0`/`D1` forms); BT
//! also runs on memory with register offsets reaching outside the operand, to check
//! [`bits::bit_mem_offset`].
//!
//! Division faults: a case the emulator reports as #DE is not executed in this process. The edge
//! cases (signed limits, quotients just inside and outside the range, divisor 0) and up to
//! [`FORK_CHECKS`] others per operation, size and kind of #DE are executed in a forked child,
//! which must die of SIGFPE; only these count as cases. A case the emulator accepts runs
//! in-process, so a #DE the emulator missed kills the test binary loudly.
//!
//! The summary per operation and size (cases, mismatches, first samples) is printed; run with
//! `--nocapture` to see it on success. Zero mismatches is the assertion.
#![cfg(target_arch = "x86_64")]

use hvemu::exec::alu::{AluOut, Vendor, arith, bits, cond, logic, mask, muldiv, shift, width};
use hvemu::flags::{AF, CF, OF, PF, SF, STATUS, ZF};
use hvemu_tests::randgen::{Draw, edge_bits};
use std::arch::asm;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// The vendor whose semantics must match the host: AMD on AMD hosts (this project's host is a
/// Zen 4), Intel on Intel hosts (a 5th-generation Xeon so far).
static HOST: LazyLock<Vendor> = LazyLock::new(|| {
    let id = std::arch::x86_64::__cpuid(0);
    let mut name = [0u8; 12];
    name[..4].copy_from_slice(&id.ebx.to_le_bytes());
    name[4..8].copy_from_slice(&id.edx.to_le_bytes());
    name[8..].copy_from_slice(&id.ecx.to_le_bytes());
    let vendor = if &name == b"GenuineIntel" {
        Vendor::Intel
    } else {
        Vendor::Amd
    };
    println!(
        "host: {}, comparing with {vendor:?}",
        String::from_utf8_lossy(&name)
    );
    vendor
});

fn host() -> Vendor {
    *HOST
}
const SIZES: [u8; 4] = [1, 2, 4, 8];
const SIZES_NO8: [u8; 3] = [2, 4, 8];
/// Faulting divisions per operation, size and kind of #DE (divide by zero, overflow) that are
/// confirmed natively in a forked child, besides the edge cases (which all are).
const FORK_CHECKS: u64 = 1000;
/// RFLAGS bits loaded besides the status flags: the reserved bit 1 and IF (which `popfq` at
/// CPL 3 cannot change anyway).
const BASE_FLAGS: u64 = 0x202;

fn cases_per_op() -> u64 {
    std::env::var("HVEMU_ALU_N")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(200_000)
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// SplitMix64: small, fixed seed, good enough for test inputs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Input RFLAGS: a random choice of the six status flags.
    fn flags(&mut self) -> u64 {
        BASE_FLAGS | (self.next() & STATUS)
    }

    /// An operand of `size` bytes, edge-biased, sometimes with garbage above `size`.
    fn operand(&mut self, size: u8) -> u64 {
        let m = mask(size);
        let v = edge_bits(self, size, 24);
        if self.below(4) == 0 {
            v | (self.next() & !m)
        } else {
            v
        }
    }

    /// A raw shift or rotate count (the instruction masks it).
    fn count(&mut self, size: u8) -> u8 {
        let w = width(size) as u8;
        if self.below(4) == 0 {
            return self.next() as u8;
        }
        self.pick(&[
            0,
            1,
            2,
            3,
            w - 1,
            w,
            w + 1,
            2 * w - 1,
            2 * w,
            9,
            16,
            17,
            18,
            31,
            32,
            33,
            63,
            64,
            65,
            96,
            127,
            128,
            129,
            255,
        ])
    }
}

impl Draw for Rng {
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
    fn below(&mut self, n: u64) -> u64 {
        Rng::below(self, n)
    }
}

// ---------------------------------------------------------------------------------------------
// Tallies

fn flag_names(f: u64) -> String {
    let mut s = String::new();
    for (bit, name) in [
        (CF, "CF"),
        (PF, "PF"),
        (AF, "AF"),
        (ZF, "ZF"),
        (SF, "SF"),
        (OF, "OF"),
    ] {
        if f & bit != 0 {
            s.push_str(name);
            s.push(' ');
        }
    }
    s.pop();
    if s.is_empty() { "-".into() } else { s }
}

/// Counts for one operation and size.
#[derive(Default)]
struct Row {
    name: String,
    cases: u64,
    bad: u64,
    faults: u64,
    faults_checked_zero: u64,
    faults_checked_overflow: u64,
    samples: Vec<String>,
}

/// The rows of one family.
#[derive(Default)]
struct Tally {
    rows: Vec<Row>,
}

impl Tally {
    fn row(&mut self, name: &str, size: u8) -> &mut Row {
        let name = format!("{name}/{}", size as u32 * 8);
        if let Some(i) = self.rows.iter().position(|r| r.name == name) {
            return &mut self.rows[i];
        }
        self.rows.push(Row {
            name,
            ..Row::default()
        });
        self.rows.last_mut().unwrap()
    }

    /// Records one case: `native` and `emu` are (values, RFLAGS).
    fn case(
        &mut self,
        name: &str,
        size: u8,
        inputs: &dyn Fn() -> String,
        flags_in: u64,
        native: ([u64; 2], u64),
        emu: ([u64; 2], u64),
    ) {
        let row = self.row(name, size);
        row.cases += 1;
        let ok = native.0 == emu.0
            && native.1 & STATUS == emu.1 & STATUS
            && emu.1 & !STATUS == flags_in & !STATUS;
        if !ok {
            row.bad += 1;
            if row.samples.len() < 8 {
                let diff = (native.1 ^ emu.1) & STATUS;
                row.samples.push(format!(
                    "{} flags_in=[{}] native={:x?} [{}] emu={:x?} [{}] differ=[{}]",
                    inputs(),
                    flag_names(flags_in),
                    native.0,
                    flag_names(native.1),
                    emu.0,
                    flag_names(emu.1),
                    flag_names(diff)
                ));
            }
        }
    }

    /// Prints the table and fails when any row has a mismatch.
    fn finish(&self, family: &str) {
        let mut out = format!("\n== {family}: host CPU vs Vendor::{:?} ==\n", host());
        let (mut cases, mut bad) = (0, 0);
        for r in &self.rows {
            cases += r.cases;
            bad += r.bad;
            let _ = write!(
                out,
                "{:<14} {:>10} cases {:>8} mismatches",
                r.name, r.cases, r.bad
            );
            if r.faults > 0 {
                let _ = write!(
                    out,
                    "   #DE from the emulator: {} (confirmed natively: {} divide by 0, {} overflow)",
                    r.faults, r.faults_checked_zero, r.faults_checked_overflow
                );
            }
            out.push('\n');
            for s in &r.samples {
                let _ = writeln!(out, "    {s}");
            }
        }
        let _ = writeln!(out, "total {cases} cases, {bad} mismatches");
        println!("{out}");
        assert_eq!(bad, 0, "{out}");
    }
}

// ---------------------------------------------------------------------------------------------
// Native execution

/// Runs `insn` between `popfq` and `pushfq` with the given register bindings; binds `f` (in:
/// RFLAGS to load, out: RFLAGS after).
macro_rules! flagged {
    ($f:ident, $insn:expr, $($ops:tt)*) => {
        unsafe {
            asm!(
                "push {f}",
                "popfq",
                $insn,
                "pushfq",
                "pop {f}",
                f = inout(reg) $f,
                $($ops)*
            )
        }
    };
}

/// `op dst, src` on two registers of each size.
macro_rules! native_bin {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, b: u64, mut f: u64) -> (u64, u64) {
            let mut a = a;
            match size {
                1 => flagged!(f, concat!($mn, " {a:l}, {b:l}"), a = inout(reg) a, b = in(reg) b),
                2 => flagged!(f, concat!($mn, " {a:x}, {b:x}"), a = inout(reg) a, b = in(reg) b),
                4 => flagged!(f, concat!($mn, " {a:e}, {b:e}"), a = inout(reg) a, b = in(reg) b),
                _ => flagged!(f, concat!($mn, " {a:r}, {b:r}"), a = inout(reg) a, b = in(reg) b),
            }
            (a, f)
        }
    };
}

/// `op dst, src` for 16-, 32- and 64-bit registers only.
macro_rules! native_bin_no8 {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, b: u64, mut f: u64) -> (u64, u64) {
            let mut a = a;
            match size {
                2 => flagged!(f, concat!($mn, " {a:x}, {b:x}"), a = inout(reg) a, b = in(reg) b),
                4 => flagged!(f, concat!($mn, " {a:e}, {b:e}"), a = inout(reg) a, b = in(reg) b),
                _ => flagged!(f, concat!($mn, " {a:r}, {b:r}"), a = inout(reg) a, b = in(reg) b),
            }
            (a, f)
        }
    };
}

/// `op dst` on one register.
macro_rules! native_un {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, mut f: u64) -> (u64, u64) {
            let mut a = a;
            match size {
                1 => flagged!(f, concat!($mn, " {a:l}"), a = inout(reg) a),
                2 => flagged!(f, concat!($mn, " {a:x}"), a = inout(reg) a),
                4 => flagged!(f, concat!($mn, " {a:e}"), a = inout(reg) a),
                _ => flagged!(f, concat!($mn, " {a:r}"), a = inout(reg) a),
            }
            (a, f)
        }
    };
}

/// `op dst, cl`.
macro_rules! native_shift {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, c: u8, mut f: u64) -> (u64, u64) {
            let mut a = a;
            match size {
                1 => flagged!(f, concat!($mn, " {a:l}, cl"), a = inout(reg) a, in("cl") c),
                2 => flagged!(f, concat!($mn, " {a:x}, cl"), a = inout(reg) a, in("cl") c),
                4 => flagged!(f, concat!($mn, " {a:e}, cl"), a = inout(reg) a, in("cl") c),
                _ => flagged!(f, concat!($mn, " {a:r}, cl"), a = inout(reg) a, in("cl") c),
            }
            (a, f)
        }
    };
}

/// `op dst, src, cl` (SHLD, SHRD).
macro_rules! native_dshift {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, b: u64, c: u8, mut f: u64) -> (u64, u64) {
            let mut a = a;
            match size {
                2 => flagged!(f, concat!($mn, " {a:x}, {b:x}, cl"),
                    a = inout(reg) a, b = in(reg) b, in("cl") c),
                4 => flagged!(f, concat!($mn, " {a:e}, {b:e}, cl"),
                    a = inout(reg) a, b = in(reg) b, in("cl") c),
                _ => flagged!(f, concat!($mn, " {a:r}, {b:r}, cl"),
                    a = inout(reg) a, b = in(reg) b, in("cl") c),
            }
            (a, f)
        }
    };
}

/// One-operand MUL/IMUL: returns (lo, hi, flags).
macro_rules! native_mul1 {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, b: u64, mut f: u64) -> (u64, u64, u64) {
            let (mut ax, mut dx) = (a, 0u64);
            match size {
                1 => flagged!(f, concat!($mn, " {b:l}"),
                    b = in(reg) b, inout("rax") ax, inout("rdx") dx),
                2 => flagged!(f, concat!($mn, " {b:x}"),
                    b = in(reg) b, inout("rax") ax, inout("rdx") dx),
                4 => flagged!(f, concat!($mn, " {b:e}"),
                    b = in(reg) b, inout("rax") ax, inout("rdx") dx),
                _ => flagged!(f, concat!($mn, " {b:r}"),
                    b = in(reg) b, inout("rax") ax, inout("rdx") dx),
            }
            if size == 1 {
                (ax & 0xff, (ax >> 8) & 0xff, f)
            } else {
                let m = mask(size);
                (ax & m, dx & m, f)
            }
        }
    };
}

/// DIV/IDIV: returns (quotient, remainder, flags). Must only be called when it does not fault.
macro_rules! native_div {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, hi: u64, lo: u64, d: u64, mut f: u64) -> (u64, u64, u64) {
            let m = mask(size);
            let (mut ax, mut dx) = if size == 1 {
                (((hi & 0xff) << 8) | (lo & 0xff), 0)
            } else {
                (lo, hi)
            };
            match size {
                1 => flagged!(f, concat!($mn, " {d:l}"),
                    d = in(reg) d, inout("rax") ax, inout("rdx") dx),
                2 => flagged!(f, concat!($mn, " {d:x}"),
                    d = in(reg) d, inout("rax") ax, inout("rdx") dx),
                4 => flagged!(f, concat!($mn, " {d:e}"),
                    d = in(reg) d, inout("rax") ax, inout("rdx") dx),
                _ => flagged!(f, concat!($mn, " {d:r}"),
                    d = in(reg) d, inout("rax") ax, inout("rdx") dx),
            }
            if size == 1 {
                (ax & 0xff, (ax >> 8) & 0xff, f)
            } else {
                (ax & m, dx & m, f)
            }
        }
    };
}

native_bin!(n_add, "add");
native_bin!(n_adc, "adc");
native_bin!(n_sub, "sub");
native_bin!(n_sbb, "sbb");
native_bin!(n_cmp, "cmp");
native_bin!(n_and, "and");
native_bin!(n_or, "or");
native_bin!(n_xor, "xor");
native_bin!(n_test, "test");
native_un!(n_neg, "neg");
native_un!(n_not, "not");
native_un!(n_inc, "inc");
native_un!(n_dec, "dec");
native_shift!(n_rol, "rol");
native_shift!(n_ror, "ror");
native_shift!(n_rcl, "rcl");
native_shift!(n_rcr, "rcr");
native_shift!(n_shl, "shl");
native_shift!(n_shr, "shr");
native_shift!(n_sar, "sar");
native_dshift!(n_shld, "shld");
native_dshift!(n_shrd, "shrd");
native_mul1!(n_mul, "mul");
native_mul1!(n_imul1, "imul");
native_bin_no8!(n_imul2, "imul");
native_div!(n_div, "div");
native_div!(n_idiv, "idiv");
native_bin_no8!(n_bt, "bt");
native_bin_no8!(n_bts, "bts");
native_bin_no8!(n_btr, "btr");
native_bin_no8!(n_btc, "btc");
native_bin_no8!(n_bsf, "bsf");
native_bin_no8!(n_bsr, "bsr");
native_bin_no8!(n_popcnt, "popcnt");
native_bin_no8!(n_lzcnt, "lzcnt");
native_bin_no8!(n_tzcnt, "tzcnt");

/// XADD: returns (new dest, new src, flags).
fn n_xadd(size: u8, d: u64, s: u64, mut f: u64) -> (u64, u64, u64) {
    let (mut d, mut s) = (d, s);
    match size {
        1 => flagged!(f, "xadd {d:l}, {s:l}", d = inout(reg) d, s = inout(reg) s),
        2 => flagged!(f, "xadd {d:x}, {s:x}", d = inout(reg) d, s = inout(reg) s),
        4 => flagged!(f, "xadd {d:e}, {s:e}", d = inout(reg) d, s = inout(reg) s),
        _ => flagged!(f, "xadd {d:r}, {s:r}", d = inout(reg) d, s = inout(reg) s),
    }
    (d, s, f)
}

/// CMPXCHG dest, src with the accumulator: returns (new accumulator, new dest, flags).
fn n_cmpxchg(size: u8, acc: u64, d: u64, s: u64, mut f: u64) -> (u64, u64, u64) {
    let (mut acc, mut d) = (acc, d);
    match size {
        1 => flagged!(f, "cmpxchg {d:l}, {s:l}", d = inout(reg) d, s = in(reg) s, inout("rax") acc),
        2 => flagged!(f, "cmpxchg {d:x}, {s:x}", d = inout(reg) d, s = in(reg) s, inout("rax") acc),
        4 => flagged!(f, "cmpxchg {d:e}, {s:e}", d = inout(reg) d, s = in(reg) s, inout("rax") acc),
        _ => flagged!(f, "cmpxchg {d:r}, {s:r}", d = inout(reg) d, s = in(reg) s, inout("rax") acc),
    }
    (acc, d, f)
}

/// Three-operand IMUL `dst, src, imm` for each immediate of `IMUL3_IMM` (by index).
macro_rules! native_imul3 {
    ($($imm:literal),* $(,)?) => {
        const IMUL3_IMM: &[i64] = &[$($imm),*];
        fn n_imul3(size: u8, k: usize, b: u64, mut f: u64) -> (u64, u64) {
            let mut r = 0u64;
            let mut n = 0usize;
            $(
                if n == k {
                    match size {
                        2 => flagged!(f, "imul {r:x}, {b:x}, {i}", r = inout(reg) r, b = in(reg) b,
                            i = const $imm),
                        4 => flagged!(f, "imul {r:e}, {b:e}, {i}", r = inout(reg) r, b = in(reg) b,
                            i = const $imm),
                        _ => flagged!(f, "imul {r:r}, {b:r}, {i}", r = inout(reg) r, b = in(reg) b,
                            i = const $imm),
                    }
                }
                n += 1;
            )*
            let _ = n;
            (r, f)
        }
    };
}

native_imul3!(
    0, 1, -1, 2, 3, 7, 127, -128, 128, -129, 255, 0x1234, 0x7fff, -0x8000, -3, 0x5555
);

/// BSWAP (32/64-bit), and the undefined 16-bit form `66 0F C8` (bswap ax).
fn n_bswap(size: u8, a: u64) -> u64 {
    let mut a = a;
    unsafe {
        match size {
            2 => asm!(".byte 0x66, 0x0f, 0xc8", inout("rax") a, options(nomem, nostack)),
            4 => asm!("bswap {a:e}", a = inout(reg) a, options(nomem, nostack)),
            _ => asm!("bswap {a:r}", a = inout(reg) a, options(nomem, nostack)),
        }
    }
    a
}

/// MOVBE reg, [mem].
fn n_movbe(size: u8, a: u64) -> u64 {
    let mem = a;
    let p = &mem as *const u64;
    let mut r = 0u64;
    unsafe {
        match size {
            2 => asm!("movbe {r:x}, word ptr [{p}]", r = inout(reg) r, p = in(reg) p,
                options(readonly, nostack)),
            4 => asm!("movbe {r:e}, dword ptr [{p}]", r = inout(reg) r, p = in(reg) p,
                options(readonly, nostack)),
            _ => asm!("movbe {r:r}, qword ptr [{p}]", r = inout(reg) r, p = in(reg) p,
                options(readonly, nostack)),
        }
    }
    r
}

/// The immediate counts tested with the `C0`/`C1 /r ib` forms (1 assembles to the `D0`/`D1`
/// short form).
const SHIFT_IMM: [u8; 16] = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255];

/// `op dst, imm8` for the immediate `SHIFT_IMM[k]`.
macro_rules! native_shift_imm {
    ($name:ident, $mn:literal) => {
        fn $name(size: u8, a: u64, k: usize, mut f: u64) -> (u64, u64) {
            macro_rules! one {
                        ($i:literal) => {{
                            let mut a = a;
                            match size {
                                1 => flagged!(f, concat!($mn, " {a:l}, ", $i), a = inout(reg) a),
                                2 => flagged!(f, concat!($mn, " {a:x}, ", $i), a = inout(reg) a),
                                4 => flagged!(f, concat!($mn, " {a:e}, ", $i), a = inout(reg) a),
                                _ => flagged!(f, concat!($mn, " {a:r}, ", $i), a = inout(reg) a),
                            }
                            a
                        }};
                    }
            let a = match k {
                0 => one!("0"),
                1 => one!("1"),
                2 => one!("2"),
                3 => one!("7"),
                4 => one!("8"),
                5 => one!("9"),
                6 => one!("15"),
                7 => one!("16"),
                8 => one!("17"),
                9 => one!("31"),
                10 => one!("32"),
                11 => one!("33"),
                12 => one!("63"),
                13 => one!("64"),
                14 => one!("65"),
                _ => one!("255"),
            };
            (a, f)
        }
    };
}

native_shift_imm!(ni_rol, "rol");
native_shift_imm!(ni_ror, "ror");
native_shift_imm!(ni_rcl, "rcl");
native_shift_imm!(ni_rcr, "rcr");
native_shift_imm!(ni_shl, "shl");
native_shift_imm!(ni_shr, "shr");
native_shift_imm!(ni_sar, "sar");

/// `bt [base], offset` with a register offset (the offset may reach outside the operand).
fn n_bt_mem(size: u8, base: *const u8, off: u64, mut f: u64) -> u64 {
    match size {
        2 => flagged!(f, "bt word ptr [{p}], {o:x}", p = in(reg) base, o = in(reg) off),
        4 => flagged!(f, "bt dword ptr [{p}], {o:e}", p = in(reg) base, o = in(reg) off),
        _ => flagged!(f, "bt qword ptr [{p}], {o:r}", p = in(reg) base, o = in(reg) off),
    }
    f
}

/// SETcc for condition `cc` under RFLAGS `f`.
fn n_setcc(cc: u8, f: u64) -> bool {
    macro_rules! set {
        ($mn:literal) => {{
            let mut f = f;
            let r: u64;
            unsafe {
                asm!("push {f}", "popfq", "mov {r:e}, 0", concat!($mn, " {r:l}"), "pushfq",
                    "pop {f}", f = inout(reg) f, r = out(reg) r)
            };
            let _ = f;
            r != 0
        }};
    }
    match cc & 15 {
        0 => set!("seto"),
        1 => set!("setno"),
        2 => set!("setb"),
        3 => set!("setae"),
        4 => set!("sete"),
        5 => set!("setne"),
        6 => set!("setbe"),
        7 => set!("seta"),
        8 => set!("sets"),
        9 => set!("setns"),
        10 => set!("setp"),
        11 => set!("setnp"),
        12 => set!("setl"),
        13 => set!("setge"),
        14 => set!("setle"),
        _ => set!("setg"),
    }
}

// ---------------------------------------------------------------------------------------------
// Forked #DE check

unsafe extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
    fn prctl(option: i32, ...) -> i32;
}

const SIGFPE: i32 = 8;
const PR_SET_DUMPABLE: i32 = 4;

/// Runs `f` in a forked child; true when the child died of SIGFPE (the #DE of a division).
fn dies_of_sigfpe(f: impl FnOnce()) -> bool {
    unsafe {
        let pid = fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // No core dump for the expected signal.
            prctl(PR_SET_DUMPABLE, 0u64, 0u64, 0u64, 0u64);
            f();
            _exit(0);
        }
        let mut status = 0i32;
        let r = waitpid(pid, &mut status, 0);
        assert_eq!(r, pid, "waitpid failed");
        status & 0x7f == SIGFPE
    }
}

// ---------------------------------------------------------------------------------------------
// The families

fn pair(v: AluOut) -> ([u64; 2], u64) {
    ([v.value, 0], v.rflags)
}

type Bin = fn(u8, u64, u64, u64) -> (u64, u64);

/// (name, native, emulator); the emulator side returns (value, flags) where CMP and TEST
/// return the unchanged first operand.
type BinE = fn(u8, u64, u64, u64) -> AluOut;

fn bin_ops() -> Vec<(&'static str, Bin, BinE)> {
    vec![
        ("add", n_add, arith::add),
        ("adc", n_adc, arith::adc),
        ("sub", n_sub, arith::sub),
        ("sbb", n_sbb, arith::sbb),
        ("cmp", n_cmp, |s, a, b, f| AluOut {
            value: a & mask(s),
            rflags: arith::cmp(s, a, b, f),
        }),
        ("and", n_and, logic::and),
        ("or", n_or, logic::or),
        ("xor", n_xor, logic::xor),
        ("test", n_test, |s, a, b, f| AluOut {
            value: a & mask(s),
            rflags: logic::test(s, a, b, f),
        }),
    ]
}

type Un = fn(u8, u64, u64) -> (u64, u64);

type UnE = fn(u8, u64, u64) -> AluOut;

fn un_ops() -> Vec<(&'static str, Un, UnE)> {
    vec![
        ("neg", n_neg, arith::neg),
        ("not", n_not, |s, a, f| AluOut {
            value: logic::not(s, a),
            rflags: f,
        }),
        ("inc", n_inc, arith::inc),
        ("dec", n_dec, arith::dec),
    ]
}

fn check_bin(t: &mut Tally, (name, n, e): (&str, Bin, BinE), size: u8, a: u64, b: u64, f: u64) {
    let m = mask(size);
    let (nv, nf) = n(size, a, b, f);
    let ev = e(size, a, b, f);
    t.case(
        name,
        size,
        &|| format!("a={a:#x} b={b:#x}"),
        f,
        ([nv & m, 0], nf),
        pair(ev),
    );
}

#[test]
fn arith_and_logic() {
    let n = cases_per_op();
    let mut t = Tally::default();
    let mut rng = Rng::new(0x4c6f_6769_6341_7269);
    for (name, nat, emu) in bin_ops() {
        for size in SIZES {
            for _ in 0..n {
                let (a, b, f) = (rng.operand(size), rng.operand(size), rng.flags());
                check_bin(&mut t, (name, nat, emu), size, a, b, f);
            }
        }
        // Exhaustive 8-bit, CF clear and set (the other flags random).
        for a in 0..256u64 {
            for b in 0..256u64 {
                for cf in [0, CF] {
                    let f = (rng.flags() & !CF) | cf;
                    check_bin(&mut t, (name, nat, emu), 1, a, b, f);
                }
            }
        }
    }
    for (name, nat, emu) in un_ops() {
        for size in SIZES {
            for _ in 0..n {
                let (a, f) = (rng.operand(size), rng.flags());
                let m = mask(size);
                let (nv, nf) = nat(size, a, f);
                t.case(
                    name,
                    size,
                    &|| format!("a={a:#x}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, a, f)),
                );
            }
        }
        for a in 0..256u64 {
            for fl in 0..64u64 {
                let f = BASE_FLAGS | spread_status(fl);
                let (nv, nf) = nat(1, a, f);
                t.case(
                    name,
                    1,
                    &|| format!("a={a:#x}"),
                    f,
                    ([nv & 0xff, 0], nf),
                    pair(emu(1, a, f)),
                );
            }
        }
    }
    for size in SIZES {
        let m = mask(size);
        for i in 0..n {
            let (d, s, f) = (rng.operand(size), rng.operand(size), rng.flags());
            let (nd, ns, nf) = n_xadd(size, d, s, f);
            let e = arith::xadd(size, d, s, f);
            t.case(
                "xadd",
                size,
                &|| format!("d={d:#x} s={s:#x}"),
                f,
                ([nd & m, ns & m], nf),
                ([e.value, d & m], e.rflags),
            );

            // CMPXCHG: equal accumulators half of the time.
            let acc = if i % 2 == 0 {
                d ^ (rng.next() & !m)
            } else {
                rng.operand(size)
            };
            let (nacc, nd, nf) = n_cmpxchg(size, acc, d, s, f);
            let (eq, ef) = arith::cmpxchg(size, acc, d, f);
            let (eacc, ed) = if eq { (acc & m, s & m) } else { (d & m, d & m) };
            t.case(
                "cmpxchg",
                size,
                &|| format!("acc={acc:#x} d={d:#x} s={s:#x}"),
                f,
                ([nacc & m, nd & m], nf),
                ([eacc, ed], ef),
            );
        }
    }
    t.finish("arith and logic");
}

/// The six bits of `k` spread over the six status flags.
fn spread_status(k: u64) -> u64 {
    [CF, PF, AF, ZF, SF, OF]
        .iter()
        .enumerate()
        .filter(|(i, _)| k >> i & 1 != 0)
        .fold(0, |acc, (_, f)| acc | f)
}

type Sh = fn(u8, u64, u8, u64) -> (u64, u64);
type ShE = fn(u8, u64, u8, u64, Vendor) -> AluOut;

fn shift_ops() -> Vec<(&'static str, Sh, ShE)> {
    vec![
        ("rol", n_rol, shift::rol),
        ("ror", n_ror, shift::ror),
        ("rcl", n_rcl, shift::rcl),
        ("rcr", n_rcr, shift::rcr),
        ("shl", n_shl, shift::shl),
        ("shr", n_shr, shift::shr),
        ("sar", n_sar, shift::sar),
    ]
}

#[test]
fn shifts() {
    let n = cases_per_op();
    let mut t = Tally::default();
    let mut rng = Rng::new(0x5368_6966_7452_6f74);
    for (name, nat, emu) in shift_ops() {
        for size in SIZES {
            let m = mask(size);
            for _ in 0..n {
                let (a, c, f) = (rng.operand(size), rng.count(size), rng.flags());
                let (nv, nf) = nat(size, a, c, f);
                t.case(
                    name,
                    size,
                    &|| format!("a={a:#x} count={c}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, a, c, f, host())),
                );
            }
        }
        // Exhaustive 8-bit: every value and count, CF clear and set.
        for a in 0..256u64 {
            for c in 0..=255u8 {
                for cf in [0, CF] {
                    let f = (rng.flags() & !CF) | cf;
                    let (nv, nf) = nat(1, a, c, f);
                    t.case(
                        name,
                        1,
                        &|| format!("a={a:#x} count={c}"),
                        f,
                        ([nv & 0xff, 0], nf),
                        pair(emu(1, a, c, f, host())),
                    );
                }
            }
        }
    }
    // The immediate forms, with the counts of SHIFT_IMM.
    type ShI = fn(u8, u64, usize, u64) -> (u64, u64);
    let imm_ops: [(&str, ShI, ShE); 7] = [
        ("rol-imm", ni_rol, shift::rol_imm),
        ("ror-imm", ni_ror, shift::ror_imm),
        ("rcl-imm", ni_rcl, shift::rcl),
        ("rcr-imm", ni_rcr, shift::rcr),
        ("shl-imm", ni_shl, shift::shl),
        ("shr-imm", ni_shr, shift::shr),
        ("sar-imm", ni_sar, shift::sar),
    ];
    for (name, nat, emu) in imm_ops {
        for size in SIZES {
            let m = mask(size);
            for _ in 0..n / 4 {
                let k = rng.below(SHIFT_IMM.len() as u64) as usize;
                let (a, c, f) = (rng.operand(size), SHIFT_IMM[k], rng.flags());
                let (nv, nf) = nat(size, a, k, f);
                t.case(
                    name,
                    size,
                    &|| format!("a={a:#x} count={c}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, a, c, f, host())),
                );
            }
        }
    }
    type Dsh = fn(u8, u64, u64, u8, u64) -> (u64, u64);
    type DshE = fn(u8, u64, u64, u8, u64, Vendor) -> AluOut;
    let dops: [(&str, Dsh, DshE); 2] =
        [("shld", n_shld, shift::shld), ("shrd", n_shrd, shift::shrd)];
    for (name, nat, emu) in dops {
        for size in SIZES_NO8 {
            let m = mask(size);
            for _ in 0..n {
                let (a, b, c, f) = (
                    rng.operand(size),
                    rng.operand(size),
                    rng.count(size),
                    rng.flags(),
                );
                let (nv, nf) = nat(size, a, b, c, f);
                t.case(
                    name,
                    size,
                    &|| format!("d={a:#x} s={b:#x} count={c}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, a, b, c, f, host())),
                );
            }
            // Every count 0..64 on random values.
            for c in 0..64u8 {
                for _ in 0..200 {
                    let (a, b, f) = (rng.operand(size), rng.operand(size), rng.flags());
                    let (nv, nf) = nat(size, a, b, c, f);
                    t.case(
                        name,
                        size,
                        &|| format!("d={a:#x} s={b:#x} count={c}"),
                        f,
                        ([nv & m, 0], nf),
                        pair(emu(size, a, b, c, f, host())),
                    );
                }
            }
        }
    }
    t.finish("shifts and rotates");
}

#[test]
fn multiply_divide() {
    let n = cases_per_op();
    let mut t = Tally::default();
    let mut rng = Rng::new(0x4d75_6c44_6976_0001);
    type M1 = fn(u8, u64, u64, u64) -> (u64, u64, u64);
    type M1E = fn(u8, u64, u64, u64, Vendor) -> muldiv::MulOut;
    let mops: [(&str, M1, M1E); 2] = [
        ("mul", n_mul, muldiv::mul),
        ("imul1", n_imul1, muldiv::imul),
    ];
    for (name, nat, emu) in mops {
        let one = |t: &mut Tally, size: u8, a: u64, b: u64, f: u64| {
            let (lo, hi, nf) = nat(size, a, b, f);
            let e = emu(size, a, b, f, host());
            t.case(
                name,
                size,
                &|| format!("a={a:#x} b={b:#x}"),
                f,
                ([lo, hi], nf),
                ([e.lo, e.hi], e.rflags),
            );
        };
        for size in SIZES {
            for _ in 0..n {
                let (a, b, f) = (rng.operand(size), rng.operand(size), rng.flags());
                one(&mut t, size, a, b, f);
            }
        }
        for a in 0..256u64 {
            for b in 0..256u64 {
                let f = rng.flags();
                one(&mut t, 1, a, b, f);
            }
        }
    }
    for size in SIZES_NO8 {
        let m = mask(size);
        for _ in 0..n {
            let (a, b, f) = (rng.operand(size), rng.operand(size), rng.flags());
            let (nv, nf) = n_imul2(size, a, b, f);
            let e = muldiv::imul_trunc(size, a, b, f, host());
            t.case(
                "imul2",
                size,
                &|| format!("a={a:#x} b={b:#x}"),
                f,
                ([nv & m, 0], nf),
                pair(e),
            );

            let k = rng.below(IMUL3_IMM.len() as u64) as usize;
            let imm = IMUL3_IMM[k] as u64;
            let (nv, nf) = n_imul3(size, k, b, f);
            let e = muldiv::imul_trunc(size, b, imm, f, host());
            t.case(
                "imul3",
                size,
                &|| format!("b={b:#x} imm={imm:#x}"),
                f,
                ([nv & m, 0], nf),
                pair(e),
            );
        }
    }

    type D = fn(u8, u64, u64, u64, u64) -> (u64, u64, u64);
    type DE = fn(u8, u64, u64, u64, u64, Vendor) -> Result<muldiv::DivOut, muldiv::DivError>;
    let dops: [(&str, D, DE, bool); 2] = [
        ("div", n_div, muldiv::div, false),
        ("idiv", n_idiv, muldiv::idiv, true),
    ];
    for (name, nat, emu, signed) in dops {
        // `edge`: always confirm a #DE natively (otherwise up to FORK_CHECKS per kind of #DE).
        let one = |t: &mut Tally, size: u8, hi: u64, lo: u64, d: u64, f: u64, edge: bool| match emu(
            size,
            hi,
            lo,
            d,
            f,
            host(),
        ) {
            Ok(e) => {
                let (q, r, nf) = nat(size, hi, lo, d, f);
                t.case(
                    name,
                    size,
                    &|| format!("hi={hi:#x} lo={lo:#x} d={d:#x}"),
                    f,
                    ([q, r], nf),
                    ([e.quotient, e.remainder], e.rflags),
                );
            }
            Err(kind) => {
                let row = t.row(name, size);
                row.faults += 1;
                let checked = match kind {
                    muldiv::DivError::DivideByZero => &mut row.faults_checked_zero,
                    muldiv::DivError::Overflow => &mut row.faults_checked_overflow,
                };
                if edge || *checked < FORK_CHECKS {
                    *checked += 1;
                    row.cases += 1;
                    if !dies_of_sigfpe(|| {
                        nat(size, hi, lo, d, f);
                    }) {
                        row.bad += 1;
                        if row.samples.len() < 8 {
                            row.samples.push(format!(
                                "hi={hi:#x} lo={lo:#x} d={d:#x}: emulator {kind:?}, host no #DE"
                            ));
                        }
                    }
                }
            }
        };
        // Edges, for every size: the signed limits, quotients just inside and just outside the
        // range, divisors 0, 1, -1.
        for size in SIZES {
            let m = mask(size);
            let w = width(size);
            let min = 1u128 << (w - 1);
            for (n128, d) in [
                (min, 1u64),                        // +2^(w-1) / 1: DIV fits, IDIV overflows
                (min.wrapping_neg(), 1),            // -2^(w-1) / 1: IDIV fits exactly
                (min.wrapping_neg(), m),            // -2^(w-1) / -1: IDIV overflows
                (min.wrapping_neg() << 1, 2),       // quotient -2^(w-1): IDIV fits
                ((min << 1).wrapping_neg() - 1, 2), // quotient -2^(w-1) rem -1
                ((min << 1).wrapping_neg() - 2, 2), // quotient -2^(w-1) - 1: overflows
                ((min << 1) - 1, 2),                // quotient 2^(w-1) - 1 rem 1
                (min << 1, 2),                      // quotient 2^(w-1): IDIV overflows
                ((m as u128) << w | m as u128, m),  // all ones / all ones
                (((m as u128) << w) - 1, m),        // DIV quotient fits exactly
                ((m as u128) << w, m),              // DIV quotient overflows by one
                (12345, 0),
                (0, 0),
            ] {
                let (hi, lo) = ((n128 >> w) as u64 & m, n128 as u64 & m);
                for f in [BASE_FLAGS, BASE_FLAGS | STATUS] {
                    one(&mut t, size, hi, lo, d, f, true);
                }
            }
        }
        for size in SIZES {
            let m = mask(size);
            let w = width(size);
            for _ in 0..n {
                let f = rng.flags();
                let (hi, lo, d) = if rng.below(2) == 0 {
                    // Built from a quotient that fits (mostly), divisor and remainder.
                    let d = rng.operand(size) & m;
                    let dd = if signed { sign_ext(size, d) } else { d as i128 };
                    if dd == 0 {
                        (rng.operand(size), rng.operand(size), d)
                    } else {
                        let q = if signed {
                            sign_ext(size, rng.operand(size))
                        } else {
                            (rng.operand(size) & m) as i128
                        };
                        let rmax = dd.unsigned_abs();
                        let r = (rng.next() as u128 % rmax) as i128;
                        let neg = signed && (q < 0) != (dd < 0) && q != 0;
                        let nlo = q * dd + if neg { -r } else { r };
                        let bits = nlo as u128;
                        let lo = bits as u64 & m;
                        let hi = (bits >> w) as u64 & m;
                        (
                            hi | (rng.next() & !m & rng.pick(&[0, u64::MAX])),
                            lo,
                            d | (rng.next() & !m & rng.pick(&[0, u64::MAX])),
                        )
                    }
                } else {
                    (rng.operand(size), rng.operand(size), rng.operand(size))
                };
                one(&mut t, size, hi, lo, d, f, false);
            }
        }
        // Exhaustive 8-bit: every AX and divisor.
        for ax in 0..65536u64 {
            for d in 0..256u64 {
                let f = rng.flags();
                one(&mut t, 1, ax >> 8, ax & 0xff, d, f, false);
            }
        }
    }
    t.finish("multiply and divide");
}

fn sign_ext(size: u8, v: u64) -> i128 {
    let s = 64 - width(size);
    (((v << s) as i64) >> s) as i128
}

#[test]
fn bit_ops() {
    let n = cases_per_op();
    let mut t = Tally::default();
    let mut rng = Rng::new(0x4269_7473_0000_0001);
    type BtE = fn(u8, u64, u64, u64, Vendor) -> AluOut;
    let bt_ops: [(&str, Bin, BtE); 4] = [
        ("bt", n_bt, |s, a, b, f, v| AluOut {
            value: a & mask(s),
            rflags: bits::bt(s, a, b, f, v),
        }),
        ("bts", n_bts, bits::bts),
        ("btr", n_btr, bits::btr),
        ("btc", n_btc, bits::btc),
    ];
    for (name, nat, emu) in bt_ops {
        for size in SIZES_NO8 {
            let m = mask(size);
            for _ in 0..n {
                let (a, f) = (rng.operand(size), rng.flags());
                let b = if rng.below(2) == 0 {
                    rng.count(size) as u64
                } else {
                    rng.operand(size)
                };
                let (nv, nf) = nat(size, a, b, f);
                t.case(
                    name,
                    size,
                    &|| format!("a={a:#x} offset={b:#x}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, a, b, f, host())),
                );
            }
        }
    }
    // BT with a memory operand and a register offset reaching 200 bits either way: the
    // emulator's displacement and bit index must select the bit the processor tests.
    let mut buf = [0u8; 96];
    for size in SIZES_NO8 {
        for _ in 0..n {
            for b in buf.iter_mut() {
                *b = rng.next() as u8;
            }
            let off_bits = rng.below(401) as i64 - 200;
            let off = (off_bits as u64 & mask(size))
                | (rng.next() & !mask(size) & rng.pick(&[0, u64::MAX]));
            let f = rng.flags();
            let base = 48usize;
            let nf = n_bt_mem(size, buf.as_ptr().wrapping_add(base), off, f);
            let (disp, bit) = bits::bit_mem_offset(size, off);
            let at = (base as i64 + disp) as usize;
            let mut word = [0u8; 8];
            word[..size as usize].copy_from_slice(&buf[at..at + size as usize]);
            let v = u64::from_le_bytes(word);
            let ef = bits::bt(size, v, bit as u64, f, host());
            t.case(
                "bt-mem",
                size,
                &|| format!("offset={off:#x} disp={disp} bit={bit}"),
                f,
                ([0, 0], nf),
                ([0, 0], ef),
            );
        }
    }
    let scan_ops: [(&str, Bin, BtE); 5] = [
        ("bsf", n_bsf, bits::bsf),
        ("bsr", n_bsr, bits::bsr),
        ("popcnt", n_popcnt, |s, _, b, f, _| bits::popcnt(s, b, f)),
        ("lzcnt", n_lzcnt, |s, _, b, f, v| bits::lzcnt(s, b, f, v)),
        ("tzcnt", n_tzcnt, |s, _, b, f, v| bits::tzcnt(s, b, f, v)),
    ];
    for (name, nat, emu) in scan_ops {
        for size in SIZES_NO8 {
            let m = mask(size);
            for i in 0..n {
                let (d, f) = (rng.operand(size), rng.flags());
                let s = if i % 8 == 0 {
                    rng.next() & !m
                } else {
                    rng.operand(size)
                };
                let (nv, nf) = nat(size, d, s, f);
                t.case(
                    name,
                    size,
                    &|| format!("dest={d:#x} src={s:#x}"),
                    f,
                    ([nv & m, 0], nf),
                    pair(emu(size, d, s, f, host())),
                );
            }
        }
        for s in 0..65536u64 {
            let (d, f) = (rng.operand(2), rng.flags());
            let (nv, nf) = nat(2, d, s, f);
            t.case(
                name,
                2,
                &|| format!("dest={d:#x} src={s:#x}"),
                f,
                ([nv & 0xffff, 0], nf),
                pair(emu(2, d, s, f, host())),
            );
        }
    }
    for size in [2u8, 4, 8] {
        let m = mask(size);
        for _ in 0..n {
            let a = rng.operand(size);
            let nv = n_bswap(size, a) & m;
            let ev = if size == 2 {
                bits::bswap_r16(a, host())
            } else {
                bits::bswap(size, a)
            };
            t.case(
                "bswap",
                size,
                &|| format!("a={a:#x}"),
                0,
                ([nv, 0], 0),
                ([ev, 0], 0),
            );
            let nv = n_movbe(size, a) & m;
            t.case(
                "movbe",
                size,
                &|| format!("a={a:#x}"),
                0,
                ([nv, 0], 0),
                ([bits::movbe(size, a), 0], 0),
            );
        }
    }
    t.finish("bit operations");
}

#[test]
fn condition_codes() {
    // Exhaustive: all 64 combinations of the status flags, all 16 conditions.
    let mut t = Tally::default();
    for k in 0..64u64 {
        let f = BASE_FLAGS | spread_status(k);
        for cc in 0..16u8 {
            let nv = n_setcc(cc, f) as u64;
            let ev = cond::holds(cc, f) as u64;
            t.case(
                &format!("cc{cc:x}"),
                8,
                &|| format!("cc={cc:#x}"),
                f,
                ([nv, 0], f),
                ([ev, 0], f),
            );
            // Only the low four bits of the code count.
            let ev = cond::holds(cc | 0xf0, f) as u64;
            t.case(
                &format!("cc{cc:x}"),
                8,
                &|| format!("cc={:#x}", cc | 0xf0),
                f,
                ([nv, 0], f),
                ([ev, 0], f),
            );
        }
    }
    t.finish("condition codes");
}
