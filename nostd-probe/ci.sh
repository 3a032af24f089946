#!/usr/bin/env bash
# CI for embeddability (issue 8), called from .ci/run after check.sh (the panic-freedom link
# proof and the size budgets):
#   - stack: worst-case stack depth of every entry point, against budgets (stack.sh);
#   - targets: core for x86_64-unknown-uefi; the firmware-style example (embed-example/) on the
#     host, built for UEFI and booted under QEMU with OVMF;
#   - defmt: every public type of core implements defmt::Format; core builds with the feature
#     for the none target;
#   - feature combinations: cargo hack checks every one, for the host and (core) the none target.
# Installs nightly (llvm-tools, x86_64-unknown-none), the UEFI target, cargo-hack, and Debian's
# qemu-system-x86 and ovmf when they are missing.
# Usage: ci.sh [decoder-stack-budget] [emulator-stack-budget] [ffi-stack-budget]
#              [the same three for the opt-level "s" build] (bytes)
set -euo pipefail
cd "$(dirname "$0")/.."
decoder_stack=${1:-1024}
emulator_stack=${2:-4096}
ffi_stack=${3:-5120}
decoder_stack_s=${4:-$decoder_stack}
emulator_stack_s=${5:-$emulator_stack}
ffi_stack_s=${6:-$ffi_stack}
start=$SECONDS
# Prints the time the previous step took, then the next step's title (none at the end).
step_name=""
step() {
  [ -z "$step_name" ] || echo "   ($((SECONDS - step_start)) s)"
  step_name=${1:-}
  step_start=$SECONDS
  [ -z "$step_name" ] || echo "== embed: $step_name"
}

step "tools"
rustup target add x86_64-unknown-uefi x86_64-unknown-none
if rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup component add --toolchain nightly llvm-tools
  rustup target add --toolchain nightly x86_64-unknown-none
else
  rustup toolchain install nightly --profile minimal --component llvm-tools \
    --target x86_64-unknown-none
fi
rustc +nightly --version
if ! cargo hack --version >/dev/null 2>&1; then
  cargo install cargo-hack --locked
fi
cargo hack --version
if ! command -v qemu-system-x86_64 >/dev/null || [ ! -f /usr/share/ovmf/OVMF.fd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-x86 ovmf >/dev/null
fi

step "stack depth per entry point (budgets: decoder ${decoder_stack} B, emulator ${emulator_stack} B, ffi ${ffi_stack} B)"
nostd-probe/stack.sh "$decoder_stack" "$emulator_stack" "$ffi_stack"

step "stack depth, opt-level s build (budgets: decoder ${decoder_stack_s} B, emulator ${emulator_stack_s} B, ffi ${ffi_stack_s} B)"
STACK_OPT_LEVEL=s nostd-probe/stack.sh "$decoder_stack_s" "$emulator_stack_s" "$ffi_stack_s"

step "core for x86_64-unknown-uefi"
cargo build -p hvemu --release --target x86_64-unknown-uefi
cargo build -p hvemu --release --target x86_64-unknown-uefi --no-default-features

step "firmware-style example: on the host, then as a UEFI application under OVMF"
cargo run -p hvemu-embed-example --release --example host
cargo clippy -p hvemu-embed-example --bin uefi --features uefi --target x86_64-unknown-uefi \
  --release -- -D warnings
cargo build -p hvemu-embed-example --bin uefi --features uefi --target x86_64-unknown-uefi \
  --release
embed-example/run-uefi.sh target/x86_64-unknown-uefi/release/uefi.efi

step "defmt: every public type of core implements defmt::Format"
# Each `pub struct` / `pub enum` needs the cfg_attr derive among its attributes, or a manual
# `impl ... defmt::Format for Name`.
missing=0
for f in $(find core/src -name '*.rs' | sort); do
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    if ! grep -rqE "impl.*defmt::Format for ${name}\b" core/src; then
      echo "  $f: $name does not implement defmt::Format" >&2
      missing=1
    fi
  done < <(awk '
    /^[ \t]*(#\[|\/\/\/)/ { attrs = attrs $0; next }
    /^[ \t]*pub (struct|enum) / {
      if (attrs !~ /defmt::Format/) {
        sub(/^[ \t]*pub (struct|enum) /, ""); sub(/[^A-Za-z0-9_].*/, ""); print
      }
    }
    { attrs = "" }' "$f")
done
[ "$missing" -eq 0 ] || exit 1
cargo build -p hvemu --target x86_64-unknown-none --features defmt
cargo build -p hvemu --target x86_64-unknown-none --no-default-features --features defmt
cargo clippy -p hvemu --target x86_64-unknown-none --features defmt -- -D warnings

step "feature combinations (cargo hack)"
# `default` only names other features; `uefi` is the example's freestanding binary, built above
# for its own target.
cargo hack check --workspace --feature-powerset --no-dev-deps --exclude-features default,uefi
cargo hack check -p hvemu --feature-powerset --no-dev-deps --exclude-features default \
  --target x86_64-unknown-none

step
echo "== embed: ok ($((SECONDS - start)) s)"
