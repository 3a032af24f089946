//! Comparing a run with the case's `final`, and the result line.

use super::host::{PAGE, Ram};
use super::json::Value;
use super::model::{
    Access, CTL_NAMES, Case, CompareAccesses, Exception, REG_NAMES, RFLAGS, SEG_NAMES, State,
    Status, VecReg,
};
use super::runner::Run;
use hvemu::emulator::{CallbackKind, Fault, Refusal};
use hvemu::regs::Segment;
use std::collections::BTreeSet;

/// Most differing RAM runs and accesses listed one by one in the diffs.
const MAX_LISTED: usize = 16;

fn hex(v: impl Into<u128>) -> String {
    format!("{:#x}", v.into())
}

/// Four lanes as a hex string of `lanes` × 32 digits.
fn hex_lanes(v: &[u128; 4], lanes: usize) -> String {
    let mut s = String::from("0x");
    for lane in v[..lanes].iter().rev() {
        s.push_str(&format!("{lane:032x}"));
    }
    s
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `#GP` and the like.
fn vector_name(v: u8) -> &'static str {
    const NAMES: [&str; 22] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF9", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    ];
    NAMES.get(usize::from(v)).copied().unwrap_or("#?")
}

fn fault_text(f: &Fault) -> String {
    let mut t = format!("{} (vector {})", vector_name(f.vector), f.vector);
    if let Some(e) = f.error_code {
        t += &format!(" error_code {}", hex(e));
    }
    if let Some(c) = f.cr2 {
        t += &format!(" cr2 {}", hex(c));
    }
    t
}

/// A human reason for a refusal.
pub fn refusal_text(r: &Refusal) -> String {
    match r {
        Refusal::Unsupported(op) => format!("unsupported instruction: {op}"),
        Refusal::CallbackFailed(k) => {
            let which = match k {
                CallbackKind::IoPort => "io_port",
                CallbackKind::Memory => "memory",
                CallbackKind::GetRegisters => "get_registers",
                CallbackKind::SetRegisters => "set_registers",
                CallbackKind::TranslateGvaPage => "translate_gva_page",
                CallbackKind::CompareExchange => "compare_exchange",
                CallbackKind::IoPermission => "io_permission",
                CallbackKind::Bulk => "bulk",
            };
            format!("host callback {which} failed")
        }
        Refusal::GpaNotAligned => "translation returned a GPA that is not page-aligned".into(),
        Refusal::TranslationFailed => "translation failed (not a guest fault)".into(),
        Refusal::ExitMismatch => "the fetched instruction does not make the exit's access".into(),
        Refusal::InterruptionPending => "interruption pending".into(),
        Refusal::BadExitContext => "malformed exit context".into(),
        Refusal::RegisterUnavailable => {
            "the instruction needs a register the host does not serve".into()
        }
        Refusal::TooManyRegisters => "more registers than one Get or Set batches".into(),
    }
}

fn segment_json(s: &Segment) -> Value {
    Value::Object(vec![
        ("selector".into(), Value::str(hex(s.selector))),
        ("base".into(), Value::str(hex(s.base))),
        ("limit".into(), Value::str(hex(s.limit))),
        ("attributes".into(), Value::str(hex(s.attributes))),
    ])
}

/// The narrowest name of vector register `n` covering every lane where `a` and `b` differ.
fn vec_name(n: u8, a: &[u128; 4], b: &[u128; 4]) -> VecReg {
    if n >= 16 || a[2..] != b[2..] {
        VecReg::Zmm(n)
    } else if a[1] != b[1] {
        VecReg::Ymm(n)
    } else {
        VecReg::Xmm(n)
    }
}

/// Runs of bytes where `ram` differs from `base`, over `pages` (and `extra` addresses).
fn ram_diff(base: &Ram, ram: &Ram, extra: &BTreeSet<u64>) -> Vec<(u64, Vec<u8>, Vec<u8>)> {
    let mut pages: BTreeSet<u64> = base.page_addrs().chain(ram.page_addrs()).collect();
    pages.extend(extra.iter().map(|a| a & !(PAGE - 1)));
    let mut runs: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
    for page in pages {
        if base.page(page) == ram.page(page) {
            continue;
        }
        for addr in (0..PAGE).map(|i| page + i) {
            let (was, now) = (base.byte(addr), ram.byte(addr));
            if was == now {
                continue;
            }
            match runs.last_mut() {
                Some((start, a, b)) if *start + a.len() as u64 == addr => {
                    a.push(was);
                    b.push(now);
                }
                _ => runs.push((addr, vec![was], vec![now])),
            }
        }
    }
    runs
}

fn access_json(a: &Access) -> Value {
    Value::Object(vec![
        ("kind".into(), Value::str(a.kind.name())),
        ("addr".into(), Value::str(hex(a.addr))),
        ("size".into(), Value::int(a.size)),
        ("data".into(), Value::str(hex(a.data))),
    ])
}

fn access_text(a: &Access) -> String {
    format!(
        "{} {} size {} data {}",
        a.kind.name(),
        hex(a.addr),
        a.size,
        hex(a.data)
    )
}

/// The actual outcome in the shape of `final`.
pub fn final_json(case: &Case, run: &Run) -> Value {
    let (init, now) = (&case.initial, &run.host.state);
    let mut out = Vec::new();
    let regs: Vec<(String, Value)> = (0..REG_NAMES.len())
        .filter(|&i| init.reg[i] != now.reg[i])
        .map(|i| (REG_NAMES[i].to_string(), Value::str(hex(now.reg[i]))))
        .collect();
    out.push(("regs".to_string(), Value::Object(regs)));

    let mut sregs = Vec::new();
    for (i, name) in SEG_NAMES.iter().enumerate() {
        if init.seg[i] != now.seg[i] {
            sregs.push((name.to_string(), segment_json(&now.seg[i])));
        }
    }
    for (name, a, b) in [("gdtr", init.gdtr, now.gdtr), ("idtr", init.idtr, now.idtr)] {
        if a != b {
            sregs.push((
                name.to_string(),
                Value::Object(vec![
                    ("base".into(), Value::str(hex(b.base))),
                    ("limit".into(), Value::str(hex(b.limit))),
                ]),
            ));
        }
    }
    for (i, name) in CTL_NAMES.iter().enumerate() {
        if init.ctl[i] != now.ctl[i] {
            sregs.push((name.to_string(), Value::str(hex(now.ctl[i]))));
        }
    }
    if !sregs.is_empty() {
        out.push(("sregs".into(), Value::Object(sregs)));
    }

    let mut vecs = Vec::new();
    for n in 0..32u8 {
        let (a, b) = (&init.zmm[usize::from(n)], &now.zmm[usize::from(n)]);
        if a != b {
            let r = vec_name(n, a, b);
            vecs.push((r.name(), Value::str(hex_lanes(b, r.lanes()))));
        }
    }
    for n in 0..8u8 {
        if init.k[usize::from(n)] != now.k[usize::from(n)] {
            vecs.push((VecReg::K(n).name(), Value::str(hex(now.k[usize::from(n)]))));
        }
    }
    if !vecs.is_empty() {
        out.push(("xmm".into(), Value::Object(vecs)));
    }
    if init.mxcsr != now.mxcsr {
        out.push(("mxcsr".into(), Value::str(hex(now.mxcsr))));
    }

    let ram = ram_diff(&run.initial_ram, &run.host.ram, &BTreeSet::new())
        .into_iter()
        .map(|(addr, _, now)| {
            Value::Array(vec![Value::str(hex(addr)), Value::str(hex_bytes(&now))])
        })
        .collect();
    out.push(("ram".into(), Value::Array(ram)));
    out.push((
        "accesses".into(),
        Value::Array(run.host.accesses.iter().map(access_json).collect()),
    ));
    let exception = match &run.fault {
        None => Value::Null,
        Some(f) => {
            let mut e = vec![("vector".to_string(), Value::int(f.vector))];
            if let Some(c) = f.error_code {
                e.push(("error_code".into(), Value::str(hex(c))));
            }
            if let Some(c) = f.cr2 {
                e.push(("cr2".into(), Value::str(hex(c))));
            }
            Value::Object(e)
        }
    };
    out.push(("exception".into(), exception));
    Value::Object(out)
}

/// The expected status of a case with an expected outcome.
pub fn expected_status(case: &Case) -> Option<Status> {
    let e = case.expected.as_ref()?;
    Some(e.status.or(case.status).unwrap_or(match e.exception {
        Some(Some(_)) => Status::Exception,
        _ => Status::Ok,
    }))
}

/// Every difference between the run and the case's `final` (empty when it passes).
pub fn compare(case: &Case, run: &Run) -> Vec<String> {
    let Some(exp) = &case.expected else {
        return Vec::new();
    };
    let mut diffs = Vec::new();
    let want = expected_status(case).unwrap_or(Status::Ok);
    if run.status != want {
        let why = run
            .refusal
            .as_ref()
            .map(refusal_text)
            .or_else(|| run.fault.as_ref().map(fault_text));
        diffs.push(match why {
            Some(w) => format!(
                "status: expected {} got {} ({w})",
                want.name(),
                run.status.name()
            ),
            None => format!("status: expected {} got {}", want.name(), run.status.name()),
        });
        if run.status == Status::Unsupported {
            // Nothing else is worth comparing, but a refusal must leave the machine alone.
            let f = final_json(case, run);
            let changed = ["regs", "sregs", "xmm", "mxcsr", "ram", "accesses"]
                .iter()
                .any(|k| {
                    f.get(k).is_some_and(|v| {
                        !matches!(v, Value::Object(m) if m.is_empty())
                            && !matches!(v, Value::Array(a) if a.is_empty())
                    })
                });
            if changed {
                diffs.push("the emulator declined yet changed the machine (see final)".into());
            }
            return diffs;
        }
    }
    if run.gave_up {
        diffs.push(format!(
            "gave up after {} re-entries: the instruction never completed",
            super::runner::MAX_REENTRIES
        ));
    }
    compare_regs(case, &run.host.state, &mut diffs);
    compare_ram(case, run, &mut diffs);
    compare_accesses(case, &run.host.accesses, &mut diffs);
    // Without `final.exception` a case that expects a fault (by its status) does not say which.
    match exp.exception {
        Some(want) => compare_exception(want, run.fault.as_ref(), &mut diffs),
        None if want != Status::Exception => {
            compare_exception(None, run.fault.as_ref(), &mut diffs)
        }
        None => {}
    }
    diffs
}

fn compare_regs(case: &Case, now: &State, diffs: &mut Vec<String>) {
    let Some(exp) = &case.expected else { return };
    let init = &case.initial;
    for (i, name) in REG_NAMES.iter().enumerate() {
        let want = exp
            .regs
            .iter()
            .rev()
            .find(|(r, _)| *r == i)
            .map_or(init.reg[i], |(_, v)| *v);
        let got = now.reg[i];
        if i == RFLAGS {
            if (want ^ got) & case.flags_mask != 0 {
                let mask = if case.flags_mask == u64::MAX {
                    String::new()
                } else {
                    format!(" (mask {})", hex(case.flags_mask))
                };
                diffs.push(format!(
                    "rflags: expected {} got {}{mask}",
                    hex(want),
                    hex(got)
                ));
            }
        } else if want != got {
            diffs.push(format!("{name}: expected {} got {}", hex(want), hex(got)));
        }
    }
    for (i, name) in SEG_NAMES.iter().enumerate() {
        let (was, got) = (init.seg[i], now.seg[i]);
        let e = exp
            .segs
            .iter()
            .rev()
            .find(|(r, _)| *r == i)
            .map(|(_, e)| *e);
        // A listed segment is compared in the fields it gives; an unlisted one in all.
        let want = |given: Option<Option<u64>>, was: u64| given.unwrap_or(Some(was));
        let fields = [
            (
                "selector",
                want(
                    e.map(|e| e.selector.map(u64::from)),
                    u64::from(was.selector),
                ),
                u64::from(got.selector),
            ),
            ("base", want(e.map(|e| e.base), was.base), got.base),
            (
                "limit",
                want(e.map(|e| e.limit.map(u64::from)), u64::from(was.limit)),
                u64::from(got.limit),
            ),
            (
                "attributes",
                want(
                    e.map(|e| e.attributes.map(u64::from)),
                    u64::from(was.attributes),
                ),
                u64::from(got.attributes),
            ),
        ];
        for (field, want, got) in fields {
            if let Some(want) = want.filter(|w| *w != got) {
                diffs.push(format!(
                    "{name}.{field}: expected {} got {}",
                    hex(want),
                    hex(got)
                ));
            }
        }
    }
    for (idtr, name, was, got) in [
        (false, "gdtr", init.gdtr, now.gdtr),
        (true, "idtr", init.idtr, now.idtr),
    ] {
        let e = exp.tables.iter().rev().find(|(t, _, _)| *t == idtr);
        let want_base = e.map_or(Some(was.base), |(_, b, _)| *b);
        let want_limit = e.map_or(Some(was.limit), |(_, _, l)| *l);
        if let Some(b) = want_base.filter(|b| *b != got.base) {
            diffs.push(format!(
                "{name}.base: expected {} got {}",
                hex(b),
                hex(got.base)
            ));
        }
        if let Some(l) = want_limit.filter(|l| *l != got.limit) {
            diffs.push(format!(
                "{name}.limit: expected {} got {}",
                hex(l),
                hex(got.limit)
            ));
        }
    }
    for (i, name) in CTL_NAMES.iter().enumerate() {
        let want = exp
            .ctl
            .iter()
            .rev()
            .find(|(r, _)| *r == i)
            .map_or(init.ctl[i], |(_, v)| *v);
        if want != now.ctl[i] {
            diffs.push(format!(
                "{name}: expected {} got {}",
                hex(want),
                hex(now.ctl[i])
            ));
        }
    }
    // Vector registers: the initial value with the listed ones laid over it, widest first.
    let mut want = init.clone();
    let mut listed = exp.vecs.clone();
    listed.sort_by_key(|(r, _)| std::cmp::Reverse(r.lanes()));
    for (r, v) in &listed {
        r.set(&mut want, *v);
    }
    for n in 0..32u8 {
        let (w, g) = (&want.zmm[usize::from(n)], &now.zmm[usize::from(n)]);
        if w != g {
            let r = vec_name(n, w, g);
            diffs.push(format!(
                "{}: expected {} got {}",
                r.name(),
                hex_lanes(w, r.lanes()),
                hex_lanes(g, r.lanes())
            ));
        }
    }
    for n in 0..8usize {
        if want.k[n] != now.k[n] {
            diffs.push(format!(
                "k{n}: expected {} got {}",
                hex(want.k[n]),
                hex(now.k[n])
            ));
        }
    }
    let want_mxcsr = exp.mxcsr.unwrap_or(init.mxcsr);
    if want_mxcsr != now.mxcsr {
        diffs.push(format!(
            "mxcsr: expected {} got {}",
            hex(want_mxcsr),
            hex(now.mxcsr)
        ));
    }
}

fn compare_ram(case: &Case, run: &Run, diffs: &mut Vec<String>) {
    let Some(exp) = &case.expected else { return };
    let mut want = run.initial_ram.clone();
    let mut touched = BTreeSet::new();
    for (addr, bytes) in &exp.ram {
        want.write(*addr, bytes);
        touched.insert(*addr);
        if let Some(len) = (bytes.len() as u64).checked_sub(1) {
            touched.insert(addr + len);
        }
    }
    let runs = ram_diff(&want, &run.host.ram, &touched);
    for (addr, w, g) in runs.iter().take(MAX_LISTED) {
        const SHOW: usize = 64;
        let more = if w.len() > SHOW {
            format!(" ({} bytes differ)", w.len())
        } else {
            String::new()
        };
        diffs.push(format!(
            "ram {}: expected {} got {}{more}",
            hex(*addr),
            hex_bytes(&w[..w.len().min(SHOW)]),
            hex_bytes(&g[..g.len().min(SHOW)])
        ));
    }
    if runs.len() > MAX_LISTED {
        diffs.push(format!(
            "ram: {} more differing runs",
            runs.len() - MAX_LISTED
        ));
    }
}

/// Memory accesses as (kind, byte address, byte) triples, sorted; port accesses kept in order.
fn split_unordered(list: &[Access]) -> (Vec<(u8, u64, u8)>, Vec<Access>) {
    let mut bytes = Vec::new();
    let mut ports = Vec::new();
    for a in list {
        if a.kind.is_mmio() {
            for i in 0..u64::from(a.size) {
                let kind = if a.kind == super::model::AccessKind::MmioRead {
                    0
                } else {
                    1
                };
                bytes.push((kind, a.addr.wrapping_add(i), (a.data >> (8 * i)) as u8));
            }
        } else {
            ports.push(*a);
        }
    }
    bytes.sort_unstable();
    (bytes, ports)
}

fn compare_ordered(want: &[Access], got: &[Access], what: &str, diffs: &mut Vec<String>) {
    let mut listed = 0;
    for i in 0..want.len().max(got.len()) {
        let (w, g) = (want.get(i), got.get(i));
        if w == g {
            continue;
        }
        if listed == MAX_LISTED {
            diffs.push(format!("{what}: more differences"));
            break;
        }
        listed += 1;
        diffs.push(match (w, g) {
            (Some(w), Some(g)) => format!(
                "{what}[{i}]: expected {} got {}",
                access_text(w),
                access_text(g)
            ),
            (Some(w), None) => format!("{what}[{i}]: expected {} got none", access_text(w)),
            (None, Some(g)) => format!("{what}[{i}]: expected none got {}", access_text(g)),
            (None, None) => continue,
        });
    }
}

fn compare_accesses(case: &Case, got: &[Access], diffs: &mut Vec<String>) {
    let want: &[Access] = case
        .expected
        .as_ref()
        .and_then(|e| e.accesses.as_deref())
        .unwrap_or(&[]);
    match case.compare_accesses {
        CompareAccesses::Off => {}
        CompareAccesses::Ordered => compare_ordered(want, got, "accesses", diffs),
        CompareAccesses::Unordered => {
            let (wb, wp) = split_unordered(want);
            let (gb, gp) = split_unordered(got);
            compare_ordered(&wp, &gp, "port accesses", diffs);
            if wb != gb {
                let name = |k: u8| if k == 0 { "mmio_read" } else { "mmio_write" };
                let fmt = |v: &[(u8, u64, u8)]| {
                    v.iter()
                        .take(32)
                        .map(|(k, a, b)| format!("{} {}={b:02x}", name(*k), hex(*a)))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let missing: Vec<_> = wb.iter().filter(|x| !gb.contains(x)).copied().collect();
                let extra: Vec<_> = gb.iter().filter(|x| !wb.contains(x)).copied().collect();
                diffs.push(format!(
                    "accesses (unordered, by byte): {} expected bytes, {} got; missing [{}] extra [{}]",
                    wb.len(),
                    gb.len(),
                    fmt(&missing),
                    fmt(&extra)
                ));
            }
        }
    }
}

fn compare_exception(want: Option<Exception>, got: Option<&Fault>, diffs: &mut Vec<String>) {
    match (want, got) {
        (None, None) => {}
        (None, Some(g)) => diffs.push(format!("exception: expected none got {}", fault_text(g))),
        (Some(w), None) => diffs.push(format!(
            "exception: expected {} (vector {}) got none",
            vector_name(w.vector),
            w.vector
        )),
        (Some(w), Some(g)) => {
            if w.vector != g.vector {
                diffs.push(format!(
                    "exception.vector: expected {} ({}) got {} ({})",
                    w.vector,
                    vector_name(w.vector),
                    g.vector,
                    vector_name(g.vector)
                ));
            }
            let opt = |v: Option<u64>| v.map_or("none".to_string(), hex);
            if let Some(e) = w.error_code
                && e != g.error_code
            {
                diffs.push(format!(
                    "exception.error_code: expected {} got {}",
                    opt(e.map(u64::from)),
                    opt(g.error_code.map(u64::from))
                ));
            }
            if let Some(c) = w.cr2
                && c != g.cr2
            {
                diffs.push(format!(
                    "exception.cr2: expected {} got {}",
                    opt(c),
                    opt(g.cr2)
                ));
            }
        }
    }
}
