"""Summarises `llvm-cov show` output for core/src/decode and core/src/exec (see coverage.sh).

usage: coverage_report.py OUT_DIR CORE_SRC_DIR "TARGETS"

Reads OUT_DIR/lines.txt, writes OUT_DIR/report.txt: lines covered per directory and per file,
the `const fn` items and `const`/`static` initialisers that only the compiler evaluates (table
builders: their lines carry coverage regions but never run in a binary, so they are counted
apart), and every line not reached with its source text. Blank, comment and attribute lines are
not counted (llvm-cov gives them the count of the region around them).
"""

import os
import re
import sys

out, core, targets = sys.argv[1], sys.argv[2], sys.argv[3]

# Per file and line: the execution count ("  NN|  count|source").
counts, source = {}, {}
cur = None
for line in open(os.path.join(out, "lines.txt"), errors="replace"):
    if line.startswith("/") and line.rstrip().endswith(":"):
        cur = os.path.relpath(line.rstrip()[:-1], core)
        counts[cur], source[cur] = {}, {}
        continue
    m = re.match(r"\s*(\d+)\|\s*([0-9.]+[kMGE]?)?\|(.*)$", line)
    if m and cur:
        n = int(m.group(1))
        source[cur][n] = m.group(3)
        if m.group(2):
            c = m.group(2)
            mult = {"k": 1e3, "M": 1e6, "G": 1e9, "E": 1e18}.get(c[-1], 1)
            counts[cur][n] = float(c.rstrip("kMGE")) * mult

# `const fn` items none of whose lines ran.
const_only = {}
for f, src in source.items():
    lines = sorted(src)
    i = 0
    while i < len(lines):
        n = lines[i]
        if re.match(r"\s*(pub(\([a-z]+\))?\s+)?const fn ", src[n]):
            depth, j, started = 0, i, False
            while j < len(lines):
                t = src[lines[j]]
                depth += t.count("{") - t.count("}")
                started = started or "{" in t
                if started and depth <= 0:
                    break
                j += 1
            span = lines[i : j + 1]
            counted = [k for k in span if k in counts[f]]
            if counted and all(counts[f][k] == 0 for k in counted):
                name = re.search(r"const fn (\w+)", src[n]).group(1)
                const_only.setdefault(f, []).append((n, name, counted))
            i = j + 1
        else:
            i += 1
excluded = {f: {k for (_, _, ks) in v for k in ks} for f, v in const_only.items()}


def non_code(text):
    """Blank, comment and attribute lines: llvm-cov gives them the count of the region around
    them, but nothing runs there."""
    t = text.strip()
    return not t or t.startswith("//") or t.startswith("#[") or t.startswith("#![")


# Items the compiler evaluates: `const`/`static` items that never ran (their initialisers call
# the const fns above).
for f, src in source.items():
    lines = sorted(src)
    i = 0
    while i < len(lines):
        n = lines[i]
        if re.match(r"\s*(pub(\([a-z]+\))?\s+)?(const|static) [A-Z_0-9]+\s*:", src[n]) and counts[f].get(n, 1) == 0:
            j = i
            while j < len(lines) and not src[lines[j]].rstrip().endswith(";"):
                j += 1
            excluded.setdefault(f, set()).update(k for k in lines[i : j + 1] if k in counts[f])
            i = j + 1
        else:
            i += 1
for f, src in source.items():
    for k in list(counts[f]):
        if non_code(src.get(k, "")):
            del counts[f][k]

groups = {"decode": [0, 0, 0], "exec": [0, 0, 0]}
rows, missed = [], []
for f in sorted(counts):
    g = f.split("/")[0]
    if g not in groups:
        continue
    ex = excluded.get(f, set()) & set(counts[f])
    total = [k for k in counts[f] if k not in ex]
    cov = [k for k in total if counts[f][k] > 0]
    groups[g][0] += len(cov)
    groups[g][1] += len(total)
    groups[g][2] += len(ex)
    rows.append((f, len(cov), len(total), len(ex)))
    missed += [(f, k, source[f][k]) for k in sorted(total) if counts[f][k] == 0]

lines = [f"coverage over the corpora of: {targets}"]
for g, (c, n, e) in groups.items():
    pct = 100.0 * c / n if n else 0.0
    lines.append(
        f"core/src/{g}: {c}/{n} lines = {pct:.2f}%"
        f"  ({e} more lines evaluated only by the compiler, not counted)"
    )
summary = len(lines)
lines += ["", "per file (lines covered/total; compile-time-only lines apart):"]
for f, c, n, e in rows:
    pct = 100.0 * c / n if n else 100.0
    lines.append(f"  {f:34} {c:5}/{n:5}  {pct:6.2f}%   const-only {e}")
lines += ["", "compile-time-only const fns (evaluated by the compiler; never run in a binary):"]
for f in sorted(const_only):
    lines.append(f"  {f}: " + ", ".join(f"{name} (line {n})" for n, name, _ in const_only[f]))
lines += ["", f"lines not reached ({len(missed)}):"]
lines += [f"  {f}:{k}: {src.strip()}" for f, k, src in missed]
open(os.path.join(out, "report.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines[:summary]))
print(f"full report: {os.path.join(out, 'report.txt')}")
