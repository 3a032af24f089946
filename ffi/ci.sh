#!/usr/bin/env bash
# CI for the WinHvEmulation ABI (issue 6), called from .ci/run:
#   - the Windows DLL (no_std, x86_64-pc-windows-gnu) exports exactly the four API functions;
#   - our header against mingw-w64's <winhvemulation.h>: sizes, offsets, enumerators (static
#     assertions) and bit-field positions;
#   - a C client written like QEMU's WHPX code, built with mingw-w64 against mingw's header (and
#     against ours), loads WinHvEmulation.dll with LoadLibrary under Wine and runs its scenarios;
#   - the same client built with gcc against our header runs against libWinHvEmulation.so, and
#     linked statically against libWinHvEmulation.a.
# Installs mingw-w64 and Wine when they are missing (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${CARGO_TARGET_DIR:-target}/ffi-ci"
rm -rf "$BUILD"
mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"

echo "== ffi: tools"
if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v wine >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq mingw-w64 wine64 >/dev/null
fi
rustup target add x86_64-pc-windows-gnu
x86_64-w64-mingw32-gcc --version | head -1
wine --version

echo "== ffi: WinHvEmulation.dll (no_std, panic=abort)"
cargo build -p hvemu-ffi --target x86_64-pc-windows-gnu --release
DLL="${CARGO_TARGET_DIR:-target}/x86_64-pc-windows-gnu/release/WinHvEmulation.dll"
x86_64-w64-mingw32-objdump -p "$DLL" >"$BUILD/dll.txt"
# The export table: the names between "[Ordinal/Name Pointer] Table" and the blank line after it.
awk '/\[Ordinal\/Name Pointer\] Table/ {on=1; next} on && NF==0 {on=0} on {print $NF}' \
    "$BUILD/dll.txt" | sort >"$BUILD/exports.txt"
printf '%s\n' WHvEmulatorCreateEmulator WHvEmulatorDestroyEmulator WHvEmulatorTryIoEmulation \
    WHvEmulatorTryMmioEmulation | sort >"$BUILD/expected-exports.txt"
echo "exports:"
sed 's/^/  /' "$BUILD/exports.txt"
diff -u "$BUILD/expected-exports.txt" "$BUILD/exports.txt"
echo "imports:"
grep 'DLL Name:' "$BUILD/dll.txt" | sed 's/^\s*/  /'
# A std DLL would import bcryptprimitives.dll, which Wine 8 lacks.
if grep -qi 'bcrypt' "$BUILD/dll.txt"; then
    echo "the DLL imports bcrypt*: it links Rust's std" >&2
    exit 1
fi

export WINEPREFIX="$BUILD/wine"
export WINEDEBUG=-all
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT

echo "== ffi: our header against mingw-w64's <winhvemulation.h>"
H=ffi/include/WinHvEmulation.h
# Both headers declare the same names: compile a copy of ours with every WHV_/WHv name prefixed.
sed -E 's/\b(WHV_|WHv)/OURS_\1/g; s/\b_WINHVEMUAPI_H_\b/OURS_WINHVEMUAPI_H_/g;
        s/\b_WINHVAPIDEFS_H_\b/OURS_WINHVAPIDEFS_H_/g;
        s/\bHVEMU_WINHVEMULATION_H\b/OURS_HVEMU_WINHVEMULATION_H/g' "$H" >"$BUILD/ours.h"
grep -oE '^\s+(WHv[A-Za-z0-9_]+) = ' "$H" |
    sed -E 's/^\s+(\w+) = /_Static_assert((long long)OURS_\1 == (long long)\1, "\1");/' \
        >"$BUILD/enumerators.h"
echo "$(wc -l <"$BUILD/enumerators.h") enumerators"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -I"$BUILD" tests/c/layout.c \
    -o "$BUILD/layout.exe"
wine "$BUILD/layout.exe"

echo "== ffi: our header on its own (C11, C++11; Linux and mingw-w64)"
printf '#include "WinHvEmulation.h"\nint main(void) { return (int)sizeof(WHV_REGISTER_VALUE) - 16; }\n' \
    >"$BUILD/alone.c"
gcc -std=c11 -Wall -Wextra -Werror -Iffi/include -c "$BUILD/alone.c" -o "$BUILD/alone.o"
g++ -std=c++11 -Wall -Wextra -Werror -Iffi/include -x c++ -c "$BUILD/alone.c" -o "$BUILD/alone.o"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iffi/include -c "$BUILD/alone.c" \
    -o "$BUILD/alone.o"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -DHVEMU_OWN_PLATFORM_DEFS -Iffi/include \
    -c "$BUILD/alone.c" -o "$BUILD/alone.o"
# With the platform header first, and mingw's emulator header after ours.
printf '#include <windows.h>\n#include <winhvplatform.h>\n#include "WinHvEmulation.h"\n#include <winhvemulation.h>\nint x;\n' \
    >"$BUILD/mixed.c"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iffi/include -c "$BUILD/mixed.c" \
    -o "$BUILD/mixed.o"

echo "== ffi: C client (mingw-w64's header) under Wine, loading WinHvEmulation.dll"
mkdir -p "$BUILD/win"
cp "$DLL" "$BUILD/win/WinHvEmulation.dll"
x86_64-w64-mingw32-gcc -std=c11 -O1 -Wall -Wextra -Werror tests/c/client.c \
    -o "$BUILD/win/client.exe"
(cd "$BUILD/win" && wine client.exe)

echo "== ffi: C client (our header) under Wine"
x86_64-w64-mingw32-gcc -std=c11 -O1 -Wall -Wextra -Werror -DUSE_HVEMU_HEADER -Iffi/include \
    tests/c/client.c -o "$BUILD/win/client-ours.exe"
(cd "$BUILD/win" && wine client-ours.exe)

echo "== ffi: libWinHvEmulation.so and .a"
cargo build -p hvemu-ffi --release
SO="${CARGO_TARGET_DIR:-target}/release/libWinHvEmulation.so"
A="${CARGO_TARGET_DIR:-target}/release/libWinHvEmulation.a"
nm -D --defined-only "$SO" | awk '$2 == "T" {print $3}' | sort >"$BUILD/so-exports.txt"
diff -u "$BUILD/expected-exports.txt" "$BUILD/so-exports.txt"

echo "== ffi: C client (our header) against libWinHvEmulation.so"
gcc -std=c11 -O1 -Wall -Wextra -Werror -DUSE_HVEMU_HEADER -Iffi/include tests/c/client.c -ldl \
    -o "$BUILD/client"
"$BUILD/client" "$SO"

echo "== ffi: C client (our header) linked with libWinHvEmulation.a"
gcc -std=c11 -O1 -Wall -Wextra -Werror -DUSE_HVEMU_HEADER -DHVEMU_LINK_DIRECT -Iffi/include \
    tests/c/client.c "$A" -lpthread -ldl -lm -o "$BUILD/client-static"
"$BUILD/client-static"

echo "== ffi: ok"
