#!/usr/bin/env bash
# Line coverage of core/src/decode and core/src/exec over the fuzz corpora.
#
#   fuzz/coverage.sh [TARGET...]        (default: decode decode_vs_iced emulate)
#
# For each target, `cargo fuzz coverage` builds it with -Cinstrument-coverage and runs every
# input of fuzz/corpus/<target> (gen_corpus's seeds and fuzz/seeds, as ci.sh lays them out; a
# campaign adds to the same directories); the
# profiles are merged and llvm-cov (rustup's llvm-tools of the toolchain used) reports lines per
# directory. Writes fuzz/coverage/report.txt: the percentages, per-file figures, and every line
# not reached with its source text. Prints the summary.
#
# Environment: TOOLCHAIN (default nightly), CORPUS (default fuzz/corpus).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
TOOLCHAIN=${TOOLCHAIN:-nightly}
CORPUS=${CORPUS:-$FUZZ_DIR/corpus}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(decode decode_vs_iced emulate)

SYSROOT=$(rustc +"$TOOLCHAIN" --print sysroot)
HOST=$(rustc +"$TOOLCHAIN" -vV | sed -n 's/^host: //p')
LLVM_BIN="$SYSROOT/lib/rustlib/$HOST/bin"
if [ ! -x "$LLVM_BIN/llvm-cov" ]; then
    rustup component add llvm-tools-preview --toolchain "$TOOLCHAIN"
fi

OUT=$FUZZ_DIR/coverage
mkdir -p "$OUT"
# Coverage is measured, not bugs hunted: a known finding or an overflow must not stop the
# replay of the corpus (cargo fuzz coverage gives up on the first crash).
export HVEMU_FUZZ_KNOWN=${HVEMU_FUZZ_KNOWN:-$(sed 's/#.*//' known_findings | xargs | tr ' ' ',')}
export RUSTFLAGS="${RUSTFLAGS:-} -Coverflow-checks=off"
OBJECTS=()
PROFILES=()
for t in "${TARGETS[@]}"; do
    if [ ! -d "$CORPUS/$t" ]; then
        echo "coverage.sh: no corpus at $CORPUS/$t (run gen_corpus first)" >&2
        exit 1
    fi
    # Known findings (HVEMU_FUZZ_KNOWN) must not stop the replay of the corpus.
    cargo +"$TOOLCHAIN" fuzz coverage -s none --jobs 1 "$t" "$CORPUS/$t" >"$OUT/$t.log" 2>&1 || {
        echo "coverage.sh: cargo fuzz coverage $t failed; see $OUT/$t.log" >&2
        tail -20 "$OUT/$t.log" >&2
        exit 1
    }
    OBJECTS+=("$FUZZ_DIR/target/$HOST/coverage/$HOST/release/$t")
    PROFILES+=("$OUT/$t/coverage.profdata")
done

"$LLVM_BIN/llvm-profdata" merge -sparse "${PROFILES[@]}" -o "$OUT/all.profdata"
OBJ_ARGS=("${OBJECTS[0]}")
for o in "${OBJECTS[@]:1}"; do OBJ_ARGS+=(-object "$o"); done

CORE=$(cd "$FUZZ_DIR/../core/src" && pwd)
"$LLVM_BIN/llvm-cov" export -summary-only -instr-profile="$OUT/all.profdata" "${OBJ_ARGS[@]}" \
    "$CORE/decode" "$CORE/exec" >"$OUT/summary.json"
"$LLVM_BIN/llvm-cov" show -instr-profile="$OUT/all.profdata" "${OBJ_ARGS[@]}" \
    -show-line-counts -use-color=false "$CORE/decode" "$CORE/exec" >"$OUT/lines.txt"

python3 "$FUZZ_DIR/coverage_report.py" "$OUT" "$CORE" "${TARGETS[*]}"
