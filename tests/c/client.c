/*
 * A WinHvEmulation client written the way QEMU's WHPX accelerator uses the API:
 * it loads the library by name at run time (LoadLibrary + GetProcAddress on
 * Windows, dlopen + dlsym elsewhere), creates one emulator per virtual
 * processor, forwards the Get/Set callbacks to the "hypervisor" register file
 * unchanged, serves Memory from guest RAM and a device, IoPort from a port
 * device, and TranslateGvaPage from a page map with WHvTranslateGva's result
 * codes. Each scenario builds an exit, calls the emulator and checks the
 * result, the device traffic and the register traffic.
 *
 * Windows (Wine):  x86_64-w64-mingw32-gcc client.c -o client.exe
 *                  (mingw-w64's <winhvemulation.h>; or -DUSE_HVEMU_HEADER -I ffi/include)
 *                  wine client.exe            loads WinHvEmulation.dll
 * Linux:           gcc -DUSE_HVEMU_HEADER -I ffi/include client.c -ldl -o client
 *                  ./client path/to/libWinHvEmulation.so
 *                  (or -DHVEMU_LINK_DIRECT ... libWinHvEmulation.a: linked, not loaded)
 *
 * Prints one line per scenario and "N passed, M failed"; exits non-zero on
 * any failure.
 *
 * SPDX-License-Identifier: MIT
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#endif

#ifdef USE_HVEMU_HEADER
#include "WinHvEmulation.h"
#else
#include <winhvemulation.h>
#endif

#if !defined(_WIN32) && !defined(HVEMU_LINK_DIRECT)
#include <dlfcn.h>
#endif

/* ---- the library, loaded at run time as QEMU does ---------------------- */

typedef HRESULT (WINAPI *create_fn)(const WHV_EMULATOR_CALLBACKS *, WHV_EMULATOR_HANDLE *);
typedef HRESULT (WINAPI *destroy_fn)(WHV_EMULATOR_HANDLE);
typedef HRESULT (WINAPI *try_io_fn)(WHV_EMULATOR_HANDLE, VOID *, const WHV_VP_EXIT_CONTEXT *,
                                    const WHV_X64_IO_PORT_ACCESS_CONTEXT *, WHV_EMULATOR_STATUS *);
typedef HRESULT (WINAPI *try_mmio_fn)(WHV_EMULATOR_HANDLE, VOID *, const WHV_VP_EXIT_CONTEXT *,
                                      const WHV_MEMORY_ACCESS_CONTEXT *, WHV_EMULATOR_STATUS *);

static create_fn pCreate;
static destroy_fn pDestroy;
static try_io_fn pTryIo;
static try_mmio_fn pTryMmio;

static int load_library(const char *path)
{
#ifdef HVEMU_LINK_DIRECT
    /* Linked with the static library: nothing to load. */
    (void)path;
    pCreate = WHvEmulatorCreateEmulator;
    pDestroy = WHvEmulatorDestroyEmulator;
    pTryIo = WHvEmulatorTryIoEmulation;
    pTryMmio = WHvEmulatorTryMmioEmulation;
#else
#ifdef _WIN32
    HMODULE lib = LoadLibraryA(path ? path : "WinHvEmulation.dll");
    if (!lib) {
        fprintf(stderr, "LoadLibrary failed: %lu\n", (unsigned long)GetLastError());
        return 0;
    }
#define RESOLVE(var, type, name) var = (type)(void (*)(void))GetProcAddress(lib, name)
#else
    void *lib = dlopen(path ? path : "libWinHvEmulation.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen failed: %s\n", dlerror());
        return 0;
    }
#define RESOLVE(var, type, name) *(void **)&var = dlsym(lib, name)
#endif
    RESOLVE(pCreate, create_fn, "WHvEmulatorCreateEmulator");
    RESOLVE(pDestroy, destroy_fn, "WHvEmulatorDestroyEmulator");
    RESOLVE(pTryIo, try_io_fn, "WHvEmulatorTryIoEmulation");
    RESOLVE(pTryMmio, try_mmio_fn, "WHvEmulatorTryMmioEmulation");
#endif
    if (!pCreate || !pDestroy || !pTryIo || !pTryMmio) {
        fprintf(stderr, "a function is missing from the library\n");
        return 0;
    }
    return 1;
}

/* ---- the "hypervisor": one virtual processor ------------------------------ */

#define RAM_SIZE 0x100000u          /* 1 MiB at GPA 0 */
#define DEV_BASE 0xfee00000ull      /* a 64 KiB device */
#define DEV_SIZE 0x10000u
#define NREGS 80
#define MAX_LOG 64
#define WHV_E_INVALID_VP_REGISTER_NAME ((HRESULT)0x80370309L)

enum { FAIL_IO = 1, FAIL_MEM = 2, FAIL_GET = 4, FAIL_SET = 8, FAIL_TRANSLATE = 16 };

struct access {
    UINT64 addr;
    unsigned size;
    int write;
    UINT64 data;
};

struct vcpu {
    WHV_REGISTER_VALUE regs[NREGS];
    int dirty;                      /* QEMU's vcpu_dirty: cleared by the Set callback */
    UINT8 *ram;
    UINT8 dev[DEV_SIZE];
    UINT32 port_in;
    struct access mem_log[MAX_LOG];
    int nmem;
    struct access io_log[MAX_LOG];
    int nio;
    int gets, sets, translates;
    WHV_REGISTER_NAME get_names[NREGS];
    UINT32 nget_names;
    WHV_REGISTER_NAME set_names[NREGS];
    UINT32 nset_names;
    UINT64 translate_gvas[8];
    int translate_flags[8];
    int last_was_set;               /* the last callback call was Set */
    /* page map: gva page -> gpa page */
    UINT64 map_gva[4], map_gpa[4];
    int nmap;
    WHV_TRANSLATE_GVA_RESULT_CODE translate_result;
    UINT64 gpa_skew;
    int fail;
    /* invariants seen by the callbacks */
    int bad_context, misaligned, dirty_read, bad_size, crosses_page;
};

static struct vcpu *vcpu;   /* the one the scenario runs; callbacks must get it as Context */

static int reg_index(WHV_REGISTER_NAME n)
{
    UINT32 v = (UINT32)n;
    if (v <= 0x27) return (int)v;
    if (v >= 0x1000 && v <= 0x1019) return 40 + (int)(v - 0x1000);
    if (v >= 0x2000 && v <= 0x200b) return 66 + (int)(v - 0x2000);
    if (v == 0x207b) return 78;
    return -1;
}

/* The hypervisor's WHvGetVirtualProcessorRegisters. */
static HRESULT fake_get_registers(struct vcpu *cpu, const WHV_REGISTER_NAME *names, UINT32 count,
                                  WHV_REGISTER_VALUE *values)
{
    for (UINT32 i = 0; i < count; i++) {
        int k = reg_index(names[i]);
        if (k < 0) return WHV_E_INVALID_VP_REGISTER_NAME;
        values[i] = cpu->regs[k];
    }
    return S_OK;
}

static HRESULT fake_set_registers(struct vcpu *cpu, const WHV_REGISTER_NAME *names, UINT32 count,
                                  const WHV_REGISTER_VALUE *values)
{
    for (UINT32 i = 0; i < count; i++) {
        int k = reg_index(names[i]);
        if (k < 0) return WHV_E_INVALID_VP_REGISTER_NAME;
        cpu->regs[k] = values[i];
    }
    return S_OK;
}

/* The hypervisor's WHvTranslateGva: identity unless mapped. */
static HRESULT fake_translate_gva(struct vcpu *cpu, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                  WHV_TRANSLATE_GVA_FLAGS flags, WHV_TRANSLATE_GVA_RESULT *result,
                                  WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    UINT64 page = gva & ~0xfffull;
    (void)flags;
    *gpa = page;
    for (int i = 0; i < cpu->nmap; i++)
        if (cpu->map_gva[i] == page) *gpa = cpu->map_gpa[i];
    *gpa += cpu->gpa_skew;
    result->ResultCode = cpu->translate_result;
    result->Reserved = 0;
    return S_OK;
}

/* QEMU's cpu_physical_memory_rw. */
static void physical_memory_rw(struct vcpu *cpu, UINT64 gpa, UINT8 *data, unsigned size, int write)
{
    UINT8 *mem = NULL;
    if (gpa + size <= RAM_SIZE) mem = cpu->ram + gpa;
    else if (gpa >= DEV_BASE && gpa + size <= DEV_BASE + DEV_SIZE) mem = cpu->dev + (gpa - DEV_BASE);
    if (!mem) {
        if (!write) memset(data, 0xff, size);
        return;
    }
    if (write) memcpy(mem, data, size);
    else memcpy(data, mem, size);
}

/* ---- the callbacks, as QEMU writes them ------------------------------------ */

static HRESULT CALLBACK emu_ioport_callback(void *ctx, WHV_EMULATOR_IO_ACCESS_INFO *IoAccess)
{
    struct vcpu *cpu = ctx;
    if (cpu != vcpu) { vcpu->bad_context = 1; return E_UNEXPECTED; }
    cpu->last_was_set = 0;
    if (IoAccess->AccessSize != 1 && IoAccess->AccessSize != 2 && IoAccess->AccessSize != 4)
        cpu->bad_size = 1;
    if (IoAccess->Direction == 0 && IoAccess->Data != 0) cpu->dirty_read = 1;
    if (cpu->nio < MAX_LOG) {
        struct access *a = &cpu->io_log[cpu->nio++];
        a->addr = IoAccess->Port;
        a->size = IoAccess->AccessSize;
        a->write = IoAccess->Direction;
        a->data = IoAccess->Data;
    }
    if (cpu->fail & FAIL_IO) return E_FAIL;
    if (IoAccess->Direction == 0) {
        /* address_space_rw(&address_space_io, Port, attrs, &Data, AccessSize, 0) */
        memcpy(&IoAccess->Data, &cpu->port_in, IoAccess->AccessSize);
    }
    return S_OK;
}

static HRESULT CALLBACK emu_mmio_callback(void *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *ma)
{
    struct vcpu *cpu = ctx;
    static const UINT8 zero[8];
    if (cpu != vcpu) { vcpu->bad_context = 1; return E_UNEXPECTED; }
    cpu->last_was_set = 0;
    if (ma->AccessSize < 1 || ma->AccessSize > 8) { cpu->bad_size = 1; return E_UNEXPECTED; }
    if ((ma->GpaAddress >> 12) != ((ma->GpaAddress + ma->AccessSize - 1) >> 12)) cpu->crosses_page = 1;
    if (ma->Direction == 0 && memcmp(ma->Data, zero, 8) != 0) cpu->dirty_read = 1;
    if (cpu->fail & FAIL_MEM) return E_FAIL;
    physical_memory_rw(cpu, ma->GpaAddress, ma->Data, ma->AccessSize, ma->Direction);
    if (cpu->nmem < MAX_LOG) {
        struct access *a = &cpu->mem_log[cpu->nmem++];
        a->addr = ma->GpaAddress;
        a->size = ma->AccessSize;
        a->write = ma->Direction;
        a->data = 0;
        memcpy(&a->data, ma->Data, ma->AccessSize);
    }
    return S_OK;
}

static HRESULT CALLBACK emu_getreg_callback(void *ctx, const WHV_REGISTER_NAME *RegisterNames,
                                            UINT32 RegisterCount, WHV_REGISTER_VALUE *RegisterValues)
{
    struct vcpu *cpu = ctx;
    if (cpu != vcpu) { vcpu->bad_context = 1; return E_UNEXPECTED; }
    cpu->last_was_set = 0;
    cpu->gets++;
    if ((uintptr_t)RegisterValues % 16) cpu->misaligned = 1;
    cpu->nget_names = RegisterCount < NREGS ? RegisterCount : NREGS;
    memcpy(cpu->get_names, RegisterNames, cpu->nget_names * sizeof(WHV_REGISTER_NAME));
    if (cpu->fail & FAIL_GET) return E_FAIL;
    /* whp_dispatch.WHvGetVirtualProcessorRegisters(partition, cpu_index, ...) */
    return fake_get_registers(cpu, RegisterNames, RegisterCount, RegisterValues);
}

static HRESULT CALLBACK emu_setreg_callback(void *ctx, const WHV_REGISTER_NAME *RegisterNames,
                                            UINT32 RegisterCount, const WHV_REGISTER_VALUE *RegisterValues)
{
    struct vcpu *cpu = ctx;
    HRESULT hr;
    if (cpu != vcpu) { vcpu->bad_context = 1; return E_UNEXPECTED; }
    cpu->sets++;
    cpu->last_was_set = 1;
    if ((uintptr_t)RegisterValues % 16) cpu->misaligned = 1;
    cpu->nset_names = RegisterCount < NREGS ? RegisterCount : NREGS;
    memcpy(cpu->set_names, RegisterNames, cpu->nset_names * sizeof(WHV_REGISTER_NAME));
    if (cpu->fail & FAIL_SET) return E_FAIL;
    hr = fake_set_registers(cpu, RegisterNames, RegisterCount, RegisterValues);
    /* "The emulator just successfully wrote the register state": avoid the double write on resume. */
    cpu->dirty = 0;
    return hr;
}

static HRESULT CALLBACK emu_translate_callback(void *ctx, WHV_GUEST_VIRTUAL_ADDRESS Gva,
                                               WHV_TRANSLATE_GVA_FLAGS TranslateFlags,
                                               WHV_TRANSLATE_GVA_RESULT_CODE *TranslationResult,
                                               WHV_GUEST_PHYSICAL_ADDRESS *Gpa)
{
    struct vcpu *cpu = ctx;
    WHV_TRANSLATE_GVA_RESULT res;
    HRESULT hr;
    if (cpu != vcpu) { vcpu->bad_context = 1; return E_UNEXPECTED; }
    cpu->last_was_set = 0;
    if (cpu->translates < 8) {
        cpu->translate_gvas[cpu->translates] = Gva;
        cpu->translate_flags[cpu->translates] = (int)TranslateFlags;
    }
    cpu->translates++;
    if (cpu->fail & FAIL_TRANSLATE) return E_FAIL;
    hr = fake_translate_gva(cpu, Gva, TranslateFlags, &res, Gpa);
    if (FAILED(hr)) return hr;
    *TranslationResult = res.ResultCode;
    return hr;
}

static const WHV_EMULATOR_CALLBACKS emu_callbacks = {
    .Size = sizeof(WHV_EMULATOR_CALLBACKS),
    .Reserved = 0,
    .WHvEmulatorIoPortCallback = emu_ioport_callback,
    .WHvEmulatorMemoryCallback = emu_mmio_callback,
    .WHvEmulatorGetVirtualProcessorRegisters = emu_getreg_callback,
    .WHvEmulatorSetVirtualProcessorRegisters = emu_setreg_callback,
    .WHvEmulatorTranslateGvaPage = emu_translate_callback,
};

/* ---- scenario helpers ------------------------------------------------------ */

enum mode { MODE_REAL, MODE_PROT32, MODE_LONG64 };

static struct vcpu the_vcpu;
static UINT8 *the_ram;
static WHV_EMULATOR_HANDLE emulator;
static enum mode cur_mode;
static int interruption_pending;
static char failure[512];
static const char *note;            /* appended to a passing scenario's line */

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            snprintf(failure, sizeof failure, "line %d: %s", __LINE__, #cond);      \
            return 0;                                                                \
        }                                                                            \
    } while (0)

#define CHECK_EQ(a, b)                                                               \
    do {                                                                             \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ != b_) {                                                              \
            snprintf(failure, sizeof failure, "line %d: %s == %#llx, expected %s == %#llx", \
                     __LINE__, #a, a_, #b, b_);                                      \
            return 0;                                                                \
        }                                                                            \
    } while (0)

static UINT64 reg(WHV_REGISTER_NAME n) { return vcpu->regs[reg_index(n)].Reg64; }
static void set_reg(WHV_REGISTER_NAME n, UINT64 v)
{
    memset(&vcpu->regs[reg_index(n)], 0, sizeof(WHV_REGISTER_VALUE));
    vcpu->regs[reg_index(n)].Reg64 = v;
}

static void set_seg(WHV_REGISTER_NAME n, UINT64 base, UINT32 limit, UINT16 sel, UINT16 attr)
{
    WHV_REGISTER_VALUE *v = &vcpu->regs[reg_index(n)];
    memset(v, 0, sizeof *v);
    v->Segment.Base = base;
    v->Segment.Limit = limit;
    v->Segment.Selector = sel;
    v->Segment.Attributes = attr;
}

static void reset(enum mode m)
{
    memset(&the_vcpu, 0, sizeof the_vcpu);
    memset(the_ram, 0, RAM_SIZE);
    vcpu = &the_vcpu;
    vcpu->ram = the_ram;
    vcpu->dirty = 1;
    vcpu->port_in = 0xa1b2c3d4u;
    for (unsigned i = 0; i < DEV_SIZE; i++) vcpu->dev[i] = (UINT8)(i * 7 + 1);
    cur_mode = m;
    interruption_pending = 0;
    set_reg(WHvX64RegisterRflags, 0x2);
    switch (m) {
    case MODE_LONG64:
        set_seg(WHvX64RegisterCs, 0, 0xffffffff, 0x08, 0xa09b);
        for (int s = WHvX64RegisterEs; s <= WHvX64RegisterGs; s++)
            if (s != WHvX64RegisterCs) set_seg((WHV_REGISTER_NAME)s, 0, 0xffffffff, 0x10, 0xc093);
        set_reg(WHvX64RegisterCr0, 0x80010033);
        set_reg(WHvX64RegisterCr4, 0x20);
        set_reg(WHvX64RegisterEfer, 0x500);
        set_reg(WHvX64RegisterRip, 0x1000);
        break;
    case MODE_PROT32:
        set_seg(WHvX64RegisterCs, 0, 0xffffffff, 0x08, 0xc09b);
        for (int s = WHvX64RegisterEs; s <= WHvX64RegisterGs; s++)
            if (s != WHvX64RegisterCs) set_seg((WHV_REGISTER_NAME)s, 0, 0xffffffff, 0x10, 0xc093);
        set_reg(WHvX64RegisterCr0, 0x11);
        set_reg(WHvX64RegisterRip, 0x1000);
        break;
    case MODE_REAL:
        set_seg(WHvX64RegisterCs, 0x10000, 0xffff, 0x1000, 0x009b);
        for (int s = WHvX64RegisterEs; s <= WHvX64RegisterGs; s++)
            if (s != WHvX64RegisterCs) set_seg((WHV_REGISTER_NAME)s, 0, 0xffff, 0, 0x0093);
        set_reg(WHvX64RegisterCr0, 0x10);
        set_reg(WHvX64RegisterRip, 0x100);
        break;
    }
}

static WHV_VP_EXIT_CONTEXT vp_context(unsigned length)
{
    WHV_VP_EXIT_CONTEXT vp;
    memset(&vp, 0, sizeof vp);
    vp.ExecutionState.Cr0Pe = cur_mode != MODE_REAL;
    vp.ExecutionState.EferLma = cur_mode == MODE_LONG64;
    vp.ExecutionState.InterruptionPending = interruption_pending;
    vp.InstructionLength = length & 0xf;
    vp.Cs = vcpu->regs[reg_index(WHvX64RegisterCs)].Segment;
    vp.Rip = reg(WHvX64RegisterRip);
    vp.Rflags = reg(WHvX64RegisterRflags);
    return vp;
}

/* Code at CS.base + RIP (through the page map). */
static void put_code(const UINT8 *code, unsigned n)
{
    UINT64 lin = vcpu->regs[reg_index(WHvX64RegisterCs)].Segment.Base + reg(WHvX64RegisterRip);
    for (unsigned i = 0; i < n; i++) {
        UINT64 gva = lin + i, gpa = gva;
        for (int k = 0; k < vcpu->nmap; k++)
            if (vcpu->map_gva[k] == (gva & ~0xfffull)) gpa = vcpu->map_gpa[k] | (gva & 0xfff);
        vcpu->ram[gpa] = code[i];
    }
}

static void map_page(UINT64 gva, UINT64 gpa)
{
    vcpu->map_gva[vcpu->nmap] = gva;
    vcpu->map_gpa[vcpu->nmap] = gpa;
    vcpu->nmap++;
}

static HRESULT last_hr;
static UINT32 last_status;

/* The invariants every call keeps. */
static int invariants(void)
{
    CHECK(!vcpu->bad_context);
    CHECK(!vcpu->misaligned);
    CHECK(!vcpu->dirty_read);
    CHECK(!vcpu->bad_size);
    CHECK(!vcpu->crosses_page);
    CHECK(vcpu->gets <= 1);
    CHECK(vcpu->sets <= 1);
    if (last_hr == S_OK && (last_status & 1)) {
        CHECK_EQ(last_status, 1);
        CHECK_EQ(vcpu->sets, 1);
        CHECK(vcpu->last_was_set);
        CHECK(!vcpu->dirty);
    } else if (!(last_status & 0x80)) {
        CHECK_EQ(vcpu->sets, 0);
        CHECK(vcpu->dirty);
    }
    for (int i = 0; i < vcpu->translates && i < 8; i++) CHECK_EQ(vcpu->translate_gvas[i] & 0xfff, 0);
    return 1;
}

/* Runs a memory exit (QEMU's whpx_handle_mmio). */
static int mmio_n(const UINT8 *bytes, unsigned given, unsigned length, UINT64 gpa, int write)
{
    WHV_MEMORY_ACCESS_CONTEXT ctx;
    WHV_VP_EXIT_CONTEXT vp = vp_context(length);
    WHV_EMULATOR_STATUS st;
    memset(&ctx, 0, sizeof ctx);
    ctx.InstructionByteCount = (UINT8)given;
    memcpy(ctx.InstructionBytes, bytes, given);
    ctx.AccessInfo.AccessType = write ? WHvMemoryAccessWrite : WHvMemoryAccessRead;
    ctx.Gpa = gpa;
    st.AsUINT32 = 0xdead0000u;
    last_hr = pTryMmio(emulator, vcpu, &vp, &ctx, &st);
    last_status = st.AsUINT32;
    return invariants();
}

#define MMIO(gpa, write, ...)                                                       \
    do {                                                                            \
        static const UINT8 code_[] = {__VA_ARGS__};                                 \
        if (!mmio_n(code_, sizeof code_, sizeof code_, gpa, write)) return 0;       \
    } while (0)

/* Runs a port exit (QEMU's whpx_handle_portio). */
static int io_n(const UINT8 *bytes, unsigned given, unsigned length, UINT16 port, unsigned size,
                int write, int string, int rep)
{
    WHV_X64_IO_PORT_ACCESS_CONTEXT ctx;
    WHV_VP_EXIT_CONTEXT vp = vp_context(length);
    WHV_EMULATOR_STATUS st;
    memset(&ctx, 0, sizeof ctx);
    ctx.InstructionByteCount = (UINT8)given;
    memcpy(ctx.InstructionBytes, bytes, given);
    ctx.AccessInfo.IsWrite = write;
    ctx.AccessInfo.AccessSize = size;
    ctx.AccessInfo.StringOp = string;
    ctx.AccessInfo.RepPrefix = rep;
    ctx.PortNumber = port;
    ctx.Rax = reg(WHvX64RegisterRax);
    ctx.Rcx = reg(WHvX64RegisterRcx);
    ctx.Rsi = reg(WHvX64RegisterRsi);
    ctx.Rdi = reg(WHvX64RegisterRdi);
    ctx.Ds = vcpu->regs[reg_index(WHvX64RegisterDs)].Segment;
    ctx.Es = vcpu->regs[reg_index(WHvX64RegisterEs)].Segment;
    st.AsUINT32 = 0xdead0000u;
    last_hr = pTryIo(emulator, vcpu, &vp, &ctx, &st);
    last_status = st.AsUINT32;
    return invariants();
}

#define IO(port, size, write, ...)                                                  \
    do {                                                                            \
        static const UINT8 code_[] = {__VA_ARGS__};                                 \
        if (!io_n(code_, sizeof code_, sizeof code_, port, size, write, 0, 0)) return 0; \
    } while (0)

#define OK() do { CHECK_EQ(last_hr, S_OK); CHECK_EQ(last_status, 1); } while (0)
#define FAILS(bit) do { CHECK_EQ(last_hr, S_OK); CHECK_EQ(last_status, (bit)); } while (0)

static int got_name(WHV_REGISTER_NAME n)
{
    for (UINT32 i = 0; i < vcpu->nget_names; i++)
        if (vcpu->get_names[i] == n) return 1;
    return 0;
}

static int set_only(WHV_REGISTER_NAME a, WHV_REGISTER_NAME b)
{
    for (UINT32 i = 0; i < vcpu->nset_names; i++)
        if (vcpu->set_names[i] != a && vcpu->set_names[i] != b) return 0;
    return 1;
}

static UINT64 dev64(unsigned off, unsigned n)
{
    UINT64 v = 0;
    memcpy(&v, vcpu->dev + off, n);
    return v;
}

/* ---- port I/O ----------------------------------------------------------- */

static int out_dx_al(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0x1122334455667788ull);
    set_reg(WHvX64RegisterRdx, 0x3f8);
    IO(0x3f8, 1, 1, 0xee);
    OK();
    CHECK_EQ(vcpu->gets, 0);               /* a plain OUT needs no Get */
    CHECK_EQ(vcpu->nio, 1);
    CHECK_EQ(vcpu->io_log[0].addr, 0x3f8);
    CHECK_EQ(vcpu->io_log[0].size, 1);
    CHECK_EQ(vcpu->io_log[0].write, 1);
    CHECK_EQ(vcpu->io_log[0].data, 0x88);
    CHECK_EQ(vcpu->nset_names, 1);         /* only RIP changed */
    CHECK_EQ(vcpu->set_names[0], WHvX64RegisterRip);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1001);
    CHECK_EQ(vcpu->nmem, 0);
    CHECK_EQ(vcpu->translates, 0);
    return 1;
}

static int out_dx_ax(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0x1122334455667788ull);
    IO(0x1f0, 2, 1, 0x66, 0xef);
    OK();
    CHECK_EQ(vcpu->gets, 0);
    CHECK_EQ(vcpu->io_log[0].size, 2);
    CHECK_EQ(vcpu->io_log[0].data, 0x7788);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1002);
    return 1;
}

static int out_dx_eax(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0x1122334455667788ull);
    IO(0xcfc, 4, 1, 0xef);
    OK();
    CHECK_EQ(vcpu->gets, 0);
    CHECK_EQ(vcpu->io_log[0].size, 4);
    CHECK_EQ(vcpu->io_log[0].data, 0x55667788);
    return 1;
}

static int out_imm8_al(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0x42);
    IO(0x80, 1, 1, 0xe6, 0x80);
    OK();
    CHECK_EQ(vcpu->gets, 0);
    CHECK_EQ(vcpu->io_log[0].addr, 0x80);
    CHECK_EQ(vcpu->io_log[0].data, 0x42);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1002);
    return 1;
}

static int in_al_dx(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, ~0ull);
    IO(0x60, 1, 0, 0xec);
    OK();
    CHECK_EQ(vcpu->gets, 0);               /* a plain IN needs no Get either */
    CHECK_EQ(vcpu->io_log[0].write, 0);
    CHECK_EQ(vcpu->io_log[0].size, 1);
    CHECK_EQ(reg(WHvX64RegisterRax), 0xffffffffffffffd4ull);
    CHECK(set_only(WHvX64RegisterRax, WHvX64RegisterRip));
    return 1;
}

static int in_ax_dx(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, ~0ull);
    IO(0x1f0, 2, 0, 0x66, 0xed);
    OK();
    CHECK_EQ(reg(WHvX64RegisterRax), 0xffffffffffffc3d4ull);
    return 1;
}

static int in_eax_dx(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, ~0ull);
    IO(0xcfc, 4, 0, 0xed);
    OK();
    CHECK_EQ(reg(WHvX64RegisterRax), 0xa1b2c3d4ull);   /* a 32-bit write zero-extends */
    return 1;
}

static int in_al_imm8(void)
{
    reset(MODE_LONG64);
    IO(0x71, 1, 0, 0xe4, 0x71);
    OK();
    CHECK_EQ(vcpu->io_log[0].addr, 0x71);
    CHECK_EQ(reg(WHvX64RegisterRax) & 0xff, 0xd4);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1002);
    return 1;
}

/*
 * String port I/O. The emulator may not implement string instructions yet:
 * the documented outcome is then S_OK with InternalEmulationFailure and no
 * change at all. When it does, every element must be exact.
 */
static int string_io(int out, unsigned size, int rep, UINT8 prefix66)
{
    UINT8 code[3];
    unsigned n = 0;
    unsigned count = rep ? 3 : 1;
    reset(MODE_LONG64);
    if (rep) code[n++] = 0xf3;
    if (prefix66) code[n++] = 0x66;
    code[n++] = out ? (size == 1 ? 0x6e : 0x6f) : (size == 1 ? 0x6c : 0x6d);
    set_reg(WHvX64RegisterRsi, 0x3000);
    set_reg(WHvX64RegisterRdi, 0x4000);
    set_reg(WHvX64RegisterRcx, rep ? count : 0x55);
    for (unsigned i = 0; i < 16; i++) vcpu->ram[0x3000 + i] = (UINT8)(0x10 + i);
    if (!io_n(code, n, n, 0x3f8, size, out, 1, rep)) return 0;
    CHECK_EQ(last_hr, S_OK);
    if (last_status == 2) {                /* declined: nothing happened */
        note = " (declined: InternalEmulationFailure, nothing changed)";
        CHECK_EQ(vcpu->nio, 0);
        CHECK_EQ(reg(WHvX64RegisterRip), 0x1000);
        return 1;
    }
    CHECK_EQ(last_status, 1);
    CHECK_EQ(vcpu->nio, count);
    for (unsigned i = 0; i < count; i++) {
        CHECK_EQ(vcpu->io_log[i].size, size);
        CHECK_EQ(vcpu->io_log[i].write, out);
        if (out) {
            UINT64 want = 0;
            memcpy(&want, vcpu->ram + 0x3000 + i * size, size);
            CHECK_EQ(vcpu->io_log[i].data, want);
        }
    }
    if (out) CHECK_EQ(reg(WHvX64RegisterRsi), 0x3000 + count * size);
    else {
        CHECK_EQ(reg(WHvX64RegisterRdi), 0x4000 + count * size);
        CHECK_EQ(memcmp(vcpu->ram + 0x4000, "\xd4\xc3\xb2\xa1", size), 0);
    }
    if (rep) CHECK_EQ(reg(WHvX64RegisterRcx), 0);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1000 + n);
    return 1;
}

static int outsb(void) { return string_io(1, 1, 0, 0); }
static int outsw(void) { return string_io(1, 2, 0, 0x66); }
static int outsd(void) { return string_io(1, 4, 0, 0); }
static int rep_outsb(void) { return string_io(1, 1, 1, 0); }
static int insb(void) { return string_io(0, 1, 0, 0); }
static int rep_insw(void) { return string_io(0, 2, 1, 0x66); }
static int rep_insd(void) { return string_io(0, 4, 1, 0); }

/* ---- MMIO ------------------------------------------------------------------ */

static int mmio_write_sizes(void)
{
    static const struct { UINT8 code[4]; unsigned n, size; UINT64 data; } c[] = {
        {{0x88, 0x07}, 2, 1, 0x88},                    /* mov [rdi], al */
        {{0x66, 0x89, 0x07}, 3, 2, 0x7788},            /* mov [rdi], ax */
        {{0x89, 0x07}, 2, 4, 0x55667788},              /* mov [rdi], eax */
        {{0x48, 0x89, 0x07}, 3, 8, 0x1122334455667788ull}, /* mov [rdi], rax */
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        reset(MODE_LONG64);
        set_reg(WHvX64RegisterRax, 0x1122334455667788ull);
        set_reg(WHvX64RegisterRdi, DEV_BASE + 0x40);
        if (!mmio_n(c[i].code, c[i].n, c[i].n, DEV_BASE + 0x40, 1)) return 0;
        OK();
        CHECK_EQ(vcpu->nmem, 1);
        CHECK_EQ(vcpu->mem_log[0].addr, DEV_BASE + 0x40);
        CHECK_EQ(vcpu->mem_log[0].size, c[i].size);
        CHECK_EQ(vcpu->mem_log[0].write, 1);
        CHECK_EQ(vcpu->mem_log[0].data, c[i].data);
        CHECK(got_name(WHvX64RegisterRax) && got_name(WHvX64RegisterRdi));
        CHECK_EQ(vcpu->nset_names, 1);
        CHECK_EQ(reg(WHvX64RegisterRip), 0x1000 + c[i].n);
    }
    return 1;
}

static int mmio_read_sizes(void)
{
    static const struct { UINT8 code[4]; unsigned n, size; UINT64 keep; } c[] = {
        {{0x8a, 0x07}, 2, 1, 0xffffffffffffff00ull},   /* mov al, [rdi] */
        {{0x66, 0x8b, 0x07}, 3, 2, 0xffffffffffff0000ull}, /* mov ax, [rdi] */
        {{0x8b, 0x07}, 2, 4, 0},                       /* mov eax, [rdi] */
        {{0x48, 0x8b, 0x07}, 3, 8, 0},                 /* mov rax, [rdi] */
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        reset(MODE_LONG64);
        set_reg(WHvX64RegisterRax, ~0ull);
        set_reg(WHvX64RegisterRdi, DEV_BASE + 0x100);
        if (!mmio_n(c[i].code, c[i].n, c[i].n, DEV_BASE + 0x100, 0)) return 0;
        OK();
        CHECK_EQ(vcpu->nmem, 1);
        CHECK_EQ(vcpu->mem_log[0].size, c[i].size);
        CHECK_EQ(vcpu->mem_log[0].write, 0);
        CHECK_EQ(reg(WHvX64RegisterRax), c[i].keep | dev64(0x100, c[i].size));
        CHECK(set_only(WHvX64RegisterRax, WHvX64RegisterRip));
    }
    return 1;
}

static int mmio_movzx_movsx(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->dev[0] = 0x80;
    vcpu->dev[1] = 0xff;
    MMIO(DEV_BASE, 0, 0x0f, 0xb6, 0x07);                    /* movzx eax, byte [rdi] */
    OK();
    CHECK_EQ(reg(WHvX64RegisterRax), 0x80);
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->dev[0] = 0x80;
    vcpu->dev[1] = 0xff;
    MMIO(DEV_BASE, 0, 0x48, 0x0f, 0xbf, 0x07);              /* movsx rax, word [rdi] */
    OK();
    CHECK_EQ(reg(WHvX64RegisterRax), 0xffffffffffffff80ull);
    return 1;
}

static int mmio_store_immediate(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE + 8);
    MMIO(DEV_BASE + 8, 1, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12);   /* mov dword [rdi], 0x12345678 */
    OK();
    CHECK_EQ(vcpu->gets, 1);
    CHECK(!got_name(WHvX64RegisterRax));
    CHECK_EQ(vcpu->mem_log[0].data, 0x12345678);
    CHECK_EQ(dev64(8, 4), 0x12345678);
    return 1;
}

static int mmio_moffs(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0xcafef00d);
    /* mov [0xfee00010], eax with a 64-bit absolute address */
    MMIO(DEV_BASE + 0x10, 1, 0xa3, 0x10, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00);
    OK();
    CHECK_EQ(vcpu->mem_log[0].addr, DEV_BASE + 0x10);
    CHECK_EQ(vcpu->mem_log[0].data, 0xcafef00d);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1009);
    return 1;
}

static int mmio_add_rmw(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 1);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    memset(vcpu->dev, 0xff, 4);
    MMIO(DEV_BASE, 1, 0x01, 0x07);                      /* add [rdi], eax */
    OK();
    CHECK_EQ(vcpu->nmem, 2);
    CHECK_EQ(vcpu->mem_log[0].write, 0);
    CHECK_EQ(vcpu->mem_log[1].write, 1);
    CHECK_EQ(vcpu->mem_log[1].data, 0);
    CHECK_EQ(reg(WHvX64RegisterRflags) & 0x8d5, 0x55);  /* CF PF AF ZF */
    CHECK(set_only(WHvX64RegisterRflags, WHvX64RegisterRip));
    return 1;
}

static int mmio_or_and_imm(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->dev[0] = 0x0f;
    MMIO(DEV_BASE, 1, 0x80, 0x0f, 0xf0);                /* or byte [rdi], 0xf0 */
    OK();
    CHECK_EQ(vcpu->dev[0], 0xff);
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->dev[0] = 0x0f;
    MMIO(DEV_BASE, 1, 0x80, 0x27, 0xf0);                /* and byte [rdi], 0xf0 */
    OK();
    CHECK_EQ(vcpu->dev[0], 0x00);
    CHECK(reg(WHvX64RegisterRflags) & 0x40);            /* ZF */
    return 1;
}

static int mmio_test_cmp(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->dev[0] = 0x01;
    MMIO(DEV_BASE, 0, 0xf6, 0x07, 0x01);                /* test byte [rdi], 1 */
    OK();
    CHECK_EQ(vcpu->nmem, 1);
    CHECK_EQ(reg(WHvX64RegisterRflags) & 0x40, 0);
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    set_reg(WHvX64RegisterRax, dev64(0, 4));
    MMIO(DEV_BASE, 0, 0x39, 0x07);                      /* cmp [rdi], eax */
    OK();
    CHECK(reg(WHvX64RegisterRflags) & 0x40);
    CHECK_EQ(vcpu->nmem, 1);
    return 1;
}

static int mmio_xchg(void)
{
    UINT64 old;
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE + 0x20);
    set_reg(WHvX64RegisterRax, 0x11223344);
    old = dev64(0x20, 4);
    MMIO(DEV_BASE + 0x20, 1, 0x87, 0x07);               /* xchg [rdi], eax */
    OK();
    CHECK_EQ(reg(WHvX64RegisterRax), old);
    CHECK_EQ(dev64(0x20, 4), 0x11223344);
    return 1;
}

/* String MMIO: documented outcome as for string port I/O. */
static int mmio_movs_stos(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRsi, DEV_BASE);
    set_reg(WHvX64RegisterRdi, 0x5000);
    MMIO(DEV_BASE, 0, 0xa5);                            /* movsd */
    CHECK_EQ(last_hr, S_OK);
    if (last_status == 1) {
        CHECK_EQ(memcmp(vcpu->ram + 0x5000, vcpu->dev, 4), 0);
        CHECK_EQ(reg(WHvX64RegisterRsi), DEV_BASE + 4);
        CHECK_EQ(reg(WHvX64RegisterRdi), 0x5004);
    } else {
        note = " (movs declined: InternalEmulationFailure, nothing changed)";
        CHECK_EQ(last_status, 2);
        CHECK_EQ(vcpu->nmem, 0);
    }
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE + 0x80);
    set_reg(WHvX64RegisterRax, 0xab);
    set_reg(WHvX64RegisterRcx, 4);
    MMIO(DEV_BASE + 0x80, 1, 0xf3, 0xaa);               /* rep stosb */
    CHECK_EQ(last_hr, S_OK);
    if (last_status == 1) {
        CHECK_EQ(dev64(0x80, 4), 0xababababull);
        CHECK_EQ(reg(WHvX64RegisterRcx), 0);
    } else {
        note = " (rep stos declined: InternalEmulationFailure, nothing changed)";
        CHECK_EQ(last_status, 2);
        CHECK_EQ(vcpu->nmem, 0);
    }
    return 1;
}

/* ---- page crossing ---------------------------------------------------------- */

static int page_crossing_write(void)
{
    reset(MODE_LONG64);
    map_page(0x7000, DEV_BASE + 0x3000);
    map_page(0x8000, DEV_BASE + 0x5000);               /* not contiguous */
    set_reg(WHvX64RegisterRdi, 0x7ffe);
    set_reg(WHvX64RegisterRax, 0x8877665544332211ull);
    MMIO(DEV_BASE + 0x3ffe, 1, 0x48, 0x89, 0x07);       /* mov [rdi], rax */
    OK();
    CHECK_EQ(vcpu->nmem, 2);
    CHECK_EQ(vcpu->mem_log[0].addr, DEV_BASE + 0x3ffe);
    CHECK_EQ(vcpu->mem_log[0].size, 2);
    CHECK_EQ(vcpu->mem_log[0].data, 0x2211);
    CHECK_EQ(vcpu->mem_log[1].addr, DEV_BASE + 0x5000);
    CHECK_EQ(vcpu->mem_log[1].size, 6);
    CHECK_EQ(vcpu->mem_log[1].data, 0x887766554433ull);
    CHECK_EQ(vcpu->translates, 2);
    CHECK(vcpu->translate_flags[0] & WHvTranslateGvaFlagValidateWrite);
    return 1;
}

static int page_crossing_read(void)
{
    reset(MODE_LONG64);
    map_page(0x7000, DEV_BASE + 0x3000);
    map_page(0x8000, DEV_BASE + 0x5000);
    set_reg(WHvX64RegisterRdi, 0x7ffd);
    MMIO(DEV_BASE + 0x3ffd, 0, 0x8b, 0x07);             /* mov eax, [rdi] */
    OK();
    CHECK_EQ(vcpu->nmem, 2);
    CHECK_EQ(vcpu->mem_log[0].size, 3);
    CHECK_EQ(vcpu->mem_log[1].size, 1);
    CHECK_EQ(reg(WHvX64RegisterRax), dev64(0x3ffd, 3) | dev64(0x5000, 1) << 24);
    return 1;
}

/* ---- modes ------------------------------------------------------------------ */

static int real_mode_mmio(void)
{
    reset(MODE_REAL);
    set_seg(WHvX64RegisterDs, 0x20000, 0xffff, 0x2000, 0x93);
    set_reg(WHvX64RegisterRbx, 0x1234);
    set_reg(WHvX64RegisterRsi, 0x100);
    set_reg(WHvX64RegisterRax, 0x77);
    MMIO(0x20000 + 0x1344, 1, 0x88, 0x40, 0x10);        /* mov [bx+si+0x10], al */
    OK();
    CHECK_EQ(vcpu->mem_log[0].addr, 0x21344);
    CHECK_EQ(vcpu->mem_log[0].data, 0x77);
    CHECK(got_name(WHvX64RegisterDs));
    CHECK_EQ(reg(WHvX64RegisterRip), 0x103);
    return 1;
}

static int real_mode_io(void)
{
    reset(MODE_REAL);
    set_reg(WHvX64RegisterRax, 0x1234);
    IO(0x3f8, 2, 1, 0xef);                              /* out dx, ax (16-bit default) */
    OK();
    CHECK_EQ(vcpu->io_log[0].size, 2);
    CHECK_EQ(vcpu->io_log[0].data, 0x1234);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x101);
    return 1;
}

static int prot32_mmio(void)
{
    reset(MODE_PROT32);
    set_seg(WHvX64RegisterDs, 0x10000, 0xffffffff, 0x10, 0xc093);
    set_reg(WHvX64RegisterRbx, DEV_BASE - 0x10000);
    set_reg(WHvX64RegisterRcx, 0xcafef00d);
    MMIO(DEV_BASE + 4, 1, 0x89, 0x4b, 0x04);            /* mov [ebx+4], ecx */
    OK();
    CHECK_EQ(vcpu->mem_log[0].addr, DEV_BASE + 4);
    CHECK_EQ(vcpu->mem_log[0].data, 0xcafef00d);
    CHECK(got_name(WHvX64RegisterDs));
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1003);
    return 1;
}

static int prot32_word_read(void)
{
    reset(MODE_PROT32);
    set_reg(WHvX64RegisterRbx, DEV_BASE);
    set_reg(WHvX64RegisterRcx, 0xffffffff);
    MMIO(DEV_BASE + 4, 0, 0x66, 0x8b, 0x4b, 0x04);      /* mov cx, [ebx+4] */
    OK();
    CHECK_EQ(reg(WHvX64RegisterRcx), 0xffff0000u | dev64(4, 2));
    return 1;
}

/* ---- missing instruction bytes ------------------------------------------------ */

static int missing_bytes_all(void)
{
    static const UINT8 code[] = {0x89, 0x87, 0xb0, 0, 0, 0};   /* mov [rdi+0xb0], eax */
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    set_reg(WHvX64RegisterRax, 0xabcd);
    put_code(code, sizeof code);
    if (!mmio_n(code, 0, sizeof code, DEV_BASE + 0xb0, 1)) return 0;
    OK();
    CHECK_EQ(vcpu->translate_gvas[0], 0x1000);
    CHECK_EQ(vcpu->translate_flags[0], WHvTranslateGvaFlagValidateExecute);
    CHECK_EQ(vcpu->mem_log[vcpu->nmem - 1].addr, DEV_BASE + 0xb0);
    CHECK_EQ(vcpu->mem_log[vcpu->nmem - 1].data, 0xabcd);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1006);
    return 1;
}

static int missing_bytes_some(void)
{
    static const UINT8 code[] = {0x89, 0x87, 0xb0, 0, 0, 0};
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    put_code(code, sizeof code);
    if (!mmio_n(code, 2, sizeof code, DEV_BASE + 0xb0, 1)) return 0;
    OK();
    CHECK_EQ(vcpu->mem_log[0].addr, 0x1002);            /* the fetch starts after the given bytes */
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1006);
    return 1;
}

static int missing_bytes_across_pages(void)
{
    static const UINT8 code[] = {0x89, 0x87, 0xb0, 0, 0, 0};
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRip, 0x1ffd);
    map_page(0x2000, 0x9000);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    put_code(code, sizeof code);
    if (!mmio_n(code, 0, sizeof code, DEV_BASE + 0xb0, 1)) return 0;
    OK();
    CHECK(vcpu->translates >= 2);
    CHECK_EQ(vcpu->translate_gvas[0], 0x1000);
    CHECK_EQ(vcpu->translate_gvas[1], 0x2000);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x2003);
    return 1;
}

static int missing_bytes_port(void)
{
    static const UINT8 code[] = {0x66, 0xef};
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRax, 0x41);
    put_code(code, sizeof code);
    if (!io_n(code, 0, sizeof code, 0x3f8, 2, 1, 0, 0)) return 0;
    OK();
    CHECK_EQ(vcpu->io_log[0].data, 0x41);
    CHECK_EQ(vcpu->translate_flags[0], WHvTranslateGvaFlagValidateExecute);
    return 1;
}

/* ---- failures ------------------------------------------------------------------ */

static int fail_setup(int fail)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->fail = fail;
    MMIO(DEV_BASE, 1, 0x89, 0x07);                      /* mov [rdi], eax */
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1000);           /* nothing changed */
    return 1;
}

static int io_callback_fails(void)
{
    reset(MODE_LONG64);
    vcpu->fail = FAIL_IO;
    IO(0x60, 1, 0, 0xec);
    FAILS(0x4);
    CHECK_EQ(reg(WHvX64RegisterRip), 0x1000);
    return 1;
}

static int memory_callback_fails(void) { if (!fail_setup(FAIL_MEM)) return 0; FAILS(0x8); return 1; }
static int translate_callback_fails(void) { if (!fail_setup(FAIL_TRANSLATE)) return 0; FAILS(0x10); return 1; }
static int get_callback_fails(void) { if (!fail_setup(FAIL_GET)) return 0; FAILS(0x40); return 1; }

static int set_callback_fails(void)
{
    if (!fail_setup(FAIL_SET)) return 0;
    FAILS(0x80);
    CHECK_EQ(vcpu->sets, 1);
    return 1;
}

static int gpa_not_aligned(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->gpa_skew = 0x10;
    MMIO(DEV_BASE, 1, 0x89, 0x07);
    FAILS(0x20);
    CHECK_EQ(vcpu->nmem, 0);
    return 1;
}

static int interrupt_caused_intercept(void)
{
    reset(MODE_LONG64);
    interruption_pending = 1;
    MMIO(DEV_BASE, 1, 0x89, 0x07);
    FAILS(0x100);
    CHECK_EQ(vcpu->gets + vcpu->sets + vcpu->nmem + vcpu->translates, 0);
    IO(0x80, 1, 1, 0xee);
    FAILS(0x100);
    CHECK_EQ(vcpu->nio, 0);
    return 1;
}

static int page_not_present(void)
{
    reset(MODE_LONG64);
    set_reg(WHvX64RegisterRdi, DEV_BASE);
    vcpu->translate_result = WHvTranslateGvaResultPageNotPresent;
    MMIO(DEV_BASE, 1, 0x89, 0x07);
    FAILS(0x2);
    CHECK_EQ(vcpu->nmem, 0);
    return 1;
}

static int undefined_opcode(void)
{
    reset(MODE_LONG64);
    MMIO(DEV_BASE, 0, 0x0f, 0x0b);                      /* ud2 */
    FAILS(0x2);
    return 1;
}

static int port_length_mismatch(void)
{
    static const UINT8 code[] = {0xee};
    reset(MODE_LONG64);
    if (!io_n(code, 1, 3, 0x80, 1, 1, 0, 0)) return 0;  /* InstructionLength 3, `out dx, al` is 1 */
    FAILS(0x2);
    CHECK_EQ(vcpu->nio, 0);
    return 1;
}

/* ---- bad arguments ---------------------------------------------------------------- */

static int create_bad_arguments(void)
{
    WHV_EMULATOR_CALLBACKS cb = emu_callbacks;
    WHV_EMULATOR_HANDLE h = (WHV_EMULATOR_HANDLE)(uintptr_t)0x5555;
    CHECK_EQ(pCreate(NULL, &h), E_INVALIDARG);
    CHECK(h == NULL);
    CHECK_EQ(pCreate(&cb, NULL), E_INVALIDARG);
    cb.Size = sizeof cb - 1;
    CHECK_EQ(pCreate(&cb, &h), E_INVALIDARG);
    cb.Size = 0;
    CHECK_EQ(pCreate(&cb, &h), E_INVALIDARG);
    cb = emu_callbacks;
    cb.WHvEmulatorTranslateGvaPage = NULL;
    CHECK_EQ(pCreate(&cb, &h), E_INVALIDARG);
    cb = emu_callbacks;
    cb.WHvEmulatorIoPortCallback = NULL;
    CHECK_EQ(pCreate(&cb, &h), E_INVALIDARG);
    CHECK(h == NULL);
    return 1;
}

static int try_bad_arguments(void)
{
    WHV_VP_EXIT_CONTEXT vp;
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;
    WHV_MEMORY_ACCESS_CONTEXT mm;
    WHV_EMULATOR_STATUS st;
    reset(MODE_LONG64);
    vp = vp_context(1);
    memset(&io, 0, sizeof io);
    io.InstructionByteCount = 1;
    io.InstructionBytes[0] = 0xee;
    io.AccessInfo.IsWrite = 1;
    io.AccessInfo.AccessSize = 1;
    memset(&mm, 0, sizeof mm);
    st.AsUINT32 = 0x1234;
    CHECK_EQ(pTryIo(NULL, vcpu, &vp, &io, &st), E_INVALIDARG);
    CHECK_EQ(pTryIo(emulator, vcpu, NULL, &io, &st), E_INVALIDARG);
    CHECK_EQ(pTryIo(emulator, vcpu, &vp, NULL, &st), E_INVALIDARG);
    CHECK_EQ(pTryIo(emulator, vcpu, &vp, &io, NULL), E_INVALIDARG);
    CHECK_EQ(pTryMmio(NULL, vcpu, &vp, &mm, &st), E_INVALIDARG);
    CHECK_EQ(pTryMmio(emulator, vcpu, NULL, &mm, &st), E_INVALIDARG);
    CHECK_EQ(pTryMmio(emulator, vcpu, &vp, NULL, &st), E_INVALIDARG);
    CHECK_EQ(pTryMmio(emulator, vcpu, &vp, &mm, NULL), E_INVALIDARG);
    CHECK_EQ(st.AsUINT32, 0x1234);                      /* untouched on error */
    io.InstructionByteCount = 17;
    CHECK_EQ(pTryIo(emulator, vcpu, &vp, &io, &st), E_INVALIDARG);
    mm.InstructionByteCount = 200;
    CHECK_EQ(pTryMmio(emulator, vcpu, &vp, &mm, &st), E_INVALIDARG);
    io.InstructionByteCount = 1;
    vp.InstructionLength = 0;                           /* a port exit needs its length */
    CHECK_EQ(pTryIo(emulator, vcpu, &vp, &io, &st), E_INVALIDARG);
    /* libwhp's observation on the real DLL: all-zero port context -> E_INVALIDARG */
    memset(&vp, 0, sizeof vp);
    memset(&io, 0, sizeof io);
    CHECK_EQ(pTryIo(emulator, vcpu, &vp, &io, &st), E_INVALIDARG);
    CHECK_EQ(vcpu->nio + vcpu->nmem + vcpu->gets + vcpu->sets, 0);
    CHECK_EQ(st.AsUINT32, 0x1234);
    return 1;
}

static int bad_handles(void)
{
    WHV_EMULATOR_HANDLE h, garbage[4];
    WHV_VP_EXIT_CONTEXT vp;
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;
    WHV_EMULATOR_STATUS st;
    int local;
    reset(MODE_LONG64);
    vp = vp_context(1);
    memset(&io, 0, sizeof io);
    io.InstructionByteCount = 1;
    io.InstructionBytes[0] = 0xee;
    io.AccessInfo.IsWrite = 1;
    io.AccessInfo.AccessSize = 1;
    garbage[0] = (WHV_EMULATOR_HANDLE)(uintptr_t)1;
    garbage[1] = (WHV_EMULATOR_HANDLE)(uintptr_t)0xdeadbeef;
    garbage[2] = (WHV_EMULATOR_HANDLE)&local;
    garbage[3] = (WHV_EMULATOR_HANDLE)(~(uintptr_t)0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(pTryIo(garbage[i], vcpu, &vp, &io, &st), E_INVALIDARG);
        CHECK_EQ(pDestroy(garbage[i]), E_INVALIDARG);
    }
    CHECK_EQ(pDestroy(NULL), E_INVALIDARG);
    /* A destroyed handle, used again and destroyed twice. */
    CHECK_EQ(pCreate(&emu_callbacks, &h), S_OK);
    CHECK_EQ(pTryIo(h, vcpu, &vp, &io, &st), S_OK);
    CHECK_EQ(st.AsUINT32, 1);
    CHECK_EQ(pDestroy(h), S_OK);
    CHECK_EQ(pTryIo(h, vcpu, &vp, &io, &st), E_INVALIDARG);
    CHECK_EQ(pDestroy(h), E_INVALIDARG);
    return 1;
}

static int many_emulators(void)
{
    /* One emulator per virtual processor: 64 at once, each works, each is destroyed once. */
    WHV_EMULATOR_HANDLE hs[64];
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(pCreate(&emu_callbacks, &hs[i]), S_OK);
        for (int j = 0; j < i; j++) CHECK(hs[j] != hs[i]);
    }
    for (int i = 0; i < 64; i++) {
        WHV_EMULATOR_HANDLE saved = emulator;
        emulator = hs[i];
        reset(MODE_LONG64);
        set_reg(WHvX64RegisterRax, (UINT64)i);
        IO(0x80, 1, 1, 0xee);
        emulator = saved;
        OK();
        CHECK_EQ(vcpu->io_log[0].data, (UINT64)i);
    }
    for (int i = 0; i < 64; i++) CHECK_EQ(pDestroy(hs[i]), S_OK);
    return 1;
}

static int zero_mmio_context(void)
{
    /* libwhp's observation on the real DLL: an all-zero memory exit gives S_OK. */
    WHV_VP_EXIT_CONTEXT vp;
    WHV_MEMORY_ACCESS_CONTEXT mm;
    WHV_EMULATOR_STATUS st;
    reset(MODE_REAL);
    memset(&vp, 0, sizeof vp);
    memset(&mm, 0, sizeof mm);
    CHECK_EQ(pTryMmio(emulator, vcpu, &vp, &mm, &st), S_OK);
    return 1;
}

/* ---- the bit fields of this header against the ABI's masks -------------------------- */

static int status_bit_positions(void)
{
    WHV_EMULATOR_STATUS s;
    WHV_X64_VP_EXECUTION_STATE e;
    WHV_X64_IO_PORT_ACCESS_INFO io;
    WHV_MEMORY_ACCESS_INFO m;
    WHV_VP_EXIT_CONTEXT vp;
#define BIT(var, field, mask, as)                                  \
    do {                                                           \
        memset(&var, 0, sizeof var);                               \
        var.field = 1;                                             \
        CHECK_EQ(var.as, mask);                                    \
    } while (0)
    BIT(s, EmulationSuccessful, 0x1, AsUINT32);
    BIT(s, InternalEmulationFailure, 0x2, AsUINT32);
    BIT(s, IoPortCallbackFailed, 0x4, AsUINT32);
    BIT(s, MemoryCallbackFailed, 0x8, AsUINT32);
    BIT(s, TranslateGvaPageCallbackFailed, 0x10, AsUINT32);
    BIT(s, TranslateGvaPageCallbackGpaIsNotAligned, 0x20, AsUINT32);
    BIT(s, GetVirtualProcessorRegistersCallbackFailed, 0x40, AsUINT32);
    BIT(s, SetVirtualProcessorRegistersCallbackFailed, 0x80, AsUINT32);
    BIT(s, InterruptCausedIntercept, 0x100, AsUINT32);
    BIT(s, GuestCannotBeFaulted, 0x200, AsUINT32);
    BIT(e, Cr0Pe, 0x4, AsUINT16);
    BIT(e, EferLma, 0x10, AsUINT16);
    BIT(e, InterruptionPending, 0x40, AsUINT16);
    BIT(e, InterruptShadow, 0x1000, AsUINT16);
    BIT(io, IsWrite, 0x1, AsUINT32);
    BIT(io, StringOp, 0x10, AsUINT32);
    BIT(io, RepPrefix, 0x20, AsUINT32);
    BIT(m, GpaUnmapped, 0x4, AsUINT32);
    BIT(m, GvaValid, 0x8, AsUINT32);
    memset(&vp, 0, sizeof vp);
    vp.Cr8 = 0xf;
    CHECK_EQ(((UINT8 *)&vp)[2], 0xf0);
    return 1;
}

/* ---- main ---------------------------------------------------------------------------- */

struct scenario {
    const char *name;
    int (*run)(void);
};

static const struct scenario scenarios[] = {
    {"out dx, al: no Get, Set of RIP only", out_dx_al},
    {"out dx, ax", out_dx_ax},
    {"out dx, eax", out_dx_eax},
    {"out imm8, al", out_imm8_al},
    {"in al, dx: merges into RAX, no Get", in_al_dx},
    {"in ax, dx", in_ax_dx},
    {"in eax, dx: zero-extends", in_eax_dx},
    {"in al, imm8", in_al_imm8},
    {"outsb", outsb},
    {"outsw", outsw},
    {"outsd", outsd},
    {"rep outsb", rep_outsb},
    {"insb", insb},
    {"rep insw", rep_insw},
    {"rep insd", rep_insd},
    {"MMIO write of 1, 2, 4, 8 bytes", mmio_write_sizes},
    {"MMIO read of 1, 2, 4, 8 bytes", mmio_read_sizes},
    {"MMIO movzx/movsx", mmio_movzx_movsx},
    {"MMIO store immediate", mmio_store_immediate},
    {"MMIO moffs store", mmio_moffs},
    {"MMIO add (read-modify-write)", mmio_add_rmw},
    {"MMIO or/and immediate", mmio_or_and_imm},
    {"MMIO test/cmp", mmio_test_cmp},
    {"MMIO xchg", mmio_xchg},
    {"MMIO movs/rep stos", mmio_movs_stos},
    {"page-crossing write: 2 + 6 bytes", page_crossing_write},
    {"page-crossing read: 3 + 1 bytes", page_crossing_read},
    {"real mode MMIO", real_mode_mmio},
    {"real mode port I/O", real_mode_io},
    {"32-bit protected MMIO with DS base", prot32_mmio},
    {"32-bit protected 16-bit read", prot32_word_read},
    {"missing bytes: none given", missing_bytes_all},
    {"missing bytes: 2 of 6 given", missing_bytes_some},
    {"missing bytes across a page", missing_bytes_across_pages},
    {"missing bytes at a port exit", missing_bytes_port},
    {"IoPort callback fails", io_callback_fails},
    {"Memory callback fails", memory_callback_fails},
    {"TranslateGvaPage callback fails", translate_callback_fails},
    {"Get callback fails", get_callback_fails},
    {"Set callback fails", set_callback_fails},
    {"unaligned GPA from TranslateGvaPage", gpa_not_aligned},
    {"InterruptCausedIntercept", interrupt_caused_intercept},
    {"page not present", page_not_present},
    {"ud2", undefined_opcode},
    {"port exit length mismatch", port_length_mismatch},
    {"Create: NULL and bad arguments", create_bad_arguments},
    {"Try: NULL and bad arguments", try_bad_arguments},
    {"garbage, stale and destroyed handles", bad_handles},
    {"64 emulators at once", many_emulators},
    {"all-zero memory exit", zero_mmio_context},
    {"status and context bit positions", status_bit_positions},
};

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    if (!load_library(argc > 1 ? argv[1] : NULL)) return 2;
    the_ram = calloc(1, RAM_SIZE);
    if (!the_ram) return 2;
    if (pCreate(&emu_callbacks, &emulator) != S_OK || !emulator) {
        fprintf(stderr, "WHvEmulatorCreateEmulator failed\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        failure[0] = 0;
        note = "";
        if (scenarios[i].run()) {
            passed++;
            printf("ok %zu - %s%s\n", i + 1, scenarios[i].name, note);
        } else {
            failed++;
            printf("not ok %zu - %s: %s (hr %#lx, status %#x)\n", i + 1, scenarios[i].name, failure,
                   (unsigned long)last_hr, (unsigned)last_status);
        }
    }
    if (pDestroy(emulator) != S_OK) {
        printf("not ok - WHvEmulatorDestroyEmulator\n");
        failed++;
    }
    free(the_ram);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
