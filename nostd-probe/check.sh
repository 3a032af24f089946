#!/usr/bin/env bash
# Builds the probe for x86_64-unknown-none twice, the decoder alone and decoder plus emulator
# (each link fails if a panic is reachable), and reports code plus read-only data against the
# budgets. A third build adds ffi's no_std WinHvEmulation exports: ffi brings its own panic
# handler, so there the proof is that no panic code (core::panicking) is linked at all.
# Decoder plus emulator is measured twice: as release builds are by default (opt-level 3, the
# speed the benchmarks report) and with opt-level "s", how firmware and kernel users build for
# size.
# Usage: check.sh [decoder-budget-bytes] [total-budget-bytes] [total-budget-bytes at opt-level s]
set -euo pipefail
cd "$(dirname "$0")"
decoder_budget=${1:-0}
total_budget=${2:-0}
size_budget=${3:-0}
bin=target/x86_64-unknown-none/release/hvemu-nostd-probe
status=0
measure() {
  local label=$1 budget=$2
  shift 2
  cargo build --release --target x86_64-unknown-none -q "$@"
  local text rodata total
  text=$(size -A "$bin" | awk '$1==".text"{print $2}')
  rodata=$(size -A "$bin" | awk '$1==".rodata"{s+=$2} END{print s+0}')
  total=$((text + rodata))
  echo "${label}: .text ${text} B + .rodata ${rodata} B = ${total} B ($((total / 1024)) KiB), budget ${budget} B"
  if [ "$budget" -gt 0 ] && [ "$total" -gt "$budget" ]; then
    echo "over the size budget" >&2
    status=1
  fi
}
measure "decoder (no_std, without text)" "$decoder_budget"
measure "decoder + emulator (no_std, without text)" "$total_budget" --features emulator
bin=target/size/x86_64-unknown-none/release/hvemu-nostd-probe
CARGO_PROFILE_RELEASE_OPT_LEVEL=s measure "decoder + emulator (no_std, without text, opt-level s)" \
  "$size_budget" --features emulator --target-dir target/size
bin=target/x86_64-unknown-none/release/hvemu-nostd-probe
measure "decoder + ffi exports (report only)" 0 --features ffi
panics=$(nm -C "$bin" | grep -E 'core::panicking|rust_begin_unwind' || true)
if [ -n "$panics" ]; then
  echo "ffi: panic code is linked, so a panic is reachable from an export:" >&2
  echo "$panics" >&2
  status=1
else
  echo "ffi: no panic code linked"
fi
exit $status
