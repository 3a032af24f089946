//! Worst-case stack depth of entry points in a statically linked x86-64 ELF program.
//!
//! Inputs (text, as the LLVM tools print them; ../stack.sh produces them):
//! - `--disasm FILE`: `llvm-objdump -d --no-show-raw-insn` (AT&T syntax, mangled names);
//! - `--stack-sizes FILE`: `llvm-readobj --stack-sizes --elf-output-style=GNU` of a build with
//!   `-Z emit-stack-sizes` (the frame of each function: callee-saved pushes plus locals, without
//!   the return address);
//! - `--relocs FILE` (optional): `llvm-readobj -r`, whose `R_X86_64_RELATIVE` addends are the
//!   code addresses stored in data (function pointers in statics);
//! - `--indirect CALLERS:TARGETS` (repeatable): where the indirect calls of some functions go.
//!   Both sides are comma-separated substrings of (mangled) names; a function whose name
//!   contains one of CALLERS may call indirectly the address-taken functions that contain one of
//!   TARGETS, plus those that no rule claims (`memset` through a register, say). TARGETS may be
//!   empty: code outside the program (a C host's callbacks). The first matching rule counts; a
//!   function that matches none may call any address-taken function. Rust's types justify the
//!   rules: a `Machine<ProbeHost>` can only call `fn(&mut ProbeHost, ..)` callbacks;
//! - `--budget BYTES`: the most an entry point may use (0: report only);
//! - the entry symbols, each optionally with its own budget: `probe_decode=1024`.
//!
//! The call graph comes from the disassembly: direct calls, tail jumps to another function
//! (conditional ones too), and indirect calls or jumps, which reach the address-taken functions
//! (taken by a `lea` in code or stored in data) that the `--indirect` rules allow. A function without a recorded frame
//! (precompiled `core`, `compiler_builtins`) gets an estimate from its code: 8 bytes per `push`
//! plus its largest `sub $N, %rsp`. The depth of an entry point is the return address of the
//! call into it plus the frames along its deepest path, each call adding a return address and
//! the stack arguments pushed for it (which the recorded frames leave out), a tail jump reusing
//! its caller's. Recursion (a cycle in the graph) makes the depth unbounded:
//! it is reported and fails the check.
//!
//! Exits 1 when an entry point is over the budget, recursion is reachable or an entry point is
//! missing; 2 on bad usage or input.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::process::ExitCode;

#[derive(Default)]
struct Func {
    addr: u64,
    /// Direct calls: the callee, and the most bytes of outgoing arguments pushed at a call to it.
    calls: BTreeMap<String, u64>,
    tails: BTreeSet<String>,
    /// Indirect calls: the most bytes of outgoing arguments pushed at one.
    indirect_call: Option<u64>,
    indirect_jump: bool,
    /// Calls and jumps through a pointer in memory at a fixed address (`call *X(%rip)`, the GOT).
    slot_calls: BTreeMap<u64, u64>,
    slot_tails: BTreeSet<u64>,
    pushes: u64,
    sub_rsp: u64,
}

/// A node's deepest path: bytes from its entry (its frame and below), and the next node on
/// that path with how it is reached.
#[derive(Clone)]
struct Depth {
    bytes: u64,
    /// The next function, the edge, and the outgoing argument bytes pushed for the call.
    next: Option<(String, Edge, u64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Edge {
    Call,
    Tail,
    IndirectCall,
    IndirectTail,
}

struct Rule {
    callers: Vec<String>,
    targets: Vec<String>,
}

struct Graph {
    funcs: BTreeMap<String, Func>,
    frames: HashMap<String, u64>,
    taken: BTreeSet<String>,
    rules: Vec<Rule>,
    memo: HashMap<String, Depth>,
    on_path: Vec<String>,
    cycles: Vec<Vec<String>>,
    estimated: BTreeSet<String>,
}

fn base_name(target: &str) -> &str {
    target.split('+').next().unwrap_or(target)
}

/// The symbol between the last `<` and `>` of an operand such as `0x2011f0 <foo+0x10>`.
fn symbol_of(operand: &str) -> Option<&str> {
    let start = operand.rfind('<')?;
    let end = operand.rfind('>')?;
    operand.get(start + 1..end)
}

/// The address in a `# 0x2aea8` comment.
fn comment_addr(insn: &str) -> Option<u64> {
    let (_, comment) = insn.split_once('#')?;
    let hex = comment.trim().strip_prefix("0x")?;
    let hex = hex.split_whitespace().next()?;
    u64::from_str_radix(hex, 16).ok()
}

/// The functions, and the addresses that code refers to other than as the pointer of an
/// indirect call or jump (a pointer loaded or an address taken there escapes).
fn parse_disasm(
    text: &str,
    frames: &HashMap<String, u64>,
) -> (BTreeMap<String, Func>, BTreeSet<u64>) {
    let mut funcs = BTreeMap::new();
    let mut referenced = BTreeSet::new();
    let mut current: Option<String> = None;
    // The last few instructions of the current function, to recognise a jump-table dispatch.
    let mut recent: Vec<String> = Vec::new();
    // Still in the prologue (the pushes of callee-saved registers and the `sub $N, %rsp` that
    // the recorded frame covers)?
    let mut prologue = true;
    // Bytes pushed below the frame, in the order of the code: stack arguments of the next call
    // (`push`es, or a `sub $N, %rsp`, undone by an `add $N, %rsp` after the call), which the
    // recorded frame leaves out. A prologue moved off the entry by shrink-wrapping (pushes, then
    // perhaps a `sub`, adding up to the recorded frame) is recognised and taken back out; any
    // other push or `sub` counts, so the sum errs on the high side (a branch that pushes and
    // jumps away, say), never on the low side.
    let mut outgoing = 0u64;
    // The pushes just before the current instruction.
    let mut run = 0u64;
    let mut frame: Option<u64> = None;
    for line in text.lines() {
        // A function header: `0000000000201240 <probe_decode>:`.
        if let Some(head) = line.strip_suffix(">:")
            && let Some((addr, name)) = head.split_once(" <")
            && let Ok(addr) = u64::from_str_radix(addr.trim(), 16)
        {
            funcs.insert(
                name.to_string(),
                Func {
                    addr,
                    ..Func::default()
                },
            );
            current = Some(name.to_string());
            recent.clear();
            prologue = true;
            outgoing = 0;
            run = 0;
            frame = frames.get(name).copied();
            continue;
        }
        let Some(name) = current.as_ref() else {
            continue;
        };
        // An instruction: `  201245:      \tcallq\t0x201300 <foo>`.
        let Some((_, insn)) = line.split_once(':') else {
            continue;
        };
        let insn = insn.trim();
        let (mnemonic, operand) = match insn.split_once(char::is_whitespace) {
            Some((m, o)) => (m, o.trim()),
            None => (insn, ""),
        };
        let Some(f) = funcs.get_mut(name) else {
            continue;
        };
        // `$0x178, %rsp` (perhaps followed by `# imm = 0x178`).
        let rsp_imm = || {
            let imm = operand.split('#').next()?.trim_end();
            let imm = imm.strip_prefix("$0x")?.strip_suffix(", %rsp")?;
            u64::from_str_radix(imm, 16).ok()
        };
        if prologue {
            if mnemonic.starts_with("push") {
                f.pushes += 1;
                continue;
            }
            prologue = false;
            if mnemonic.starts_with("sub")
                && let Some(v) = rsp_imm()
            {
                f.sub_rsp = f.sub_rsp.max(v);
                continue;
            }
        }
        // The end of a run of pushes: a shrink-wrapped prologue if it makes up the frame.
        if !mnemonic.starts_with("push") && run > 0 {
            let sub = if mnemonic.starts_with("sub") {
                rsp_imm()
            } else {
                None
            };
            if frame == Some(run * 8 + sub.unwrap_or(0)) {
                outgoing = outgoing.saturating_sub(run * 8);
                run = 0;
                if sub.is_some() {
                    continue;
                }
            }
            run = 0;
        }
        let through_slot = operand.starts_with('*') && operand.contains("(%rip)");
        let slot = comment_addr(operand);
        if let (Some(addr), false) = (slot, through_slot) {
            referenced.insert(addr);
        }
        if mnemonic.starts_with("call") {
            if let (true, Some(addr)) = (through_slot, slot) {
                let e = f.slot_calls.entry(addr).or_insert(0);
                *e = (*e).max(outgoing);
            } else if operand.starts_with('*') {
                f.indirect_call = f.indirect_call.max(Some(outgoing));
            } else if let Some(target) = symbol_of(operand) {
                let e = f.calls.entry(base_name(target).to_string()).or_insert(0);
                *e = (*e).max(outgoing);
            }
        } else if mnemonic.starts_with('j') {
            if let (true, Some(addr)) = (through_slot, slot) {
                f.slot_tails.insert(addr);
            } else if let Some(reg) = operand.strip_prefix('*') {
                // A switch: `movslq (%rcx,%rax,4), %rax; addq %rcx, %rax; jmpq *%rax` (the
                // table holds offsets within the function). Anything else may be a tail call
                // through a function pointer.
                let table = format!(",4), {reg}");
                if !recent
                    .iter()
                    .any(|i| i.starts_with("movslq") && i.ends_with(&table))
                {
                    f.indirect_jump = true;
                }
            } else if let Some(target) = symbol_of(operand) {
                let target = base_name(target);
                if target != name {
                    f.tails.insert(target.to_string());
                }
            }
        } else if mnemonic.starts_with("push") {
            f.pushes += 1;
            outgoing += 8;
            run += 1;
        } else if mnemonic.starts_with("pop") {
            outgoing = outgoing.saturating_sub(8);
        } else if mnemonic.starts_with("sub")
            && let Some(v) = rsp_imm()
        {
            f.sub_rsp = f.sub_rsp.max(v);
            outgoing += v;
        } else if mnemonic.starts_with("add")
            && let Some(v) = rsp_imm()
        {
            outgoing = outgoing.saturating_sub(v);
        }
        if recent.len() == 12 {
            recent.remove(0);
        }
        recent.push(format!("{mnemonic} {operand}"));
    }
    (funcs, referenced)
}

/// `lea`s of a function's address: `leaq 0x10(%rip), %rax  # 0x201300 <foo>`.
fn lea_targets(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.contains("\tlea")
            && let Some((_, comment)) = line.split_once('#')
            && let Some(sym) = symbol_of(comment)
            && !sym.contains('+')
        {
            out.insert(sym.to_string());
        }
    }
    out
}

fn parse_stack_sizes(text: &str) -> Result<HashMap<String, u64>, String> {
    let mut frames = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((size, names)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        for name in names.split(',') {
            let name = name.trim();
            if !name.is_empty() {
                frames.insert(name.to_string(), size);
            }
        }
    }
    if frames.is_empty() {
        return Err("no stack sizes (was the program built with -Z emit-stack-sizes?)".into());
    }
    Ok(frames)
}

/// Addresses stored in data: `R_X86_64_RELATIVE` relocations, offset to addend.
fn relative_relocs(text: &str) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if !line.contains("R_X86_64_RELATIVE") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let hex = |w: Option<&&str>| {
            w.and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok())
        };
        if let (Some(offset), Some(addend)) = (hex(words.first()), hex(words.last())) {
            out.insert(offset, addend);
        }
    }
    out
}

impl Graph {
    /// The address-taken functions that an indirect call or jump in `name` may reach.
    fn indirect_targets(&self, name: &str) -> Vec<String> {
        let contains_any = |n: &str, pats: &[String]| pats.iter().any(|p| n.contains(p.as_str()));
        let Some(rule) = self.rules.iter().find(|r| contains_any(name, &r.callers)) else {
            return self.taken.iter().cloned().collect();
        };
        self.taken
            .iter()
            .filter(|t| {
                contains_any(t, &rule.targets)
                    || !self.rules.iter().any(|r| contains_any(t, &r.targets))
            })
            .cloned()
            .collect()
    }

    fn frame(&mut self, name: &str) -> u64 {
        if let Some(&f) = self.frames.get(name) {
            return f;
        }
        self.estimated.insert(name.to_string());
        match self.funcs.get(name) {
            Some(f) => f.pushes * 8 + f.sub_rsp,
            None => 0,
        }
    }

    fn depth(&mut self, name: &str) -> Depth {
        if let Some(d) = self.memo.get(name) {
            return d.clone();
        }
        if let Some(pos) = self.on_path.iter().position(|n| n == name) {
            let mut cycle = self.on_path.get(pos..).unwrap_or(&[]).to_vec();
            cycle.push(name.to_string());
            self.cycles.push(cycle);
            return Depth {
                bytes: 0,
                next: None,
            };
        }
        self.on_path.push(name.to_string());
        let frame = self.frame(name);
        let mut edges: Vec<(String, Edge, u64)> = Vec::new();
        if let Some(f) = self.funcs.get(name) {
            edges.extend(f.calls.iter().map(|(c, x)| (c.clone(), Edge::Call, *x)));
            edges.extend(f.tails.iter().map(|c| (c.clone(), Edge::Tail, 0)));
            if f.indirect_call.is_some() || f.indirect_jump {
                let targets = self.indirect_targets(name);
                if let Some(x) = f.indirect_call {
                    edges.extend(targets.iter().map(|c| (c.clone(), Edge::IndirectCall, x)));
                }
                if f.indirect_jump {
                    edges.extend(
                        targets
                            .iter()
                            .filter(|c| c.as_str() != name)
                            .map(|c| (c.clone(), Edge::IndirectTail, 0)),
                    );
                }
            }
        }
        let mut best = Depth {
            bytes: frame,
            next: None,
        };
        for (callee, edge, extra) in edges {
            let d = self.depth(&callee).bytes;
            let total = match edge {
                Edge::Call | Edge::IndirectCall => frame + extra + 8 + d,
                Edge::Tail | Edge::IndirectTail => d,
            };
            if total > best.bytes {
                best = Depth {
                    bytes: total,
                    next: Some((callee, edge, extra)),
                };
            }
        }
        self.on_path.pop();
        self.memo.insert(name.to_string(), best.clone());
        best
    }

    /// The most stack in use (from `name`'s entry, return addresses included) when an indirect
    /// call is made below `name`: where the host's callbacks start, their own frames on top.
    /// `None` if no path from `name` makes one. Called after `depth` (no recursion left).
    fn indirect_depth(&self, name: &str, memo: &mut HashMap<String, Option<u64>>) -> Option<u64> {
        if let Some(d) = memo.get(name) {
            return *d;
        }
        memo.insert(name.to_string(), None);
        let frame = self.frames.get(name).copied().unwrap_or(0);
        let mut best: Option<u64> = None;
        if let Some(f) = self.funcs.get(name) {
            if let Some(x) = f.indirect_call {
                best = best.max(Some(frame + x + 8));
            }
            if f.indirect_jump {
                best = best.max(Some(0));
            }
            for (c, x) in &f.calls {
                best = best.max(self.indirect_depth(c, memo).map(|d| frame + x + 8 + d));
            }
            for c in &f.tails {
                best = best.max(self.indirect_depth(c, memo));
            }
        }
        memo.insert(name.to_string(), best);
        best
    }

    /// Every function reachable from `name`.
    fn reachable(&self, name: &str, seen: &mut BTreeSet<String>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        if let Some(f) = self.funcs.get(name) {
            for c in f.calls.keys().chain(f.tails.iter()) {
                self.reachable(c, seen);
            }
            if f.indirect_call.is_some() || f.indirect_jump {
                for c in self.indirect_targets(name) {
                    self.reachable(&c, seen);
                }
            }
        }
    }
}

struct Args {
    disasm: String,
    stack_sizes: String,
    relocs: Option<String>,
    budget: u64,
    rules: Vec<Rule>,
    top: usize,
    entries: Vec<(String, u64)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        disasm: String::new(),
        stack_sizes: String::new(),
        relocs: None,
        budget: 0,
        rules: Vec::new(),
        top: 12,
        entries: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--disasm" => args.disasm = value()?,
            "--stack-sizes" => args.stack_sizes = value()?,
            "--relocs" => args.relocs = Some(value()?),
            "--indirect" => {
                let v = value()?;
                let (callers, targets) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--indirect {v}: expected CALLERS:TARGETS"))?;
                let list = |s: &str| -> Vec<String> {
                    s.split(',')
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect()
                };
                args.rules.push(Rule {
                    callers: list(callers),
                    targets: list(targets),
                });
            }
            "--budget" => args.budget = value()?.parse().map_err(|e| format!("--budget: {e}"))?,
            "--top" => args.top = value()?.parse().map_err(|e| format!("--top: {e}"))?,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => {
                let (name, budget) = match a.split_once('=') {
                    Some((n, b)) => (n, Some(b.parse().map_err(|e| format!("{a}: {e}"))?)),
                    None => (a.as_str(), None),
                };
                args.entries
                    .push((name.to_string(), budget.unwrap_or(u64::MAX)));
            }
        }
    }
    if args.disasm.is_empty() || args.stack_sizes.is_empty() || args.entries.is_empty() {
        return Err("usage: hvemu-stack-report --disasm FILE --stack-sizes FILE \
                    [--relocs FILE] [--indirect CALLERS:TARGETS]... [--budget BYTES] [--top N] ENTRY[=BUDGET]..."
            .into());
    }
    Ok(args)
}

fn read(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let disasm = read(&args.disasm)?;
    let frames = parse_stack_sizes(&read(&args.stack_sizes)?)?;
    let (mut funcs, referenced) = parse_disasm(&disasm, &frames);
    let mut taken = lea_targets(&disasm);
    let relocs = match &args.relocs {
        Some(path) => relative_relocs(&read(path)?),
        None => BTreeMap::new(),
    };
    let by_addr: HashMap<u64, String> = funcs.iter().map(|(n, f)| (f.addr, n.clone())).collect();
    // A pointer slot holding a function's address: a call or jump through it is a direct edge;
    // any other use of the slot (or a slot that code never names, part of a larger static such
    // as a callback table) lets the address escape, to be reached by any indirect call.
    let mut slot_target = HashMap::new();
    for (offset, addend) in &relocs {
        if let Some(name) = by_addr.get(addend) {
            slot_target.insert(*offset, name.clone());
            let only_called = !referenced.contains(offset)
                && funcs
                    .values()
                    .any(|f| f.slot_calls.contains_key(offset) || f.slot_tails.contains(offset));
            if !only_called {
                taken.insert(name.clone());
            }
        }
    }
    for f in funcs.values_mut() {
        for (slot, x) in std::mem::take(&mut f.slot_calls) {
            match slot_target.get(&slot) {
                Some(name) => {
                    let e = f.calls.entry(name.clone()).or_insert(0);
                    *e = (*e).max(x);
                }
                None => f.indirect_call = f.indirect_call.max(Some(x)),
            }
        }
        for slot in std::mem::take(&mut f.slot_tails) {
            match slot_target.get(&slot) {
                Some(name) => {
                    f.tails.insert(name.clone());
                }
                None => f.indirect_jump = true,
            }
        }
    }
    taken.retain(|n| funcs.contains_key(n));
    let mut g = Graph {
        funcs,
        frames,
        taken,
        rules: args.rules,
        memo: HashMap::new(),
        on_path: Vec::new(),
        cycles: Vec::new(),
        estimated: BTreeSet::new(),
    };
    let mut ok = true;
    let mut all = BTreeSet::new();
    println!("stack depth per entry point (the caller's return address included):");
    for (entry, budget) in &args.entries {
        let budget = match (*budget, args.budget) {
            (u64::MAX, b) => b,
            (b, _) => b,
        };
        if !g.funcs.contains_key(entry) {
            println!("  {entry}: not in the program");
            ok = false;
            continue;
        }
        let d = g.depth(entry);
        let total = d.bytes + 8;
        let over = budget > 0 && total > budget;
        println!(
            "  {entry}: {total} B (budget {budget} B){}",
            if over { "  OVER BUDGET" } else { "" }
        );
        ok &= !over;
        let mut memo = HashMap::new();
        if let Some(d) = g.indirect_depth(entry, &mut memo) {
            println!(
                "    indirect calls (host callbacks) made with up to {} B in use",
                d + 8
            );
        }
        // The deepest path, with each frame and the stack in use at its entry.
        let mut at = 8u64;
        let mut name = entry.clone();
        let mut steps = 0;
        loop {
            let frame = g.frame(&name);
            let mark = if g.estimated.contains(&name) { "~" } else { "" };
            println!("      at {at:>5}  frame {mark}{frame:>5}  {name}");
            let Some((next, edge, extra)) = g.memo.get(&name).and_then(|d| d.next.clone()) else {
                break;
            };
            if extra > 0 {
                println!("      ({extra} B of stack arguments pushed for the call)");
            }
            match edge {
                Edge::Call => at += frame + extra + 8,
                Edge::IndirectCall => {
                    at += frame + extra + 8;
                    println!("      (indirect call)");
                }
                Edge::Tail => println!("      (tail jump)"),
                Edge::IndirectTail => println!("      (indirect tail jump)"),
            }
            name = next;
            steps += 1;
            if steps > 1000 {
                break;
            }
        }
        g.reachable(entry, &mut all);
    }
    if !g.cycles.is_empty() {
        ok = false;
        println!("recursion (unbounded stack):");
        for c in &g.cycles {
            println!("  {}", c.join(" -> "));
        }
    } else {
        println!("recursion: none ({} functions reachable)", all.len());
    }
    if !g.taken.is_empty() {
        println!(
            "address-taken functions (what indirect calls may reach, as the --indirect rules \
             say):"
        );
        for t in &g.taken {
            println!("  {t}");
        }
    }
    let mut largest: Vec<(u64, String)> = all.iter().map(|n| (g.frame(n), n.clone())).collect();
    largest.sort_by(|a, b| b.cmp(a));
    println!("largest frames among the reachable functions (~: estimated from the code):");
    for (size, name) in largest.iter().take(args.top) {
        let mark = if g.estimated.contains(name) { "~" } else { "" };
        println!("  {mark}{size:>5}  {name}");
    }
    let estimated: Vec<&String> = g.estimated.iter().filter(|n| all.contains(*n)).collect();
    if !estimated.is_empty() {
        println!(
            "{} reachable functions have no recorded frame (estimated from their pushes and \
             `sub $N, %rsp`)",
            estimated.len()
        );
    }
    Ok(ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("hvemu-stack-report: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(disasm: &str, sizes: &[(&str, u64)]) -> Graph {
        let frames: HashMap<String, u64> = sizes.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        let (funcs, _) = parse_disasm(disasm, &frames);
        let taken = lea_targets(disasm);
        Graph {
            funcs,
            frames,
            taken,
            rules: Vec::new(),
            memo: HashMap::new(),
            on_path: Vec::new(),
            cycles: Vec::new(),
            estimated: BTreeSet::new(),
        }
    }

    const PROGRAM: &str = "
0000000000001000 <entry>:
    1000:      \tpushq\t%rbx
    1001:      \tsubq\t$0x10, %rsp
    1005:      \tpushq\t$0x0
    1007:      \tpushq\t%rax
    1008:      \tcallq\t0x2000 <leaf>
    100d:      \taddq\t$0x10, %rsp
    1011:      \tleaq\t0xfe8(%rip), %rax       # 0x3000 <callback>
    1018:      \tcallq\t*%rax
    101a:      \tjmp\t0x4000 <wrapped>

0000000000002000 <leaf>:
    2000:      \tsubq\t$0x28, %rsp            # imm = 0x28
    2004:      \taddq\t$0x28, %rsp            # imm = 0x28
    2008:      \tretq

0000000000003000 <callback>:
    3000:      \tretq

0000000000004000 <wrapped>:
    4000:      \ttestl\t%edi, %edi
    4002:      \tje\t0x4010 <wrapped+0x10>
    4004:      \tretq
    4010:      \tpushq\t%rbp
    4011:      \tpushq\t%rbx
    4012:      \tsubq\t$0x100, %rsp            # imm = 0x100
    4019:      \tmovslq\t(%rcx,%rax,4), %rax
    401d:      \taddq\t%rcx, %rax
    4020:      \tjmpq\t*%rax
    4022:      \tcallq\t0x2000 <leaf>
";

    #[test]
    fn frames_stack_arguments_and_tail_jumps() {
        let mut g = graph(
            PROGRAM,
            &[
                ("entry", 0x18),
                ("leaf", 0x28),
                ("callback", 0),
                ("wrapped", 0x110),
            ],
        );
        let f = g.funcs.get("entry").unwrap();
        // Two pushes of stack arguments before the call to `leaf`.
        assert_eq!(f.calls.get("leaf"), Some(&16));
        assert_eq!(f.indirect_call, Some(0));
        assert!(f.tails.contains("wrapped"));
        assert!(g.taken.contains("callback"));
        // The shrink-wrapped prologue of `wrapped` is no stack argument; its switch is no
        // indirect tail call.
        let w = g.funcs.get("wrapped").unwrap();
        assert_eq!(w.calls.get("leaf"), Some(&0));
        assert!(!w.indirect_jump);
        // entry: 0x18 + 16 + 8 + leaf's 0x28 = 88; the tail jump: 0x110 + 8 + 0x28 = 320.
        assert_eq!(g.depth("entry").bytes, 320);
        assert!(g.cycles.is_empty());
    }

    #[test]
    fn recursion_is_found() {
        let text = "
0000000000001000 <a>:
    1000:      \tcallq\t0x2000 <b>
0000000000002000 <b>:
    2000:      \tjmp\t0x1000 <a>
";
        let mut g = graph(text, &[("a", 8), ("b", 8)]);
        g.depth("a");
        assert_eq!(
            g.cycles,
            vec![vec!["a".to_string(), "b".to_string(), "a".to_string()]]
        );
    }

    #[test]
    fn stack_sizes_and_relocations() {
        let sizes =
            parse_stack_sizes("Stack Sizes:\n  Size  Functions\n   40  foo\n    8  bar, baz\n")
                .unwrap();
        assert_eq!(sizes.get("foo"), Some(&40));
        assert_eq!(sizes.get("baz"), Some(&8));
        let r = relative_relocs("    0x28BC8 R_X86_64_RELATIVE - 0x21390\n");
        assert_eq!(r.get(&0x28bc8), Some(&0x21390));
    }
}
