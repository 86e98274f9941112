// A stand-in for libcuda.so.1 with the driver API calls the engine binds, for testing the Java
// bindings (CudaDriver) and the backend's use of them on a machine without a GPU. It is compiled
// against CUDA's own cuda.h, so each function receives its arguments exactly as the real driver's
// prototype declares them: a binding that passed them in another order or width would read wrong
// values here too. One device, "sm_90", whose memory is aligned host memory (capacity from
// ADVINTERP_FAKE_CUDA_BYTES, default 1 GiB); kernel launches run the project's kernels on the CPU
// through host_launch.cpp.
//
// Asynchronous calls are asynchronous here too, as far as a caller can tell: kernel launches,
// device-to-device copies, fills, and copies from or to page-locked host memory (cuMemAllocHost)
// are queued on their stream and run only when the caller synchronises (cuStreamSynchronize,
// cuEventSynchronize, or a call that synchronises implicitly: cuMemFree, cuMemFreeHost,
// cuModuleUnload, cuStreamDestroy, cuDevicePrimaryCtxRelease), in the order they were queued.
// Copies from or to pageable memory run at once after the stream's queued work, as the real driver
// stages them. So a caller that reads a result before synchronising reads stale memory, as on a
// GPU. Launch arguments are copied when queued, as the driver does; a kernel that fails while it
// runs is reported by the synchronising call, as a fault on a GPU is.
//
// A failure of queued work is reported once, by the next call that synchronises (explicitly or
// implicitly); a real fault would also leave the context unusable, which is not modelled.
//
// It checks what the real driver would refuse, and fails with the driver's error codes: a call
// before cuInit, without a current context on the calling thread, with a range outside the
// allocated blocks, with a destroyed stream, an unknown kernel name, a function whose module was
// unloaded, a launch shape the kernels cannot take. Each block is followed by guard bytes that are
// checked after every launch and at cuMemFree: a kernel that wrote past the end of a block fails
// with CUDA_ERROR_LAUNCH_FAILED (a GPU would fault or corrupt a neighbour). adv_fake_cuda_state() reports counters for the tests (live blocks, streams,
// modules, context references).

#include <cuda.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

extern "C" int adv_host_launch(const char* name, unsigned grid, unsigned block, void** params);
extern "C" int adv_host_has(const char* name);
extern "C" const char* adv_host_error(void);
extern "C" int adv_host_check(const char* name, unsigned grid, unsigned block);
extern "C" void** adv_host_capture(const char* name, void** params);
extern "C" void adv_host_release(const char* name, void** captured);

struct CUctx_st {
    int device;
};
struct CUstream_st {
    unsigned flags;
};
struct CUmod_st {
    bool ptx;
};
struct CUfunc_st {
    std::string name;
    CUmodule module;
};
struct CUevent_st {
    unsigned flags;
};

namespace {

std::mutex lock;
bool initialised = false;
CUctx_st primary{0};
int primaryRefs = 0;
thread_local CUcontext current = nullptr;
std::map<CUdeviceptr, size_t> blocks;
size_t used = 0;
std::map<const char*, size_t> hostBlocks;
std::set<CUstream> streams;
std::set<CUmodule> modules;
std::set<CUevent> events;
std::map<std::pair<CUmodule, std::string>, CUfunc_st*> functions;
char lastLaunchError[512];
constexpr size_t kGuard = 256;
constexpr unsigned char kGuardByte = 0xa5;

// Work queued per stream (nullptr: the default stream), and the first failure of queued work,
// reported by the next synchronising call.
std::map<CUstream, std::deque<std::function<CUresult()>>> queues;
CUresult pendingFailure = CUDA_SUCCESS;

void drain(CUstream s) {
    auto it = queues.find(s);
    if (it == queues.end()) return;
    while (!it->second.empty()) {
        std::function<CUresult()> op = std::move(it->second.front());
        it->second.pop_front();
        const CUresult r = op();
        if (r != CUDA_SUCCESS && pendingFailure == CUDA_SUCCESS) pendingFailure = r;
    }
}

void drainAll() {
    for (auto& q : queues) drain(q.first);
}

// The failure of queued work since the last report, once.
CUresult takeFailure() {
    const CUresult r = pendingFailure;
    pendingFailure = CUDA_SUCCESS;
    return r;
}

}  // namespace

// For fake_cublas.cpp, built into the same library: queues work on a stream of this driver.
void adv_fake_enqueue(CUstream s, std::function<int()> op) {
    std::lock_guard<std::mutex> g(lock);
    queues[s].push_back([op] { return op() == 0 ? CUDA_SUCCESS : CUDA_ERROR_LAUNCH_FAILED; });
}

namespace {

size_t queuedOps() {
    size_t n = 0;
    for (const auto& q : queues) n += q.second.size();
    return n;
}

// Whether [p, p + bytes) lies in page-locked memory from cuMemAllocHost.
bool pinned(const void* p, size_t bytes) {
    const char* c = static_cast<const char*>(p);
    auto it = hostBlocks.upper_bound(c);
    if (it == hostBlocks.begin()) return false;
    --it;
    return c >= it->first && c + bytes <= it->first + it->second;
}

bool guardBroken(CUdeviceptr block, size_t bytes) {
    const unsigned char* g = (const unsigned char*)(block + bytes);
    for (size_t i = 0; i < kGuard; i++) {
        if (g[i] != kGuardByte) return true;
    }
    return false;
}

// The first block whose guard bytes were overwritten, or 0.
CUdeviceptr overrun() {
    for (const auto& b : blocks) {
        if (guardBroken(b.first, b.second)) return b.first;
    }
    return 0;
}

size_t capacity() {
    const char* v = std::getenv("ADVINTERP_FAKE_CUDA_BYTES");
    return v != nullptr ? std::strtoull(v, nullptr, 10) : (size_t(1) << 30);
}

// The checks every call after cuInit makes: initialised, and a context current on this thread.
CUresult ready() {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (current != &primary || primaryRefs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    return CUDA_SUCCESS;
}

bool inside(CUdeviceptr p, size_t bytes) {
    auto it = blocks.upper_bound(p);
    if (it == blocks.begin()) return false;
    --it;
    return p >= it->first && p + bytes <= it->first + it->second;
}

bool streamOk(CUstream s) {
    return s == nullptr || streams.count(s) == 1;
}

}  // namespace

extern "C" {

/** Counters for the tests: live device blocks, their bytes, streams, modules, events, context references, pinned buffers, queued operations. */
void adv_fake_cuda_state(long long* out) {
    std::lock_guard<std::mutex> g(lock);
    out[0] = (long long)blocks.size();
    out[1] = (long long)used;
    out[2] = (long long)streams.size();
    out[3] = (long long)modules.size();
    out[4] = (long long)events.size();
    out[5] = primaryRefs;
    out[6] = (long long)hostBlocks.size();
    out[7] = (long long)queuedOps();
}

const char* adv_fake_cuda_last_launch_error(void) {
    return lastLaunchError;
}

CUresult cuGetErrorName(CUresult error, const char** pStr) {
    switch (error) {
        case CUDA_SUCCESS: *pStr = "CUDA_SUCCESS"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_VALUE: *pStr = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS;
        case CUDA_ERROR_OUT_OF_MEMORY: *pStr = "CUDA_ERROR_OUT_OF_MEMORY"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_INITIALIZED: *pStr = "CUDA_ERROR_NOT_INITIALIZED"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_DEVICE: *pStr = "CUDA_ERROR_INVALID_DEVICE"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_IMAGE: *pStr = "CUDA_ERROR_INVALID_IMAGE"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_CONTEXT: *pStr = "CUDA_ERROR_INVALID_CONTEXT"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_HANDLE: *pStr = "CUDA_ERROR_INVALID_HANDLE"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *pStr = "CUDA_ERROR_NOT_FOUND"; return CUDA_SUCCESS;
        case CUDA_ERROR_LAUNCH_FAILED: *pStr = "CUDA_ERROR_LAUNCH_FAILED"; return CUDA_SUCCESS;
        case CUDA_ERROR_ILLEGAL_ADDRESS: *pStr = "CUDA_ERROR_ILLEGAL_ADDRESS"; return CUDA_SUCCESS;
        default: *pStr = nullptr; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuGetErrorString(CUresult error, const char** pStr) {
    if (error == CUDA_ERROR_LAUNCH_FAILED) {
        *pStr = lastLaunchError;
        return CUDA_SUCCESS;
    }
    return cuGetErrorName(error, pStr);
}

CUresult cuInit(unsigned int Flags) {
    if (Flags != 0) return CUDA_ERROR_INVALID_VALUE;
    initialised = true;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int* driverVersion) {
    if (driverVersion == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *driverVersion = 13000;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (size_t)len, "%s", "host emulation (fake libcuda)");
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t* bytes, CUdevice dev) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = capacity();
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    switch (attrib) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *pi = 9; return CUDA_SUCCESS;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *pi = 0; return CUDA_SUCCESS;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *pi = 1; return CUDA_SUCCESS;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> g(lock);
    primaryRefs++;
    *pctx = &primary;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> g(lock);
    if (primaryRefs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    drainAll();
    primaryRefs--;
    return takeFailure();
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != &primary) return CUDA_ERROR_INVALID_CONTEXT;
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr* dptr, size_t bytesize) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (bytesize == 0) return CUDA_ERROR_INVALID_VALUE;
    if (used + bytesize > capacity()) return CUDA_ERROR_OUT_OF_MEMORY;
    const size_t rounded = (bytesize + kGuard + 255) & ~size_t(255);
    void* p = std::aligned_alloc(256, rounded);
    if (p == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    std::memset((char*)p + bytesize, kGuardByte, rounded - bytesize);
    *dptr = (CUdeviceptr)p;
    blocks[*dptr] = bytesize;
    used += bytesize;
    return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr dptr) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    drainAll();
    auto it = blocks.find(dptr);
    if (it == blocks.end()) return CUDA_ERROR_INVALID_VALUE;
    const bool overwritten = guardBroken(it->first, it->second);
    used -= it->second;
    blocks.erase(it);
    std::free((void*)dptr);
    // released either way; a broken guard is reported as the fault it would have been
    if (overwritten) return CUDA_ERROR_ILLEGAL_ADDRESS;
    return takeFailure();
}

CUresult cuMemAllocHost(void** pp, size_t bytesize) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (bytesize == 0) return CUDA_ERROR_INVALID_VALUE;
    *pp = std::aligned_alloc(4096, (bytesize + 4095) & ~size_t(4095));
    if (*pp == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    hostBlocks[static_cast<const char*>(*pp)] = bytesize;
    return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void* p) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    drainAll();
    if (hostBlocks.erase(static_cast<const char*>(p)) != 1) return CUDA_ERROR_INVALID_VALUE;
    std::free(p);
    return takeFailure();
}

CUresult cuMemGetInfo(size_t* free, size_t* total) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    *free = capacity() - used;
    *total = capacity();
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount, CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    if (!inside(dstDevice, ByteCount) || srcHost == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (pinned(srcHost, ByteCount)) {
        // read when it runs: the caller must leave the buffer alone until it has synchronised
        queues[hStream].push_back([=] {
            std::memcpy((void*)dstDevice, srcHost, ByteCount);
            return CUDA_SUCCESS;
        });
        return CUDA_SUCCESS;
    }
    drain(hStream);
    std::memcpy((void*)dstDevice, srcHost, ByteCount);
    return takeFailure();
}

CUresult cuMemcpyDtoHAsync(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    if (!inside(srcDevice, ByteCount) || dstHost == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (pinned(dstHost, ByteCount)) {
        // the data arrives when it runs: the caller must synchronise before reading
        queues[hStream].push_back([=] {
            std::memcpy(dstHost, (const void*)srcDevice, ByteCount);
            return CUDA_SUCCESS;
        });
        return CUDA_SUCCESS;
    }
    drain(hStream);
    std::memcpy(dstHost, (const void*)srcDevice, ByteCount);
    return takeFailure();
}

CUresult cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    if (!inside(dstDevice, ByteCount) || !inside(srcDevice, ByteCount)) return CUDA_ERROR_INVALID_VALUE;
    queues[hStream].push_back([=] {
        std::memmove((void*)dstDevice, (const void*)srcDevice, ByteCount);
        return CUDA_SUCCESS;
    });
    return CUDA_SUCCESS;
}

CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    if ((dstDevice & 3) != 0 || !inside(dstDevice, N * 4)) return CUDA_ERROR_INVALID_VALUE;
    queues[hStream].push_back([=] {
        unsigned int* p = (unsigned int*)dstDevice;
        for (size_t i = 0; i < N; i++) p[i] = ui;
        return CUDA_SUCCESS;
    });
    return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream* phStream, unsigned int Flags) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (Flags > 1) return CUDA_ERROR_INVALID_VALUE;
    *phStream = new CUstream_st{Flags};
    streams.insert(*phStream);
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    drain(hStream);
    return takeFailure();
}

CUresult cuStreamDestroy(CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (streams.erase(hStream) != 1) return CUDA_ERROR_INVALID_HANDLE;
    // the work already queued still runs
    drain(hStream);
    queues.erase(hStream);
    delete hStream;
    return takeFailure();
}

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char* b = (const unsigned char*)image;
    const bool elf = b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
    // PTX is text and must be NUL-terminated; a short scan for its header is enough here
    const bool ptx = !elf && std::strstr((const char*)image, ".version") != nullptr;
    if (!elf && !ptx) return CUDA_ERROR_INVALID_IMAGE;
    *module = new CUmod_st{ptx};
    modules.insert(*module);
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule hmod) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (modules.count(hmod) != 1) return CUDA_ERROR_INVALID_HANDLE;
    drainAll();
    modules.erase(hmod);
    for (auto it = functions.begin(); it != functions.end();) {
        if (it->first.first == hmod) {
            delete it->second;
            it = functions.erase(it);
        } else {
            ++it;
        }
    }
    delete hmod;
    return takeFailure();
}

CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (modules.count(hmod) != 1) return CUDA_ERROR_INVALID_HANDLE;
    if (!adv_host_has(name)) return CUDA_ERROR_NOT_FOUND;
    CUfunc_st*& f = functions[{hmod, name}];
    if (f == nullptr) f = new CUfunc_st{name, hmod};
    *hfunc = f;
    return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                        unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                        unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (!streamOk(hStream)) return CUDA_ERROR_INVALID_HANDLE;
    if (f == nullptr || modules.count(f->module) != 1) return CUDA_ERROR_INVALID_HANDLE;
    if (gridDimY != 1 || gridDimZ != 1 || blockDimY != 1 || blockDimZ != 1 || sharedMemBytes != 0 ||
        extra != nullptr || kernelParams == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    // a launch the kernel cannot take is refused at once, as the driver refuses a bad configuration
    const int check = adv_host_check(f->name.c_str(), gridDimX, blockDimX);
    if (check != 0) {
        std::snprintf(lastLaunchError, sizeof lastLaunchError, "%s", adv_host_error());
        return check == 2 ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_FOUND;
    }
    void** args = adv_host_capture(f->name.c_str(), kernelParams);
    const std::string name = f->name;
    queues[hStream].push_back([=] {
        const int rc = adv_host_launch(name.c_str(), gridDimX, blockDimX, args);
        adv_host_release(name.c_str(), args);
        // the message describes the first failure since the last report, not a later victim of it
        const bool first = pendingFailure == CUDA_SUCCESS;
        if (rc != 0) {
            if (first) std::snprintf(lastLaunchError, sizeof lastLaunchError, "%s", adv_host_error());
            return CUDA_ERROR_LAUNCH_FAILED;
        }
        const CUdeviceptr bad = overrun();
        if (bad == 0) return CUDA_SUCCESS;
        if (first) {
            std::snprintf(lastLaunchError, sizeof lastLaunchError, "%s wrote past the end of the block at 0x%llx",
                          name.c_str(), (unsigned long long)bad);
        }
        return CUDA_ERROR_LAUNCH_FAILED;
    });
    return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent* phEvent, unsigned int Flags) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    *phEvent = new CUevent_st{Flags};
    events.insert(*phEvent);
    return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent hEvent, CUstream hStream) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    return events.count(hEvent) == 1 && streamOk(hStream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuEventSynchronize(CUevent hEvent) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (events.count(hEvent) != 1) return CUDA_ERROR_INVALID_HANDLE;
    // everything queued anywhere before the event is done when it is
    drainAll();
    return takeFailure();
}

CUresult cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (events.count(hStart) != 1 || events.count(hEnd) != 1) return CUDA_ERROR_INVALID_HANDLE;
    *pMilliseconds = 0.0f;
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent hEvent) {
    std::lock_guard<std::mutex> g(lock);
    if (CUresult r = ready()) return r;
    if (events.erase(hEvent) != 1) return CUDA_ERROR_INVALID_HANDLE;
    delete hEvent;
    return CUDA_SUCCESS;
}

}  // extern "C"
