#!/usr/bin/env bash
# Builds the probe for x86_64-unknown-none (fails if a panic is reachable) and reports the size
# of code plus read-only data. Usage: check.sh [max-bytes]
set -euo pipefail
cd "$(dirname "$0")"
budget=${1:-0}
cargo build --release --target x86_64-unknown-none -q
bin=target/x86_64-unknown-none/release/hvemu-nostd-probe
text=$(size -A "$bin" | awk '$1==".text"{print $2}')
rodata=$(size -A "$bin" | awk '$1==".rodata"{s+=$2} END{print s+0}')
total=$((text + rodata))
echo "decoder, no_std, no text feature: .text ${text} B + .rodata ${rodata} B = ${total} B ($((total / 1024)) KiB)"
if [ "$budget" -gt 0 ] && [ "$total" -gt "$budget" ]; then
  echo "over the size budget of ${budget} B" >&2
  exit 1
fi
