package cuda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"discover/device"
	candidate "discover/kernel"
)

// archOption picks NVRTC's target: the device's real architecture (sm_XY,
// loaded as CUBIN) when NVRTC knows it, else PTX for the newest virtual
// architecture NVRTC knows that the device can run, which the driver
// compiles at load time. supported is nil when NVRTC cannot list them.
func archOption(major, minor int, supported []int) (opt string, cubin bool) {
	cc := major*10 + minor
	best := 0
	for _, a := range supported {
		if a == cc {
			return fmt.Sprintf("--gpu-architecture=sm_%d", cc), true
		}
		if a < cc && a > best {
			best = a
		}
	}
	if best == 0 {
		best = cc
	}
	return fmt.Sprintf("--gpu-architecture=compute_%d", best), false
}

// Compile builds source with NVRTC and loads the entry kernel. The entry
// is looked up through NVRTC's lowered name, so it need not be extern "C".
func (d *cudaDevice) Compile(ctx context.Context, source, entry string, defines []device.Define) (device.Kernel, error) {
	type built struct {
		image []byte
		name  string
		err   error
	}
	done := make(chan built, 1)
	go func() {
		image, name, err := d.build(source, entry, defines)
		done <- built{image, name, err}
	}()
	var b built
	select {
	case <-ctx.Done():
		// NVRTC cannot be interrupted: the build goes on in the background.
		// On a timeout the worker's supervisor kills the whole process.
		return nil, ctx.Err()
	case b = <-done:
	}
	if b.err != nil {
		return nil, b.err
	}
	k := &kernel{dev: d, graphs: map[graphKey]graph{}}
	err := d.do(func() error { return k.load(b.image, b.name, entry) })
	if err != nil {
		return nil, err
	}
	return k, nil
}

// toolkitIncludes are the header directories of the CUDA toolkit found
// through CUDA_HOME, CUDA_PATH or the usual places.
func toolkitIncludes() []string {
	return includeDirs(os.Getenv("CUDA_HOME"), os.Getenv("CUDA_PATH"), "/usr/local/cuda", "/usr")
}

// includeDirs returns the header directories of the first CUDA toolkit
// root that has cuda_fp16.h. NVRTC has none of CUDA's headers built in
// (seen with NVRTC 13.0), and CUDA 13 moved libcu++ (cuda/std/...) to
// include/cccl.
func includeDirs(roots ...string) []string {
	for _, root := range roots {
		if root == "" {
			continue
		}
		dir := filepath.Join(root, "include")
		if _, err := os.Stat(filepath.Join(dir, "cuda_fp16.h")); err != nil {
			continue
		}
		dirs := []string{dir}
		if _, err := os.Stat(filepath.Join(dir, "cccl")); err == nil {
			dirs = append(dirs, filepath.Join(dir, "cccl"))
		}
		return dirs
	}
	return nil
}

// options are NVRTC's options for this device and the defines.
func (d *cudaDevice) options(defines []device.Define) ([]string, error) {
	opts := []string{d.arch, "--std=c++17"}
	for _, dir := range d.includes {
		opts = append(opts, "-I"+dir)
	}
	for _, def := range defines {
		if !isIdentifier(def.Name) {
			return nil, &device.CompileError{Log: fmt.Sprintf("define name %q is not an identifier", def.Name)}
		}
		opts = append(opts, "-D"+def.Name+"="+def.Value)
	}
	return opts, nil
}

func isIdentifier(s string) bool {
	for i, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// build refuses host includes, compiles source and returns the CUBIN (or
// NUL-terminated PTX) and the entry's lowered (mangled) name. It needs no
// context, so it runs off the driver thread.
func (d *cudaDevice) build(source, entry string, defines []device.Define) ([]byte, string, error) {
	if err := candidate.CheckIncludes("cuda", source); err != nil {
		return nil, "", &device.CompileError{Log: err.Error()}
	}
	opts, err := d.options(defines)
	if err != nil {
		return nil, "", err
	}
	c := d.drv
	var prog uintptr
	if r := c.nvrtcCreateProgram(&prog, source, "kernel.cu", 0, nil, nil); r != nvrtcSuccess {
		return nil, "", c.nvrtcFail("nvrtcCreateProgram", r)
	}
	defer c.nvrtcDestroyProgram(&prog)
	if r := c.nvrtcAddNameExpression(prog, entry); r != nvrtcSuccess {
		return nil, "", c.nvrtcFail("nvrtcAddNameExpression", r)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	if r := c.nvrtcCompileProgram(prog, int32(len(opts)), cStrings(opts, &pin)); r != nvrtcSuccess {
		log := strings.TrimSpace(programLog(c, prog))
		if log == "" {
			log = c.nvrtcGetErrorString(r)
		}
		return nil, "", &device.CompileError{Log: log}
	}
	var lowered *byte
	if r := c.nvrtcGetLoweredName(prog, entry, &lowered); r != nvrtcSuccess {
		return nil, "", &device.CompileError{Log: fmt.Sprintf("entry %q not found: %s", entry, c.nvrtcGetErrorString(r))}
	}
	name := goString(lowered)
	getSize, get, what := c.nvrtcGetPTXSize, c.nvrtcGetPTX, "PTX"
	if d.cubin {
		getSize, get, what = c.nvrtcGetCUBINSize, c.nvrtcGetCUBIN, "CUBIN"
	}
	var size uint64
	if r := getSize(prog, &size); r != nvrtcSuccess || size == 0 {
		return nil, "", c.nvrtcFail("nvrtcGet"+what+"Size", r)
	}
	image := make([]byte, size)
	if r := get(prog, &image[0]); r != nvrtcSuccess {
		return nil, "", c.nvrtcFail("nvrtcGet"+what, r)
	}
	return image, name, nil
}

func programLog(c *driver, prog uintptr) string {
	var size uint64
	if c.nvrtcGetProgramLogSize(prog, &size) != nvrtcSuccess || size <= 1 {
		return ""
	}
	log := make([]byte, size)
	if c.nvrtcGetProgramLog(prog, &log[0]) != nvrtcSuccess {
		return ""
	}
	return goString(&log[0])
}

// cStrings returns a char*[] of NUL-terminated copies of ss, pinned by pin.
func cStrings(ss []string, pin *runtime.Pinner) **byte {
	if len(ss) == 0 {
		return nil
	}
	ptrs := make([]*byte, len(ss))
	for i, s := range ss {
		b := append([]byte(s), 0)
		pin.Pin(&b[0])
		ptrs[i] = &b[0]
	}
	pin.Pin(&ptrs[0])
	return &ptrs[0]
}

// kernel is a loaded module and its entry function. Its fields are used
// on the driver thread only.
type kernel struct {
	dev    *cudaDevice
	mod    uintptr // 0 once released
	fn     uintptr
	graphs map[graphKey]graph
}

// graphKey identifies one captured batch: the same arguments, geometry and
// count replay the same graph.
type graphKey struct {
	launch   device.Launch
	launches int
	args     string
}

type graph struct{ graph, exec uintptr }

// load loads the image and finds the entry. A module the driver refuses
// (say, PTX newer than the driver) is reported as a compile error.
func (k *kernel) load(image []byte, name, entry string) error {
	c := k.dev.drv
	var pin runtime.Pinner
	pin.Pin(&image[0])
	defer pin.Unpin()
	if r := c.cuModuleLoadData(&k.mod, unsafe.Pointer(&image[0])); r != cuSuccess {
		if sticky[r] {
			return c.launchError("cuModuleLoadData", r, false)
		}
		return &device.CompileError{Log: fmt.Sprintf("cuModuleLoadData: %s (%d)", c.errName(r), r)}
	}
	if r := c.cuModuleGetFunction(&k.fn, k.mod, name); r != cuSuccess {
		c.cuModuleUnload(k.mod)
		k.mod = 0
		if r == cuErrNotFound {
			return &device.CompileError{Log: fmt.Sprintf("entry %q not found in the module", entry)}
		}
		return c.fail("cuModuleGetFunction", r)
	}
	return nil
}

// Run launches once and waits for completion.
func (k *kernel) Run(args []device.Arg, l device.Launch) error {
	grid, block, err := geometry(l)
	if err != nil {
		return err
	}
	p, err := k.dev.pack(args)
	if err != nil {
		return err
	}
	defer p.pin.Unpin()
	return k.dev.do(func() error {
		if err := k.launch(p, grid, block); err != nil {
			return err
		}
		return k.dev.sync()
	})
}

// graphBatch bounds the launches one graph holds. A sample of more
// replays the graph: capturing costs host time per launch (~5 us), so a
// 2000-launch sample of a decode kernel costs one capture of 128, and the
// graphs a kernel caches stay few; the device-side gap between two graph
// replays is spread over the 128 launches.
const graphBatch = 128

// Time replays launches launches, captured in CUDA graphs of at most
// graphBatch launches (once per arguments, geometry and count), between
// two events and returns the device time, so host launch overhead is not
// counted. Warming up is the caller's job.
func (k *kernel) Time(args []device.Arg, l device.Launch, launches int) (time.Duration, error) {
	if launches < 1 {
		return 0, fmt.Errorf("cuda: time %d launches: need at least 1", launches)
	}
	grid, block, err := geometry(l)
	if err != nil {
		return 0, err
	}
	p, err := k.dev.pack(args)
	if err != nil {
		return 0, err
	}
	defer p.pin.Unpin()
	// Replay the full batches, then one graph of the rest.
	batch := min(launches, graphBatch)
	replays := []int{}
	for range launches / batch {
		replays = append(replays, batch)
	}
	if rest := launches % batch; rest > 0 {
		replays = append(replays, rest)
	}
	var elapsed time.Duration
	err = k.dev.do(func() error {
		execs := make([]uintptr, len(replays))
		for i, n := range replays {
			key := graphKey{l, n, fmt.Sprint(p.slots)}
			g, ok := k.graphs[key]
			if !ok {
				var err error
				if g, err = k.capture(p, grid, block, n); err != nil {
					return err
				}
				k.graphs[key] = g
			}
			execs[i] = g.exec
		}
		var err error
		elapsed, err = k.dev.timed(func() error {
			for _, exec := range execs {
				if r := k.dev.drv.cuGraphLaunch(exec, k.dev.stream); r != cuSuccess {
					return k.dev.drv.launchError("cuGraphLaunch", r, false)
				}
			}
			return nil
		})
		return err
	})
	return elapsed, err
}

// capture records launches launches on the stream into an executable graph.
func (k *kernel) capture(p *params, grid, block [3]uint32, launches int) (graph, error) {
	return k.dev.captureGraph(func() error {
		for range launches {
			if err := k.launch(p, grid, block); err != nil {
				return err
			}
		}
		return nil
	})
}

var errReleased = errors.New("cuda: kernel was released")

// launch queues one launch on the stream (or records it while capturing).
func (k *kernel) launch(p *params, grid, block [3]uint32) error {
	if k.mod == 0 {
		return errReleased
	}
	r := k.dev.drv.cuLaunchKernel(k.fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, k.dev.stream, p.list(), nil)
	if r != cuSuccess {
		return k.dev.drv.launchError("cuLaunchKernel", r, false)
	}
	return nil
}

// Release destroys the cached graphs and unloads the module.
func (k *kernel) Release() {
	k.dev.do(func() error {
		c := k.dev.drv
		for key, g := range k.graphs {
			c.cuGraphExecDestroy(g.exec)
			c.cuGraphDestroy(g.graph)
			delete(k.graphs, key)
		}
		if k.mod != 0 {
			c.cuModuleUnload(k.mod)
			k.mod = 0
		}
		return nil
	})
}

// geometry turns a launch into CUDA's grid (blocks per dimension) and block
// (threads per block). Global must be a positive multiple of Local.
func geometry(l device.Launch) (grid, block [3]uint32, err error) {
	for i := range 3 {
		g, b := l.Global[i], l.Local[i]
		if b < 1 || g < 1 || g%b != 0 || b > math.MaxUint32 || g/b > math.MaxUint32 {
			return grid, block, &device.LaunchError{
				Op:   "cuLaunchKernel",
				Code: int(cuErrInvalidValue),
				Name: fmt.Sprintf("CUDA_ERROR_INVALID_VALUE: global %v is not a positive multiple of local %v", l.Global, l.Local),
			}
		}
		grid[i], block[i] = uint32(g/b), uint32(b)
	}
	return grid, block, nil
}

// params is cuLaunchKernel's kernelParams: one pointer per argument to an
// 8-byte slot that holds the CUdeviceptr or, in its low half (little
// endian), the 32-bit scalar. Both arrays are pinned, since the driver reads
// them from outside Go.
type params struct {
	slots []uint64
	ptrs  []unsafe.Pointer
	pin   runtime.Pinner
}

func (d *cudaDevice) pack(args []device.Arg) (*params, error) {
	p := &params{slots: make([]uint64, len(args)), ptrs: make([]unsafe.Pointer, len(args))}
	for i, a := range args {
		if a.Buffer == nil {
			p.slots[i] = uint64(a.Bits)
			continue
		}
		b, err := d.buffer(a.Buffer)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		p.slots[i] = b.ptr
	}
	if len(args) > 0 {
		p.pin.Pin(&p.slots[0])
		for i := range p.slots {
			p.ptrs[i] = unsafe.Pointer(&p.slots[i])
		}
		p.pin.Pin(&p.ptrs[0])
	}
	return p, nil
}

// list is the void** to pass, nil for a kernel without arguments.
func (p *params) list() *unsafe.Pointer {
	if len(p.ptrs) == 0 {
		return nil
	}
	return &p.ptrs[0]
}
