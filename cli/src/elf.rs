//! A section of an ELF64 little-endian file: the code `hvemu bench` decodes, and the tests'
//! corpus. A small reader of the section header table, no dependency.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// One section header (the fields a decoder needs).
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

/// Whether the file at `path` starts as an ELF file does.
pub fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"\x7fELF")
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

fn read_at(f: &mut File, offset: u64, len: usize, path: &Path) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    f.seek(SeekFrom::Start(offset))
        .and_then(|_| f.read_exact(&mut buf))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(buf)
}

/// The section headers of the ELF64 little-endian file at `path`.
pub fn sections(path: &Path) -> Result<Vec<Section>, String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let eh = read_at(&mut f, 0, 64, path)?;
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
    let table = read_at(&mut f, shoff, shentsize * shnum, path)?;
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
    let (_, _, str_off, str_size) = raw.get(shstrndx).copied().ok_or_else(bad)?;
    let strtab = read_at(&mut f, str_off, str_size as usize, path)?;
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

/// Section `name` of the ELF64 file at `path`: its virtual address and its bytes.
pub fn load_section(path: &Path, name: &str) -> Result<(u64, Vec<u8>), String> {
    let s = sections(path)?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("{}: no {name} section", path.display()))?;
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = read_at(&mut f, s.offset, s.size as usize, path)?;
    Ok((s.addr, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_program_has_a_text_section_of_code() {
        let exe = std::env::current_exe().expect("the test knows its own path");
        assert!(is_elf(&exe));
        let all = sections(&exe).expect("its section headers read");
        let text = all.iter().find(|s| s.name == ".text").expect(".text");
        assert!(text.size > 4096 && text.addr != 0, "{text:?}");
        let (addr, bytes) = load_section(&exe, ".text").expect(".text loads");
        assert_eq!((addr, bytes.len() as u64), (text.addr, text.size));
    }

    #[test]
    fn other_files_are_refused_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("hvemu-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let raw = dir.join("raw.bin");
        std::fs::write(&raw, [0x90u8; 100]).expect("write");
        assert!(!is_elf(&raw));
        let e = sections(&raw).expect_err("not ELF");
        assert!(e.ends_with("not an ELF file"), "{e}");
        let mut elf32 = vec![0x7f, b'E', b'L', b'F', 1, 1];
        elf32.resize(64, 0);
        let p32 = dir.join("elf32.bin");
        std::fs::write(&p32, &elf32).expect("write");
        let e = sections(&p32).expect_err("32-bit");
        assert!(e.ends_with("not a 64-bit little-endian ELF file"), "{e}");
        let e = sections(&dir.join("missing")).expect_err("missing");
        assert!(e.contains("missing"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
