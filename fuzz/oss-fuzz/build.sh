#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for hvemu: the fuzz targets of fuzz/ with the
# platform's sanitizer and flags, and a seed corpus per target from fuzz/gen (gen_corpus).
cd "$SRC/hvemu/fuzz"

# The instrumented targets ($SANITIZER, RUSTFLAGS and the nightly toolchain come from the image).
cargo fuzz build -O --debug-assertions
TARGETS="decode decode_vs_iced emulate"
if grep -q '^name = "ffi"' Cargo.toml; then
    TARGETS="$TARGETS ffi"
fi
for t in $TARGETS; do
    cp "target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
done

# The seed corpora: an ordinary build of the generator, without the platform's instrumentation.
(
    unset RUSTFLAGS CFLAGS CXXFLAGS LDFLAGS
    cargo build --release -p hvemu-fuzz-gen --bin gen_corpus --target-dir "$WORK/gen-target"
    "$WORK/gen-target/release/gen_corpus" "$WORK/corpus"
)
for t in $TARGETS; do
    if [ -d "$WORK/corpus/$t" ]; then
        (cd "$WORK/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    fi
done
# Decoding inputs are at most 16 bytes (a selector and 15 instruction bytes).
printf '[libfuzzer]\nmax_len = 16\n' > "$OUT/decode.options"
printf '[libfuzzer]\nmax_len = 16\n' > "$OUT/decode_vs_iced.options"
