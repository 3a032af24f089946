//! The scenario as a UEFI application: runs the guest's exits through a static emulator
//! instance and prints what the guest sent to the UART, with the callback counts, on the
//! firmware's console. Build: `cargo build -p hvemu-embed-example --bin uefi --features uefi
//! --target x86_64-unknown-uefi` (gives `uefi.efi`).
#![no_std]
#![no_main]

use core::ffi::c_void;
use core::fmt::Write;

/// `EFI_TABLE_HEADER`.
#[repr(C)]
struct TableHeader {
    signature: u64,
    revision: u32,
    header_size: u32,
    crc32: u32,
    reserved: u32,
}

/// The start of `EFI_SYSTEM_TABLE`, up to the console output protocol.
#[repr(C)]
struct SystemTable {
    hdr: TableHeader,
    firmware_vendor: *const u16,
    firmware_revision: u32,
    console_in_handle: *mut c_void,
    con_in: *mut c_void,
    console_out_handle: *mut c_void,
    con_out: *mut TextOutput,
}

/// The start of `EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL`.
#[repr(C)]
struct TextOutput {
    reset: extern "efiapi" fn(*mut TextOutput, bool) -> usize,
    output_string: extern "efiapi" fn(*mut TextOutput, *const u16) -> usize,
}

/// The console, written through a small UCS-2 buffer (`\n` becomes CR LF).
struct Console(*mut TextOutput);

impl Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let mut buf = [0u16; 65];
        let mut n = 0;
        for c in s.chars() {
            if n + 3 > buf.len() {
                self.flush(&mut buf, &mut n);
            }
            if c == '\n' {
                buf[n] = u16::from(b'\r');
                n += 1;
            }
            buf[n] = if (c as u32) < 0x1_0000 {
                c as u16
            } else {
                u16::from(b'?')
            };
            n += 1;
        }
        self.flush(&mut buf, &mut n);
        Ok(())
    }
}

impl Console {
    fn flush(&mut self, buf: &mut [u16; 65], n: &mut usize) {
        buf[*n] = 0;
        // SAFETY: `self.0` is the firmware's console protocol (checked non-null in `efi_main`),
        // and `buf` is NUL-terminated.
        unsafe { ((*self.0).output_string)(self.0, buf.as_ptr()) };
        *n = 0;
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The UEFI entry point.
#[unsafe(export_name = "efi_main")]
extern "efiapi" fn efi_main(_image: *mut c_void, system_table: *const SystemTable) -> usize {
    const EFI_SUCCESS: usize = 0;
    const EFI_DEVICE_ERROR: usize = (1 << 63) | 7;
    if system_table.is_null() {
        return EFI_DEVICE_ERROR;
    }
    // SAFETY: the firmware passes a valid system table.
    let con_out = unsafe { (*system_table).con_out };
    if con_out.is_null() {
        return EFI_DEVICE_ERROR;
    }
    let mut console = Console(con_out);
    // The platform is large (a page of guest RAM): keep it in static storage, not on the stack.
    static mut PLATFORM: hvemu_embed_example::Platform = hvemu_embed_example::Platform::new();
    // SAFETY: the only reference to PLATFORM, on the only processor running this application.
    let platform = unsafe { &mut *core::ptr::addr_of_mut!(PLATFORM) };
    let _ = writeln!(console, "hvemu: emulating the guest's device exits");
    match hvemu_embed_example::run_scenario(platform) {
        Ok(report) => {
            let text = core::str::from_utf8(platform.uart_output()).unwrap_or("?");
            let _ = write!(console, "guest UART: {text}");
            let _ = writeln!(
                console,
                "{} exits, timer read {:#x}, callbacks {:?}",
                report.exits, report.timer_read, platform.calls
            );
            EFI_SUCCESS
        }
        Err(e) => {
            let _ = writeln!(console, "emulation failed: {e:?}");
            EFI_DEVICE_ERROR
        }
    }
}
