package cuda

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// fake is a driver without a GPU: it records the calls, keeps "device"
// memory in Go slices and returns configured results.
type fake struct {
	mu    sync.Mutex // guards calls: a cancelled compile still logs
	calls []string

	// Configuration.
	initResult   cuResult
	devices      int32
	free         uint64
	elapsedMs    float32
	archs        []int32 // NVRTC's supported architectures
	functions    map[string]bool
	nparams      int         // arguments cuLaunchKernel decodes
	launchResult cuResult    // returned by cuLaunchKernel...
	failLaunchAt int         // ...at this launch only (1-based), or every launch if 0
	syncResult   cuResult    // returned by cuStreamSynchronize
	block        chan string // when set, nvrtcCompileProgram waits for it

	// State.
	next      uintptr
	mem       map[uint64][]byte
	allocs    []uint64
	source    string
	nameExpr  string
	options   []string
	image     string
	capturing bool
	nlaunch   int
	launches  []fakeLaunch
	graphs    map[uintptr]int // graph -> launches captured
}

type fakeLaunch struct {
	grid, block [3]uint32
	params      []uint64
	captured    bool
}

func newFake() *fake {
	return &fake{
		devices:   1,
		free:      80 << 30,
		elapsedMs: 2,
		archs:     []int32{75, 80, 86, 89, 90, 100, 120},
		functions: map[string]bool{"_lowered_add": true},
		mem:       map[uint64][]byte{},
		graphs:    map[uintptr]int{},
	}
}

var fakeErrNames = map[cuResult]string{
	1:   "CUDA_ERROR_INVALID_VALUE",
	700: "CUDA_ERROR_ILLEGAL_ADDRESS",
	701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
	719: "CUDA_ERROR_LAUNCH_FAILED",
}

// handle returns a fresh non-zero handle.
func (f *fake) handle() uintptr {
	f.next += 16
	return f.next
}

// called returns the recorded calls that start with one of prefixes.
func (f *fake) called(prefixes ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		for _, p := range prefixes {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (f *fake) driver() *driver {
	log := func(name string) {
		f.mu.Lock()
		f.calls = append(f.calls, name)
		f.mu.Unlock()
	}
	ok := func(name string) cuResult { log(name); return cuSuccess }
	nok := func(name string) nvrtcResult { log(name); return nvrtcSuccess }
	cstr := func(s string) *byte { return &append([]byte(s), 0)[0] }
	return &driver{
		nvrtcLib: "fake",
		cuInit:   func(uint32) cuResult { log("cuInit"); return f.initResult },
		cuDriverGetVersion: func(v *int32) cuResult {
			*v = 13000
			return ok("cuDriverGetVersion")
		},
		cuDeviceGetCount: func(n *int32) cuResult { *n = f.devices; return ok("cuDeviceGetCount") },
		cuDeviceGet:      func(dev *int32, ordinal int32) cuResult { *dev = ordinal; return ok("cuDeviceGet") },
		cuDeviceGetName: func(name *byte, size int32, dev int32) cuResult {
			copy(unsafe.Slice(name, size), "Fake H200\x00")
			return ok("cuDeviceGetName")
		},
		cuDeviceGetAttribute: func(v *int32, attr int32, dev int32) cuResult {
			*v = map[int32]int32{attrMaxThreadsPerBlock: 1024, attrMaxSharedPerBlock: 49152,
				attrMultiprocessors: 132, attrCCMajor: 9, attrCCMinor: 0}[attr]
			return ok("cuDeviceGetAttribute")
		},
		cuDeviceTotalMem: func(b *uint64, dev int32) cuResult { *b = 141 << 30; return ok("cuDeviceTotalMem") },
		cuCtxCreate:      func(ctx *uintptr, flags uint32, dev int32) cuResult { *ctx = f.handle(); return ok("cuCtxCreate") },
		cuCtxDestroy:     func(uintptr) cuResult { return ok("cuCtxDestroy") },
		cuMemGetInfo: func(free, total *uint64) cuResult {
			*free, *total = f.free, 141<<30
			return ok("cuMemGetInfo")
		},
		cuMemAlloc: func(p *uint64, n uint64) cuResult {
			*p = uint64(f.handle()) << 20
			if n <= 1<<20 { // the bandwidth buffers need no backing
				f.mem[*p] = make([]byte, n)
			}
			f.allocs = append(f.allocs, n)
			return ok("cuMemAlloc")
		},
		cuMemFree: func(p uint64) cuResult { delete(f.mem, p); return ok("cuMemFree") },
		cuMemcpyHtoDAsync: func(dst uint64, src unsafe.Pointer, n uint64, s uintptr) cuResult {
			copy(f.mem[dst], unsafe.Slice((*byte)(src), n))
			return ok("cuMemcpyHtoDAsync")
		},
		cuMemcpyDtoHAsync: func(dst unsafe.Pointer, src uint64, n uint64, s uintptr) cuResult {
			copy(unsafe.Slice((*byte)(dst), n), f.mem[src])
			return ok("cuMemcpyDtoHAsync")
		},
		cuMemcpyDtoDAsync: func(dst, src, n uint64, s uintptr) cuResult { return ok("cuMemcpyDtoDAsync") },
		cuMemsetD32Async: func(dst uint64, v uint32, n uint64, s uintptr) cuResult {
			for base, m := range f.mem {
				if dst >= base && dst < base+uint64(len(m)) {
					for i := dst - base; i < dst-base+4*n; i += 4 {
						binary.LittleEndian.PutUint32(m[i:], v)
					}
				}
			}
			return ok("cuMemsetD32Async")
		},
		cuStreamCreate:      func(s *uintptr, flags uint32) cuResult { *s = f.handle(); return ok("cuStreamCreate") },
		cuStreamDestroy:     func(uintptr) cuResult { return ok("cuStreamDestroy") },
		cuStreamSynchronize: func(uintptr) cuResult { log("cuStreamSynchronize"); return f.syncResult },
		cuEventCreate:       func(e *uintptr, flags uint32) cuResult { *e = f.handle(); return ok("cuEventCreate") },
		cuEventDestroy:      func(uintptr) cuResult { return ok("cuEventDestroy") },
		cuEventRecord:       func(e, s uintptr) cuResult { return ok("cuEventRecord") },
		cuEventSynchronize:  func(uintptr) cuResult { return ok("cuEventSynchronize") },
		cuEventElapsedTime: func(ms *float32, start, end uintptr) cuResult {
			*ms = f.elapsedMs
			return ok("cuEventElapsedTime")
		},
		cuModuleLoadData: func(m *uintptr, image unsafe.Pointer) cuResult {
			f.image = goString((*byte)(image))
			*m = f.handle()
			return ok("cuModuleLoadData")
		},
		cuModuleUnload: func(uintptr) cuResult { return ok("cuModuleUnload") },
		cuModuleGetFunction: func(fn *uintptr, m uintptr, name string) cuResult {
			log("cuModuleGetFunction")
			if !f.functions[name] {
				return cuErrNotFound
			}
			*fn = f.handle()
			return cuSuccess
		},
		cuLaunchKernel: func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, s uintptr, params, extra *unsafe.Pointer) cuResult {
			log("cuLaunchKernel")
			f.nlaunch++
			if f.launchResult != cuSuccess && (f.failLaunchAt == 0 || f.failLaunchAt == f.nlaunch) {
				return f.launchResult
			}
			// The arguments must stay put through a collection.
			runtime.GC()
			l := fakeLaunch{grid: [3]uint32{gx, gy, gz}, block: [3]uint32{bx, by, bz}, captured: f.capturing}
			if f.nparams > 0 {
				for _, p := range unsafe.Slice(params, f.nparams) {
					l.params = append(l.params, *(*uint64)(p))
				}
			}
			f.launches = append(f.launches, l)
			return cuSuccess
		},
		cuStreamBeginCapture: func(s uintptr, mode int32) cuResult {
			f.capturing = true
			return ok("cuStreamBeginCapture")
		},
		cuStreamEndCapture: func(s uintptr, g *uintptr) cuResult {
			f.capturing = false
			*g = f.handle()
			for _, l := range f.launches {
				if l.captured {
					f.graphs[*g]++
				}
			}
			return ok("cuStreamEndCapture")
		},
		cuGraphInstantiate: func(e *uintptr, g uintptr, flags uint64) cuResult {
			*e = f.handle()
			return ok("cuGraphInstantiate")
		},
		cuGraphLaunch:      func(e, s uintptr) cuResult { return ok("cuGraphLaunch") },
		cuGraphExecDestroy: func(uintptr) cuResult { return ok("cuGraphExecDestroy") },
		cuGraphDestroy:     func(uintptr) cuResult { return ok("cuGraphDestroy") },
		cuGetErrorName: func(r cuResult, name **byte) cuResult {
			n, known := fakeErrNames[r]
			if !known {
				return cuErrInvalidValue
			}
			*name = cstr(n)
			return cuSuccess
		},

		nvrtcVersion: func(major, minor *int32) nvrtcResult {
			*major, *minor = 13, 0
			return nok("nvrtcVersion")
		},
		nvrtcGetErrorString: func(r nvrtcResult) string { return fmt.Sprintf("NVRTC_ERROR_%d", r) },
		nvrtcCreateProgram: func(p *uintptr, src, name string, n int32, h, i **byte) nvrtcResult {
			f.source = src
			*p = f.handle()
			return nok("nvrtcCreateProgram")
		},
		nvrtcAddNameExpression: func(p uintptr, expr string) nvrtcResult {
			f.nameExpr = expr
			return nok("nvrtcAddNameExpression")
		},
		nvrtcCompileProgram: func(p uintptr, n int32, opts **byte) nvrtcResult {
			log("nvrtcCompileProgram")
			f.options = nil
			for _, o := range unsafe.Slice(opts, n) {
				f.options = append(f.options, goString(o))
			}
			if f.block != nil {
				f.source = <-f.block
			}
			if strings.Contains(f.source, "syntax error") {
				return 6 // NVRTC_ERROR_COMPILATION
			}
			return nvrtcSuccess
		},
		nvrtcGetLoweredName: func(p uintptr, expr string, lowered **byte) nvrtcResult {
			*lowered = cstr("_lowered_" + expr)
			return nok("nvrtcGetLoweredName")
		},
		nvrtcGetProgramLogSize: func(p uintptr, n *uint64) nvrtcResult {
			*n = uint64(len(f.programLog()) + 1)
			return nvrtcSuccess
		},
		nvrtcGetProgramLog: func(p uintptr, b *byte) nvrtcResult {
			copy(unsafe.Slice(b, len(f.programLog())+1), f.programLog()+"\x00")
			return nvrtcSuccess
		},
		nvrtcGetCUBINSize: func(p uintptr, n *uint64) nvrtcResult { *n = 6; return nok("nvrtcGetCUBINSize") },
		nvrtcGetCUBIN: func(p uintptr, b *byte) nvrtcResult {
			copy(unsafe.Slice(b, 6), "CUBIN\x00")
			return nok("nvrtcGetCUBIN")
		},
		nvrtcGetPTXSize: func(p uintptr, n *uint64) nvrtcResult { *n = 4; return nok("nvrtcGetPTXSize") },
		nvrtcGetPTX: func(p uintptr, b *byte) nvrtcResult {
			copy(unsafe.Slice(b, 4), "PTX\x00")
			return nok("nvrtcGetPTX")
		},
		nvrtcDestroyProgram: func(p *uintptr) nvrtcResult { return nok("nvrtcDestroyProgram") },
		nvrtcGetNumSupportedArchs: func(n *int32) nvrtcResult {
			*n = int32(len(f.archs))
			return nvrtcSuccess
		},
		nvrtcGetSupportedArchs: func(a *int32) nvrtcResult {
			copy(unsafe.Slice(a, len(f.archs)), f.archs)
			return nvrtcSuccess
		},
	}
}

func (f *fake) programLog() string {
	if strings.Contains(f.source, "syntax error") {
		return "kernel.cu(1): error: expected a \";\""
	}
	return ""
}
