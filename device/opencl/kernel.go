package opencl

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
	"unsafe"

	"discover/device"
)

type kernel struct {
	dev   *clDevice
	prog  uintptr
	h     uintptr // cl_kernel; 0 once released; guarded by dev.mu
	nargs int

	// mu serializes setting arguments and enqueueing: arguments are state
	// of the cl_kernel shared by all callers.
	mu sync.Mutex
}

// Compile builds source for this device with -cl-std=CL1.2 and the defines.
// The build cannot be interrupted: ctx is checked before and after it.
func (d *clDevice) Compile(ctx context.Context, source, entry string, defines []device.Define) (device.Kernel, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	opts, err := buildOptions(defines)
	if err != nil {
		return nil, err
	}
	prog, err := d.build(source, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		clReleaseProgram(prog)
		return nil, err
	}
	var code int32
	h := clCreateKernel(prog, cstr(entry), &code)
	if code != clSuccess {
		clReleaseProgram(prog)
		if code == clInvalidKernelName {
			return nil, &device.CompileError{Log: fmt.Sprintf("kernel entry %q not found", entry)}
		}
		return nil, &device.CompileError{Log: fmt.Sprintf("kernel entry %q: clCreateKernel failed: %s (%d)", entry, errName(code), code)}
	}
	var q querier
	nargs := q.u32(clGetKernelInfo, h, clKernelNumArgs)
	if q.err != nil {
		clReleaseKernel(h)
		clReleaseProgram(prog)
		return nil, q.err
	}
	k := &kernel{dev: d, prog: prog, h: h, nargs: int(nargs)}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		k.release()
		return nil, errClosed
	}
	d.kernels[k] = struct{}{}
	return k, nil
}

// buildOptions turns defines into -D options. Whitespace would split an
// option, so it is rejected as a compile error of the candidate.
func buildOptions(defines []device.Define) (string, error) {
	opts := []string{"-cl-std=CL1.2"}
	for _, def := range defines {
		if def.Name == "" || strings.ContainsFunc(def.Name+def.Value, unicode.IsSpace) {
			return "", &device.CompileError{Log: fmt.Sprintf("invalid define %q=%q: empty name or whitespace", def.Name, def.Value)}
		}
		opts = append(opts, "-D"+def.Name+"="+def.Value)
	}
	return strings.Join(opts, " "), nil
}

// build creates and builds a program; a build failure is a *device.CompileError.
func (d *clDevice) build(source, options string) (uintptr, error) {
	src := append([]byte(source), 0)
	// The char** handed to OpenCL is Go memory holding a Go pointer, which
	// cgo rules allow only for pinned memory.
	var pin runtime.Pinner
	pin.Pin(&src[0])
	defer pin.Unpin()
	srcs := [1]*byte{&src[0]}

	var code int32
	prog := clCreateProgramWithSource(d.ctx, 1, &srcs[0], nil, &code)
	if code != clSuccess {
		return 0, clErr("clCreateProgramWithSource", code)
	}
	code = clBuildProgram(prog, 1, &d.id, cstr(options), 0, 0)
	if code == clSuccess {
		return prog, nil
	}
	log := d.buildLog(prog)
	clReleaseProgram(prog)
	if log == "" || code != clBuildProgramFailure {
		log = strings.TrimSpace(fmt.Sprintf("clBuildProgram failed: %s (%d)\n%s", errName(code), code, log))
	}
	return 0, &device.CompileError{Log: log}
}

func (d *clDevice) buildLog(prog uintptr) string {
	var n uintptr
	if clGetProgramBuildInfo(prog, d.id, clProgramBuildLog, 0, nil, &n) != clSuccess || n == 0 {
		return ""
	}
	b := make([]byte, n)
	if clGetProgramBuildInfo(prog, d.id, clProgramBuildLog, n, unsafe.Pointer(&b[0]), nil) != clSuccess {
		return ""
	}
	return strings.TrimSpace(gostr(b))
}

func (k *kernel) Run(args []device.Arg, l device.Launch) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	h, err := k.setArgs(args)
	if err != nil {
		return err
	}
	var ev uintptr
	if err := k.enqueue(h, l, &ev); err != nil {
		return err
	}
	defer clReleaseEvent(ev)
	return k.dev.wait(ev)
}

// Time enqueues the launches back to back, with profiled events on the
// first and the last, and returns the device time between them.
func (k *kernel) Time(args []device.Arg, l device.Launch, launches int) (time.Duration, error) {
	if launches < 1 {
		return 0, fmt.Errorf("opencl: time %d launches: need at least one", launches)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	h, err := k.setArgs(args)
	if err != nil {
		return 0, err
	}
	var first, last uintptr
	defer func() {
		for _, ev := range []uintptr{first, last} {
			if ev != 0 {
				clReleaseEvent(ev)
			}
		}
	}()
	for i := range launches {
		var ev *uintptr
		switch i {
		case 0:
			ev = &first
		case launches - 1:
			ev = &last
		}
		if err := k.enqueue(h, l, ev); err != nil {
			// Let the launches already queued finish before the caller
			// frees their buffers.
			clFinish(k.dev.queue)
			return 0, err
		}
	}
	end := last
	if launches == 1 {
		end = first
	}
	if err := k.dev.wait(first, end); err != nil {
		return 0, err
	}
	return elapsed(first, end)
}

// setArgs sets every argument and returns the cl_kernel.
func (k *kernel) setArgs(args []device.Arg) (uintptr, error) {
	k.dev.mu.Lock()
	h := k.h
	k.dev.mu.Unlock()
	if h == 0 {
		return 0, errors.New("opencl: kernel is released")
	}
	// Arguments persist on the cl_kernel, so a short list would silently
	// reuse stale ones from an earlier launch.
	if len(args) != k.nargs {
		return 0, launchErr(fmt.Sprintf("set %d args of a %d-arg kernel", len(args), k.nargs), clInvalidKernelArgs, false)
	}
	for i, a := range args {
		var code int32
		if a.Buffer != nil {
			mem, err := k.dev.lookup(a.Buffer, 0)
			if err != nil {
				return 0, fmt.Errorf("opencl: arg %d: %w", i, err)
			}
			code = clSetKernelArg(h, uint32(i), unsafe.Sizeof(mem), unsafe.Pointer(&mem))
		} else {
			bits := a.Bits
			code = clSetKernelArg(h, uint32(i), unsafe.Sizeof(bits), unsafe.Pointer(&bits))
		}
		if code != clSuccess {
			return 0, launchErr(fmt.Sprintf("clSetKernelArg(%d)", i), code, false)
		}
	}
	return h, nil
}

// enqueue queues one launch, dropping trailing dimensions of size 1.
func (k *kernel) enqueue(h uintptr, l device.Launch, ev *uintptr) error {
	var global, local [3]uintptr
	for i := range 3 {
		global[i], local[i] = uintptr(l.Global[i]), uintptr(l.Local[i])
	}
	dims := 3
	for dims > 1 && global[dims-1] == 1 && local[dims-1] == 1 {
		dims--
	}
	code := clEnqueueNDRangeKernel(k.dev.queue, h, uint32(dims), nil, &global[0], &local[0], 0, nil, ev)
	if code != clSuccess {
		return launchErr("clEnqueueNDRangeKernel", code, false)
	}
	return nil
}

func (k *kernel) Release() {
	k.dev.mu.Lock()
	defer k.dev.mu.Unlock()
	k.release()
}

// release frees the kernel and its program; the caller holds dev.mu.
func (k *kernel) release() {
	if k.h != 0 {
		clReleaseKernel(k.h)
		clReleaseProgram(k.prog)
		k.h = 0
		delete(k.dev.kernels, k)
	}
}
