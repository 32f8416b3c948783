package opencl

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"

	"discover/device"
)

// installHint is appended to every "OpenCL unavailable" error.
const installHint = "install an OpenCL driver, e.g. PoCL for the CPU: apt-get install pocl-opencl-icd ocl-icd-libopencl1"

// OpenCL constants used here (from CL/cl.h).
const (
	clSuccess             = 0
	clDeviceNotFound      = -1
	clBuildProgramFailure = -11
	clInvalidKernelName   = -46
	clInvalidKernelArgs   = -52
	clPlatformNotFoundKHR = -1001

	clDeviceTypeAll         = 0xFFFFFFFF
	clQueueProfilingEnable  = 1 << 1
	clMemReadWrite          = 1 << 0
	clTrue                  = 1
	clPlatformName          = 0x0902
	clDeviceMaxComputeUnits = 0x1002
	clDeviceMaxWorkGroup    = 0x1004
	clDeviceMaxMemAlloc     = 0x1010
	clDeviceGlobalMemSize   = 0x101F
	clDeviceLocalMemSize    = 0x1023
	clDeviceName            = 0x102B
	clDriverVersion         = 0x102D
	clProgramBuildLog       = 0x1183
	clKernelNumArgs         = 0x1191
	clEventExecStatus       = 0x11D3
	clProfilingStart        = 0x1282
	clProfilingEnd          = 0x1283
)

// Entry points of libOpenCL.so.1, bound by load. Handles (cl_platform_id,
// cl_mem, ...) are uintptr; size_t is uintptr; cl_int is int32.
var (
	clGetPlatformIDs          func(num uint32, platforms *uintptr, numPlatforms *uint32) int32
	clGetPlatformInfo         func(platform uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clGetDeviceIDs            func(platform uintptr, typ uint64, num uint32, devices *uintptr, numDevices *uint32) int32
	clGetDeviceInfo           func(dev uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clCreateContext           func(props unsafe.Pointer, num uint32, devices *uintptr, notify, user uintptr, errcode *int32) uintptr
	clCreateCommandQueue      func(ctx, dev uintptr, props uint64, errcode *int32) uintptr
	clCreateBuffer            func(ctx uintptr, flags uint64, size uintptr, host unsafe.Pointer, errcode *int32) uintptr
	clEnqueueWriteBuffer      func(q, mem uintptr, blocking uint32, offset, size uintptr, ptr unsafe.Pointer, nwait uint32, wait unsafe.Pointer, ev *uintptr) int32
	clEnqueueReadBuffer       func(q, mem uintptr, blocking uint32, offset, size uintptr, ptr unsafe.Pointer, nwait uint32, wait unsafe.Pointer, ev *uintptr) int32
	clEnqueueCopyBuffer       func(q, src, dst uintptr, srcOffset, dstOffset, size uintptr, nwait uint32, wait unsafe.Pointer, ev *uintptr) int32
	clEnqueueFillBuffer       func(q, mem uintptr, pattern unsafe.Pointer, patternSize, offset, size uintptr, nwait uint32, wait unsafe.Pointer, ev *uintptr) int32
	clCreateProgramWithSource func(ctx uintptr, count uint32, sources **byte, lengths *uintptr, errcode *int32) uintptr
	clBuildProgram            func(prog uintptr, num uint32, devices *uintptr, options *byte, notify, user uintptr) int32
	clGetProgramBuildInfo     func(prog, dev uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clCreateKernel            func(prog uintptr, name *byte, errcode *int32) uintptr
	clGetKernelInfo           func(k uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clSetKernelArg            func(k uintptr, index uint32, size uintptr, value unsafe.Pointer) int32
	clEnqueueNDRangeKernel    func(q, k uintptr, dims uint32, offset, global, local *uintptr, nwait uint32, wait unsafe.Pointer, ev *uintptr) int32
	clFinish                  func(q uintptr) int32
	clGetEventInfo            func(ev uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clGetEventProfilingInfo   func(ev uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32
	clReleaseEvent            func(ev uintptr) int32
	clReleaseKernel           func(k uintptr) int32
	clReleaseProgram          func(prog uintptr) int32
	clReleaseMemObject        func(mem uintptr) int32
	clReleaseCommandQueue     func(q uintptr) int32
	clReleaseContext          func(ctx uintptr) int32
)

var (
	loadOnce sync.Once
	loadErr  error
)

// load binds the entry points once per process.
func load() error {
	loadOnce.Do(func() { loadErr = bind() })
	return loadErr
}

func bind() error {
	lib, err := purego.Dlopen("libOpenCL.so.1", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return unavailable("load libOpenCL.so.1: %v", err)
	}
	syms := []struct {
		fn   any
		name string
	}{
		{&clGetPlatformIDs, "clGetPlatformIDs"},
		{&clGetPlatformInfo, "clGetPlatformInfo"},
		{&clGetDeviceIDs, "clGetDeviceIDs"},
		{&clGetDeviceInfo, "clGetDeviceInfo"},
		{&clCreateContext, "clCreateContext"},
		{&clCreateCommandQueue, "clCreateCommandQueue"},
		{&clCreateBuffer, "clCreateBuffer"},
		{&clEnqueueWriteBuffer, "clEnqueueWriteBuffer"},
		{&clEnqueueReadBuffer, "clEnqueueReadBuffer"},
		{&clEnqueueCopyBuffer, "clEnqueueCopyBuffer"},
		{&clEnqueueFillBuffer, "clEnqueueFillBuffer"},
		{&clCreateProgramWithSource, "clCreateProgramWithSource"},
		{&clBuildProgram, "clBuildProgram"},
		{&clGetProgramBuildInfo, "clGetProgramBuildInfo"},
		{&clCreateKernel, "clCreateKernel"},
		{&clGetKernelInfo, "clGetKernelInfo"},
		{&clSetKernelArg, "clSetKernelArg"},
		{&clEnqueueNDRangeKernel, "clEnqueueNDRangeKernel"},
		{&clFinish, "clFinish"},
		{&clGetEventInfo, "clGetEventInfo"},
		{&clGetEventProfilingInfo, "clGetEventProfilingInfo"},
		{&clReleaseEvent, "clReleaseEvent"},
		{&clReleaseKernel, "clReleaseKernel"},
		{&clReleaseProgram, "clReleaseProgram"},
		{&clReleaseMemObject, "clReleaseMemObject"},
		{&clReleaseCommandQueue, "clReleaseCommandQueue"},
		{&clReleaseContext, "clReleaseContext"},
	}
	for _, s := range syms {
		// Dlsym instead of RegisterLibFunc, which panics on a missing symbol.
		addr, err := purego.Dlsym(lib, s.name)
		if err != nil {
			return unavailable("libOpenCL.so.1 lacks %s: %v", s.name, err)
		}
		purego.RegisterFunc(s.fn, addr)
	}
	return nil
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("opencl: %s (%s): %w", fmt.Sprintf(format, args...), installHint, device.ErrUnavailable)
}

// clErr reports a failed OpenCL call outside a launch.
func clErr(op string, code int32) error {
	return fmt.Errorf("opencl: %s failed: %s (%d)", op, errName(code), code)
}

// launchErr reports a failed launch. Fatal marks failures while the kernel
// ran: on a GPU driver they usually leave the context unusable.
func launchErr(op string, code int32, fatal bool) *device.LaunchError {
	return &device.LaunchError{Op: op, Code: int(code), Name: errName(code), Fatal: fatal}
}

// cstr returns s as a NUL-terminated C string in Go memory.
func cstr(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}

// gostr converts a C string buffer of known size to a Go string.
func gostr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func errName(code int32) string {
	if n, ok := errNames[code]; ok {
		return n
	}
	return "CL_UNKNOWN_ERROR"
}

var errNames = map[int32]string{
	0:     "CL_SUCCESS",
	-1:    "CL_DEVICE_NOT_FOUND",
	-2:    "CL_DEVICE_NOT_AVAILABLE",
	-3:    "CL_COMPILER_NOT_AVAILABLE",
	-4:    "CL_MEM_OBJECT_ALLOCATION_FAILURE",
	-5:    "CL_OUT_OF_RESOURCES",
	-6:    "CL_OUT_OF_HOST_MEMORY",
	-7:    "CL_PROFILING_INFO_NOT_AVAILABLE",
	-8:    "CL_MEM_COPY_OVERLAP",
	-9:    "CL_IMAGE_FORMAT_MISMATCH",
	-10:   "CL_IMAGE_FORMAT_NOT_SUPPORTED",
	-11:   "CL_BUILD_PROGRAM_FAILURE",
	-12:   "CL_MAP_FAILURE",
	-13:   "CL_MISALIGNED_SUB_BUFFER_OFFSET",
	-14:   "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
	-15:   "CL_COMPILE_PROGRAM_FAILURE",
	-16:   "CL_LINKER_NOT_AVAILABLE",
	-17:   "CL_LINK_PROGRAM_FAILURE",
	-18:   "CL_DEVICE_PARTITION_FAILED",
	-19:   "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
	-30:   "CL_INVALID_VALUE",
	-31:   "CL_INVALID_DEVICE_TYPE",
	-32:   "CL_INVALID_PLATFORM",
	-33:   "CL_INVALID_DEVICE",
	-34:   "CL_INVALID_CONTEXT",
	-35:   "CL_INVALID_QUEUE_PROPERTIES",
	-36:   "CL_INVALID_COMMAND_QUEUE",
	-37:   "CL_INVALID_HOST_PTR",
	-38:   "CL_INVALID_MEM_OBJECT",
	-39:   "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
	-40:   "CL_INVALID_IMAGE_SIZE",
	-41:   "CL_INVALID_SAMPLER",
	-42:   "CL_INVALID_BINARY",
	-43:   "CL_INVALID_BUILD_OPTIONS",
	-44:   "CL_INVALID_PROGRAM",
	-45:   "CL_INVALID_PROGRAM_EXECUTABLE",
	-46:   "CL_INVALID_KERNEL_NAME",
	-47:   "CL_INVALID_KERNEL_DEFINITION",
	-48:   "CL_INVALID_KERNEL",
	-49:   "CL_INVALID_ARG_INDEX",
	-50:   "CL_INVALID_ARG_VALUE",
	-51:   "CL_INVALID_ARG_SIZE",
	-52:   "CL_INVALID_KERNEL_ARGS",
	-53:   "CL_INVALID_WORK_DIMENSION",
	-54:   "CL_INVALID_WORK_GROUP_SIZE",
	-55:   "CL_INVALID_WORK_ITEM_SIZE",
	-56:   "CL_INVALID_GLOBAL_OFFSET",
	-57:   "CL_INVALID_EVENT_WAIT_LIST",
	-58:   "CL_INVALID_EVENT",
	-59:   "CL_INVALID_OPERATION",
	-60:   "CL_INVALID_GL_OBJECT",
	-61:   "CL_INVALID_BUFFER_SIZE",
	-62:   "CL_INVALID_MIP_LEVEL",
	-63:   "CL_INVALID_GLOBAL_WORK_SIZE",
	-64:   "CL_INVALID_PROPERTY",
	-65:   "CL_INVALID_IMAGE_DESCRIPTOR",
	-66:   "CL_INVALID_COMPILER_OPTIONS",
	-67:   "CL_INVALID_LINKER_OPTIONS",
	-68:   "CL_INVALID_DEVICE_PARTITION_COUNT",
	-69:   "CL_INVALID_PIPE_SIZE",
	-70:   "CL_INVALID_DEVICE_QUEUE",
	-1001: "CL_PLATFORM_NOT_FOUND_KHR",
}
