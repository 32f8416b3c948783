// Package opencl implements device.Device on any OpenCL device, loading
// libOpenCL.so.1 at run time through purego (no cgo).
package opencl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unsafe"

	"discover/device"
)

// devID is one device with the platform it belongs to.
type devID struct {
	platform, id uintptr
}

// enumerate lists every device of every platform, in platform order.
func enumerate() ([]devID, error) {
	if err := load(); err != nil {
		return nil, err
	}
	var n uint32
	if code := clGetPlatformIDs(0, nil, &n); code != clSuccess && code != clPlatformNotFoundKHR {
		return nil, clErr("clGetPlatformIDs", code)
	}
	if n == 0 {
		return nil, unavailable("no OpenCL platform found")
	}
	platforms := make([]uintptr, n)
	if code := clGetPlatformIDs(n, &platforms[0], nil); code != clSuccess {
		return nil, clErr("clGetPlatformIDs", code)
	}
	var ids []devID
	for _, p := range platforms {
		var m uint32
		if code := clGetDeviceIDs(p, clDeviceTypeAll, 0, nil, &m); code != clSuccess && code != clDeviceNotFound {
			return nil, clErr("clGetDeviceIDs", code)
		}
		if m == 0 {
			continue
		}
		devs := make([]uintptr, m)
		if code := clGetDeviceIDs(p, clDeviceTypeAll, m, &devs[0], nil); code != clSuccess {
			return nil, clErr("clGetDeviceIDs", code)
		}
		for _, d := range devs {
			ids = append(ids, devID{p, d})
		}
	}
	if len(ids) == 0 {
		return nil, unavailable("no OpenCL device found")
	}
	return ids, nil
}

// List describes every OpenCL device, in the order Open numbers them.
// CopyBandwidthGBs is 0: it is only measured by Open.
func List() ([]device.Info, error) {
	ids, err := enumerate()
	if err != nil {
		return nil, err
	}
	infos := make([]device.Info, len(ids))
	for i, id := range ids {
		if infos[i], err = id.info(); err != nil {
			return nil, err
		}
	}
	return infos, nil
}

func (d devID) info() (device.Info, error) {
	var q querier
	info := device.Info{
		API:              device.OpenCL,
		Platform:         q.str(clGetPlatformInfo, d.platform, clPlatformName),
		Name:             q.str(clGetDeviceInfo, d.id, clDeviceName),
		ComputeUnits:     int(q.u32(clGetDeviceInfo, d.id, clDeviceMaxComputeUnits)),
		MemoryBytes:      int64(q.u64(clGetDeviceInfo, d.id, clDeviceGlobalMemSize)),
		MaxWorkGroupSize: int(q.size(clGetDeviceInfo, d.id, clDeviceMaxWorkGroup)),
		LocalMemBytes:    int64(q.u64(clGetDeviceInfo, d.id, clDeviceLocalMemSize)),
		DriverVersion:    q.str(clGetDeviceInfo, d.id, clDriverVersion),
	}
	return info, q.err
}

// infoFunc is the shape shared by clGet{Platform,Device,Kernel,Event,EventProfiling}Info.
type infoFunc = func(h uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet *uintptr) int32

// querier runs a series of info queries and keeps the first error.
type querier struct{ err error }

func (q *querier) get(f infoFunc, h uintptr, param uint32, size uintptr, value unsafe.Pointer) {
	if q.err != nil {
		return
	}
	if code := f(h, param, size, value, nil); code != clSuccess {
		q.err = clErr(fmt.Sprintf("info query 0x%x", param), code)
	}
}

func (q *querier) u32(f infoFunc, h uintptr, param uint32) uint32 {
	var v uint32
	q.get(f, h, param, unsafe.Sizeof(v), unsafe.Pointer(&v))
	return v
}

func (q *querier) u64(f infoFunc, h uintptr, param uint32) uint64 {
	var v uint64
	q.get(f, h, param, unsafe.Sizeof(v), unsafe.Pointer(&v))
	return v
}

func (q *querier) size(f infoFunc, h uintptr, param uint32) uintptr {
	var v uintptr
	q.get(f, h, param, unsafe.Sizeof(v), unsafe.Pointer(&v))
	return v
}

func (q *querier) str(f infoFunc, h uintptr, param uint32) string {
	if q.err != nil {
		return ""
	}
	var n uintptr
	if code := f(h, param, 0, nil, &n); code != clSuccess {
		q.err = clErr(fmt.Sprintf("info query 0x%x", param), code)
	}
	if q.err != nil || n == 0 {
		return ""
	}
	b := make([]byte, n)
	q.get(f, h, param, n, unsafe.Pointer(&b[0]))
	return strings.TrimSpace(gostr(b))
}

var errClosed = errors.New("opencl: device is closed")

// clDevice is one OpenCL device with its own context and profiling queue.
type clDevice struct {
	info  device.Info
	id    uintptr
	ctx   uintptr
	queue uintptr

	mu      sync.Mutex // guards closed and the live objects that Close releases
	closed  bool
	buffers map[*buffer]struct{}
	kernels map[*kernel]struct{}
}

// Open opens device number index, counting the devices of all platforms in
// order, and measures its copy bandwidth.
func Open(index int) (device.Device, error) {
	ids, err := enumerate()
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(ids) {
		return nil, fmt.Errorf("opencl: device %d out of range: found %d", index, len(ids))
	}
	id := ids[index]
	info, err := id.info()
	if err != nil {
		return nil, err
	}
	var code int32
	ctx := clCreateContext(nil, 1, &id.id, 0, 0, &code)
	if code != clSuccess {
		return nil, clErr("clCreateContext", code)
	}
	queue := clCreateCommandQueue(ctx, id.id, clQueueProfilingEnable, &code)
	if code != clSuccess {
		clReleaseContext(ctx)
		return nil, clErr("clCreateCommandQueue", code)
	}
	d := &clDevice{
		info:    info,
		id:      id.id,
		ctx:     ctx,
		queue:   queue,
		buffers: map[*buffer]struct{}{},
		kernels: map[*kernel]struct{}{},
	}
	if d.info.CopyBandwidthGBs, err = d.copyBandwidth(); err != nil {
		d.Close()
		return nil, fmt.Errorf("opencl: measure copy bandwidth: %w", err)
	}
	return d, nil
}

// copyBandwidth returns the best rate of a few device-to-device copies of a
// large buffer, counting bytes read plus bytes written, in 1e9 B/s.
func (d *clDevice) copyBandwidth() (float64, error) {
	var q querier
	size := int(min(64<<20, q.u64(clGetDeviceInfo, d.id, clDeviceMaxMemAlloc)))
	if q.err != nil {
		return 0, q.err
	}
	src, err := d.createBuffer(size)
	if err != nil {
		return 0, err
	}
	defer clReleaseMemObject(src)
	dst, err := d.createBuffer(size)
	if err != nil {
		return 0, err
	}
	defer clReleaseMemObject(dst)

	best := time.Duration(math.MaxInt64)
	// The first copy is a warm-up: drivers may commit memory on first use.
	for i := range 4 {
		var ev uintptr
		if code := clEnqueueCopyBuffer(d.queue, src, dst, 0, 0, uintptr(size), 0, nil, &ev); code != clSuccess {
			return 0, clErr("clEnqueueCopyBuffer", code)
		}
		err := d.wait(ev)
		var dt time.Duration
		if err == nil {
			dt, err = elapsed(ev, ev)
		}
		clReleaseEvent(ev)
		if err != nil {
			return 0, err
		}
		if i > 0 {
			best = min(best, dt)
		}
	}
	if best <= 0 {
		return 0, fmt.Errorf("copy of %d bytes took %v", size, best)
	}
	return 2 * float64(size) / best.Seconds() / 1e9, nil
}

func (d *clDevice) Info() device.Info       { return d.info }
func (d *clDevice) Dialect() device.Dialect { return device.OpenCL }

func (d *clDevice) createBuffer(bytes int) (uintptr, error) {
	var code int32
	mem := clCreateBuffer(d.ctx, clMemReadWrite, uintptr(bytes), nil, &code)
	if code != clSuccess {
		return 0, clErr(fmt.Sprintf("clCreateBuffer(%d bytes)", bytes), code)
	}
	return mem, nil
}

func (d *clDevice) Alloc(bytes int) (device.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	mem, err := d.createBuffer(bytes)
	if err != nil {
		return nil, err
	}
	b := &buffer{dev: d, mem: mem, size: bytes}
	d.buffers[b] = struct{}{}
	return b, nil
}

// lookup returns the cl_mem of b after checking that b is a live buffer of
// this device holding at least n bytes.
func (d *clDevice) lookup(b device.Buffer, n int) (uintptr, error) {
	cb, ok := b.(*buffer)
	if !ok || cb.dev != d {
		return 0, errors.New("buffer does not belong to this device")
	}
	if n > cb.size {
		return 0, fmt.Errorf("%d bytes do not fit a %d-byte buffer", n, cb.size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cb.mem == 0 {
		return 0, errors.New("buffer is released")
	}
	return cb.mem, nil
}

// Write copies data to the start of b and waits for completion.
func (d *clDevice) Write(b device.Buffer, data []byte) error {
	mem, err := d.lookup(b, len(data))
	if err != nil {
		return fmt.Errorf("opencl: write: %w", err)
	}
	if len(data) == 0 {
		return nil
	}
	code := clEnqueueWriteBuffer(d.queue, mem, clTrue, 0, uintptr(len(data)), unsafe.Pointer(&data[0]), 0, nil, nil)
	if code != clSuccess {
		return clErr("clEnqueueWriteBuffer", code)
	}
	return nil
}

// Read copies the start of b into data and waits for completion.
func (d *clDevice) Read(b device.Buffer, data []byte) error {
	mem, err := d.lookup(b, len(data))
	if err != nil {
		return fmt.Errorf("opencl: read: %w", err)
	}
	if len(data) == 0 {
		return nil
	}
	code := clEnqueueReadBuffer(d.queue, mem, clTrue, 0, uintptr(len(data)), unsafe.Pointer(&data[0]), 0, nil, nil)
	if code != clSuccess {
		return clErr("clEnqueueReadBuffer", code)
	}
	return nil
}

// Fill sets words 4-byte words of b from byte offset off on, and waits.
func (d *clDevice) Fill(b device.Buffer, off, words int, word uint32) error {
	if off < 0 || words < 0 || off%4 != 0 {
		return fmt.Errorf("opencl: fill %d words at offset %d: negative or unaligned", words, off)
	}
	mem, err := d.lookup(b, off+4*words)
	if err != nil {
		return fmt.Errorf("opencl: fill: %w", err)
	}
	if words == 0 {
		return nil
	}
	if code := clEnqueueFillBuffer(d.queue, mem, unsafe.Pointer(&word), 4, uintptr(off), uintptr(4*words), 0, nil, nil); code != clSuccess {
		return clErr("clEnqueueFillBuffer", code)
	}
	if code := clFinish(d.queue); code != clSuccess {
		return clErr("clFinish", code)
	}
	return nil
}

// wait drains the queue and checks that the commands of evs completed.
func (d *clDevice) wait(evs ...uintptr) error {
	if code := clFinish(d.queue); code != clSuccess {
		return launchErr("clFinish", code, true)
	}
	for _, ev := range evs {
		var q querier
		if status := int32(q.u32(clGetEventInfo, ev, clEventExecStatus)); q.err != nil {
			return q.err
		} else if status < 0 {
			return launchErr("command execution", status, true)
		}
	}
	return nil
}

// elapsed is the device time from the start of first to the end of last.
func elapsed(first, last uintptr) (time.Duration, error) {
	var q querier
	start := q.u64(clGetEventProfilingInfo, first, clProfilingStart)
	end := q.u64(clGetEventProfilingInfo, last, clProfilingEnd)
	return time.Duration(end - start), q.err
}

// Close waits for queued work and releases every buffer and kernel still
// alive, then the queue and the context. Closing twice is a no-op.
func (d *clDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	clFinish(d.queue)
	for k := range d.kernels {
		k.release()
	}
	for b := range d.buffers {
		b.release()
	}
	var errs []error
	if code := clReleaseCommandQueue(d.queue); code != clSuccess {
		errs = append(errs, clErr("clReleaseCommandQueue", code))
	}
	if code := clReleaseContext(d.ctx); code != clSuccess {
		errs = append(errs, clErr("clReleaseContext", code))
	}
	return errors.Join(errs...)
}

type buffer struct {
	dev  *clDevice
	mem  uintptr // 0 once released; guarded by dev.mu
	size int
}

func (b *buffer) Size() int { return b.size }

func (b *buffer) Release() {
	b.dev.mu.Lock()
	defer b.dev.mu.Unlock()
	b.release()
}

// release frees the buffer; the caller holds dev.mu.
func (b *buffer) release() {
	if b.mem != 0 {
		clReleaseMemObject(b.mem)
		b.mem = 0
		delete(b.dev.buffers, b)
	}
}
