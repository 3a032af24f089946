//! The `hvemu` command-line tool.

fn main() {
    eprintln!("hvemu: not yet implemented");
    std::process::exit(2);
}
