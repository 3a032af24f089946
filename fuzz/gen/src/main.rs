//! Writes the seed corpus of the fuzz targets into `<out>/<target>/` (default `fuzz/corpus`).
//!
//! `gen_corpus [OUT_DIR]`
//!
//! - **decode** and **decode_vs_iced**: a walk over every opcode map (one-byte, 0F, 0F 38,
//!   0F 3A, 3DNow!, VEX maps 1-3, EVEX maps 1-3, 5 and 6, XOP maps 8-0A) with every mandatory or
//!   size prefix (none, 66, F2, F3, F0, 67, REX.W, REX.B), every ModRM byte (legacy maps) or a
//!   sample of them (VEX/EVEX/XOP: every register form, the memory forms of every `reg`), VEX/XOP
//!   L and W, EVEX W, L'L, b and aaa, in every mode for both vendors. An encoding is kept when it
//!   decodes valid and its key is new: (encoding, map, opcode, operation, prefix set, W, vector
//!   length, register or memory form) for `decode`, which checks all modes on each input, and
//!   the same key with the mode and vendor for `decode_vs_iced`. A few hand-written inputs add
//!   the error paths (truncated, too long, prefixes before VEX).
//! - **emulate**: every instruction of the walk that the emulator executes (the executor
//!   families: arithmetic, logic, shifts, multiply/divide, bit operations, moves and
//!   conditional moves, stack, string instructions with and without REP, port I/O, flag
//!   operations), kept once per (mode, operation, operand shape, prefixes), each in a flat
//!   machine state with the exit holding the instruction's bytes; then per family variants:
//!   fetched from memory at RIP, an MMIO exit with fetched bytes and the matching GPA, a port
//!   exit for IN/OUT/INS/OUTS, accesses that cross a page, misaligned accesses with alignment
//!   checking on, segment-limit faults, virtual-8086 mode and CPL 3 port accesses with and
//!   without the permission entry, REP with and without the bulk entry, LOCK with and without
//!   compare-exchange, and the schedule's host behaviours at each callback of the instruction
//!   (failures, non-present and odd translations, short reads, lost races).
//!   The vector and cache-management families (SSE, VEX and EVEX moves, MMX, MOVD/MOVQ,
//!   PINSR/PEXTR, MOVNTI/MOVDIRI/MOVDIR64B, CLFLUSH/CLFLUSHOPT/CLWB) start from a machine where
//!   they are enabled (CR4.OSFXSR and OSXSAVE, XCR0 0xe7, the ZMM register state, a 64-byte
//!   aligned operand, opmasks and x87 state with TOP ≠ 0), and add, once per (mode, operation,
//!   memory or not, encoding, vector length): each register state the host may serve (XMM
//!   only, YMM, ZMM), the wide memory entry, each enabling fault (#UD from CR0.EM, CR4 and
//!   XCR0, #NM from CR0.TS, #MF from a pending x87 exception), misaligned operands, operands
//!   across a page boundary (with and without the wide entry, with the second page not
//!   present), other immediates, other x87 TOP values and tags, and for EVEX every opmask
//!   k1..k7 with merging and zeroing, also over a page boundary whose second page is not
//!   present (masked-off elements never fault).
//! - **ffi**: every emulate input as a well-formed call of the C ABI, and every misuse of the
//!   entry points (NULL pointers, foreign and destroyed handles, bad counts and sizes, a bad
//!   callback table) on a sample of them.

use hvemu::decode::Encoding;
use hvemu::decode::{Instruction, Mode, Op, Operand, Prefixes, RegClass, Vendor, decode};
use hvemu::emulator::{Outcome, Refusal};
use hvemu_fuzz::emu::{self, Buffers, EmuInput, Kind, Sched, Seg, act, entry, opt, preset, vecopt};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MODES: [Mode; 5] = [
    Mode::Real,
    Mode::Prot16,
    Mode::Prot32,
    Mode::Compat32,
    Mode::Long64,
];
const VENDORS: [Vendor; 2] = [Vendor::Intel, Vendor::Amd];

/// The `decode_vs_iced` selector byte of a mode and vendor (its PLAN table).
fn iced_selector(mode: Mode, vendor: Vendor) -> Option<u8> {
    let m = match mode {
        Mode::Long64 => 0,
        Mode::Prot32 => 1,
        Mode::Prot16 => 2,
        Mode::Compat32 => 3,
        Mode::Real => return None,
    };
    Some(m + if vendor == Vendor::Amd { 4 } else { 0 })
}

fn fnv(b: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for x in b {
        h = (h ^ *x as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

struct Out {
    dir: PathBuf,
    written: BTreeMap<&'static str, BTreeSet<Vec<u8>>>,
}

impl Out {
    fn put(&mut self, target: &'static str, bytes: Vec<u8>) -> bool {
        self.written.entry(target).or_default().insert(bytes)
    }
    fn flush(&self) -> std::io::Result<()> {
        for (t, set) in &self.written {
            let d = self.dir.join(t);
            std::fs::create_dir_all(&d)?;
            for b in set {
                std::fs::write(d.join(format!("seed-{:016x}", fnv(b))), b)?;
            }
        }
        Ok(())
    }
}

/// The decoder's key of an instruction (see the module docs).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    encoding: u8,
    map: u8,
    opcode: u8,
    op: Op,
    prefixes: u16,
    vl: u8,
    mem: bool,
}

/// Mandatory (or size) prefixes and W.
const KEY_PREFIXES: u16 =
    Prefixes::OPSIZE | Prefixes::F2 | Prefixes::F3 | Prefixes::LOCK | Prefixes::W;

fn key(i: &Instruction) -> Key {
    Key {
        encoding: i.encoding as u8,
        map: i.map as u8,
        opcode: i.opcode,
        op: i.op,
        prefixes: i.prefixes.0 & KEY_PREFIXES,
        vl: i.vl,
        mem: i.operands.contains(&Operand::Mem),
    }
}

/// The coarser key of `decode_vs_iced` seeds: the table entry (map, opcode, operation,
/// mandatory prefix), per mode.
fn table_key(i: &Instruction) -> (u8, u8, u8, Op, u16) {
    (
        i.encoding as u8,
        i.map as u8,
        i.opcode,
        i.op,
        i.prefixes.0 & (Prefixes::OPSIZE | Prefixes::F2 | Prefixes::F3),
    )
}

/// The candidate encodings of the walk, for one mode: calls `f` with each byte string.
fn walk(mode: Mode, f: &mut dyn FnMut(&[u8])) {
    let is64 = mode.is_64();
    let vex_ok = mode != Mode::Real;
    let mut prefix_sets: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x66],
        vec![0xf2],
        vec![0xf3],
        vec![0xf0],
        vec![0x67],
        vec![0x66, 0xf2],
    ];
    if is64 {
        prefix_sets.extend([vec![0x48], vec![0x41], vec![0x66, 0x48], vec![0xf3, 0x48]]);
    }
    let tail = [0u8; 10];
    let mut buf = Vec::with_capacity(32);
    // Legacy maps: every opcode and every ModRM byte.
    let escapes: [&[u8]; 4] = [&[], &[0x0f], &[0x0f, 0x38], &[0x0f, 0x3a]];
    for p in &prefix_sets {
        for esc in escapes {
            for op in 0..=255u8 {
                for modrm in 0..=255u8 {
                    buf.clear();
                    buf.extend_from_slice(p);
                    buf.extend_from_slice(esc);
                    buf.push(op);
                    buf.push(modrm);
                    buf.extend_from_slice(&tail);
                    f(&buf);
                }
            }
        }
    }
    // 3DNow!: 0F 0F ModRM imm8, the operation in the last byte.
    for modrm in [0x00u8, 0xc1] {
        for op in 0..=255u8 {
            buf.clear();
            buf.extend_from_slice(&[0x0f, 0x0f, modrm, op]);
            f(&buf);
        }
    }
    if !vex_ok {
        return;
    }
    let mut modrms: Vec<u8> = (0xc0..=0xff).collect();
    modrms.extend((0..8).map(|r| r << 3));
    modrms.extend((0..8).map(|r| 0x40 | r << 3 | 4));
    // VEX (C4, three-byte form: maps 1-3) and the two-byte C5 form.
    for map in 1..=3u8 {
        for w in 0..2u8 {
            for l in 0..2u8 {
                for pp in 0..4u8 {
                    for op in 0..=255u8 {
                        for &modrm in &modrms {
                            buf.clear();
                            buf.extend_from_slice(&[
                                0xc4,
                                0xe0 | map,
                                w << 7 | 0x78 | l << 2 | pp,
                                op,
                                modrm,
                            ]);
                            buf.extend_from_slice(&tail);
                            f(&buf);
                        }
                    }
                }
            }
        }
    }
    for l in 0..2u8 {
        for pp in 0..4u8 {
            for op in 0..=255u8 {
                buf.clear();
                buf.extend_from_slice(&[0xc5, 0xf8 | l << 2 | pp, op, 0xc0]);
                buf.extend_from_slice(&tail);
                f(&buf);
            }
        }
    }
    // EVEX maps 1-3, 5, 6.
    for map in [1u8, 2, 3, 5, 6] {
        for w in 0..2u8 {
            for pp in 0..4u8 {
                for ll in 0..3u8 {
                    for (b, aaa) in [(0u8, 0u8), (1, 0), (0, 1)] {
                        for op in 0..=255u8 {
                            for &modrm in &modrms {
                                buf.clear();
                                buf.extend_from_slice(&[
                                    0x62,
                                    0xf0 | map,
                                    w << 7 | 0x78 | 0x04 | pp,
                                    ll << 5 | b << 4 | 0x08 | aaa,
                                    op,
                                    modrm,
                                ]);
                                buf.extend_from_slice(&tail);
                                f(&buf);
                            }
                        }
                    }
                }
            }
        }
    }
    // XOP maps 8, 9, 0A.
    for map in 8..=10u8 {
        for w in 0..2u8 {
            for l in 0..2u8 {
                for op in 0..=255u8 {
                    for &modrm in &modrms {
                        buf.clear();
                        buf.extend_from_slice(&[
                            0x8f,
                            0xe0 | map,
                            w << 7 | 0x78 | l << 2,
                            op,
                            modrm,
                        ]);
                        buf.extend_from_slice(&tail);
                        f(&buf);
                    }
                }
            }
        }
    }
}

/// Hand-written inputs for the decoder's error paths.
fn decode_extras() -> Vec<Vec<u8>> {
    let mut v = vec![
        vec![],
        vec![0x66; 15],
        [vec![0x66; 14], vec![0x90]].concat(),
        [vec![0x66; 15], vec![0x90]].concat(),
        vec![0x0f],
        vec![0x0f, 0x38],
        vec![0xc4],
        vec![0xc4, 0xe2],
        vec![0x62],
        vec![0x62, 0xf1, 0x7c],
        vec![0x8f, 0xe8],
        vec![0x66, 0xc5, 0xf8, 0x10, 0xc0],
        vec![0xf3, 0xc4, 0xe1, 0x78, 0x10, 0xc0],
        vec![0x48, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0xc0],
        vec![0xf0, 0x01, 0xc0],
        vec![0x8c, 0xf0],
        vec![0x0f, 0x20, 0xc8],
        vec![0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7],
        vec![0x67, 0x8b, 0x04, 0x25, 0, 0, 0, 0],
        vec![0xea, 1, 2, 3, 4, 5, 6],
        vec![0xc8, 1, 2, 3],
    ];
    // Every opcode alone (truncated after the opcode).
    for op in 0..=255u8 {
        v.push(vec![op]);
        v.push(vec![0x0f, op]);
    }
    v
}

/// The walk's instructions per (mode, vendor) index: their bytes and decoding.
type PerMode = BTreeMap<(u8, u8), Vec<(Vec<u8>, Instruction)>>;

/// A `decode_vs_iced` table key with its mode class.
type IcedKey = (u8, (u8, u8, u8, Op, u16));

fn decode_corpus(out: &mut Out) -> PerMode {
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    // Per mode (Compat32 decodes as Prot32): the table entries seen, for either vendor.
    let mut iced_keys: BTreeSet<IcedKey> = BTreeSet::new();
    // Per (mode, vendor): one instruction per key, for the emulate corpus.
    let mut per_mode: PerMode = BTreeMap::new();
    for (mi, &mode) in MODES.iter().enumerate() {
        for (vi, &vendor) in VENDORS.iter().enumerate() {
            let mut mode_keys: BTreeSet<Key> = BTreeSet::new();
            let mut list = Vec::new();
            let mut n = 0u64;
            walk(mode, &mut |b: &[u8]| {
                n += 1;
                let Ok(i) = decode(b, mode, vendor) else {
                    return;
                };
                let own = b[..i.len as usize].to_vec();
                let k = key(&i);
                if keys.insert(k.clone()) {
                    out.put("decode", own.clone());
                }
                let class = match mode {
                    Mode::Compat32 => Mode::Prot32,
                    m => m,
                };
                if let Some(sel) = iced_selector(mode, vendor)
                    && iced_keys.insert((
                        iced_selector(class, Vendor::Intel).unwrap_or(0),
                        table_key(&i),
                    ))
                {
                    let mut x = vec![sel];
                    x.extend_from_slice(&own);
                    out.put("decode_vs_iced", x);
                }
                if mode_keys.insert(k) {
                    list.push((own, i));
                }
            });
            eprintln!(
                "gen_corpus: {mode:?}/{vendor:?}: {n} encodings tried, {} distinct valid keys",
                list.len()
            );
            per_mode.insert((mi as u8, vi as u8), list);
        }
    }
    for x in decode_extras() {
        out.put("decode", x.clone());
        for sel in 0..8u8 {
            let mut y = vec![sel];
            y.extend_from_slice(&x);
            out.put("decode_vs_iced", y);
        }
    }
    per_mode
}

// ----- emulate -----

fn preset_of(mode: Mode) -> u8 {
    match mode {
        Mode::Real => preset::REAL,
        Mode::Prot16 => preset::PROT16,
        Mode::Prot32 => preset::PROT32,
        Mode::Compat32 => preset::COMPAT,
        Mode::Long64 => preset::LONG64,
    }
}

/// A flat machine in `mode` with `bytes` at RIP and in the exit.
fn base_input(mode: Mode, vendor: Vendor, bytes: &[u8]) -> EmuInput {
    let mut i = EmuInput {
        entry: entry::MMIO,
        vendor: (vendor == Vendor::Amd) as u8,
        preset: preset_of(mode),
        budget: 3,
        count: bytes.len().min(16) as u8,
        rip: 0x2000,
        rflags: 0x202,
        xlate: 0,
        ..EmuInput::default()
    };
    i.bytes[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
    let small = matches!(mode, Mode::Real | Mode::Prot16);
    i.cs = Seg {
        base: 0,
        limit: if small { 0xffff } else { 0xffff_ffff },
        selector: 0x8,
        attributes: 0,
    };
    let data = if small {
        Seg {
            base: 0,
            limit: 0xffff,
            selector: 0x10,
            attributes: 0x93,
        }
    } else {
        Seg::flat(0xc093)
    };
    i.segs = [data; 6];
    i.gpr = [
        0x1122_3344_5566_7788,
        3,
        0x60,
        0x1000,
        0x1800,
        0x1300,
        0x1100,
        0x1200,
        0x8,
        0x9,
        0xa,
        0xb,
        0xc,
        0xd,
        0xe,
        0xf,
    ];
    i.cr0 = 0x8000_0011;
    i.cr4 = 0x20;
    i.efer = 0xd01;
    for (k, b) in i.mem.iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(37).wrapping_add(11);
    }
    i
}

/// The executor families the emulate corpus names in its summary.
fn family(op: Op) -> &'static str {
    use Op::*;
    match op {
        Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test | Inc | Dec | Neg | Not | Xadd
        | Cmpxchg | Cmpxchg8b | Cmpxchg16b => "arith",
        Rol | Ror | Rcl | Rcr | Shl | Sal | Shr | Sar | Shld | Shrd => "shift",
        Mul | Imul | Div | Idiv => "muldiv",
        Bt | Bts | Btr | Btc | Bsf | Bsr | Popcnt | Lzcnt | Tzcnt | Bswap => "bits",
        Cbw | Cwde | Cdqe | Cwd | Cdq | Cqo | Lahf | Sahf | Clc | Stc | Cmc | Cld | Std | Nop => {
            "misc"
        }
        In | Out => "io",
        op if emu::is_string(op) => "string",
        Mov | Movzx | Movsx | Movsxd | Movbe | Xchg | Xlat | Push | Pop | Lea => "mov",
        _ if op.name().starts_with("Cmov") || op.name().starts_with("Set") => "cond",
        _ => "other",
    }
}

/// The vector move operations (the core's `exec::vector`).
fn is_vector(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Movups
            | Movupd
            | Movaps
            | Movapd
            | Movdqu
            | Movdqa
            | Movntdq
            | Movntps
            | Movntpd
            | Movntdqa
            | Lddqu
            | Movss
            | MovsdX
            | Movntss
            | Movntsd
            | Movlps
            | Movhps
            | Movlpd
            | Movhpd
            | Movd
            | Movq
            | Movntq
            | Pextrb
            | Pextrw
            | Pextrd
            | Pextrq
            | Pinsrb
            | Pinsrw
            | Pinsrd
            | Pinsrq
            | Vmovups
            | Vmovupd
            | Vmovaps
            | Vmovapd
            | Vmovdqu
            | Vmovdqa
            | Vmovntdq
            | Vmovntps
            | Vmovntpd
            | Vmovntdqa
            | Vlddqu
            | Vmovss
            | Vmovsd
            | Vmovlps
            | Vmovhps
            | Vmovlpd
            | Vmovhpd
            | Vmovd
            | Vmovq
            | Vpextrb
            | Vpextrw
            | Vpextrd
            | Vpextrq
            | Vpinsrb
            | Vpinsrw
            | Vpinsrd
            | Vpinsrq
            | Vmovdqa32
            | Vmovdqa64
            | Vmovdqu8
            | Vmovdqu16
            | Vmovdqu32
            | Vmovdqu64
    )
}

fn has_mmx(i: &Instruction) -> bool {
    i.operands
        .iter()
        .any(|o| matches!(o, Operand::Reg(r) if r.class == RegClass::Mmx))
}

/// The executor family of a vector, MMX or cache-management instruction (the core's
/// `exec::vector` and `exec::store`), for the summary and the vector variants.
fn vector_family(i: &Instruction) -> Option<&'static str> {
    use Op::*;
    Some(match i.op {
        Movnti | Movdiri | Movdir64b => "store",
        Clflush | Clflushopt | Clwb => "flush",
        Pextrb | Pextrw | Pextrd | Pextrq | Pinsrb | Pinsrw | Pinsrd | Pinsrq | Vpextrb
        | Vpextrw | Vpextrd | Vpextrq | Vpinsrb | Vpinsrw | Vpinsrd | Vpinsrq => "pinsr-pextr",
        Movd | Movq | Vmovd | Vmovq => "movd-movq",
        op if !is_vector(op) => return None,
        _ if i.encoding == Encoding::Evex => "evex",
        _ if i.encoding == Encoding::Vex => "vex",
        _ if has_mmx(i) => "mmx",
        _ => "sse",
    })
}

/// CR0.EM.
const CR0_EM: u64 = 1 << 2;
/// CR0.TS.
const CR0_TS: u64 = 1 << 3;
/// CR4.OSFXSR.
const CR4_OSFXSR: u64 = 1 << 9;
/// CR4.OSXSAVE.
const CR4_OSXSAVE: u64 = 1 << 18;
/// FSW.TOP in FpControlStatus.
const FP_TOP: u128 = 7 << 27;
/// FpControlStatus: FCW 0x37f, FSW with TOP = 5, abridged FTW 0x0f.
const FP_CONTROL: u128 = 0x037f | (5 << 11) << 16 | 0x0f << 32;
/// XmmControlStatus: MXCSR 0x1f80, MXCSR_MASK 0xffff.
const XMM_CONTROL: u128 = (0x1f80 | 0xffff << 32) << 64;

/// [`base_input`] where vector instructions run: CR4.OSFXSR and OSXSAVE, XCR0 0xe7, the ZMM
/// state, RAX 64-byte aligned (the walk's memory operands are `[rax]` and `[rax+rax]`, or
/// `[bx+si]` and `[si]` with 16-bit addresses, all aligned), vector registers, opmasks and the
/// x87 slots filled, x87 TOP 5.
fn vector_input(mode: Mode, vendor: Vendor, bytes: &[u8]) -> EmuInput {
    let mut i = base_input(mode, vendor, bytes);
    i.cr4 |= CR4_OSFXSR | CR4_OSXSAVE;
    i.xcr0 = 0xe7;
    i.vector = 0;
    i.gpr[0] = 0x1040;
    for (n, x) in i.xmm.iter_mut().enumerate() {
        *x = u128::from_le_bytes(core::array::from_fn(|b| (n * 16 + b) as u8 ^ 0x5a));
    }
    i.zmm = [
        0x0f1e_2d3c_4b5a_6978_8796_a5b4_c3d2_e1f0,
        0x1111_2222_3333_4444_5555_6666_7777_8888,
        0xdead_beef_0bad_f00d_cafe_babe_feed_face,
        0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
    ];
    i.k = [
        0,
        u64::MAX,
        0x5555_5555_5555_5555,
        0x0f0f_0f0f_0f0f_0f0f,
        1,
        0x8000_0000_0000_0001,
        0,
        0xffff_0000_ffff_0000,
    ];
    i.fp_control = FP_CONTROL;
    i.xmm_control = XMM_CONTROL;
    for (n, x) in i.fp_mmx.iter_mut().enumerate() {
        let mantissa = 0x0101_0101_0101_0101u64.wrapping_mul(n as u64 + 1) ^ (1 << 63);
        *x = mantissa as u128 | (0x4000 + n as u128) << 64;
    }
    i
}

/// The starting input of an instruction the walk found.
fn seed_input(mode: Mode, vendor: Vendor, bytes: &[u8], insn: &Instruction) -> EmuInput {
    if vector_family(insn).is_some() {
        vector_input(mode, vendor, bytes)
    } else {
        base_input(mode, vendor, bytes)
    }
}

/// Indexes of the translations of data (after the Get) in a trace.
fn data_translations(trace: &[emu::Ev]) -> Vec<usize> {
    let start = trace.iter().position(|e| e.kind == Kind::Get).unwrap_or(0);
    (start..trace.len())
        .filter(|&k| trace[k].kind == Kind::Translate)
        .collect()
}

/// `i` with the last data translation scheduled to find its page not present, if it has one.
fn second_page_absent(i: EmuInput, bufs: &mut Buffers) -> Option<EmuInput> {
    let _ = bufs.run(&i);
    let last = *data_translations(&bufs.a).last()?;
    let mut np = i;
    np.nsched = 1;
    np.sched[0] = Sched {
        at: last as u8,
        action: act::ODD,
        arg: 0,
    };
    Some(np)
}

/// The variants of the vector and cache-management families (see the module docs).
fn vector_variants(
    base: &EmuInput,
    mode: Mode,
    insn: &Instruction,
    bufs: &mut Buffers,
    add: &mut dyn FnMut(EmuInput),
) {
    // The register state the host serves (YMM, XMM; the base serves ZMM); the wide entry.
    for state in [1u8, 2] {
        add(EmuInput {
            vector: state,
            ..*base
        });
    }
    let wide = EmuInput {
        vector: vecopt::WIDE,
        ..*base
    };
    add(wide);
    // The host's behaviours at each wide access: a failure, a short read.
    let _ = bufs.run(&wide);
    let at: Vec<(usize, Kind)> = (bufs.a.iter().enumerate())
        .filter(|(_, e)| matches!(e.kind, Kind::WideRead | Kind::WideWrite))
        .map(|(k, e)| (k, e.kind))
        .collect();
    for (k, kind) in at {
        for action in [act::FAIL, act::ODD] {
            if action == act::ODD && kind != Kind::WideRead {
                continue;
            }
            let mut s = wide;
            s.nsched = 1;
            s.sched[0] = Sched {
                at: k as u8,
                action,
                arg: 5,
            };
            add(s);
        }
    }
    // Each enabling fault, with the control registers as given.
    let raw = EmuInput {
        vector: vecopt::RAW_CR0 | vecopt::RAW_XSTATE,
        ..*base
    };
    add(raw);
    let (cr0, cr4) = (raw.cr0, raw.cr4);
    for (cr0, cr4, xcr0) in [
        (cr0 | CR0_TS, cr4, 0xe7),                                     // #NM
        (cr0 | CR0_EM, cr4, 0xe7),                                     // #UD for SSE and MMX
        (cr0, cr4 & !CR4_OSFXSR, 0xe7),                                // #UD for SSE
        (cr0, cr4 & !CR4_OSXSAVE, 0xe7),                               // #UD for VEX and EVEX
        (cr0, cr4, 0x3),                                               // no AVX state
        (cr0, cr4, 0x7),                                               // no AVX-512 state
        (cr0, cr4, 0x67),                                              // no opmask state
        (cr0, cr4, 0xa7),                                              // no ZMM_Hi256 state
        (cr0 | CR0_TS | CR0_EM, cr4 & !(CR4_OSFXSR | CR4_OSXSAVE), 0), // all off
    ] {
        add(EmuInput {
            cr0,
            cr4,
            xcr0,
            ..raw
        });
    }
    if has_mmx(insn) {
        // A pending x87 exception (#MF); other stack tops; an empty tag word.
        add(EmuInput {
            fp_control: base.fp_control | 0x80 << 16,
            ..*base
        });
        for top in [0u128, 1, 7] {
            add(EmuInput {
                fp_control: (base.fp_control & !FP_TOP) | top << 27,
                ..*base
            });
        }
        add(EmuInput {
            fp_control: base.fp_control & !(0xff << 32),
            ..*base
        });
    }
    // Other immediates (the PINSR/PEXTR element selectors): the last byte of the instruction.
    if insn
        .operands
        .iter()
        .any(|o| matches!(o, Operand::Imm { .. }))
        && (1..=16).contains(&insn.len)
    {
        for imm in [0x01u8, 0x03, 0x07, 0x0f, 0xff] {
            let mut v = *base;
            v.bytes[insn.len as usize - 1] = imm;
            add(v);
        }
    }
    if !insn.operands.contains(&Operand::Mem) {
        return;
    }
    // Misaligned operands (the aligned forms #GP), with and without the wide entry.
    let mut m = *base;
    m.gpr[0] = 0x1041;
    m.gpr[3] = 0x1001;
    m.gpr[6] = 0x1109;
    add(m);
    m.vector |= vecopt::WIDE;
    add(m);
    // Across a page boundary (a 64-byte operand at 0xfe0 is half in each page), with and
    // without the wide entry, also with the second page not present.
    for at in [0xfe0u64, 0xff8, 0xffc] {
        for wide in [0, vecopt::WIDE] {
            let mut c = *base;
            c.gpr[0] = at;
            c.gpr[3] = at - 0x100;
            c.gpr[6] = 0x100;
            c.vector |= wide;
            add(c);
            if let Some(np) = second_page_absent(c, bufs) {
                add(np);
            }
        }
    }
    // MOVDIR64B: every register a 64-byte aligned destination.
    if insn.op == Op::Movdir64b {
        let mut d = *base;
        for (n, g) in d.gpr.iter_mut().enumerate() {
            *g = 0x1000 + 0x40 * n as u64;
        }
        add(d);
        d.vector |= vecopt::WIDE;
        add(d);
    }
    // EVEX: every opmask, merging and zeroing, also over a page boundary whose second page is
    // not present (masked-off elements never fault).
    if insn.encoding == Encoding::Evex && base.bytes[0] == 0x62 && mode != Mode::Real {
        for aaa in 1..=7u8 {
            for z in [0u8, 1] {
                let mut v = *base;
                v.bytes[3] = (v.bytes[3] & !0x87) | aaa | z << 7;
                add(v);
                let mut c = v;
                c.gpr[0] = 0xfe0;
                c.gpr[3] = 0xee0;
                c.gpr[6] = 0x100;
                add(c);
                if let Some(np) = second_page_absent(c, bufs) {
                    add(np);
                }
            }
        }
    }
}

/// Preference of modes for the schedule variants (lower first).
fn sched_mode(m: Mode) -> u8 {
    match m {
        Mode::Long64 => 0,
        Mode::Prot32 => 1,
        Mode::Prot16 => 2,
        Mode::Real => 3,
        Mode::Compat32 => 4,
    }
}

fn run(input: &EmuInput, bufs: &mut Buffers) -> emu::Run {
    bufs.run(input)
}

fn shape(i: &Instruction) -> String {
    let mut s = String::new();
    for o in i.operands.iter().take(i.operand_count()) {
        s.push_str(&match o {
            Operand::Reg(r) => format!(
                "r{:?}{},",
                r.class,
                if r.class == RegClass::Gpr8High {
                    "h"
                } else {
                    ""
                }
            ),
            Operand::Mem => format!("m{},", i.mem.size),
            Operand::Imm { size } => format!("i{size},"),
            other => format!("{other:?},"),
        });
    }
    s
}

fn emulate_corpus(out: &mut Out, per_mode: &PerMode) {
    let mut bufs = Buffers::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut families: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut executed: Vec<(Mode, Vendor, Vec<u8>, Instruction)> = Vec::new();
    for (&(mi, vi), list) in per_mode {
        let mode = MODES[mi as usize];
        let vendor = VENDORS[vi as usize];
        for (bytes, insn) in list {
            let input = seed_input(mode, vendor, bytes, insn);
            let r = run(&input, &mut bufs);
            if matches!(r.outcome, Outcome::Refused(Refusal::Unsupported(_))) {
                continue;
            }
            let k = format!(
                "{mode:?} {:?} {} {:x} {:?}",
                insn.op,
                shape(insn),
                insn.prefixes.0 & (Prefixes::LOCK | Prefixes::REP | Prefixes::REPNE),
                std::mem::discriminant(&r.outcome)
            );
            if !seen.insert(k) {
                continue;
            }
            *families
                .entry(vector_family(insn).unwrap_or(family(insn.op)))
                .or_default() += 1;
            out.put("emulate", input.to_bytes());
            // Division overflow: RDX:RAX = -2^127 over -1 (every operand size of the form).
            if matches!(insn.op, Op::Div | Op::Idiv) {
                let mut q = input;
                q.gpr = [u64::MAX; 16];
                q.gpr[0] = 0;
                q.gpr[2] = 0x8000_0000_0000_0000;
                q.mem = [0xff; emu::PATTERN];
                out.put("emulate", q.to_bytes());
            }
            executed.push((mode, vendor, bytes.clone(), *insn));
        }
    }
    eprintln!(
        "gen_corpus: emulate: {} base inputs by family: {families:?}",
        executed.len()
    );
    // Variants, once per (mode, operation, memory or not).
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut sched_done: BTreeSet<String> = BTreeSet::new();
    // The preferred mode for each (operation, memory or not).
    let mut sched_first: BTreeMap<String, u8> = BTreeMap::new();
    for (mode, _, _, insn) in &executed {
        let sk = format!(
            "{:?} {} {}",
            insn.op,
            insn.operands.contains(&Operand::Mem),
            insn.has_lock()
        );
        let e = sched_first.entry(sk).or_insert(9);
        *e = (*e).min(sched_mode(*mode));
    }
    let mut variants = 0usize;
    let mut vector_done: BTreeSet<String> = BTreeSet::new();
    let mut vector_by_family: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (mode, vendor, bytes, insn) in &executed {
        let (mode, vendor) = (*mode, *vendor);
        let k = format!(
            "{mode:?} {:?} {} {}",
            insn.op,
            insn.operands.contains(&Operand::Mem),
            insn.prefixes.0
                & if emu::is_string(insn.op) {
                    Prefixes::LOCK | Prefixes::REP | Prefixes::REPNE
                } else {
                    Prefixes::LOCK
                }
        );
        // The vector families' own variants, once per (mode, operation, memory or not,
        // encoding, vector length).
        if let Some(fam) = vector_family(insn)
            && vector_done.insert(format!(
                "{mode:?} {:?} {} {:?} {}",
                insn.op,
                insn.operands.contains(&Operand::Mem),
                insn.encoding,
                insn.vl
            ))
        {
            let vbase = seed_input(mode, vendor, bytes, insn);
            let mut n = 0usize;
            vector_variants(&vbase, mode, insn, &mut bufs, &mut |i| {
                if out.put("emulate", i.to_bytes()) {
                    n += 1;
                }
            });
            *vector_by_family.entry(fam).or_default() += n;
        }
        if !done.insert(k) {
            continue;
        }
        let base = seed_input(mode, vendor, bytes, insn);
        let mut add = |i: EmuInput, out: &mut Out| {
            if out.put("emulate", i.to_bytes()) {
                variants += 1;
            }
        };
        // Fetched at RIP (no exit bytes).
        let mut v = base;
        v.entry = entry::AT_RIP;
        v.count = 0;
        add(v, out);
        // An MMIO exit with one byte in the exit, the rest fetched, and the GPA of the
        // instruction's first data access in its direction.
        let r = run(&v, &mut bufs);
        let trace = &bufs.a;
        let fetch_end = trace.iter().position(|e| e.kind == Kind::Get).unwrap_or(0);
        if let Some(e) = trace.iter().skip(fetch_end).find(|e| {
            matches!(
                e.kind,
                Kind::MemRead | Kind::MemWrite | Kind::WideRead | Kind::WideWrite
            )
        }) {
            let mut m = base;
            m.count = 1;
            m.gpa = e.a;
            m.access = if matches!(e.kind, Kind::MemWrite | Kind::WideWrite) {
                1
            } else {
                0
            };
            add(m, out);
            // ... and the same with the guest having rewritten the instruction to a NOP.
            let mut c = m;
            c.opts |= opt::CHANGED;
            c.alt = [0x90; 16];
            c.alt[0] = c.bytes[0];
            add(c, out);
        }
        let _ = r;
        // Accesses that cross a page; misaligned with alignment checking at CPL 3.
        let mut x = base;
        for g in [0usize, 3, 5, 6, 7] {
            x.gpr[g] = 0xffd;
        }
        add(x, out);
        let mut a = x;
        a.cpl = 3;
        a.rflags |= hvemu::flags::AC;
        a.opts |= opt::CR0_AM;
        a.segs = [Seg {
            attributes: a.segs[0].attributes | 0x60,
            ..a.segs[0]
        }; 6];
        add(a, out);
        // Segment limits that the access exceeds; a data segment that is not present.
        if mode != Mode::Long64 {
            let mut l = base;
            for s in &mut l.segs {
                s.limit = 0x10;
            }
            add(l, out);
            let mut p = base;
            for s in &mut p.segs {
                s.attributes &= !0x80;
            }
            add(p, out);
            // Expand-down data segments.
            let mut d = base;
            for s in &mut d.segs {
                s.attributes |= 0x4;
            }
            add(d, out);
        } else {
            // Non-canonical addresses.
            let mut c = base;
            for g in [0usize, 3, 5, 6, 7] {
                c.gpr[g] = 0x8000_0000_0000_1000;
            }
            add(c, out);
        }
        // The other vendor (undefined flags differ).
        let mut o = base;
        o.vendor ^= 1;
        add(o, out);
        // Direction flag, larger REP counts and budgets, bulk and compare-exchange entries.
        let mut d = base;
        d.rflags |= hvemu::flags::DF;
        add(d, out);
        if emu::is_string(insn.op) || insn.has_lock() || insn.op == Op::Xchg {
            for (rcx, budget, opts) in [
                (0u64, 3u8, 0u8),
                (5, 3, opt::BULK),
                (100, 5, opt::BULK),
                (2000, 31, opt::BULK),
                (2000, 31, 0),
                (0x1_0000_0003, 4, opt::BULK),
            ] {
                let mut s = base;
                s.gpr[1] = rcx;
                s.budget = budget;
                s.opts |= opts;
                add(s, out);
                let mut s2 = s;
                s2.rflags |= hvemu::flags::DF;
                add(s2, out);
            }
            let mut c = base;
            c.opts |= opt::CMPXCHG;
            add(c, out);
        }
        // Port instructions: a port exit, CPL 3 and virtual-8086 mode with and without the
        // permission entry.
        if matches!(family(insn.op), "io")
            || matches!(
                insn.op,
                Op::Insb | Op::Insw | Op::Insd | Op::Outsb | Op::Outsw | Op::Outsd
            )
        {
            let write = matches!(insn.op, Op::Out | Op::Outsb | Op::Outsw | Op::Outsd);
            let string = insn.op != Op::In && insn.op != Op::Out;
            let size = match insn.op {
                Op::Insb | Op::Outsb => 1,
                Op::Insw | Op::Outsw => 2,
                Op::Insd | Op::Outsd => 4,
                _ => insn
                    .operands
                    .iter()
                    .find_map(|o| match o {
                        Operand::Reg(r)
                            if r.num == 0
                                && matches!(
                                    r.class,
                                    RegClass::Gpr8 | RegClass::Gpr16 | RegClass::Gpr32
                                ) =>
                        {
                            Some(r.size() as u8)
                        }
                        _ => None,
                    })
                    .unwrap_or(1),
            };
            let port = if insn
                .operands
                .iter()
                .any(|o| matches!(o, Operand::Imm { .. }))
            {
                insn.imm as u16
            } else {
                0x60
            };
            let mut io = base;
            io.entry = entry::IO;
            io.port = port;
            io.io_size = size;
            io.io_flags = write as u8
                | (string as u8) << 1
                | ((insn.prefixes.0 & (Prefixes::REP | Prefixes::REPNE) != 0) as u8) << 2;
            io.insn_len = insn.len;
            add(io, out);
            let mut f = io;
            f.count = 0;
            add(f, out);
            for opts in [0u8, opt::IO_PERM, opt::IO_PERM | opt::IO_ALLOW] {
                let mut c = io;
                c.cpl = 3;
                c.opts |= opts;
                add(c, out);
                if mode == Mode::Real {
                    let mut vm = io;
                    vm.preset = preset::VM86;
                    vm.opts |= opts;
                    add(vm, out);
                }
            }
        }
        // Host behaviours at each callback of the plain run: once per (operation, memory or
        // not), in the first mode of SCHED_MODES that runs it.
        let sk = format!(
            "{:?} {} {}",
            insn.op,
            insn.operands.contains(&Operand::Mem),
            insn.has_lock()
        );
        if sched_done.contains(&sk) || sched_mode(mode) > sched_first.get(&sk).copied().unwrap_or(9)
        {
            continue;
        }
        sched_done.insert(sk);
        // LOCK forms through the host's compare-exchange.
        let base = if insn.has_lock() {
            EmuInput {
                opts: base.opts | opt::CMPXCHG,
                ..base
            }
        } else {
            base
        };
        let plain = run(&base, &mut bufs);
        let _ = plain;
        let kinds: Vec<Kind> = bufs.a.iter().map(|e| e.kind).collect();
        for (k, kind) in kinds.iter().enumerate().take(24) {
            let mut actions = vec![(act::FAIL, 0u8)];
            match kind {
                Kind::Translate => {
                    actions.extend((0..6).map(|a| (act::ODD, a)));
                    actions.push((act::ODDER, 0x12));
                }
                Kind::MemRead
                | Kind::WideRead
                | Kind::Io
                | Kind::Get
                | Kind::Cmpxchg
                | Kind::Bulk
                | Kind::Perm => {
                    actions.push((act::ODD, 3));
                    actions.push((act::ODDER, 5));
                }
                _ => {}
            }
            for (action, arg) in actions {
                let mut s = base;
                s.nsched = 1;
                s.sched[0] = Sched {
                    at: k as u8,
                    action,
                    arg,
                };
                add(s, out);
            }
        }
    }
    // A pending interruption, and a raw mode with odd CS attributes.
    if let Some((mode, vendor, bytes, _)) = executed.first() {
        let mut p = base_input(*mode, *vendor, bytes);
        p.opts |= opt::INTR1 | opt::INTR2;
        out.put("emulate", p.to_bytes());
        let mut raw = base_input(*mode, *vendor, bytes);
        raw.preset = preset::RAW;
        raw.cs.attributes = 0x2093;
        raw.cr0 = 1;
        raw.efer = 0x500;
        out.put("emulate", raw.to_bytes());
    }
    eprintln!("gen_corpus: emulate: {variants} variants");
    eprintln!("gen_corpus: emulate: vector and store variants by family: {vector_by_family:?}");
}

/// The `ffi` target's input is a misuse selector and its argument, then an `emulate` input:
/// every emulate seed as a well-formed call, and each misuse (selectors 8-15) on a few of them.
fn ffi_corpus(out: &mut Out) {
    let seeds: Vec<Vec<u8>> = out
        .written
        .get("emulate")
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for (k, e) in seeds.iter().enumerate() {
        let mut x = vec![0u8, 0];
        x.extend_from_slice(e);
        out.put("ffi", x);
        if k % 997 == 0 {
            for misuse in 8..16u8 {
                for arg in 0..3u8 {
                    let mut y = vec![misuse, arg];
                    y.extend_from_slice(e);
                    out.put("ffi", y);
                }
            }
        }
    }
}

fn main() {
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus"));
    let mut out = Out {
        dir: out_dir.clone(),
        written: BTreeMap::new(),
    };
    let per_mode = decode_corpus(&mut out);
    emulate_corpus(&mut out, &per_mode);
    ffi_corpus(&mut out);
    if let Err(e) = out.flush() {
        eprintln!("gen_corpus: writing {}: {e}", out_dir.display());
        std::process::exit(1);
    }
    for (t, set) in &out.written {
        println!(
            "gen_corpus: {t}: {} inputs in {}",
            set.len(),
            out_dir.join(t).display()
        );
    }
}
