#!/usr/bin/env bash
# The fuzzing campaign's CI step (issue 7): install the tools, build the targets, generate the
# seed corpus, replay it through every target, then fuzz each target for a while.
#
#   fuzz/ci.sh                      (from anywhere; the lead's .ci/run calls it)
#
# Environment:
#   FUZZ_SECONDS     seconds of fuzzing per target (default 60)
#   TOOLCHAIN        rustup toolchain for the instrumented build (default nightly; `-s none`
#                    needs no nightly-only flag, so stable works too)
#   HVEMU_FUZZ_OVERFLOW_CHECKS=0   build without overflow checks (default: the strict build,
#                    with debug assertions and overflow checks, in which an integer overflow in
#                    the core is a crash)
#   HVEMU_FUZZ_KNOWN finding ids to tolerate (default: fuzz/known_findings)
#
# Prints per target the inputs replayed, executions, exec/s and the verdict, and a closing
# "fuzz: N passed, N failed" line; exits 1 when any target found something. Crash inputs are
# left in fuzz/artifacts/<target>/ with libFuzzer's report in fuzz/logs/<target>.log.
set -uo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TOOLCHAIN=${TOOLCHAIN:-nightly}
HOST=$(rustc -vV | sed -n 's/^host: //p')
T0=$(date +%s)
stamp() { echo "[fuzz/ci.sh +$(( $(date +%s) - T0 ))s] $*"; }

# --- tools ---------------------------------------------------------------------------------
if ! rustup toolchain list | grep -q "^$TOOLCHAIN"; then
    stamp "installing the $TOOLCHAIN toolchain"
    rustup toolchain install "$TOOLCHAIN" --profile minimal || exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    # About 2 minutes on the 2-core machine.
    stamp "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 1
fi
stamp "$(cargo fuzz --version), $(rustc +"$TOOLCHAIN" --version)"

# --- build ---------------------------------------------------------------------------------
if [ "${HVEMU_FUZZ_OVERFLOW_CHECKS:-1}" = 0 ]; then
    export RUSTFLAGS="${RUSTFLAGS:-} -Coverflow-checks=off"
fi
export HVEMU_FUZZ_KNOWN=${HVEMU_FUZZ_KNOWN:-$(sed 's/#.*//' known_findings | xargs | tr ' ' ',')}
[ -n "$HVEMU_FUZZ_KNOWN" ] && stamp "tolerating known findings: $HVEMU_FUZZ_KNOWN"
stamp "building the fuzz targets"
cargo +"$TOOLCHAIN" fuzz build -s none || exit 1
TARGETS=(decode decode_vs_iced emulate)
if grep -q '^name = "ffi"' Cargo.toml; then
    TARGETS+=(ffi)
fi
BIN=$FUZZ_DIR/target/$HOST/release

# --- seed corpus ---------------------------------------------------------------------------
stamp "generating the seed corpus"
rm -rf corpus
env -u RUSTFLAGS cargo run -q --release -p hvemu-fuzz-gen --bin gen_corpus -- corpus || exit 1
# Inputs earlier campaigns found that the generator does not make (fuzz/seeds, in the tree).
for d in seeds/*/; do
    t=$(basename "$d")
    mkdir -p "corpus/$t"
    cp "$d"* "corpus/$t/" 2>/dev/null || true
done

# --- replay and fuzz -----------------------------------------------------------------------
mkdir -p logs artifacts
passed=0
failed=0
summary=()
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log=logs/$t.log
    seeds=$(find "corpus/$t" -type f | wc -l)
    stamp "$t: replaying $seeds seed inputs"
    "$BIN/$t" -runs=0 -artifact_prefix="artifacts/$t/" "corpus/$t" >"$log.replay" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        stamp "$t: fuzzing for ${FUZZ_SECONDS}s"
        "$BIN/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="artifacts/$t/" "corpus/$t" >"$log" 2>&1
        rc=$?
    else
        cp "$log.replay" "$log"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        verdict=ok
    else
        failed=$((failed + 1))
        verdict="FOUND (exit $rc): $(grep -m1 -E 'panicked at|ERROR: libFuzzer|==hvemu-fuzz==' "$log" | cut -c1-160)"
        grep -A3 -m1 "panicked at" "$log" | sed 's/^/    /'
        ls artifacts/"$t"/ | sed 's/^/    artifact: /'
    fi
    summary+=("$(printf '%-15s seeds %6s  execs %10s  exec/s %7s  %s' "$t" "$seeds" "${execs:-?}" "${rate:-?}" "$verdict")")
done

stamp "done"
printf '  %s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
