//! What the random native differential tests (`native_diff`, `native_vector`) share besides the
//! case model: the plan of a run (families by weight, the modes, one seed each), the pages that
//! are not present, and the grouping of mismatches into likely root causes for the report.

use crate::native::{GUARD_PAGE, Mode, PAGE, SCRATCH_BASE, SCRATCH_END, ZONE_BASE, ZONE_SIZE};
use crate::native_case::{env_u64, vector_name};
use hvemu_cli::cases::json::Value;
use hvemu_cli::cases::model::Range;
use std::collections::BTreeMap;
use std::fmt::{Debug, Write as _};

/// Reproducers kept per mismatch group (each of a different instruction form).
const SAMPLES: usize = 4;
/// Mismatch groups printed with their reproducers (the others as one line each).
const GROUPS_SHOWN: usize = 150;

/// The modes a report counts, in its column order.
pub const MODES: [Mode; 3] = [Mode::Long64, Mode::Compat32, Mode::Compat16];

/// The place of `mode` in [`MODES`].
pub fn mode_index(mode: Mode) -> usize {
    match mode {
        Mode::Long64 => 0,
        Mode::Compat32 => 1,
        Mode::Compat16 => 2,
    }
}

/// A family of generated cases, as the plan and the report see it.
pub trait CaseFamily: Copy + Debug + Ord + 'static {
    /// Every family, in the report's row order (a family's place here seeds its generator).
    const ALL: &'static [Self];
    /// The name in the report.
    fn name(self) -> &'static str;
    /// The share of the cases.
    fn weight(self) -> u64;
}

/// The family's name for the `_ONLY` variable: its variant name, lower case.
fn family_key<F: CaseFamily>(f: F) -> String {
    format!("{f:?}").to_lowercase()
}

/// What runs: family, mode (each of `modes`), number of cases, seed. `{var}_N` cases in all
/// (default `n`), split by weight and evenly across the modes; `{var}_SEED` changes the seed;
/// `{var}_ONLY=a,b` runs only those families.
pub fn plan<F: CaseFamily>(
    var: &str,
    n: u64,
    seed: u64,
    modes: &[Mode],
) -> Vec<(F, Mode, u64, u64)> {
    let n = env_u64(&format!("{var}_N")).unwrap_or(n);
    let seed = env_u64(&format!("{var}_SEED")).unwrap_or(seed);
    let only: Option<Vec<String>> = std::env::var(format!("{var}_ONLY"))
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_lowercase()).collect());
    // (family, its place in `ALL`)
    let families: Vec<(F, u64)> = F::ALL
        .iter()
        .copied()
        .zip(0u64..)
        .filter(|(f, _)| only.as_ref().is_none_or(|o| o.contains(&family_key(*f))))
        .collect();
    assert!(!families.is_empty(), "{var}_ONLY selects nothing");
    let total: u64 = families.iter().map(|(f, _)| f.weight()).sum::<u64>() * modes.len() as u64;
    let mut out = Vec::new();
    for &(f, number) in &families {
        for m in modes {
            let count = (n * f.weight()).div_ceil(total);
            let mi = mode_index(*m) as u64;
            let s = seed ^ (number << 8 | mi).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            out.push((f, *m, count, s));
        }
    }
    out
}

/// Everything outside the window's present pages and the instruction zone: natively nothing
/// else is mapped where a case can reach.
pub fn outside_window() -> Vec<Range> {
    vec![
        Range {
            base: 0,
            size: SCRATCH_BASE,
        },
        Range {
            base: GUARD_PAGE,
            size: PAGE,
        },
        Range {
            base: SCRATCH_END,
            size: ZONE_BASE - SCRATCH_END,
        },
        // (the instruction zone is mapped: a re-entered or RCX = 0 instruction is fetched)
        Range {
            base: ZONE_BASE + ZONE_SIZE,
            size: u64::MAX - (ZONE_BASE + ZONE_SIZE),
        },
    ]
}

/// The pages that are not present: both sides of the scratch window and its guard page; in
/// 64-bit mode the pages on both sides of the non-canonical hole (natively the kernel's: only an
/// access straddling the hole reaches them, and it must fault before translating); with
/// `top_of_4g` in compatibility mode the last page below 4 GiB (not present natively either:
/// accesses across the limit of the flat segments) and the first page (where Intel wraps them).
/// In 16-bit code, whose FS- and GS-based accesses with 16-bit offsets that wrap may land
/// anywhere near the window, everything outside it ([`outside_window`]).
pub fn not_present(mode: Mode, top_of_4g: bool) -> Vec<Range> {
    if mode == Mode::Compat16 {
        return outside_window();
    }
    let page = |base| Range { base, size: PAGE };
    let mut v = vec![
        page(SCRATCH_BASE - PAGE),
        page(GUARD_PAGE),
        page(SCRATCH_END),
    ];
    if mode == Mode::Compat32 && top_of_4g {
        v.push(page(0xffff_f000));
        // Intel wraps an access that runs past 4 GiB to the bottom of the address space (AMD
        // raises #GP): the first page, never mapped in a Linux process, then faults.
        v.push(page(0));
    }
    if mode == Mode::Long64 {
        v.push(page(0x0000_7fff_ffff_f000));
        v.push(page(0xffff_8000_0000_0000));
    }
    v
}

/// The emulator's outcome in a runner result line: `#PF(error code)`, the exception's name,
/// or the status.
pub fn emulator_outcome(line: &Value) -> String {
    let exc = line
        .get("final")
        .and_then(|f| f.get("exception"))
        .filter(|e| !matches!(e, Value::Null));
    let status = line.get("status").and_then(Value::as_str).unwrap_or("?");
    match exc.and_then(|e| e.get("vector")).and_then(Value::as_u64) {
        Some(14) => {
            let ec = exc
                .and_then(|e| e.get("error_code"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            format!("#PF({ec})")
        }
        Some(v) => vector_name(v as u8),
        None => status.to_string(),
    }
}

/// Mismatches with the same processor outcome, emulator outcome and differing fields: most
/// often one root cause.
struct Group {
    count: u64,
    modes: [u64; 3],
    /// Cases per family and instruction form.
    forms: BTreeMap<String, u64>,
    /// Reproducers: (form, instruction length, text, JSON case line); one per form at most,
    /// the shortest instruction seen.
    samples: Vec<(String, usize, String, Option<String>)>,
}

/// The mismatch groups of a run.
#[derive(Default)]
pub struct Groups {
    groups: BTreeMap<String, Group>,
}

impl Groups {
    /// Counts a mismatch of instruction `form` (of `len` bytes, in `mode`) in group `key`,
    /// keeping its reproducer `sample` (and case line) when the group has room for the form or
    /// the instruction is shorter than the one kept.
    pub fn add(
        &mut self,
        key: String,
        form: String,
        mode: Mode,
        len: usize,
        sample: String,
        json: Option<String>,
    ) {
        let e = self.groups.entry(key).or_insert_with(|| Group {
            count: 0,
            modes: [0; 3],
            forms: BTreeMap::new(),
            samples: Vec::new(),
        });
        e.count += 1;
        e.modes[mode_index(mode)] += 1;
        *e.forms.entry(form.clone()).or_default() += 1;
        let room = e.samples.len() < SAMPLES;
        match e.samples.iter_mut().find(|x| x.0 == form) {
            Some(x) if len < x.1 => *x = (form, len, sample, json),
            Some(_) => {}
            None if room => e.samples.push((form, len, sample, json)),
            None => {}
        }
    }

    /// The case lines of the reproducers kept.
    pub fn case_lines(&self) -> Vec<&str> {
        self.groups
            .values()
            .flat_map(|g| g.samples.iter().filter_map(|x| x.3.as_deref()))
            .collect()
    }

    /// Writes the groups, largest first, to `s` (nothing without mismatches).
    pub fn write(&self, s: &mut String) {
        if self.groups.is_empty() {
            return;
        }
        let _ = writeln!(s, "\nmismatch groups ({}):", self.groups.len());
        let mut groups: Vec<(&String, &Group)> = self.groups.iter().collect();
        groups.sort_by_key(|(k, g)| (std::cmp::Reverse(g.count), (*k).clone()));
        for (i, (k, g)) in groups.iter().enumerate() {
            let _ = writeln!(
                s,
                "\n[{}] {k}  ({} cases: {} long64, {} compat32, {} compat16)",
                i + 1,
                g.count,
                g.modes[0],
                g.modes[1],
                g.modes[2]
            );
            let forms: Vec<String> = g.forms.iter().map(|(f, n)| format!("{f} ({n})")).collect();
            let _ = writeln!(s, "  forms: {}", forms.join("; "));
            if i < GROUPS_SHOWN {
                for (_, _, text, json) in &g.samples {
                    s.push_str(text);
                    if let Some(j) = json {
                        let _ = writeln!(s, "    case: {j}");
                    }
                }
            }
        }
    }
}
