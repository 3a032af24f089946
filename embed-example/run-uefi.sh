#!/usr/bin/env bash
# Boots the UEFI build of the example in QEMU with OVMF (Debian's qemu-system-x86 and ovmf)
# and checks what it prints on the firmware's console (the serial port). About 10 s.
# Usage: run-uefi.sh [path/to/uefi.efi]
set -euo pipefail
cd "$(dirname "$0")/.."
efi=${1:-target/x86_64-unknown-uefi/release/uefi.efi}
dir=$(mktemp -d)
mkdir -p "$dir/esp/EFI/BOOT"
cp "$efi" "$dir/esp/EFI/BOOT/BOOTX64.EFI"
cp /usr/share/ovmf/OVMF.fd "$dir/OVMF.fd"
timeout 300 qemu-system-x86_64 -nographic -no-reboot -m 256 -bios "$dir/OVMF.fd" \
  -drive "format=raw,file=fat:rw:$dir/esp" -net none -serial "file:$dir/serial.log" \
  -monitor none -display none >"$dir/qemu.out" 2>&1 &
qemu=$!
# After the application returns, the firmware goes on to its setup screen: stop QEMU once the
# result is on the console (or after 120 s).
for _ in $(seq 1 120); do
  if grep -aq -e '^[0-9]* exits' -e 'emulation failed' "$dir/serial.log" 2>/dev/null; then
    break
  fi
  sleep 1
done
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
grep -a -e '^hvemu' -e '^guest UART' -e 'exits,' -e 'emulation failed' "$dir/serial.log" | tr -d '\r' || true
if grep -aq 'guest UART: Hello from the guest' "$dir/serial.log" && grep -aq '^5 exits' "$dir/serial.log"; then
  echo "uefi: the application ran under OVMF"
  rm -rf "$dir"
else
  echo "uefi: unexpected console output (QEMU log: $dir)" >&2
  exit 1
fi
