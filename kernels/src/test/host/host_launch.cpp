// Runs the CUDA kernels of kernels/src/main/cuda on the CPU, for testing the kernels and the
// Java code that launches them on a machine without a GPU.
//
// A launch runs the grid's blocks one after another. Kernels without a barrier run their threads
// as plain calls. Kernels with __syncthreads run each block's threads as fibers (ucontext) of the
// calling thread: every fiber runs until it reaches the barrier or returns; a round ends when all
// have, and the next round resumes them. A round where some threads wait at a barrier while others
// have returned is barrier divergence (undefined on a GPU) and fails the launch.
//
// The threads of a block (of each round, with barriers) run in a shuffled order, so that a kernel
// whose thread reads what another wrote without a barrier between them sees a different
// interleaving from one block to the next, instead of always finding lower-numbered threads done.
// Shared memory is filled with 0xff bytes before each block (see cuda_host.h). The shuffle is a
// fixed pseudo-random sequence (ADVINTERP_HOST_KERNELS_SEED changes it): runs are reproducible.
//
// What this does not model: warps and their lock-step execution, memory ordering between threads
// (each thread's writes are seen at once), the GPU's float rounding of library functions (exp and
// log here are glibc's), and anything about speed.
//
// Interface (C): adv_host_launch(name, grid, block, params) with params laid out as for
// cuLaunchKernel (an array of pointers to the argument values); returns 0 or an error code, and
// adv_host_error() describes the last error.

#include "cuda_host.h"

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <ucontext.h>

// The kernel families, compiled unchanged, as kernels/build.sh compiles them (one unit): the files
// that declare a kernel, listed by kernel_sources.inc, which the engine's tests write from the
// kernels' declarations (KernelTable) before compiling this file.
#include "kernel_sources.inc"

extern "C" {
adv_uint3 threadIdx, blockIdx, blockDim, gridDim;
// bounds of the section holding every __shared__ variable, defined by the linker (weak: absent if
// no kernel kept one)
extern char __start_adv_shared[] __attribute__((weak, visibility("hidden")));
extern char __stop_adv_shared[] __attribute__((weak, visibility("hidden")));
}

namespace {

constexpr unsigned kMaxThreads = ADV_THREADS;
constexpr size_t kStackBytes = 64 * 1024;

using Trampoline = void (*)(void**);

// Calls kernel F with its arguments read from a cuLaunchKernel-style parameter array.
template <typename Sig>
struct Call;

template <typename... A>
struct Call<void (*)(A...)> {
    template <void (*F)(A...), size_t... I>
    static void unpack(void** p, std::index_sequence<I...>) {
        F(*static_cast<std::decay_t<A>*>(p[I])...);
    }

    template <void (*F)(A...)>
    static void run(void** p) {
        unpack<F>(p, std::index_sequence_for<A...>{});
    }

    static constexpr size_t count = sizeof...(A);
    static_assert(((sizeof(std::decay_t<A>) <= 8) && ...), "a kernel parameter wider than 8 bytes");

    // A copy of the argument values behind p, as a parameter array again (what the driver takes at
    // launch time, so that the caller may reuse its buffers at once): one 8-byte slot per value,
    // then the array of pointers to the slots, in one allocation.
    static void** capture(void** p) {
        const size_t sizes[] = {sizeof(std::decay_t<A>)..., 0};
        char* buffer = static_cast<char*>(std::calloc(1, 16 * count + 8));
        void** params = reinterpret_cast<void**>(buffer + 8 * count);
        for (size_t i = 0; i < count; i++) {
            std::memcpy(buffer + 8 * i, p[i], sizes[i]);
            params[i] = buffer + 8 * i;
        }
        return params;
    }

    static void release(void** params) {
        std::free(reinterpret_cast<char*>(params) - 8 * count);
    }
};

struct Entry {
    const char* name;
    Trampoline call;
    bool barriers;  // the kernel calls __syncthreads
    void** (*capture)(void**);
    void (*release)(void**);
};

#define ADV_KERNEL(name, barriers)                                                          \
    {#name, &Call<decltype(&name)>::run<&name>, barriers, &Call<decltype(&name)>::capture, \
     &Call<decltype(&name)>::release}

// One ADV_KERNEL(name, barriers) per declared kernel, written by the engine's tests from the
// kernels' declarations (KernelTable): a kernel is added by declaring it, never here.
const Entry kEntries[] = {
#include "kernel_table.inc"
};

struct Fiber {
    ucontext_t context;
    char* stack;
    bool done;
};

ucontext_t scheduler;
Fiber fibers[kMaxThreads];
unsigned current;
bool fiberMode;
bool barrierOutsideFibers;
Trampoline running;
void** runningParams;
char lastError[512];
unsigned order[kMaxThreads];
unsigned long long shuffleState = 0;

unsigned long long nextRandom() {
    if (shuffleState == 0) {
        const char* seed = std::getenv("ADVINTERP_HOST_KERNELS_SEED");
        shuffleState = seed != nullptr ? std::strtoull(seed, nullptr, 10) : 0x9e3779b97f4a7c15ull;
        if (shuffleState == 0) shuffleState = 1;
    }
    // xorshift64*
    shuffleState ^= shuffleState >> 12;
    shuffleState ^= shuffleState << 25;
    shuffleState ^= shuffleState >> 27;
    return shuffleState * 0x2545f4914f6cdd1dull;
}

// order[0..n) = a fresh permutation of 0..n-1 (Fisher-Yates).
void shuffle(unsigned n) {
    for (unsigned i = 0; i < n; i++) order[i] = i;
    for (unsigned i = n - 1; i > 0; i--) {
        const unsigned j = (unsigned)(nextRandom() % (i + 1));
        const unsigned t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

void poisonShared() {
    if (__start_adv_shared != nullptr) std::memset(__start_adv_shared, 0xff, (size_t)(__stop_adv_shared - __start_adv_shared));
}

void fiberMain() {
    running(runningParams);
    fibers[current].done = true;
    // returning resumes uc_link, the scheduler
}

int fail(int code, const char* format, const char* name, unsigned a, unsigned b) {
    std::snprintf(lastError, sizeof lastError, format, name, a, b);
    return code;
}

// Runs one block as fibers; returns 0, or 4 on barrier divergence.
int runBlockAsFibers(unsigned block) {
    for (unsigned t = 0; t < block; t++) {
        Fiber& f = fibers[t];
        if (f.stack == nullptr) f.stack = static_cast<char*>(std::malloc(kStackBytes));
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = f.stack;
        f.context.uc_stack.ss_size = kStackBytes;
        f.context.uc_link = &scheduler;
        makecontext(&f.context, fiberMain, 0);
        f.done = false;
    }
    unsigned finished = 0;
    while (finished < block) {
        unsigned waiting = 0;
        shuffle(block);
        for (unsigned i = 0; i < block; i++) {
            const unsigned t = order[i];
            if (fibers[t].done) continue;
            current = t;
            threadIdx = adv_uint3{t, 0, 0};
            swapcontext(&scheduler, &fibers[t].context);
            if (fibers[t].done) {
                finished++;
            } else {
                waiting++;
            }
        }
        if (waiting > 0 && finished > 0) return 4;
    }
    return 0;
}

}  // namespace

extern "C" void adv_host_syncthreads(void) {
    if (!fiberMode) {
        barrierOutsideFibers = true;
        return;
    }
    swapcontext(&fibers[current].context, &scheduler);
}

extern "C" const char* adv_host_error(void) {
    return lastError;
}

/** 1 when the harness knows kernel `name`. */
extern "C" int adv_host_has(const char* name) {
    for (const Entry& e : kEntries) {
        if (std::strcmp(e.name, name) == 0) return 1;
    }
    return 0;
}

namespace {
const Entry* find(const char* name) {
    for (const Entry& e : kEntries) {
        if (std::strcmp(e.name, name) == 0) return &e;
    }
    return nullptr;
}
}  // namespace

/** What adv_host_launch would refuse before running anything: 0, 1 (unknown kernel) or 2 (bad shape). */
extern "C" int adv_host_check(const char* name, unsigned grid, unsigned block) {
    if (find(name) == nullptr) return fail(1, "no kernel named %s (grid %u, block %u)", name, grid, block);
    if (grid == 0 || block == 0 || block > kMaxThreads) {
        return fail(2, "%s: launch of %u blocks of %u threads is invalid", name, grid, block);
    }
    return 0;
}

/** A copy of kernel `name`'s argument values (see Call::capture), or NULL for an unknown kernel. */
extern "C" void** adv_host_capture(const char* name, void** params) {
    const Entry* e = find(name);
    return e == nullptr ? nullptr : e->capture(params);
}

extern "C" void adv_host_release(const char* name, void** captured) {
    const Entry* e = find(name);
    if (e != nullptr && captured != nullptr) e->release(captured);
}

/**
 * Runs kernel `name` over `grid` blocks of `block` threads. Returns 0; 1 for an unknown kernel;
 * 2 for a bad launch shape; 3 when a kernel not marked as using barriers called __syncthreads;
 * 4 for barrier divergence.
 */
extern "C" int adv_host_launch(const char* name, unsigned grid, unsigned block, void** params) {
    if (int rc = adv_host_check(name, grid, block)) return rc;
    const Entry* entry = find(name);
    gridDim = adv_uint3{grid, 1, 1};
    blockDim = adv_uint3{block, 1, 1};
    running = entry->call;
    runningParams = params;
    fiberMode = entry->barriers;
    barrierOutsideFibers = false;
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = adv_uint3{b, 0, 0};
        if (fiberMode) {
            // only the kernels with barriers use shared memory
            poisonShared();
            if (runBlockAsFibers(block) != 0) {
                return fail(4, "%s: barrier divergence in block %u of %u", name, b, grid);
            }
        } else {
            shuffle(block);
            for (unsigned i = 0; i < block; i++) {
                threadIdx = adv_uint3{order[i], 0, 0};
                entry->call(params);
            }
            if (barrierOutsideFibers) {
                return fail(3, "%s calls __syncthreads but is not marked as using barriers (block %u of %u)", name, b, grid);
            }
        }
    }
    return 0;
}
