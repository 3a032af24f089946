//! The bridge between the native harness ([`crate::native`]) and the conformance runner
//! (`hvemu_cli::cases`), shared by the native differential tests (`tests/native_diff.rs`,
//! `tests/native_strings.rs`): the runner's case for a state the processor ran from and what it
//! did, and the small helpers around it.

use crate::native::{
    CODE16_LIMIT, COMPARE_FLAGS, CS16, DataSeg, INPUT_FLAGS, INSN_ADDR, Mode, Outcome, Output,
    PAGE, RO_PAGE, State, reg,
};
use hvemu::decode::{self, Vendor};
use hvemu::regs::Segment;
use hvemu_cli::cases::model::{
    self, CS, Case, CompareAccesses, Exception, Expected, Paging, RFLAGS, RIP, Range, VecReg,
};

/// CR0.AM (Linux runs with it set: AC = 1 at CPL 3 checks alignment).
pub const CR0_AM: u64 = 1 << 18;
/// CR4 as Linux runs user code, as far as the emulator cares: OSFXSR, OSXMMEXCPT, OSXSAVE (and
/// PAE, the case format's default in 64-bit and compatibility mode).
pub const CR4: u64 = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 18);
/// ES in the case format's segments (`model::State::seg`).
pub const ES: usize = 0;
/// SS in the case format's segments.
pub const SS: usize = 2;
/// DS in the case format's segments.
pub const DS: usize = 3;
/// FS in the case format's segments.
pub const FS: usize = 4;
/// GS in the case format's segments.
pub const GS: usize = 5;
/// The code segment of a [`Mode::Compat16`] run as the case format gives it: [`CS16`], based at
/// [`INSN_ADDR`] (the instruction is at IP 0), limit [`CODE16_LIMIT`], a 16-bit readable code
/// segment at DPL 3, accessed, with the AVL bit `modify_ldt` sets for a usable entry.
pub const CODE16: Segment = Segment {
    base: INSN_ADDR,
    limit: CODE16_LIMIT as u32,
    selector: CS16 as u16,
    attributes: 0x10fb,
};
/// A [`DataSeg`] of the LDT, or the null selector, as the case format gives it (`None`: the
/// flat segment, the mode's default). The LDT's are present, DPL 3, accessed, with AVL set;
/// the null selector's segment is not present (unusable).
pub fn data_segment(d: DataSeg) -> Option<Segment> {
    let kind = match d {
        DataSeg::Flat => return None,
        DataSeg::Null => return Some(Segment::default()),
        // type 3: read/write, accessed
        DataSeg::Data16 => 3,
        // type 1: read-only, accessed
        DataSeg::ReadOnly16 => 1,
        // type 7: read/write, expand-down, accessed
        DataSeg::ExpandDown16 => 7,
        // the same, D/B = 1
        DataSeg::ExpandDown32 => 0x4007,
    };
    Some(Segment {
        base: d.base(),
        limit: d.limit() as u32,
        selector: d.selector().unwrap_or(0),
        attributes: 0x10f0 | kind,
    })
}

/// A number from the environment variable `name`: decimal or `0x` hex, `_` allowed.
pub fn env_u64(name: &str) -> Option<u64> {
    let s = std::env::var(name).ok()?.replace('_', "");
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The host processor's vendor (CPUID leaf 0): the emulator's undefined flags and other vendor
/// choices must match it. Panics on a processor that is neither Intel nor AMD.
pub fn host_vendor() -> Vendor {
    #[cfg(target_arch = "x86_64")]
    {
        let r = std::arch::x86_64::__cpuid(0);
        let mut id = [0u8; 12];
        id[..4].copy_from_slice(&r.ebx.to_le_bytes());
        id[4..8].copy_from_slice(&r.edx.to_le_bytes());
        id[8..].copy_from_slice(&r.ecx.to_le_bytes());
        match &id {
            b"AuthenticAMD" => Vendor::Amd,
            b"GenuineIntel" => Vendor::Intel,
            other => panic!(
                "unknown processor vendor {:?}: the native tests need an Intel or AMD host",
                String::from_utf8_lossy(other)
            ),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    panic!("the native tests need an x86-64 host")
}

/// The case format's name of a vendor.
pub fn vendor_name(v: Vendor) -> &'static str {
    match v {
        Vendor::Amd => "amd",
        Vendor::Intel => "intel",
    }
}

/// The decoder's mode for a harness mode.
pub fn decode_mode(m: Mode) -> decode::Mode {
    match m {
        Mode::Long64 => decode::Mode::Long64,
        Mode::Compat32 => decode::Mode::Compat32,
        Mode::Compat16 => decode::Mode::Prot16,
    }
}

/// The name of a mode in reports; for 64-bit and compatibility mode also the case format's.
/// (A [`Mode::Compat16`] case is `compat32` with the code segment [`CODE16`]: see
/// [`case_mode_name`].)
pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Long64 => "long64",
        Mode::Compat32 => "compat32",
        Mode::Compat16 => "compat16",
    }
}

/// The case format's `mode` of a run in harness mode `m`.
pub fn case_mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Long64 => "long64",
        Mode::Compat32 | Mode::Compat16 => "compat32",
    }
}

/// The name of exception vector `v` (`#GP`, `#PF`...).
pub fn vector_name(v: u8) -> String {
    match v {
        0 => "#DE".into(),
        6 => "#UD".into(),
        7 => "#NM".into(),
        12 => "#SS".into(),
        13 => "#GP".into(),
        14 => "#PF".into(),
        16 => "#MF".into(),
        17 => "#AC".into(),
        v => format!("#{v}"),
    }
}

/// How a native run ended, for a report: `ok`, `#PF(0x6)`, `#GP`, `hung`.
pub fn outcome_name(out: &Output) -> String {
    match out.outcome {
        Outcome::Completed => "ok".into(),
        Outcome::Exception(e) if e.vector == 14 => format!("#PF({:#x})", e.error_code),
        Outcome::Exception(e) => vector_name(e.vector),
        Outcome::Hung => "hung".into(),
    }
}

/// The field a runner's diff line is about (`rflags`, `rax`, `zmm3`, `ram`, `exception.cr2`...).
pub fn diff_field(d: &str) -> &str {
    let end = d.find([':', ' ']).unwrap_or(d.len());
    d.get(..end).unwrap_or(d)
}

/// Whether exception `vector` pushes an error code.
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21)
}

/// What a case started from natively.
#[derive(Clone, Copy, Debug)]
pub struct Start<'a> {
    /// The mode it ran in.
    pub mode: Mode,
    /// The instruction bytes.
    pub bytes: &'a [u8],
    /// How many of `bytes` the emulator is handed.
    pub exit_bytes: usize,
    /// The registers (at [`INSN_ADDR`]).
    pub state: &'a State,
    /// The window's initial contents (every other byte 0).
    pub mem: &'a [(u64, Vec<u8>)],
}

/// The case the runner checks: `start`'s state, the processor's outcome `out` and the window's
/// changed bytes `ram` as `final`, the pages in `not_present` absent and the read-only page
/// read-only. Mode `long64` or `compat32` (with the code segment [`CODE16`] and RIPs as offsets
/// in it for [`Mode::Compat16`]), the host's vendor, CPL 3, CR0.AM set, CR4 as [`CR4`], XCR0
/// the runner's default (x87, SSE, AVX and the AVX-512 state), RFLAGS compared under
/// [`COMPARE_FLAGS`], no device accesses expected. The vector state (ZMM0..ZMM31, K0..K7,
/// MXCSR) is the case's; every vector or mask register the processor changed is expected whole
/// (`zmmN`, `kN`). RSP and the segment selectors are those the instruction found
/// ([`Output::entry_rsp`], [`Output::selectors`]), ES, SS and DS the LDT's segments where the
/// state names them.
pub fn build_case(
    start: &Start<'_>,
    out: &Output,
    ram: Vec<(u64, Vec<u8>)>,
    not_present: Vec<Range>,
) -> Case {
    let code16 = start.mode == Mode::Compat16;
    // The case's defaults: 16-bit code runs in compatibility mode with a 16-bit CS.
    let mode = if code16 {
        decode::Mode::Compat32
    } else {
        decode_mode(start.mode)
    };
    // RIP is an offset in CS (the harness reports linear addresses).
    let cs_base = if code16 { INSN_ADDR } else { 0 };
    let st = start.state;
    let mut initial = model::State::defaults(mode, 3);
    initial.ctl[0] |= CR0_AM;
    initial.ctl[3] |= CR4;
    for n in 0..32 {
        initial.zmm[n] = st.zmm(n);
    }
    initial.k = st.k;
    initial.mxcsr = st.mxcsr;
    initial.reg[..16].copy_from_slice(&st.gpr);
    initial.reg[reg::RSP] = out.entry_rsp;
    initial.reg[RIP] = INSN_ADDR - cs_base;
    if code16 {
        initial.seg[CS] = CODE16;
    }
    if start.mode != Mode::Long64 {
        for (d, i) in [(st.es, ES), (st.ss, SS), (st.ds, DS)] {
            if let Some(seg) = data_segment(d) {
                initial.seg[i] = seg;
            }
        }
    }
    for (seg, &selector) in initial.seg.iter_mut().zip(&out.selectors) {
        seg.selector = selector;
    }
    initial.reg[RFLAGS] = (st.rflags & INPUT_FLAGS) | 0x202;
    initial.seg[FS].base = st.fs_base;
    initial.seg[GS].base = st.gs_base;
    let mut regs: Vec<(usize, u64)> = (0..16)
        .filter(|&i| out.state.gpr[i] != initial.reg[i])
        .map(|i| (i, out.state.gpr[i]))
        .collect();
    regs.push((RIP, out.rip.wrapping_sub(cs_base)));
    regs.push((RFLAGS, out.state.rflags));
    let mut vecs: Vec<(VecReg, [u128; 4])> = (0..32u8)
        .filter(|&n| out.state.zmm(n.into()) != st.zmm(n.into()))
        .map(|n| (VecReg::Zmm(n), out.state.zmm(n.into())))
        .collect();
    vecs.extend(
        (0..8u8)
            .filter(|&n| out.state.k[usize::from(n)] != st.k[usize::from(n)])
            .map(|n| {
                (
                    VecReg::K(n),
                    [u128::from(out.state.k[usize::from(n)]), 0, 0, 0],
                )
            }),
    );
    let mxcsr = (out.state.mxcsr != st.mxcsr).then_some(out.state.mxcsr);
    let exception = match out.outcome {
        Outcome::Exception(e) => Some(Exception {
            vector: e.vector,
            error_code: Some(has_error_code(e.vector).then_some(e.error_code as u32)),
            cr2: Some(e.cr2),
        }),
        _ => None,
    };
    Case {
        name: String::new(),
        mode,
        vendor: Some(host_vendor()),
        cpl: 3,
        bytes: start.bytes.to_vec(),
        exit_bytes: start.exit_bytes,
        initial,
        paging: Paging::Identity,
        ram: start.mem.to_vec(),
        mmio: Vec::new(),
        mmio_reads: Vec::new(),
        io_reads: Vec::new(),
        not_present,
        read_only: vec![Range {
            base: RO_PAGE,
            size: PAGE,
        }],
        expected: Some(Expected {
            regs,
            vecs,
            mxcsr,
            ram,
            accesses: Some(Vec::new()),
            exception: Some(exception),
            ..Expected::default()
        }),
        flags_mask: COMPARE_FLAGS,
        compare_accesses: CompareAccesses::Ordered,
        status: None,
        notes: Vec::new(),
    }
}
