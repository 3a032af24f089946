//! The sweep and benchmark corpus: the `.text` section of the toolchain's `librustc_driver`.
//!
//! The shared object is found through `rustc --print sysroot` (`$RUSTC` if set) as
//! `lib/librustc_driver-*.so`; `HVEMU_CORPUS=path` names another 64-bit little-endian ELF file
//! instead. The section is read by `hvemu_cli::elf`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The path of the toolchain's `librustc_driver-*.so` (or `$HVEMU_CORPUS`).
pub fn corpus_path() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("HVEMU_CORPUS") {
        return Ok(PathBuf::from(p));
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("running rustc --print sysroot: {e}"))?;
    if !out.status.success() {
        return Err("rustc --print sysroot failed".to_string());
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let lib = sysroot.join("lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| format!("{}: {e}", lib.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("librustc_driver-") && n.ends_with(".so"))
        })
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| format!("no librustc_driver-*.so in {}", lib.display()))
}

/// A code section loaded in memory.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The file it came from.
    pub path: PathBuf,
    /// Virtual address of `bytes[0]`.
    pub addr: u64,
    /// The section's bytes.
    pub bytes: Vec<u8>,
}

impl Corpus {
    /// Loads section `name` of the ELF file at `path`.
    pub fn load_section(path: &Path, name: &str) -> Result<Corpus, String> {
        let (addr, bytes) = hvemu_cli::elf::load_section(path, name)?;
        Ok(Corpus {
            path: path.to_path_buf(),
            addr,
            bytes,
        })
    }

    /// The `.text` section of the toolchain's `librustc_driver` (about 24 MB, 5 million
    /// instructions for rustc 1.95), cut to `$HVEMU_SWEEP_BYTES` bytes when that is set.
    ///
    /// Panics with a clear message when the file cannot be found or read: the tests that use it
    /// must not pass silently.
    pub fn rustc_driver_text() -> Corpus {
        let path = corpus_path().unwrap_or_else(|e| panic!("corpus: {e} (set HVEMU_CORPUS)"));
        let mut c = Corpus::load_section(&path, ".text")
            .unwrap_or_else(|e| panic!("corpus: {e} (set HVEMU_CORPUS)"));
        if let Some(n) = std::env::var("HVEMU_SWEEP_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            c.bytes.truncate(n);
        }
        c
    }

    /// The at most 15 bytes starting at `off`.
    pub fn window(&self, off: usize) -> &[u8] {
        let end = (off + crate::MAX_INSN).min(self.bytes.len());
        self.bytes.get(off..end).unwrap_or(&[])
    }
}
