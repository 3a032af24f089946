//! Replays inputs of the `decode` or `emulate` target outside libFuzzer and groups what the
//! oracles find, so a corpus or a directory of crash files is triaged in one run.
//!
//! `replay decode|emulate PATH...` (files, or directories of files); `replay show PATH...`
//! prints an emulate input's summary and callback trace. Prints one line per group
//! of findings (the oracle's id, or the panic's location and message), with its count and one
//! example file, and exits 1 when there is any.

use hvemu_fuzz::emu::{Buffers, EmuInput, verdict};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;

static LAST: Mutex<String> = Mutex::new(String::new());

fn files(paths: &[String]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for p in paths {
        let p = PathBuf::from(p);
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                let mut more: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                more.sort();
                v.extend(more);
            }
        } else {
            v.push(p);
        }
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay decode|emulate PATH...");
        std::process::exit(2);
    };
    std::panic::set_hook(Box::new(|info| {
        let loc = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        if let Ok(mut l) = LAST.lock() {
            *l = format!("{loc}: {msg}");
        }
    }));
    hvemu_fuzz::alloc_guard::install_panic_hook();
    if target == "show" {
        // `replay show FILE...`: an emulate input's summary and callback trace.
        let mut bufs = Buffers::default();
        for f in files(paths) {
            let Ok(data) = std::fs::read(&f) else {
                continue;
            };
            let input = EmuInput::from_bytes(&data);
            let r = bufs.run(&input);
            println!(
                "{}:\n{}",
                f.display(),
                hvemu_fuzz::emu::describe(&input, &r, &bufs.a)
            );
        }
        return;
    }
    let mut groups: BTreeMap<String, (usize, PathBuf, String)> = BTreeMap::new();
    let mut bufs = Buffers::default();
    let all = files(paths);
    for f in &all {
        let Ok(data) = std::fs::read(f) else { continue };
        let found: Option<(String, String)> = match target.as_str() {
            "decode" => catch_unwind(|| hvemu_fuzz::decode_check::check(&data))
                .err()
                .map(|_| {
                    let m = LAST.lock().map(|l| l.clone()).unwrap_or_default();
                    let first = m.lines().next().unwrap_or("").to_string();
                    (first, m)
                }),
            "emulate" => {
                let input = EmuInput::from_bytes(&data);
                match catch_unwind(AssertUnwindSafe(|| verdict(&input, &mut bufs))) {
                    Ok(Ok(())) => None,
                    Ok(Err(v)) => Some((format!("[finding {}]", v.id), v.message)),
                    Err(_) => {
                        let m = LAST.lock().map(|l| l.clone()).unwrap_or_default();
                        let first = m.lines().next().unwrap_or("").to_string();
                        Some((format!("panic {first}"), m))
                    }
                }
            }
            _ => {
                eprintln!("replay: unknown target {target}");
                std::process::exit(2);
            }
        };
        if let Some((k, m)) = found {
            let e = groups.entry(k).or_insert((0, f.clone(), m));
            e.0 += 1;
        }
    }
    println!(
        "replay {target}: {} inputs, {} groups of findings",
        all.len(),
        groups.len()
    );
    for (k, (n, f, m)) in &groups {
        println!("{n:6}  {k}\n        e.g. {}", f.display());
        if std::env::var_os("REPLAY_VERBOSE").is_some() {
            for l in m.lines().take(30) {
                println!("          | {l}");
            }
        }
    }
    if !groups.is_empty() {
        std::process::exit(1);
    }
}
