//! The sweep and benchmark corpus: the `.text` section of the toolchain's `librustc_driver`.
//!
//! The shared object is found through `rustc --print sysroot` (`$RUSTC` if set) as
//! `lib/librustc_driver-*.so`; `HVEMU_CORPUS=path` names another 64-bit little-endian ELF file
//! instead. The section headers are read with the small ELF64 reader below (no dependency).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One ELF section header (the fields the corpus needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Section name (from the section-name string table).
    pub name: String,
    /// Virtual address of the section when loaded.
    pub addr: u64,
    /// Offset of the section's bytes in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn read_at(f: &mut File, offset: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    f.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
    f.read_exact(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// The section headers of an ELF64 little-endian file.
pub fn elf64_sections(path: &Path) -> Result<Vec<Section>, String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let eh = read_at(&mut f, 0, 64)?;
    if eh.get(0..4) != Some(b"\x7fELF") {
        return Err(format!("{}: not an ELF file", path.display()));
    }
    if eh.get(4) != Some(&2) || eh.get(5) != Some(&1) {
        return Err(format!(
            "{}: not a 64-bit little-endian ELF file",
            path.display()
        ));
    }
    let bad = || format!("{}: truncated ELF header", path.display());
    let shoff = u64_at(&eh, 0x28).ok_or_else(bad)?;
    let shentsize = u16_at(&eh, 0x3a).ok_or_else(bad)? as usize;
    let shnum = u16_at(&eh, 0x3c).ok_or_else(bad)? as usize;
    let shstrndx = u16_at(&eh, 0x3e).ok_or_else(bad)? as usize;
    if shentsize < 64 || shnum == 0 || shstrndx >= shnum {
        return Err(format!(
            "{}: unsupported section header table",
            path.display()
        ));
    }
    let table = read_at(&mut f, shoff, shentsize * shnum)?;
    // (name offset, addr, offset, size) of each header.
    let raw: Vec<(u32, u64, u64, u64)> = (0..shnum)
        .map(|i| {
            let h = i * shentsize;
            let get = || -> Option<(u32, u64, u64, u64)> {
                Some((
                    u32_at(&table, h)?,
                    u64_at(&table, h + 0x10)?,
                    u64_at(&table, h + 0x18)?,
                    u64_at(&table, h + 0x20)?,
                ))
            };
            get().ok_or_else(bad)
        })
        .collect::<Result<_, _>>()?;
    let (_, _, str_off, str_size) = raw[shstrndx];
    let strtab = read_at(&mut f, str_off, str_size as usize)?;
    Ok(raw
        .iter()
        .map(|&(name, addr, offset, size)| {
            let name = strtab
                .get(name as usize..)
                .and_then(|s| s.split(|&b| b == 0).next())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            Section {
                name,
                addr,
                offset,
                size,
            }
        })
        .collect())
}

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
        let sections = elf64_sections(path)?;
        let s = sections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| format!("{}: no {name} section", path.display()))?;
        let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = read_at(&mut f, s.offset, s.size as usize)?;
        Ok(Corpus {
            path: path.to_path_buf(),
            addr: s.addr,
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
