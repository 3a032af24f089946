//! Argument checking: every E_INVALIDARG rule, E_OUTOFMEMORY, handles (garbage, stale,
//! destroyed, in use), and the status left untouched on error.

use core::ffi::c_void;
use core::ptr::{null, null_mut};

use super::vm::*;
use crate::abi::*;
use crate::*;

fn create(cb: *const WHV_EMULATOR_CALLBACKS) -> (HRESULT, WHV_EMULATOR_HANDLE) {
    let mut h: WHV_EMULATOR_HANDLE = core::ptr::without_provenance_mut(0x5555);
    let hr = unsafe { WHvEmulatorCreateEmulator(cb, &mut h) };
    (hr, h)
}

#[test]
fn create_and_destroy() {
    let _pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
    let cb = callbacks();
    let (hr, h) = create(&cb);
    assert_eq!(hr, S_OK);
    assert!(!h.is_null());
    let (hr, h2) = create(&cb);
    assert_eq!(hr, S_OK);
    assert_ne!(h, h2);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, S_OK);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h2) }, S_OK);
    // Destroyed handles are no longer valid.
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, E_INVALIDARG);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h2) }, E_INVALIDARG);
}

#[test]
fn create_rejects_bad_callbacks() {
    let _pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
    // NULL callbacks struct.
    let (hr, h) = create(null());
    assert_eq!((hr, h), (E_INVALIDARG, null_mut()));
    // NULL out-pointer.
    let cb = callbacks();
    assert_eq!(
        unsafe { WHvEmulatorCreateEmulator(&cb, null_mut()) },
        E_INVALIDARG
    );
    // Size below 48.
    for size in [0, 1, 8, 40, 47] {
        let cb = WHV_EMULATOR_CALLBACKS {
            Size: size,
            ..callbacks()
        };
        let (hr, h) = create(&cb);
        assert_eq!((hr, h), (E_INVALIDARG, null_mut()), "Size {size}");
    }
    // Each callback NULL in turn.
    for i in 0..5 {
        let mut cb = callbacks();
        match i {
            0 => cb.WHvEmulatorIoPortCallback = None,
            1 => cb.WHvEmulatorMemoryCallback = None,
            2 => cb.WHvEmulatorGetVirtualProcessorRegisters = None,
            3 => cb.WHvEmulatorSetVirtualProcessorRegisters = None,
            _ => cb.WHvEmulatorTranslateGvaPage = None,
        }
        let (hr, h) = create(&cb);
        assert_eq!((hr, h), (E_INVALIDARG, null_mut()), "callback {i}");
    }
}

#[test]
fn create_accepts_a_larger_size_and_reserved_bits() {
    let _pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
    // A caller with a newer, larger struct: only the first 48 bytes are read.
    #[repr(C)]
    struct Bigger {
        cb: WHV_EMULATOR_CALLBACKS,
        extra: [u64; 2],
    }
    let big = Bigger {
        cb: WHV_EMULATOR_CALLBACKS {
            Size: 64,
            Reserved: 0xffff_ffff,
            ..callbacks()
        },
        extra: [u64::MAX; 2],
    };
    let (hr, h) = create(&big.cb);
    assert_eq!(hr, S_OK);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, S_OK);
}

#[test]
fn create_reads_an_unaligned_callbacks_struct() {
    let _pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
    let cb = callbacks();
    let mut buf = [0u8; 64];
    let p = unsafe { buf.as_mut_ptr().add(1) };
    unsafe {
        core::ptr::copy_nonoverlapping(
            (&cb as *const WHV_EMULATOR_CALLBACKS).cast::<u8>(),
            p,
            size_of::<WHV_EMULATOR_CALLBACKS>(),
        )
    };
    let (hr, h) = create(p.cast());
    assert_eq!(hr, S_OK);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, S_OK);
}

/// Handles that are not ours: NULL, small integers, a real pointer, all ones, and handles that
/// look like ours with a wrong generation or index.
fn garbage_handles(live: WHV_EMULATOR_HANDLE) -> Vec<WHV_EMULATOR_HANDLE> {
    let local = 0u64;
    let bits = live.addr();
    [
        0,
        1,
        0xdead_beef,
        usize::MAX,
        &local as *const u64 as usize,
        bits ^ 0x0001_0000,           // another generation
        (bits & !0xffff) | 0xfff0,    // an index past the pool
        bits & 0x0000_ffff_ffff_ffff, // without the tag
        bits ^ 0x0100_0000_0000_0000, // another tag
    ]
    .into_iter()
    .map(core::ptr::without_provenance_mut::<c_void>)
    .collect()
}

#[test]
fn garbage_and_stale_handles_are_invalid_args() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    let vp = vm.vp(1);
    let io = vm.io_ctx(&[0xee], 0x80, 1, true);
    let mmio = vm.mmio_ctx(&[0x8b, 0x07], DEV_BASE, 0);
    let ctx = vm.context();
    for h in garbage_handles(emu.handle) {
        let mut status = WHV_EMULATOR_STATUS { AsUINT32: 0x1234 };
        let hr = unsafe { WHvEmulatorTryIoEmulation(h, ctx, &vp, &io, &mut status) };
        assert_eq!(hr, E_INVALIDARG, "{h:?}");
        let hr = unsafe { WHvEmulatorTryMmioEmulation(h, ctx, &vp, &mmio, &mut status) };
        assert_eq!(hr, E_INVALIDARG, "{h:?}");
        assert_eq!(
            unsafe { WHvEmulatorDestroyEmulator(h) },
            E_INVALIDARG,
            "{h:?}"
        );
        // Untouched on error.
        assert_eq!(status.AsUINT32, 0x1234);
    }
    assert!(vm.log.is_empty());
    // The live handle still works.
    assert_eq!(emu.io(&mut vm, &vp, &io), (S_OK, 1));
}

#[test]
fn a_destroyed_handle_is_an_invalid_arg_even_after_reuse() {
    let _pool = POOL_LOCK.read().unwrap_or_else(|e| e.into_inner());
    let cb = callbacks();
    let (_, old) = create(&cb);
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(old) }, S_OK);
    let mut vm = Vm::new(Mode::Long64);
    let vp = vm.vp(1);
    let io = vm.io_ctx(&[0xee], 0x80, 1, true);
    let mut status = WHV_EMULATOR_STATUS::default();
    let ctx = vm.context();
    assert_eq!(
        unsafe { WHvEmulatorTryIoEmulation(old, ctx, &vp, &io, &mut status) },
        E_INVALIDARG
    );
    // Slots are reused; the old handle stays dead.
    let fresh: Vec<_> = (0..4).map(|_| create(&cb).1).collect();
    assert!(!fresh.contains(&old));
    assert_eq!(
        unsafe { WHvEmulatorTryIoEmulation(old, ctx, &vp, &io, &mut status) },
        E_INVALIDARG
    );
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(old) }, E_INVALIDARG);
    for h in fresh {
        assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, S_OK);
    }
    assert!(vm.log.is_empty());
}

#[test]
fn null_pointers_are_invalid_args() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    let vp = vm.vp(1);
    let io = vm.io_ctx(&[0xee], 0x80, 1, true);
    let mmio = vm.mmio_ctx(&[0x8b, 0x07], DEV_BASE, 0);
    let ctx = vm.context();
    let h = emu.handle;
    let mut st = WHV_EMULATOR_STATUS { AsUINT32: 0x1234 };
    let s: *mut WHV_EMULATOR_STATUS = &mut st;
    unsafe {
        assert_eq!(
            WHvEmulatorTryIoEmulation(h, ctx, null(), &io, s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryIoEmulation(h, ctx, &vp, null(), s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryIoEmulation(h, ctx, &vp, &io, null_mut()),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryIoEmulation(null_mut(), ctx, &vp, &io, s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryIoEmulation(null_mut(), null_mut(), null(), null(), null_mut()),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryMmioEmulation(h, ctx, null(), &mmio, s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryMmioEmulation(h, ctx, &vp, null(), s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryMmioEmulation(h, ctx, &vp, &mmio, null_mut()),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryMmioEmulation(null_mut(), ctx, &vp, &mmio, s),
            E_INVALIDARG
        );
        assert_eq!(
            WHvEmulatorTryMmioEmulation(null_mut(), null_mut(), null(), null(), null_mut()),
            E_INVALIDARG
        );
        assert_eq!(WHvEmulatorDestroyEmulator(null_mut()), E_INVALIDARG);
        assert_eq!((*s).AsUINT32, 0x1234);
    }
    assert!(vm.log.is_empty());
}

#[test]
fn a_null_context_is_passed_through() {
    // Context is opaque: NULL is a valid value (here no callback runs).
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    vm.interruption_pending = true;
    let vp = vm.vp(6);
    let mmio = vm.mmio_ctx(&[0x89, 0x87, 0xb0, 0, 0, 0], DEV_BASE, 1);
    let mut st = WHV_EMULATOR_STATUS::default();
    let hr = unsafe { WHvEmulatorTryMmioEmulation(emu.handle, null_mut(), &vp, &mmio, &mut st) };
    assert_eq!(
        (hr, st.AsUINT32),
        (S_OK, WHV_EMULATOR_STATUS::INTERRUPT_CAUSED_INTERCEPT)
    );
}

#[test]
fn instruction_byte_count_over_16_is_an_invalid_arg() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    let vp = vm.vp(1);
    for count in [17u8, 100, 255] {
        let mut io = vm.io_ctx(&[0xee], 0x80, 1, true);
        io.InstructionByteCount = count;
        assert_eq!(emu.io(&mut vm, &vp, &io), (E_INVALIDARG, 0xdead_0000));
        let mut mmio = vm.mmio_ctx(&[0x8b, 0x07], DEV_BASE, 0);
        mmio.InstructionByteCount = count;
        assert_eq!(emu.mmio(&mut vm, &vp, &mmio), (E_INVALIDARG, 0xdead_0000));
    }
    // 16 is fine (the bytes after the instruction are ignored).
    let mut io = vm.io_ctx(&[0xee; 16], 0x80, 1, true);
    io.InstructionByteCount = 16;
    assert_eq!(emu.io(&mut vm, &vp, &io), (S_OK, 1));
}

#[test]
fn a_port_exit_needs_an_instruction_length_and_a_valid_size() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    let io = vm.io_ctx(&[0xee], 0x80, 1, true);
    let vp = vm.vp(0);
    assert_eq!(emu.io(&mut vm, &vp, &io), (E_INVALIDARG, 0xdead_0000));
    for size in [0, 3, 5, 6, 7] {
        let io = vm.io_ctx(&[0xee], 0x80, size, true);
        let vp = vm.vp(1);
        assert_eq!(
            emu.io(&mut vm, &vp, &io),
            (E_INVALIDARG, 0xdead_0000),
            "size {size}"
        );
    }
    assert!(vm.log.is_empty());
}

#[test]
fn the_libwhp_zero_contexts() {
    // Observed on the real DLL: an all-zero port context with InstructionLength 0 gives
    // E_INVALIDARG; an all-zero memory context with an all-zero VP context gives S_OK.
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Real);
    let vp = WHV_VP_EXIT_CONTEXT::default();
    let io = WHV_X64_IO_PORT_ACCESS_CONTEXT::default();
    assert_eq!(emu.io(&mut vm, &vp, &io).0, E_INVALIDARG);
    let mmio = WHV_MEMORY_ACCESS_CONTEXT::default();
    let (hr, status) = emu.mmio(&mut vm, &vp, &mmio);
    assert_eq!(hr, S_OK);
    assert_ne!(status, 0xdead_0000);
}

#[test]
fn the_reserved_access_type_is_an_invalid_arg() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    let mmio = vm.mmio_ctx(&[0x8b, 0x07], DEV_BASE, 3);
    let vp = vm.vp(2);
    assert_eq!(emu.mmio(&mut vm, &vp, &mmio), (E_INVALIDARG, 0xdead_0000));
}

#[test]
fn unaligned_caller_structures_are_read_safely() {
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    vm.set_reg(reg::RAX, 0x41);
    let vp = vm.vp(1);
    let io = vm.io_ctx(&[0xee], 0x3f8, 1, true);
    #[repr(C, align(8))]
    struct Buf([u8; 256]);
    let mut buf = Buf([0; 256]);
    let base = buf.0.as_mut_ptr();
    let (pv, pi, ps) = unsafe { (base.add(1), base.add(64 + 3), base.add(200 + 1)) };
    unsafe {
        core::ptr::write_unaligned(pv.cast::<WHV_VP_EXIT_CONTEXT>(), vp);
        core::ptr::write_unaligned(pi.cast::<WHV_X64_IO_PORT_ACCESS_CONTEXT>(), io);
    }
    let ctx = vm.context();
    let hr = unsafe { WHvEmulatorTryIoEmulation(emu.handle, ctx, pv.cast(), pi.cast(), ps.cast()) };
    assert_eq!(hr, S_OK);
    let st = unsafe { core::ptr::read_unaligned(ps.cast::<u32>()) };
    assert_eq!(st, 1);
    assert_eq!(vm.ios(), vec![(0x3f8, 1, true, 0x41)]);
}

#[test]
// 1024 claims scanning up to 1024 slots each take too long interpreted; the pool's own Miri tests
// fill small pools.
#[cfg_attr(miri, ignore)]
fn a_full_pool_gives_out_of_memory() {
    let _all = POOL_LOCK.write().unwrap_or_else(|e| e.into_inner());
    let cb = callbacks();
    // CAPACITY, or more with the `std` feature (the pool grows with Box).
    let max = crate::exports::POOL.max_capacity();
    assert!(max >= CAPACITY);
    let mut handles = Vec::new();
    loop {
        let (hr, h) = create(&cb);
        if hr != S_OK {
            assert_eq!((hr, h), (E_OUTOFMEMORY, null_mut()));
            break;
        }
        handles.push(h);
        assert!(handles.len() <= max, "the pool grew past its capacity");
    }
    assert_eq!(handles.len(), max);
    // Freeing one makes room for one.
    let last = handles.pop().unwrap();
    assert_eq!(unsafe { WHvEmulatorDestroyEmulator(last) }, S_OK);
    let (hr, h) = create(&cb);
    assert_eq!(hr, S_OK);
    handles.push(h);
    assert_eq!(create(&cb).0, E_OUTOFMEMORY);
    for h in handles {
        assert_eq!(unsafe { WHvEmulatorDestroyEmulator(h) }, S_OK);
    }
}

#[test]
fn reentry_on_the_same_handle_is_refused_cleanly() {
    // A callback that calls the API again with the handle that is running: the inner calls
    // get E_INVALIDARG, the outer one completes, and the handle survives.
    let emu = Emu::new();
    let mut vm = Vm::new(Mode::Long64);
    vm.reenter = emu.handle;
    let vp = vm.vp(1);
    let io = vm.io_ctx(&[0xee], 0x80, 1, true);
    assert_eq!(emu.io(&mut vm, &vp, &io), (S_OK, 1));
    assert_eq!(vm.reenter_results, vec![E_INVALIDARG, E_INVALIDARG]);
    vm.reenter = null_mut();
    assert_eq!(emu.io(&mut vm, &vp, &io), (S_OK, 1));
}

#[test]
fn emulators_on_different_threads_do_not_interact() {
    let rounds = if cfg!(miri) { 3 } else { 200 };
    let joins: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let emu = Emu::new();
                let mut vm = Vm::new(Mode::Long64);
                vm.set_reg(reg::RDI, DEV_BASE + t * 0x100);
                for r in 0..rounds {
                    vm.set_reg(reg::RAX, t << 32 | r);
                    vm.set_reg(reg::RIP, 0x1000);
                    vm.log.clear();
                    let vp = vm.vp(3);
                    let c = vm.mmio_ctx(&[0x48, 0x89, 0x07], DEV_BASE + t * 0x100, 1);
                    assert_eq!(emu.mmio(&mut vm, &vp, &c), (S_OK, 1));
                    assert_eq!(
                        vm.mems(),
                        vec![(DEV_BASE + t * 0x100, 8, true, (t << 32 | r).to_le_bytes())]
                    );
                    assert_eq!(vm.reg(reg::RIP), 0x1003);
                }
            })
        })
        .collect();
    for j in joins {
        j.join().unwrap();
    }
}
