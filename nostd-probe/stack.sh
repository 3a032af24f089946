#!/usr/bin/env bash
# Worst-case stack depth of each entry point of the probe (decoder, emulator and ffi's
# WinHvEmulation exports; release, LTO, panic=abort, as check.sh builds it), held under budgets:
# one for the decoder, one for the emulator's entry points, one for ffi's exports (whose
# callback adapters convert register batches to the WHV layout on the stack). The host's own
# callbacks run on top of the depth reported for the indirect calls.
#
# Built with nightly's `-Z emit-stack-sizes`, which records every function's frame in a
# .stack_sizes section; `llvm-readobj --stack-sizes` lists them, `llvm-objdump -d` gives the
# call graph, and stack/ (hvemu-stack-report) sums the frames along the deepest path of each
# entry point, fails on recursion and lists the largest frames. Indirect calls (the host's
# callbacks, the ALU function pointers) reach the address-taken functions the rules below name.
# STACK_OPT_LEVEL (default 3) picks the optimisation level (`s` for the size build of check.sh).
#
# Needs the nightly toolchain with llvm-tools and the x86_64-unknown-none target (ci.sh
# installs them). Usage: stack.sh [decoder-budget] [emulator-budget] [ffi-budget] (bytes; 0 or
# none: report only)
set -euo pipefail
cd "$(dirname "$0")"
decoder_budget=${1:-0}
emulator_budget=${2:-0}
ffi_budget=${3:-0}
opt=${STACK_OPT_LEVEL:-3}
out=target/stack-report-$opt
mkdir -p "$out"

# v0 mangling: the --indirect rules below match its names.
CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt RUSTFLAGS="-Z emit-stack-sizes -C symbol-mangling-version=v0" \
  cargo +nightly build --release --target x86_64-unknown-none \
  --features emulator,ffi --target-dir "target/stack-$opt" -q
bin=target/stack-$opt/x86_64-unknown-none/release/hvemu-nostd-probe
llvm="$(rustc +nightly --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin"
"$llvm/llvm-readobj" --stack-sizes --elf-output-style=GNU "$bin" >"$out/stack-sizes.txt"
"$llvm/llvm-readobj" -r "$bin" >"$out/relocs.txt"
"$llvm/llvm-objdump" -d --no-show-raw-insn "$bin" >"$out/disasm.txt"

cargo test --release --manifest-path stack/Cargo.toml --target-dir target/tool -q
cargo build --release --manifest-path stack/Cargo.toml --target-dir target/tool -q
status=0
# Where indirect calls go (by Rust's types and the code; substrings of v0-mangled names, first
# match wins):
# - ffi's callback adapters (`WinHvEmulation::host::*`, and the closure in its VTABLE) call the
#   C host's function pointers, code outside the program: their frames come on top;
# - the emulator instantiated for ffi's context (`Machine<FfiCtx>`, inlined into the exports)
#   calls those adapters and the ALU function pointers (`hvemu::exec::alu::*`);
# - the emulator instantiated for the probe's host calls the probe's callbacks and the ALU;
# - its guest-physical accessors (`phys_read`, `phys_write`, `access_range`) only the memory
#   callbacks, its
#   page translation (`translate`, `host_translate`) only the translate callback.
# Address-taken functions that no rule names (memset through a register) stay reachable from
# every indirect call; a function that no rule names may reach every address-taken function.
rules=(
  --indirect "WinHvEmulation4host6VTABLE:"
  --indirect "9phys_read,10phys_write,12access_range:4host6memory,7emulate3mem,7emulate11wide_memory"
  --indirect "9translate,14host_translate:4host18translate_gva_page,7emulate9translate"
  --indirect "6FfiCtx,WHvEmulatorTry:14WinHvEmulation4host,5hvemu4exec3alu"
  --indirect "14WinHvEmulation4host:"
  --indirect "9ProbeHost,probe_emulate_:17hvemu_nostd_probe7emulate,5hvemu4exec3alu"
)
target/tool/release/hvemu-stack-report --disasm "$out/disasm.txt" \
  --stack-sizes "$out/stack-sizes.txt" --relocs "$out/relocs.txt" "${rules[@]}" \
  "probe_decode=$decoder_budget" "probe_emulate_mmio=$emulator_budget" \
  "probe_emulate_io=$emulator_budget" "probe_emulate_at_rip=$emulator_budget" \
  "probe_ffi_create=$ffi_budget" "probe_ffi_destroy=$ffi_budget" \
  "probe_ffi_try_io=$ffi_budget" "probe_ffi_try_mmio=$ffi_budget" \
  >"$out/report.txt" || status=$?
# Readable names: demangle (binutils' c++filt knows Rust's v0 mangling), drop crate hashes.
if command -v c++filt >/dev/null; then
  c++filt <"$out/report.txt" | sed -E 's/\[[0-9a-f]{16}\]//g'
else
  cat "$out/report.txt"
fi
exit $status
