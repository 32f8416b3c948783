package cuda

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"

	"discover/device"
)

// cuResult is a CUresult; nvrtcResult is an nvrtcResult. Both are C enums.
type (
	cuResult    int32
	nvrtcResult int32
)

// CUDA driver API constants used here (from cuda.h and nvrtc.h).
const (
	cuSuccess          cuResult = 0
	cuErrInvalidValue  cuResult = 1
	cuErrInvalidHandle cuResult = 400
	cuErrNotFound      cuResult = 500

	nvrtcSuccess nvrtcResult = 0

	attrMaxThreadsPerBlock = 1
	attrMaxSharedPerBlock  = 8
	attrMultiprocessors    = 16
	attrCCMajor            = 75
	attrCCMinor            = 76

	streamNonBlocking      = 1
	captureModeThreadLocal = 1
)

// sticky are the faults after which the context is unusable: every later
// call returns the same error, so the process must start over.
var sticky = map[cuResult]bool{
	700: true, // CUDA_ERROR_ILLEGAL_ADDRESS
	702: true, // CUDA_ERROR_LAUNCH_TIMEOUT
	710: true, // CUDA_ERROR_ASSERT
	714: true, // CUDA_ERROR_HARDWARE_STACK_ERROR
	715: true, // CUDA_ERROR_ILLEGAL_INSTRUCTION
	716: true, // CUDA_ERROR_MISALIGNED_ADDRESS
	718: true, // CUDA_ERROR_INVALID_PC
	719: true, // CUDA_ERROR_LAUNCH_FAILED
}

// fatal says whether an error leaves the context unusable. An error met
// while waiting for launched work is treated as a fault unless it plainly
// concerns the call's own arguments.
func fatal(r cuResult, waited bool) bool {
	if sticky[r] {
		return true
	}
	return waited && r != cuErrInvalidValue && r != cuErrInvalidHandle
}

// driver holds the CUDA driver API and NVRTC entry points the package uses.
// load binds them with purego; tests substitute fakes. Handles (CUcontext,
// CUstream, nvrtcProgram, ...) are uintptr, CUdevice is int32, CUdeviceptr
// and size_t are uint64 (64-bit Linux only).
type driver struct {
	cuInit               func(flags uint32) cuResult
	cuDriverGetVersion   func(version *int32) cuResult
	cuDeviceGetCount     func(count *int32) cuResult
	cuDeviceGet          func(dev *int32, ordinal int32) cuResult
	cuDeviceGetName      func(name *byte, size int32, dev int32) cuResult
	cuDeviceGetAttribute func(value *int32, attr int32, dev int32) cuResult
	cuDeviceTotalMem     func(bytes *uint64, dev int32) cuResult
	cuCtxCreate          func(ctx *uintptr, flags uint32, dev int32) cuResult
	cuCtxDestroy         func(ctx uintptr) cuResult
	cuMemGetInfo         func(free, total *uint64) cuResult
	cuMemAlloc           func(ptr *uint64, bytes uint64) cuResult
	cuMemFree            func(ptr uint64) cuResult
	cuMemcpyHtoDAsync    func(dst uint64, src unsafe.Pointer, bytes uint64, stream uintptr) cuResult
	cuMemcpyDtoHAsync    func(dst unsafe.Pointer, src uint64, bytes uint64, stream uintptr) cuResult
	cuMemcpyDtoDAsync    func(dst, src uint64, bytes uint64, stream uintptr) cuResult
	cuMemsetD32Async     func(dst uint64, value uint32, words uint64, stream uintptr) cuResult
	cuStreamCreate       func(stream *uintptr, flags uint32) cuResult
	cuStreamDestroy      func(stream uintptr) cuResult
	cuStreamSynchronize  func(stream uintptr) cuResult
	cuEventCreate        func(event *uintptr, flags uint32) cuResult
	cuEventDestroy       func(event uintptr) cuResult
	cuEventRecord        func(event, stream uintptr) cuResult
	cuEventSynchronize   func(event uintptr) cuResult
	cuEventElapsedTime   func(ms *float32, start, end uintptr) cuResult
	cuModuleLoadData     func(mod *uintptr, image unsafe.Pointer) cuResult
	cuModuleUnload       func(mod uintptr) cuResult
	cuModuleGetFunction  func(fn *uintptr, mod uintptr, name string) cuResult
	cuLaunchKernel       func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params, extra *unsafe.Pointer) cuResult
	cuStreamBeginCapture func(stream uintptr, mode int32) cuResult
	cuStreamEndCapture   func(stream uintptr, graph *uintptr) cuResult
	cuGraphInstantiate   func(exec *uintptr, graph uintptr, flags uint64) cuResult
	cuGraphLaunch        func(exec, stream uintptr) cuResult
	cuGraphExecDestroy   func(exec uintptr) cuResult
	cuGraphDestroy       func(graph uintptr) cuResult
	cuGetErrorName       func(r cuResult, name **byte) cuResult

	nvrtcVersion              func(major, minor *int32) nvrtcResult
	nvrtcGetErrorString       func(r nvrtcResult) string
	nvrtcCreateProgram        func(prog *uintptr, src, name string, numHeaders int32, headers, includeNames **byte) nvrtcResult
	nvrtcAddNameExpression    func(prog uintptr, expr string) nvrtcResult
	nvrtcCompileProgram       func(prog uintptr, numOptions int32, options **byte) nvrtcResult
	nvrtcGetLoweredName       func(prog uintptr, expr string, lowered **byte) nvrtcResult
	nvrtcGetProgramLogSize    func(prog uintptr, size *uint64) nvrtcResult
	nvrtcGetProgramLog        func(prog uintptr, log *byte) nvrtcResult
	nvrtcGetCUBINSize         func(prog uintptr, size *uint64) nvrtcResult
	nvrtcGetCUBIN             func(prog uintptr, cubin *byte) nvrtcResult
	nvrtcGetPTXSize           func(prog uintptr, size *uint64) nvrtcResult
	nvrtcGetPTX               func(prog uintptr, ptx *byte) nvrtcResult
	nvrtcDestroyProgram       func(prog *uintptr) nvrtcResult
	nvrtcGetNumSupportedArchs func(n *int32) nvrtcResult // nil before NVRTC 11.2
	nvrtcGetSupportedArchs    func(archs *int32) nvrtcResult

	nvrtcLib string // the NVRTC library that loaded
}

// nvrtcNames are the NVRTC libraries tried in order: the unversioned name
// (a toolkit install), then the sonames of recent releases (a runtime-only
// install), each also under CUDA_HOME, CUDA_PATH and /usr/local/cuda.
func nvrtcNames() []string {
	names := []string{"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1"}
	all := names
	for _, root := range []string{os.Getenv("CUDA_HOME"), os.Getenv("CUDA_PATH"), "/usr/local/cuda"} {
		if root == "" {
			continue
		}
		for _, n := range names {
			all = append(all, filepath.Join(root, "lib64", n))
		}
	}
	return all
}

var (
	loadOnce sync.Once
	loaded   *driver
	loadErr  error
)

// load binds the entry points once per process.
func load() (*driver, error) {
	loadOnce.Do(func() { loaded, loadErr = bind() })
	return loaded, loadErr
}

func bind() (*driver, error) {
	cu, _, err := dlopen([]string{"libcuda.so.1", "libcuda.so"})
	if err != nil {
		return nil, unavailable("load the CUDA driver library libcuda.so.1: %v (install the NVIDIA driver)", err)
	}
	d, err := bindNVRTC()
	if err != nil {
		return nil, err
	}
	syms := []symbol{
		{&d.cuInit, cu, "cuInit"},
		{&d.cuDriverGetVersion, cu, "cuDriverGetVersion"},
		{&d.cuDeviceGetCount, cu, "cuDeviceGetCount"},
		{&d.cuDeviceGet, cu, "cuDeviceGet"},
		{&d.cuDeviceGetName, cu, "cuDeviceGetName"},
		{&d.cuDeviceGetAttribute, cu, "cuDeviceGetAttribute"},
		{&d.cuDeviceTotalMem, cu, "cuDeviceTotalMem_v2"},
		{&d.cuCtxCreate, cu, "cuCtxCreate_v2"},
		{&d.cuCtxDestroy, cu, "cuCtxDestroy_v2"},
		{&d.cuMemGetInfo, cu, "cuMemGetInfo_v2"},
		{&d.cuMemAlloc, cu, "cuMemAlloc_v2"},
		{&d.cuMemFree, cu, "cuMemFree_v2"},
		{&d.cuMemcpyHtoDAsync, cu, "cuMemcpyHtoDAsync_v2"},
		{&d.cuMemcpyDtoHAsync, cu, "cuMemcpyDtoHAsync_v2"},
		{&d.cuMemcpyDtoDAsync, cu, "cuMemcpyDtoDAsync_v2"},
		{&d.cuMemsetD32Async, cu, "cuMemsetD32Async"},
		{&d.cuStreamCreate, cu, "cuStreamCreate"},
		{&d.cuStreamDestroy, cu, "cuStreamDestroy_v2"},
		{&d.cuStreamSynchronize, cu, "cuStreamSynchronize"},
		{&d.cuEventCreate, cu, "cuEventCreate"},
		{&d.cuEventDestroy, cu, "cuEventDestroy_v2"},
		{&d.cuEventRecord, cu, "cuEventRecord"},
		{&d.cuEventSynchronize, cu, "cuEventSynchronize"},
		{&d.cuEventElapsedTime, cu, "cuEventElapsedTime"},
		{&d.cuModuleLoadData, cu, "cuModuleLoadData"},
		{&d.cuModuleUnload, cu, "cuModuleUnload"},
		{&d.cuModuleGetFunction, cu, "cuModuleGetFunction"},
		{&d.cuLaunchKernel, cu, "cuLaunchKernel"},
		{&d.cuStreamBeginCapture, cu, "cuStreamBeginCapture_v2"},
		{&d.cuStreamEndCapture, cu, "cuStreamEndCapture"},
		// cuGraphInstantiate is this function since CUDA 12 (flags, no log).
		{&d.cuGraphInstantiate, cu, "cuGraphInstantiateWithFlags"},
		{&d.cuGraphLaunch, cu, "cuGraphLaunch"},
		{&d.cuGraphExecDestroy, cu, "cuGraphExecDestroy"},
		{&d.cuGraphDestroy, cu, "cuGraphDestroy"},
		{&d.cuGetErrorName, cu, "cuGetErrorName"},
	}
	if err := register(syms); err != nil {
		return nil, err
	}
	return d, nil
}

// bindNVRTC binds NVRTC alone: enough to compile, with no driver or GPU.
func bindNVRTC() (*driver, error) {
	nvrtc, nvrtcLib, err := dlopen(nvrtcNames())
	if err != nil {
		return nil, unavailable("load NVRTC (libnvrtc.so, .so.13, .so.12, ...): %v (install the CUDA toolkit's NVRTC, or add its lib64 directory to LD_LIBRARY_PATH)", err)
	}
	d := &driver{nvrtcLib: nvrtcLib}
	syms := []symbol{
		{&d.nvrtcVersion, nvrtc, "nvrtcVersion"},
		{&d.nvrtcGetErrorString, nvrtc, "nvrtcGetErrorString"},
		{&d.nvrtcCreateProgram, nvrtc, "nvrtcCreateProgram"},
		{&d.nvrtcAddNameExpression, nvrtc, "nvrtcAddNameExpression"},
		{&d.nvrtcCompileProgram, nvrtc, "nvrtcCompileProgram"},
		{&d.nvrtcGetLoweredName, nvrtc, "nvrtcGetLoweredName"},
		{&d.nvrtcGetProgramLogSize, nvrtc, "nvrtcGetProgramLogSize"},
		{&d.nvrtcGetProgramLog, nvrtc, "nvrtcGetProgramLog"},
		{&d.nvrtcGetCUBINSize, nvrtc, "nvrtcGetCUBINSize"},
		{&d.nvrtcGetCUBIN, nvrtc, "nvrtcGetCUBIN"},
		{&d.nvrtcGetPTXSize, nvrtc, "nvrtcGetPTXSize"},
		{&d.nvrtcGetPTX, nvrtc, "nvrtcGetPTX"},
		{&d.nvrtcDestroyProgram, nvrtc, "nvrtcDestroyProgram"},
	}
	if err := register(syms); err != nil {
		return nil, err
	}
	// Optional: without them, archOption falls back to PTX.
	if n, err := purego.Dlsym(nvrtc, "nvrtcGetNumSupportedArchs"); err == nil {
		if a, err := purego.Dlsym(nvrtc, "nvrtcGetSupportedArchs"); err == nil {
			purego.RegisterFunc(&d.nvrtcGetNumSupportedArchs, n)
			purego.RegisterFunc(&d.nvrtcGetSupportedArchs, a)
		}
	}
	return d, nil
}

// symbol is one entry point to bind into a driver field.
type symbol struct {
	fn   any
	lib  uintptr
	name string
}

func register(syms []symbol) error {
	for _, s := range syms {
		// Dlsym instead of RegisterLibFunc, which panics on a missing symbol.
		addr, err := purego.Dlsym(s.lib, s.name)
		if err != nil {
			return unavailable("%s not found: %v (driver or NVRTC too old)", s.name, err)
		}
		purego.RegisterFunc(s.fn, addr)
	}
	return nil
}

// dlopen opens the first library of names that loads.
func dlopen(names []string) (uintptr, string, error) {
	var first error
	for _, n := range names {
		lib, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return lib, n, nil
		}
		if first == nil {
			first = err
		}
	}
	return 0, "", first
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("cuda: %s: %w", fmt.Sprintf(format, args...), device.ErrUnavailable)
}

// errName is the CUresult's name, e.g. "CUDA_ERROR_ILLEGAL_ADDRESS".
func (c *driver) errName(r cuResult) string {
	var p *byte
	if c.cuGetErrorName(r, &p) != cuSuccess || p == nil {
		return fmt.Sprintf("CUDA_ERROR_%d", r)
	}
	return goString(p)
}

// fail wraps a failed driver call. A sticky fault becomes a fatal
// *device.LaunchError whichever call met it, so the worker restarts.
func (c *driver) fail(op string, r cuResult) error {
	if sticky[r] {
		return c.launchError(op, r, false)
	}
	return fmt.Errorf("cuda: %s: %s (%d)", op, c.errName(r), r)
}

// launchError reports a failed launch, or a failed wait for launched work
// (waited).
func (c *driver) launchError(op string, r cuResult, waited bool) *device.LaunchError {
	return &device.LaunchError{Op: op, Code: int(r), Name: c.errName(r), Fatal: fatal(r, waited)}
}

// nvrtcFail wraps a failed NVRTC call.
func (c *driver) nvrtcFail(op string, r nvrtcResult) error {
	return fmt.Errorf("cuda: %s: %s (%d)", op, c.nvrtcGetErrorString(r), r)
}

// supportedArchs lists the real architectures NVRTC can build for, as
// major*10+minor; nil when NVRTC cannot say.
func (c *driver) supportedArchs() []int {
	if c.nvrtcGetNumSupportedArchs == nil {
		return nil
	}
	var n int32
	if c.nvrtcGetNumSupportedArchs(&n) != nvrtcSuccess || n <= 0 {
		return nil
	}
	raw := make([]int32, n)
	if c.nvrtcGetSupportedArchs(&raw[0]) != nvrtcSuccess {
		return nil
	}
	archs := make([]int, n)
	for i, a := range raw {
		archs[i] = int(a)
	}
	return archs
}

// goString copies a NUL-terminated C string owned by the driver.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
