//! Comparison of one decode by hvemu against iced-x86, shared by the differential tests.
//!
//! iced is a dev-dependency, so this lives beside the tests rather than in `tests/src`.

#![allow(dead_code)]

use hvemu::decode::{DecodeError, Instruction, Invalid, Mode, Operand, Vendor, decode};
use hvemu_tests::{hex, mem_view};
use iced_x86::{Decoder, DecoderError, DecoderOptions, OpKind, Register};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// iced's bitness for a mode.
pub fn bitness(mode: Mode) -> u32 {
    match mode {
        Mode::Real | Mode::Prot16 => 16,
        Mode::Prot32 | Mode::Compat32 => 32,
        Mode::Long64 => 64,
    }
}

/// iced's decoder options for a vendor (iced decodes as Intel by default).
pub fn iced_options(vendor: Vendor) -> u32 {
    match vendor {
        Vendor::Intel => DecoderOptions::NONE,
        Vendor::Amd => DecoderOptions::AMD,
    }
}

/// A memory operand with every field the tests compare, in iced's conventions (displacement
/// sign-extended to the address size; the absolute target for RIP/EIP-relative operands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mem {
    /// Effective segment, lower case.
    pub seg: String,
    /// Base register or `none`.
    pub base: String,
    /// Index register or `none`.
    pub index: String,
    /// Scale (as encoded in the SIB byte, even without an index).
    pub scale: u8,
    /// Displacement.
    pub disp: u64,
    /// Address size in bytes.
    pub addr_size: u8,
    /// Size of the encoded displacement in bytes.
    pub disp_size: u8,
}

impl std::fmt::Display for Mem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:[{}+{}*{}+{:#x}] a{} d{}",
            self.seg,
            self.base,
            self.index,
            self.scale,
            self.disp,
            self.addr_size * 8,
            self.disp_size
        )
    }
}

fn reg_name(r: Register) -> String {
    format!("{r:?}").to_ascii_lowercase()
}

/// iced's address size of a memory operand: the size of its base or index register, else the
/// displacement size (iced reports disp32 with 64-bit addressing as 8 bytes).
fn iced_addr_size(base: Register, index: Register, displ_size: u32, bitness: u32) -> u8 {
    let gpr = |r: Register| {
        if r == Register::RIP || r.is_gpr64() {
            8
        } else if r == Register::EIP || r.is_gpr32() {
            4
        } else if r.is_gpr16() {
            2
        } else {
            0
        }
    };
    let s = gpr(base).max(gpr(index));
    if s != 0 {
        s
    } else if displ_size >= 2 {
        displ_size as u8
    } else {
        (bitness / 8) as u8
    }
}

/// The result of one iced decode.
pub struct IcedOut {
    /// The instruction (Code::INVALID when invalid).
    pub insn: iced_x86::Instruction,
    /// iced's error.
    pub error: DecoderError,
    /// Encoded displacement size.
    pub disp_size: u8,
}

impl IcedOut {
    /// True when iced decoded an instruction.
    pub fn valid(&self) -> bool {
        self.error == DecoderError::None
    }

    /// iced's Code name (`Add_rm8_r8`).
    pub fn code(&self) -> String {
        format!("{:?}", self.insn.code())
    }

    /// The explicit memory operand (OpKind::Memory), if any.
    pub fn mem(&self, bitness: u32) -> Option<Mem> {
        let i = &self.insn;
        (0..i.op_count()).find(|&n| i.op_kind(n) == OpKind::Memory)?;
        let index = i.memory_index();
        Some(Mem {
            seg: reg_name(i.memory_segment()),
            base: reg_name(i.memory_base()),
            index: reg_name(index),
            scale: i.memory_index_scale() as u8,
            disp: i.memory_displacement64(),
            addr_size: iced_addr_size(i.memory_base(), index, i.memory_displ_size(), bitness),
            disp_size: self.disp_size,
        })
    }
}

/// Decodes the first instruction of `bytes` with iced.
pub fn iced_decode(bytes: &[u8], bitness: u32, ip: u64, options: u32) -> IcedOut {
    let mut d = Decoder::with_ip(bitness, bytes, ip, options);
    let insn = d.decode();
    let error = d.last_error();
    let disp_size = d.get_constant_offsets(&insn).displacement_size() as u8;
    IcedOut {
        insn,
        error,
        disp_size,
    }
}

/// Our memory operand in the same form.
pub fn our_mem(insn: &Instruction, ip: u64) -> Option<Mem> {
    if !insn.operands.contains(&Operand::Mem) {
        return None;
    }
    let v = mem_view(insn, ip);
    Some(Mem {
        seg: v.seg,
        base: v.base,
        index: v.index,
        scale: v.scale,
        disp: v.disp,
        addr_size: insn.addr_size,
        disp_size: insn.mem.disp_size,
    })
}

/// Where the opcode (or the VEX/EVEX/XOP escape) of `bytes` starts: after the legacy prefixes
/// and, in 64-bit mode, REX, within the 15-byte limit.
pub fn prefix_end(bytes: &[u8], mode: Mode) -> usize {
    let is_prefix = |b: u8| {
        matches!(
            b,
            0x26 | 0x2e | 0x36 | 0x3e | 0x64..=0x67 | 0xf0 | 0xf2 | 0xf3
        ) || (mode.is_64() && (0x40..=0x4f).contains(&b))
    };
    bytes
        .iter()
        .take(15)
        .position(|&b| !is_prefix(b))
        .unwrap_or(bytes.len().min(15))
}

/// The opcode map and opcode byte of `bytes`, from the bytes alone (for grouping).
pub fn map_key(bytes: &[u8], mode: Mode) -> String {
    let is64 = mode.is_64();
    let i = prefix_end(bytes, mode);
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let b = at(i);
    let n = at(i + 1);
    let vex_ok = is64 || n >= 0xc0;
    match b {
        0x0f => match n {
            0x38 => format!("0F38 {:02X}", at(i + 2)),
            0x3a => format!("0F3A {:02X}", at(i + 2)),
            0x0f => "3DNow".to_string(),
            _ => format!("0F {n:02X}"),
        },
        0xc5 if vex_ok => format!("VEX.0F {:02X}", at(i + 2)),
        0xc4 if vex_ok => format!("VEX.m{} {:02X}", n & 0x1f, at(i + 3)),
        0x62 if vex_ok => format!("EVEX.m{} {:02X}", n & 7, at(i + 4)),
        0x8f if n & 0x1f >= 8 => format!("XOP.m{} {:02X}", n & 0x1f, at(i + 3)),
        _ => format!("{b:02X}"),
    }
}

/// The encoding family of `bytes`: `legacy`, `0F38`, `0F3A`, `3DNow`, `VEX`, `EVEX`, `XOP`
/// (legacy covers the one-byte and 0F maps). Cheaper than [`map_key`].
pub fn map_class(bytes: &[u8], mode: Mode) -> &'static str {
    let is64 = mode.is_64();
    let i = prefix_end(bytes, mode);
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let n = at(i + 1);
    let vex_ok = is64 || n >= 0xc0;
    match (at(i), n) {
        (0x0f, 0x38) => "0F38",
        (0x0f, 0x3a) => "0F3A",
        (0x0f, 0x0f) => "3DNow",
        (0xc4 | 0xc5, _) if vex_ok => "VEX",
        (0x62, _) if vex_ok => "EVEX",
        (0x8f, n) if n & 0x1f >= 8 => "XOP",
        _ => "legacy",
    }
}

/// Only the map part of [`map_key`].
pub fn map_name(key: &str) -> &str {
    if key.len() == 2 {
        "primary"
    } else {
        key.split(' ').next().unwrap_or(key)
    }
}

/// AMD-only extensions that iced decodes by default (that is, for Intel), by iced Code name
/// prefix: XOP, 3DNow! and FEMMS, SSE4a, SVM, SEV-SNP, LWP, TBM, CLZERO, MONITORX, RDPRU,
/// INVLPGB/TLBSYNC, MCOMMIT; SYSCALL and SYSRET outside 64-bit mode. Our Intel decoder rejects
/// them (#UD on Intel processors).
pub fn amd_only(code: &str) -> bool {
    const P: &[&str] = &[
        "XOP_",
        "D3NOW_",
        "Femms",
        "Vmgexit",
        "Mcommit",
        "Vmrun",
        "Vmload",
        "Vmsave",
        "Vmmcall",
        "Stgi",
        "Clgi",
        "Skinit",
        "Invlpga",
        "Clzero",
        "Monitorx",
        "Mwaitx",
        "Rdpru",
        "Invlpgb",
        "Tlbsync",
        "Extrq",
        "Insertq",
        "Movntss",
        "Movntsd",
        "Llwpcb",
        "Slwpcb",
        "Lwpins",
        "Lwpval",
        "Bextr_r32_rm32_imm32",
        "Bextr_r64_rm64_imm32",
        "Pvalidate",
        "Rmpadjust",
        "Rmpupdate",
        "Psmash",
        "Rmpquery",
        "Rmpread",
        "Mcommit",
        "VEX_Vpermil2p",
        // FMA4 (the four-operand forms; FMA3 names carry 132/213/231).
        "VEX_Vfmaddps",
        "VEX_Vfmaddpd",
        "VEX_Vfmaddss",
        "VEX_Vfmaddsd",
        "VEX_Vfmaddsubps",
        "VEX_Vfmaddsubpd",
        "VEX_Vfmsubaddps",
        "VEX_Vfmsubaddpd",
        "VEX_Vfmsubps",
        "VEX_Vfmsubpd",
        "VEX_Vfmsubss",
        "VEX_Vfmsubsd",
        "VEX_Vfnmaddps",
        "VEX_Vfnmaddpd",
        "VEX_Vfnmaddss",
        "VEX_Vfnmaddsd",
        "VEX_Vfnmsubps",
        "VEX_Vfnmsubpd",
        "VEX_Vfnmsubss",
        "VEX_Vfnmsubsd",
        // SYSCALL and SYSRET outside 64-bit mode (Intel's raise #UD there: measured).
        "Syscall",
        "Sysretd",
    ];
    P.iter().any(|p| code.starts_with(p))
}

/// Centaur/Zhaoxin (VIA) PadLock and GMI instructions (F3 0F A6 / F3 0F A7 with a register
/// ModRM: XSTORE, XCRYPT*, XSHA*, MONTMUL, CCS_HASH/CCS_ENCRYPT and two undocumented ones) that
/// iced decodes by default: Intel and AMD processors raise #UD for them.
pub fn padlock(code: &str) -> bool {
    const P: &[&str] = &[
        "Xstore",
        "Xcrypt",
        "Xsha",
        "Montmul",
        "Ccs_",
        "Via_undoc_",
        "Zero_bytes",
    ];
    P.iter().any(|p| code.starts_with(p))
}

/// Intel-only extensions that iced decodes also with DecoderOptions::AMD: VMX, SGX, SMX, TDX,
/// PCONFIG, and the rest of the list; our AMD decoder rejects them.
pub fn intel_only(code: &str) -> bool {
    const P: &[&str] = &[
        "Vmxon", "Vmxoff", "Vmcall", "Vmlaunch", "Vmresume", "Vmptrld", "Vmptrst", "Vmclear",
        "Vmread", "Vmwrite", "Invept", "Invvpid", "Vmfunc", "Encls", "Enclu", "Enclv", "Getsec",
        "Seamcall", "Seamret", "Seamops", "Tdcall", "Pconfig",
    ];
    P.iter().any(|p| code.starts_with(p))
}

/// What one comparison found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Both valid with the same length and no memory operand, or both invalid.
    Agree,
    /// Both valid with the same length and the same memory operand.
    AgreeMem,
    /// Both valid, different lengths (always a failure).
    Length { ours: u8, iced: usize },
    /// Both valid with the same length, different memory operands (always a failure).
    Mem {
        ours: Option<Mem>,
        iced: Option<Mem>,
    },
    /// One says valid, the other invalid; the class names why (see [`classify`]).
    Validity(&'static str),
}

/// Validity-disagreement classes and what they mean. Each class is bounded by the tests.
pub const CLASSES: &[(&str, &str)] = &[
    (
        "amd-only-ext",
        "AMD-only extensions iced decodes by default (XOP, 3DNow!, SVM, SSE4a, ...) when we \
         decode for Intel; our AMD decoder gives the same length",
    ),
    (
        "intel-only-ext",
        "Intel-only extensions (VMX, SGX, SMX, TDX, PCONFIG) iced decodes with \
         DecoderOptions::AMD; our Intel decoder gives the same length",
    ),
    (
        "iced-padlock",
        "iced accepts the Centaur/Zhaoxin PadLock instructions (F3 0F A6/A7: XSTORE, XCRYPT*, \
         XSHA*, MONTMUL, CCS) by default; Intel and AMD processors raise #UD",
    ),
    (
        "evex-z-without-mask",
        "we accept EVEX zeroing-masking (z=1) with aaa=000 (no mask); iced rejects it, as the \
         processor does (#UD): an engine rule to add",
    ),
    (
        "evex-vprime-outside-64",
        "we accept EVEX with P2 bit 3 (inverted V') clear outside 64-bit mode; iced rejects it \
         (#UD): an engine rule to add",
    ),
    (
        "amd-measured",
        "we decode for AMD as an AMD processor does (measured on Zen 4 by tests/native_decode: \
         VEX opmask R and vvvv[3] ignored, EVEX V' ignored outside 64-bit mode, EVEX b ignored \
         in register forms with broadcast and z without masking, LOCK VERW, VPERMQ/VPERMPD \
         with W0; #UD for 0F 0D register forms and VEX VPEXTRD/VPINSRD with W1 outside 64-bit \
         mode) where iced follows the documented rule; our Intel decoding agrees with iced",
    ),
    (
        "table-gap",
        "iced decodes a Code for which our tables have no candidate (Invalid::Opcode, ModRm \
         or Mode): a table still to be written",
    ),
];

/// Compares one decode; `ours_other` decodes the same bytes for the other vendor (used only to
/// classify vendor-specific disagreements).
pub fn compare(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ip: u64,
    ours: &Result<Instruction, DecodeError>,
    iced: &IcedOut,
) -> Verdict {
    match (ours, iced.valid()) {
        (Err(_), false) => Verdict::Agree,
        (Ok(o), true) => {
            if o.len as usize != iced.insn.len() {
                return Verdict::Length {
                    ours: o.len,
                    iced: iced.insn.len(),
                };
            }
            let a = our_mem(o, ip);
            let b = iced.mem(bitness(mode));
            if a != b {
                return Verdict::Mem { ours: a, iced: b };
            }
            if a.is_some() {
                Verdict::AgreeMem
            } else {
                Verdict::Agree
            }
        }
        (Err(e), true) => Verdict::Validity(classify_iced_only(bytes, mode, vendor, *e, iced)),
        (Ok(_), false) => Verdict::Validity(classify_we_accept(bytes, mode, vendor)),
    }
}

/// The EVEX P2 byte of `bytes` when they start (after legacy prefixes and REX) with EVEX.
fn evex_p2(bytes: &[u8], mode: Mode) -> Option<u8> {
    let is64 = mode.is_64();
    let i = prefix_end(bytes, mode);
    let p0 = *bytes.get(i + 1)?;
    (bytes.get(i) == Some(&0x62) && (is64 || p0 >= 0xc0)).then(|| bytes.get(i + 3).copied())?
}

/// Classes of forms we accept and iced rejects whose rule is known (see [`CLASSES`]).
fn classify_we_accept(bytes: &[u8], mode: Mode, vendor: Vendor) -> &'static str {
    if vendor == Vendor::Amd && decode(bytes, mode, Vendor::Intel).is_err() {
        return "amd-measured";
    }
    match evex_p2(bytes, mode) {
        Some(p2) if p2 & 0x80 != 0 && p2 & 7 == 0 => "evex-z-without-mask",
        Some(p2) if !mode.is_64() && p2 & 0x08 == 0 => "evex-vprime-outside-64",
        _ => "unknown:we-accept",
    }
}

fn classify_iced_only(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    e: DecodeError,
    iced: &IcedOut,
) -> &'static str {
    let code = iced.code();
    let other = match vendor {
        Vendor::Intel => Vendor::Amd,
        Vendor::Amd => Vendor::Intel,
    };
    let other_ok = matches!(decode(bytes, mode, other), Ok(i) if i.len as usize == iced.insn.len());
    match vendor {
        Vendor::Intel if other_ok && amd_only(&code) => return "amd-only-ext",
        Vendor::Amd if other_ok && intel_only(&code) => return "intel-only-ext",
        Vendor::Amd if other_ok => return "amd-measured",
        _ => {}
    }
    if padlock(&code) {
        return "iced-padlock";
    }
    match e {
        DecodeError::Invalid(Invalid::Opcode | Invalid::ModRm | Invalid::Mode) => "table-gap",
        DecodeError::Invalid(Invalid::Lock) => "unknown:we-reject-lock",
        DecodeError::Invalid(Invalid::PrefixBeforeVex) => "unknown:we-reject-prefix-before-vex",
        DecodeError::Invalid(Invalid::ReservedField) => "unknown:we-reject-reserved-field",
        DecodeError::Invalid(Invalid::EvexFeature) => "unknown:we-reject-evex-feature",
        DecodeError::Invalid(Invalid::Register) => "unknown:we-reject-register",
        DecodeError::TooLong => "unknown:we-too-long",
        DecodeError::Truncated => "unknown:we-truncated",
        #[allow(unreachable_patterns)]
        _ => "unknown:we-reject-other",
    }
}

/// Counts and samples of disagreements, grouped for the summary.
#[derive(Default)]
pub struct Tally {
    /// Inputs compared.
    pub total: usize,
    /// Inputs iced decoded as valid.
    pub iced_valid: usize,
    /// Inputs both decoded as valid.
    pub both_valid: usize,
    /// Valid inputs whose memory operands were compared (and agreed).
    pub mem_compared: usize,
    /// Inputs iced decoded as valid, per opcode map (see [`map_name`]).
    pub valid_maps: BTreeMap<&'static str, usize>,
    /// Count per class (`length`, `mem`, and the validity classes).
    pub classes: BTreeMap<String, usize>,
    /// Per class, count and samples per group key (iced Code or our operation, and the map).
    pub groups: BTreeMap<String, BTreeMap<String, (usize, Vec<String>)>>,
    /// Per class, count per opcode map.
    pub maps: BTreeMap<String, BTreeMap<String, usize>>,
}

/// One sample line: the instruction's bytes, both decoders' views, the memory operands when
/// they differ, and a hint naming the field when iced rejects a VEX/EVEX/XOP form we accept.
fn sample(
    bytes: &[u8],
    mode: Mode,
    vendor: Vendor,
    ip: u64,
    ours: &Result<Instruction, DecodeError>,
    iced: &IcedOut,
    v: &Verdict,
) -> String {
    let used = match ours {
        Ok(o) => o.len as usize,
        Err(_) => iced.insn.len(),
    }
    .clamp(1, bytes.len().max(1));
    let shown = bytes.get(..used).unwrap_or(bytes);
    let what = match ours {
        Ok(o) => format!("ours {} len {}", o.op, o.len),
        Err(e) => format!("ours {e:?}"),
    };
    let mut s = format!(
        "{} (iced {} len {}; {what})",
        hex(shown),
        iced.code(),
        iced.insn.len()
    );
    if let Verdict::Mem { ours, iced: i } = v {
        let show = |m: &Option<Mem>| m.as_ref().map_or("none".to_string(), |m| m.to_string());
        let _ = write!(s, "\n        ours {}\n        iced {}", show(ours), show(i));
    }
    if ours.is_ok()
        && !iced.valid()
        && let Some(h) = vex_hint(shown, mode, iced_options(vendor), ip)
    {
        let _ = write!(s, " [{h}]");
    }
    s
}

/// Samples kept per group.
const SAMPLES: usize = 3;

impl Tally {
    /// Records one verdict (`vendor` and `ip` as given to the decoders).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        bytes: &[u8],
        mode: Mode,
        vendor: Vendor,
        ip: u64,
        ours: &Result<Instruction, DecodeError>,
        iced: &IcedOut,
        v: &Verdict,
    ) {
        self.total += 1;
        if iced.valid() {
            *self.valid_maps.entry(map_class(bytes, mode)).or_default() += 1;
            self.iced_valid += 1;
            if ours.is_ok() {
                self.both_valid += 1;
            }
        }
        let class: &str = match v {
            Verdict::Agree => return,
            Verdict::AgreeMem => {
                self.mem_compared += 1;
                return;
            }
            Verdict::Length { .. } => "length",
            Verdict::Mem { .. } => "mem",
            Verdict::Validity(c) => c,
        };
        let key = map_key(bytes, mode);
        let group = if iced.valid() {
            format!("{} [{key}]", iced.code())
        } else {
            match ours {
                Ok(o) => format!("ours {} [{key}]", o.op.name()),
                Err(_) => format!("[{key}]"),
            }
        };
        *self.classes.entry(class.to_string()).or_default() += 1;
        let g = self
            .groups
            .entry(class.to_string())
            .or_default()
            .entry(group)
            .or_default();
        g.0 += 1;
        if g.1.len() < SAMPLES {
            g.1.push(sample(bytes, mode, vendor, ip, ours, iced, v));
        }
        *self
            .maps
            .entry(class.to_string())
            .or_default()
            .entry(map_name(&key).to_string())
            .or_default() += 1;
    }

    /// Count of one class.
    pub fn count(&self, class: &str) -> usize {
        self.classes.get(class).copied().unwrap_or(0)
    }

    /// A printable summary: totals, counts per class, per map and the largest groups with
    /// samples (`groups` largest groups per class; all when `verbose`).
    pub fn summary(&self, title: &str, groups: usize, verbose: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "== {title}: {} inputs, iced valid {}, both valid {} ({} with equal memory \
             operands), disagreements {}",
            self.total,
            self.iced_valid,
            self.both_valid,
            self.mem_compared,
            self.classes.values().sum::<usize>()
        );
        let maps: Vec<String> = self
            .valid_maps
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  iced-valid by map: {}", maps.join(", "));
        for (class, n) in &self.classes {
            let _ = writeln!(s, "  class {class}: {n}");
            if let Some(m) = self.maps.get(class) {
                let mut maps: Vec<_> = m.iter().collect();
                maps.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let line: Vec<String> = maps.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let _ = writeln!(s, "    by map: {}", line.join(", "));
            }
            if let Some(g) = self.groups.get(class) {
                let mut gs: Vec<_> = g.iter().collect();
                gs.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
                let limit = if verbose { usize::MAX } else { groups };
                for (k, (n, samples)) in gs.iter().take(limit) {
                    let _ = writeln!(s, "    {n:>7}  {k}");
                    for x in samples.iter().take(if verbose { SAMPLES } else { 1 }) {
                        let _ = writeln!(s, "               e.g. {x}");
                    }
                }
                if gs.len() > limit {
                    let _ = writeln!(
                        s,
                        "    ... {} more groups (HVEMU_VERBOSE=1)",
                        gs.len() - limit
                    );
                }
            }
        }
        s
    }
}

/// True when `HVEMU_VERBOSE` is set.
pub fn verbose() -> bool {
    std::env::var_os("HVEMU_VERBOSE").is_some()
}

/// For an input iced rejects and we accept: the first single change of a VEX/EVEX/XOP field
/// that makes iced accept it, naming the validity rule we probably miss (`"z=1 needs aaa!=0"`,
/// `"iced accepts with vvvv=1111"`). None for other encodings or when no change helps.
pub fn vex_hint(bytes: &[u8], mode: Mode, options: u32, ip: u64) -> Option<String> {
    let is64 = mode.is_64();
    let i = prefix_end(bytes, mode);
    let first = *bytes.get(i)?;
    let next = *bytes.get(i + 1)?;
    let vex_ok = is64 || next >= 0xc0;
    // (byte offset from the escape, xor mask or (and-mask, or-mask), name)
    let edits: Vec<(usize, u8, u8, &str)> = match first {
        0x62 if vex_ok => {
            let p0 = bytes[i + 1];
            let p2 = *bytes.get(i + 3)?;
            if p2 & 0x80 != 0 && p2 & 7 == 0 {
                return Some("z=1 needs aaa!=0".to_string());
            }
            if !is64 && p2 & 0x08 == 0 {
                return Some("EVEX P2 bit 3 (inverted V') clear outside 64-bit mode".to_string());
            }
            if p2 & 0x60 == 0x60 && p2 & 0x10 == 0 {
                return Some("EVEX.L'L=3".to_string());
            }
            let _ = p0;
            vec![
                (3, 0xf8, 0x00, "aaa=0"),
                (3, 0xf8, 0x01, "aaa=1"),
                (3, 0x7f, 0x00, "z=0"),
                (3, 0xef, 0x00, "b=0"),
                (3, 0xff, 0x08, "V'=0"),
                (2, 0xff, 0x78, "vvvv=0"),
                (3, 0x9f, 0x00, "L'L=0"),
                (3, 0x9f, 0x40, "L'L=2"),
                (2, 0x7f, 0x00, "W=0"),
                (2, 0xff, 0x80, "W=1"),
                (1, 0xff, 0x10, "R'=0"),
                (1, 0xff, 0x80, "R=0"),
                (1, 0xff, 0x40, "X=0"),
                (1, 0xff, 0x20, "B=0"),
                (5, 0xff, 0xc0, "ModRM.mod=3"),
                (5, 0x3f, 0x00, "ModRM.mod=0"),
            ]
        }
        0xc4 if vex_ok => vec![
            (2, 0xff, 0x78, "vvvv=0"),
            (2, 0xfb, 0x00, "L=0"),
            (2, 0x7f, 0x00, "W=0"),
            (2, 0xff, 0x80, "W=1"),
            (1, 0xff, 0x80, "R=0"),
            (1, 0xff, 0x40, "X=0"),
            (1, 0xff, 0x20, "B=0"),
            (4, 0xff, 0xc0, "ModRM.mod=3"),
            (4, 0x3f, 0x00, "ModRM.mod=0"),
        ],
        0xc5 if vex_ok => vec![
            (1, 0xff, 0x78, "vvvv=0"),
            (1, 0xfb, 0x00, "L=0"),
            (1, 0xff, 0x80, "R=0"),
            (3, 0xff, 0xc0, "ModRM.mod=3"),
            (3, 0x3f, 0x00, "ModRM.mod=0"),
        ],
        0x8f if next & 0x1f >= 8 => vec![
            (2, 0xff, 0x78, "vvvv=0"),
            (2, 0xfb, 0x00, "L=0"),
            (2, 0x7f, 0x00, "W=0"),
            (2, 0xff, 0x80, "W=1"),
            (4, 0xff, 0xc0, "ModRM.mod=3"),
        ],
        _ => return None,
    };
    for (off, and, or, name) in edits {
        let mut b = bytes.to_vec();
        let at = b.get_mut(i + off)?;
        let new = (*at & and) | or;
        if new == *at {
            continue;
        }
        *at = new;
        if iced_decode(&b, bitness(mode), ip, options).valid() {
            return Some(format!("iced accepts it with {name}"));
        }
    }
    None
}
