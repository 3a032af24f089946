//! Pool tests (run under Miri too: `cargo +nightly miri test -p hvemu-alloc-shim`).

use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::vec::Vec;

/// Counts its drops, to check that every stored value is dropped exactly once.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>, u32);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn insert_with_remove() {
    let pool: Pool<u64, 4> = Pool::new();
    assert!(pool.is_empty());
    let a = pool.insert(10).unwrap();
    let b = pool.insert(20).unwrap();
    assert_ne!(a, b);
    assert_eq!(pool.len(), 2);
    assert_eq!(pool.with(a, |v| *v), Ok(10));
    assert_eq!(
        pool.with(b, |v| {
            *v += 1;
            *v
        }),
        Ok(21)
    );
    assert_eq!(pool.remove(b), Ok(21));
    assert_eq!(pool.remove(a), Ok(10));
    assert!(pool.is_empty());
}

#[test]
fn handles_are_tagged_and_never_null() {
    let pool: Pool<u8, 2> = Pool::new();
    let h = pool.insert(1).unwrap();
    assert_ne!(h.to_bits(), 0);
    assert_eq!(h.to_bits() >> 48, 0x4856);
    assert_eq!(Handle::from_bits(h.to_bits()), h);
    assert!(std::format!("{h:?}").starts_with("Handle(0x4856"));
}

#[test]
fn removed_handle_is_stale_even_after_reuse() {
    let pool: Pool<u32, 1> = Pool::new();
    let old = pool.insert(1).unwrap();
    assert_eq!(pool.remove(old), Ok(1));
    assert_eq!(pool.with(old, |v| *v), Err(Error::Stale));
    assert_eq!(pool.remove(old), Err(Error::Stale));
    // The same slot, a new generation.
    let new = pool.insert(2).unwrap();
    assert_ne!(old, new);
    assert_eq!(old.to_bits() & 0xffff, new.to_bits() & 0xffff);
    assert_eq!(pool.with(old, |v| *v), Err(Error::Stale));
    assert_eq!(pool.remove(old), Err(Error::Stale));
    assert_eq!(pool.with(new, |v| *v), Ok(2));
}

#[test]
fn foreign_and_garbage_handles() {
    let pool: Pool<u32, 4> = Pool::new();
    let h = pool.insert(5).unwrap();
    let bits = h.to_bits();
    let garbage = [
        0,
        1,
        u64::MAX,
        0x0000_7fff_dead_b000,        // a user-space pointer
        bits & 0x0000_ffff_ffff_ffff, // our bits without the tag
        bits ^ 0x0001_0000_0000_0000, // another tag
        (bits & !0xffff) | 4,         // an index past the pool
        (bits & !0xffff) | 0xffff,    // the last index
    ];
    for g in garbage {
        let g = Handle::from_bits(g);
        assert_eq!(pool.with(g, |v| *v), Err(Error::Foreign), "{g:?}");
        assert_eq!(pool.remove(g), Err(Error::Foreign), "{g:?}");
    }
    // Our tag and a valid index, but another generation.
    let other_gen = Handle::from_bits(bits ^ 0x0000_0000_0001_0000);
    assert_eq!(pool.with(other_gen, |v| *v), Err(Error::Stale));
    assert_eq!(pool.remove(other_gen), Err(Error::Stale));
    // An empty slot of this pool.
    let empty = Handle::from_bits((bits & !0xffff) | 3);
    assert_eq!(pool.with(empty, |v| *v), Err(Error::Stale));
    // Nothing was disturbed.
    assert_eq!(pool.with(h, |v| *v), Ok(5));
    // A handle of another pool.
    let other: Pool<u32, 4> = Pool::new();
    assert_eq!(other.with(h, |v| *v), Err(Error::Stale));
}

#[test]
fn full_gives_the_value_back() {
    let pool: Pool<u32, 2> = Pool::new();
    let a = pool.insert(1).unwrap();
    let _b = pool.insert(2).unwrap();
    #[cfg(not(feature = "alloc"))]
    {
        assert_eq!(pool.insert(3), Err((Error::Full, 3)));
        pool.remove(a).unwrap();
        assert!(pool.insert(3).is_ok());
        assert_eq!(pool.insert(4), Err((Error::Full, 4)));
    }
    #[cfg(feature = "alloc")]
    {
        let _ = a;
        // Grows instead.
        assert!(pool.insert(3).is_ok());
    }
}

#[test]
fn reentry_and_remove_while_borrowed_are_busy() {
    let pool: Pool<u32, 2> = Pool::new();
    let a = pool.insert(1).unwrap();
    let b = pool.insert(2).unwrap();
    let r = pool.with(a, |v| {
        assert_eq!(pool.with(a, |w| *w), Err(Error::Busy));
        assert_eq!(pool.remove(a), Err(Error::Busy));
        // Another handle is independent.
        assert_eq!(pool.with(b, |w| *w), Ok(2));
        *v
    });
    assert_eq!(r, Ok(1));
    assert_eq!(pool.remove(a), Ok(1));
}

#[test]
fn a_panic_inside_with_releases_the_slot() {
    let pool: Pool<u32, 1> = Pool::new();
    let h = pool.insert(1).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.with(h, |_| panic!("inside")).unwrap();
    }));
    assert!(r.is_err());
    assert_eq!(pool.with(h, |v| *v), Ok(1));
}

#[test]
fn every_value_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let pool: Pool<Counted, 4> = Pool::new();
        let a = pool.insert(Counted(drops.clone(), 1)).unwrap();
        let _b = pool.insert(Counted(drops.clone(), 2)).unwrap();
        let _c = pool.insert(Counted(drops.clone(), 3)).unwrap();
        let removed = pool.remove(a).unwrap();
        assert_eq!(removed.1, 1);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(removed);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }
    assert_eq!(drops.load(Ordering::Relaxed), 3);
}

#[test]
fn freed_slots_are_found_again() {
    let pool: Pool<usize, 8> = Pool::new();
    let hs: Vec<Handle> = (0..8).map(|i| pool.insert(i).unwrap()).collect();
    // Free two slots behind the hint: the next inserts wrap around to them.
    pool.remove(hs[2]).unwrap();
    pool.remove(hs[5]).unwrap();
    let a = pool.insert(20).unwrap();
    let b = pool.insert(50).unwrap();
    let mut idx = [a.to_bits() & 0xffff, b.to_bits() & 0xffff];
    idx.sort_unstable();
    #[cfg(not(feature = "alloc"))]
    {
        assert_eq!(idx, [2, 5]);
        assert_eq!(pool.insert(9), Err((Error::Full, 9)));
    }
    #[cfg(feature = "alloc")]
    let _ = idx;
    assert_eq!(pool.with(a, |v| *v), Ok(20));
    assert_eq!(pool.with(b, |v| *v), Ok(50));
}

#[test]
fn a_static_pool() {
    static POOL: Pool<[u8; 3], 8> = Pool::new();
    let h = POOL.insert([1, 2, 3]).unwrap();
    assert_eq!(POOL.with(h, |v| v[2]), Ok(3));
    assert_eq!(POOL.remove(h), Ok([1, 2, 3]));
    assert_eq!(POOL.static_capacity(), 8);
}

#[test]
fn generations_wrap_without_reviving_old_handles() {
    let pool: Pool<u8, 1> = Pool::new();
    let first = pool.insert(0).unwrap();
    pool.remove(first).unwrap();
    // Drive the generation around most of a short cycle and check old handles stay stale.
    let mut last = first;
    for i in 0..(if cfg!(miri) { 50 } else { 5000 }) {
        let h = pool.insert(i as u8).unwrap();
        assert_eq!(pool.with(last, |v| *v), Err(Error::Stale));
        assert_ne!(h, last);
        pool.remove(h).unwrap();
        last = h;
    }
    assert_eq!(pool.with(first, |v| *v), Err(Error::Stale));
}

#[test]
fn threads_claim_distinct_slots() {
    const THREADS: usize = 4;
    let rounds = if cfg!(miri) { 6 } else { 2000 };
    let pool: Arc<Pool<(usize, u32), 3>> = Arc::new(Pool::new());
    let joins: Vec<_> = (0..THREADS)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut done = 0;
                for r in 0..rounds {
                    // Three slots for four threads: some inserts find the pool full.
                    let h = match pool.insert((t, r)) {
                        Ok(h) => h,
                        Err((Error::Full, _)) => continue,
                        Err(e) => panic!("{e:?}"),
                    };
                    assert_eq!(
                        pool.with(h, |v| {
                            v.1 += 1;
                            *v
                        }),
                        Ok((t, r + 1))
                    );
                    assert_eq!(pool.remove(h), Ok((t, r + 1)));
                    assert_eq!(pool.with(h, |v| *v), Err(Error::Stale));
                    done += 1;
                }
                done
            })
        })
        .collect();
    let done: usize = joins.into_iter().map(|j| j.join().unwrap()).sum();
    assert!(done > 0);
    assert!(pool.is_empty());
}

#[test]
fn threads_race_on_one_handle() {
    // Several threads use and try to destroy the same handle: exactly one removal wins, every
    // other call gets a clean error.
    let pool: Arc<Pool<u32, 2>> = Arc::new(Pool::new());
    let h = pool.insert(0).unwrap();
    let joins: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut removed = 0;
                for _ in 0..(if cfg!(miri) { 5 } else { 500 }) {
                    match pool.with(h, |v| *v += 1) {
                        Ok(()) | Err(Error::Busy) | Err(Error::Stale) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                match pool.remove(h) {
                    Ok(_) => removed += 1,
                    Err(Error::Busy) | Err(Error::Stale) => {}
                    Err(e) => panic!("{e:?}"),
                }
                removed
            })
        })
        .collect();
    let removed: usize = joins.into_iter().map(|j| j.join().unwrap()).sum();
    // Busy can make every remove fail; then the value is still there.
    if removed == 0 {
        assert!(pool.remove(h).is_ok());
    } else {
        assert_eq!(removed, 1);
    }
    assert!(pool.is_empty());
}

#[cfg(feature = "alloc")]
mod growing {
    use super::*;

    #[test]
    fn grows_past_the_static_slots() {
        let pool: Pool<u32, 2> = Pool::new();
        let handles: Vec<Handle> = (0..7).map(|i| pool.insert(i).unwrap()).collect();
        assert_eq!(pool.len(), 7);
        for (i, h) in handles.iter().enumerate() {
            assert_eq!(pool.with(*h, |v| *v), Ok(i as u32));
        }
        // An index in a block not yet allocated is foreign.
        let bits = handles[0].to_bits() & !0xffff;
        assert_eq!(
            pool.with(Handle::from_bits(bits | 100), |v| *v),
            Err(Error::Foreign)
        );
        // Removing from a block and reusing it.
        let h6 = handles[6];
        assert_eq!(pool.remove(h6), Ok(6));
        assert_eq!(pool.with(h6, |v| *v), Err(Error::Stale));
        let again = pool.insert(60).unwrap();
        assert_ne!(again, h6);
        assert_eq!(pool.with(again, |v| *v), Ok(60));
        assert_eq!(pool.len(), 7);
    }

    #[test]
    fn growth_is_bounded() {
        let pool: Pool<u8, 16384> = Pool::new();
        // 65536 / 16384 = 4 blocks of addresses: the static one and three more.
        assert_eq!(pool.max_capacity(), 65536);
        let small: Pool<u8, 1> = Pool::new();
        assert_eq!(small.max_capacity(), 64);
        for i in 0..64 {
            small.insert(i).unwrap();
        }
        assert_eq!(small.insert(64), Err((Error::Full, 64)));
    }

    #[test]
    fn dropping_a_grown_pool_drops_everything() {
        let drops = Arc::new(AtomicUsize::new(0));
        {
            let pool: Pool<Counted, 1> = Pool::new();
            for i in 0..5 {
                pool.insert(Counted(drops.clone(), i)).unwrap();
            }
        }
        assert_eq!(drops.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn threads_grow_concurrently() {
        let pool: Arc<Pool<u32, 1>> = Arc::new(Pool::new());
        let joins: Vec<_> = (0..3)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    (0..4)
                        .map(|i| pool.insert(t * 10 + i).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let handles: Vec<Handle> = joins.into_iter().flat_map(|j| j.join().unwrap()).collect();
        assert_eq!(pool.len(), 12);
        let mut seen: Vec<u64> = handles.iter().map(|h| h.to_bits() & 0xffff).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 12);
    }
}
