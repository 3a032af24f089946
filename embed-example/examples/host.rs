//! The scenario on the host: `cargo run -p hvemu-embed-example --example host`.
use hvemu_embed_example::{Platform, run_scenario};

fn main() {
    let mut platform = Platform::new();
    let report = run_scenario(&mut platform).expect("the scenario runs to completion");
    print!(
        "guest UART: {}",
        String::from_utf8_lossy(platform.uart_output())
    );
    println!(
        "{} exits, timer read {:#x}, callbacks {:?}",
        report.exits, report.timer_read, platform.calls
    );
}
