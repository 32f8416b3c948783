// Package cuda implements device.Device on NVIDIA GPUs through the CUDA
// driver API and NVRTC, both loaded at run time with purego (no cgo).
package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"discover/device"
)

var errClosed = errors.New("cuda: device is closed")

// Available reports whether a CUDA device can be opened: the driver and
// NVRTC load and the driver sees at least one GPU. It creates no context.
func Available() bool {
	c, err := load()
	if err != nil || c.cuInit(0) != cuSuccess {
		return false
	}
	var n int32
	return c.cuDeviceGetCount(&n) == cuSuccess && n > 0
}

// Open creates a context on GPU ordinal and measures its copy bandwidth.
func Open(ordinal int) (device.Device, error) {
	c, err := load()
	if err != nil {
		return nil, err
	}
	return open(c, ordinal)
}

// cudaDevice runs every driver call on one goroutine locked to its OS
// thread, where the context is current: contexts are per thread, and a
// goroutine may otherwise change threads between two calls. Capture mode
// "thread local" relies on the same.
type cudaDevice struct {
	drv      *driver
	info     device.Info
	arch     string   // NVRTC --gpu-architecture option
	cubin    bool     // arch is a real architecture: load CUBIN, not PTX
	includes []string // the toolkit's header directories, for -I

	mu      sync.Mutex // serializes do; guards closed
	closed  bool
	calls   chan func() error
	results chan error

	// Owned by the driver thread.
	ctx, stream     uintptr
	evStart, evStop uintptr
}

func open(c *driver, ordinal int) (*cudaDevice, error) {
	d := &cudaDevice{drv: c, calls: make(chan func() error), results: make(chan error)}
	go d.serve()
	if err := d.do(func() error { return d.init(ordinal) }); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *cudaDevice) serve() {
	// Never unlocked: the thread exits with the goroutine after Close.
	runtime.LockOSThread()
	for f := range d.calls {
		d.results <- f()
	}
}

// do runs f on the driver thread and waits for it.
func (d *cudaDevice) do(f func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	d.calls <- f
	return <-d.results
}

// init creates the context, stream and timing events and fills in Info.
func (d *cudaDevice) init(ordinal int) error {
	c := d.drv
	if r := c.cuInit(0); r != cuSuccess {
		return unavailable("cuInit: %s (is an NVIDIA GPU present and its driver loaded?)", c.errName(r))
	}
	var n, dev int32
	if r := c.cuDeviceGetCount(&n); r != cuSuccess || n == 0 {
		return unavailable("no CUDA device found")
	}
	if ordinal < 0 || ordinal >= int(n) {
		return unavailable("no CUDA device %d (found %d)", ordinal, n)
	}
	if r := c.cuDeviceGet(&dev, int32(ordinal)); r != cuSuccess {
		return c.fail("cuDeviceGet", r)
	}
	var name [256]byte
	if r := c.cuDeviceGetName(&name[0], int32(len(name)), dev); r != cuSuccess {
		return c.fail("cuDeviceGetName", r)
	}
	attrs := map[int32]*int32{}
	for _, a := range []int32{attrMaxThreadsPerBlock, attrMaxSharedPerBlock, attrMultiprocessors, attrCCMajor, attrCCMinor} {
		attrs[a] = new(int32)
		if r := c.cuDeviceGetAttribute(attrs[a], a, dev); r != cuSuccess {
			return c.fail(fmt.Sprintf("cuDeviceGetAttribute(%d)", a), r)
		}
	}
	var total uint64
	if r := c.cuDeviceTotalMem(&total, dev); r != cuSuccess {
		return c.fail("cuDeviceTotalMem", r)
	}
	var version int32
	if r := c.cuDriverGetVersion(&version); r != cuSuccess {
		return c.fail("cuDriverGetVersion", r)
	}
	d.info = device.Info{
		API:               device.CUDA,
		Name:              goString(&name[0]),
		ComputeUnits:      int(*attrs[attrMultiprocessors]),
		MemoryBytes:       int64(total),
		ComputeCapability: fmt.Sprintf("%d.%d", *attrs[attrCCMajor], *attrs[attrCCMinor]),
		MaxWorkGroupSize:  int(*attrs[attrMaxThreadsPerBlock]),
		LocalMemBytes:     int64(*attrs[attrMaxSharedPerBlock]),
		DriverVersion:     fmt.Sprintf("%d.%d", version/1000, version%1000/10),
	}
	if r := c.cuCtxCreate(&d.ctx, 0, dev); r != cuSuccess {
		return c.fail("cuCtxCreate", r)
	}
	// A stream of its own: graph capture is refused on the legacy stream.
	if r := c.cuStreamCreate(&d.stream, streamNonBlocking); r != cuSuccess {
		return c.fail("cuStreamCreate", r)
	}
	for _, ev := range []*uintptr{&d.evStart, &d.evStop} {
		if r := c.cuEventCreate(ev, 0); r != cuSuccess {
			return c.fail("cuEventCreate", r)
		}
	}
	bw, err := d.copyBandwidth()
	if err != nil {
		return fmt.Errorf("measure copy bandwidth: %w", err)
	}
	d.info.CopyBandwidthGBs = bw
	var major, minor int32
	if r := c.nvrtcVersion(&major, &minor); r != nvrtcSuccess {
		return c.nvrtcFail("nvrtcVersion", r)
	}
	d.info.Platform = fmt.Sprintf("NVRTC %d.%d (%s)", major, minor, c.nvrtcLib)
	d.arch, d.cubin = archOption(int(*attrs[attrCCMajor]), int(*attrs[attrCCMinor]), c.supportedArchs())
	d.includes = toolkitIncludes()
	return nil
}

// copyBandwidth times device-to-device copies of 1 GiB (less when memory is
// short) and returns bytes read plus written per second, in GB/s: the
// ceiling a memory-bound kernel is compared with. The best of a few samples
// is kept, as clocks ramp up during the first.
func (d *cudaDevice) copyBandwidth() (float64, error) {
	c := d.drv
	var free, total uint64
	if r := c.cuMemGetInfo(&free, &total); r != cuSuccess {
		return 0, c.fail("cuMemGetInfo", r)
	}
	size := uint64(1 << 30)
	for size > 1<<20 && 4*size > free { // two buffers in half the free memory
		size /= 2
	}
	var src, dst uint64
	if r := c.cuMemAlloc(&src, size); r != cuSuccess {
		return 0, c.fail("cuMemAlloc", r)
	}
	defer c.cuMemFree(src)
	if r := c.cuMemAlloc(&dst, size); r != cuSuccess {
		return 0, c.fail("cuMemAlloc", r)
	}
	defer c.cuMemFree(dst)
	const copies, samples = 5, 4
	queue := func() error {
		for range copies {
			if r := c.cuMemcpyDtoDAsync(dst, src, size, d.stream); r != cuSuccess {
				return c.fail("cuMemcpyDtoDAsync", r)
			}
		}
		return nil
	}
	best := time.Duration(math.MaxInt64)
	for range samples {
		t, err := d.timed(queue)
		if err != nil {
			return 0, err
		}
		best = min(best, t)
	}
	if best <= 0 {
		return 0, nil
	}
	return float64(2*size*copies) / best.Seconds() / 1e9, nil
}

// timed returns the device time of the work queue puts on the stream,
// between two events.
func (d *cudaDevice) timed(queue func() error) (time.Duration, error) {
	c := d.drv
	if r := c.cuEventRecord(d.evStart, d.stream); r != cuSuccess {
		return 0, c.fail("cuEventRecord", r)
	}
	if err := queue(); err != nil {
		return 0, err
	}
	if r := c.cuEventRecord(d.evStop, d.stream); r != cuSuccess {
		return 0, c.fail("cuEventRecord", r)
	}
	if r := c.cuEventSynchronize(d.evStop); r != cuSuccess {
		return 0, c.launchError("cuEventSynchronize", r, true)
	}
	var ms float32
	if r := c.cuEventElapsedTime(&ms, d.evStart, d.evStop); r != cuSuccess {
		return 0, c.fail("cuEventElapsedTime", r)
	}
	return time.Duration(float64(ms) * float64(time.Millisecond)), nil
}

// captureGraph records the launches that record queues on the stream into
// an executable graph. It runs on the driver thread.
func (d *cudaDevice) captureGraph(record func() error) (graph, error) {
	c, s := d.drv, d.stream
	if r := c.cuStreamBeginCapture(s, captureModeThreadLocal); r != cuSuccess {
		return graph{}, c.fail("cuStreamBeginCapture", r)
	}
	launchErr := record()
	// The capture must end even after a refused launch, or the stream
	// stays in capture mode.
	var g graph
	r := c.cuStreamEndCapture(s, &g.graph)
	if launchErr != nil || r != cuSuccess {
		if g.graph != 0 {
			c.cuGraphDestroy(g.graph)
		}
		if launchErr != nil {
			return graph{}, launchErr
		}
		return graph{}, c.fail("cuStreamEndCapture", r)
	}
	if r := c.cuGraphInstantiate(&g.exec, g.graph, 0); r != cuSuccess {
		c.cuGraphDestroy(g.graph)
		return graph{}, c.launchError("cuGraphInstantiateWithFlags", r, false)
	}
	return g, nil
}

// sync waits for the stream; an error there comes from launched work.
func (d *cudaDevice) sync() error {
	if r := d.drv.cuStreamSynchronize(d.stream); r != cuSuccess {
		return d.drv.launchError("cuStreamSynchronize", r, true)
	}
	return nil
}

func (d *cudaDevice) Info() device.Info       { return d.info }
func (d *cudaDevice) Dialect() device.Dialect { return device.CUDA }

// Close destroys the context, and with it every buffer and module, and
// ends the driver thread.
func (d *cudaDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.calls <- d.teardown
	err := <-d.results
	d.closed = true
	close(d.calls)
	return err
}

func (d *cudaDevice) teardown() error {
	c := d.drv
	for _, ev := range []uintptr{d.evStart, d.evStop} {
		if ev != 0 {
			c.cuEventDestroy(ev)
		}
	}
	if d.stream != 0 {
		c.cuStreamDestroy(d.stream)
	}
	if d.ctx != 0 {
		if r := c.cuCtxDestroy(d.ctx); r != cuSuccess {
			return c.fail("cuCtxDestroy", r)
		}
	}
	return nil
}

// buffer is device memory from cuMemAlloc.
type buffer struct {
	dev  *cudaDevice
	ptr  uint64 // 0 once released
	size int
}

func (b *buffer) Size() int { return b.size }

func (b *buffer) Release() {
	b.dev.do(func() error {
		if b.ptr != 0 {
			b.dev.drv.cuMemFree(b.ptr)
			b.ptr = 0
		}
		return nil
	})
}

func (d *cudaDevice) Alloc(bytes int) (device.Buffer, error) {
	if bytes <= 0 {
		return nil, fmt.Errorf("cuda: alloc %d bytes: size must be positive", bytes)
	}
	b := &buffer{dev: d, size: bytes}
	err := d.do(func() error {
		if r := d.drv.cuMemAlloc(&b.ptr, uint64(bytes)); r != cuSuccess {
			return d.drv.fail("cuMemAlloc", r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alloc %d bytes: %w", bytes, err)
	}
	return b, nil
}

// buffer checks that b is a live buffer of this device.
func (d *cudaDevice) buffer(b device.Buffer) (*buffer, error) {
	cb, ok := b.(*buffer)
	switch {
	case !ok || cb.dev != d:
		return nil, fmt.Errorf("cuda: buffer %T is not from this device", b)
	case cb.ptr == 0:
		return nil, errors.New("cuda: buffer was released")
	}
	return cb, nil
}

// Write copies data to the start of b and waits for the copy.
func (d *cudaDevice) Write(b device.Buffer, data []byte) error {
	return d.copy(b, data, func(ptr uint64, host unsafe.Pointer) cuResult {
		return d.drv.cuMemcpyHtoDAsync(ptr, host, uint64(len(data)), d.stream)
	}, "cuMemcpyHtoDAsync")
}

// Read copies the start of b into data and waits for the copy.
func (d *cudaDevice) Read(b device.Buffer, data []byte) error {
	return d.copy(b, data, func(ptr uint64, host unsafe.Pointer) cuResult {
		return d.drv.cuMemcpyDtoHAsync(host, ptr, uint64(len(data)), d.stream)
	}, "cuMemcpyDtoHAsync")
}

// Fill sets words 4-byte words of b from byte offset off on, on the
// stream, and waits.
func (d *cudaDevice) Fill(b device.Buffer, off, words int, word uint32) error {
	cb, err := d.buffer(b)
	if err != nil {
		return err
	}
	if off < 0 || words < 0 || off%4 != 0 || off+4*words > cb.size {
		return fmt.Errorf("cuda: fill %d words at offset %d of a %d-byte buffer: out of range or unaligned", words, off, cb.size)
	}
	if words == 0 {
		return nil
	}
	return d.do(func() error {
		if r := d.drv.cuMemsetD32Async(cb.ptr+uint64(off), word, uint64(words), d.stream); r != cuSuccess {
			return d.drv.fail("cuMemsetD32Async", r)
		}
		return d.sync()
	})
}

// copy runs one host<->device copy on the stream, so it is ordered after
// every launch, with data pinned until the stream is idle.
func (d *cudaDevice) copy(b device.Buffer, data []byte, cp func(ptr uint64, host unsafe.Pointer) cuResult, op string) error {
	cb, err := d.buffer(b)
	if err != nil {
		return err
	}
	if len(data) > cb.size {
		return fmt.Errorf("cuda: %s: %d bytes do not fit a buffer of %d", op, len(data), cb.size)
	}
	if len(data) == 0 {
		return nil
	}
	var pin runtime.Pinner
	pin.Pin(&data[0])
	defer pin.Unpin()
	return d.do(func() error {
		if r := cp(cb.ptr, unsafe.Pointer(&data[0])); r != cuSuccess {
			return d.drv.fail(op, r)
		}
		return d.sync()
	})
}
