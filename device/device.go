// Package device is the one interface the evaluator sees for every GPU API
// (OpenCL, CUDA). Implementations load their native library at run time
// through purego, so the binary builds with CGO_ENABLED=0.
package device

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Dialect is the kernel language a device compiles.
type Dialect string

const (
	OpenCL Dialect = "opencl"
	CUDA   Dialect = "cuda"
)

// Info describes a device as reported by its driver, plus the copy
// bandwidth measured once per process (0 when not measured).
type Info struct {
	API               Dialect `json:"api"`
	Platform          string  `json:"platform,omitempty"`
	Name              string  `json:"name"`
	ComputeUnits      int     `json:"compute_units"`
	MemoryBytes       int64   `json:"memory_bytes"`
	ComputeCapability string  `json:"compute_capability,omitempty"`
	MaxWorkGroupSize  int     `json:"max_work_group_size"`
	LocalMemBytes     int64   `json:"local_mem_bytes"`
	DriverVersion     string  `json:"driver_version,omitempty"`
	// CopyBandwidthGBs is bytes read plus bytes written per second (in 1e9
	// bytes) of a large device-to-device copy.
	CopyBandwidthGBs float64 `json:"copy_bandwidth_gbs,omitempty"`
}

// Define is one compile-time constant passed as -DName=Value.
type Define struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Launch is the geometry of one launch. Global is the total number of
// work-items per dimension (OpenCL NDRange semantics); it is always a
// multiple of Local. CUDA launches Global/Local blocks of Local threads.
type Launch struct {
	Global [3]int `json:"global"`
	Local  [3]int `json:"local"`
}

// Arg is one kernel argument: a buffer, or a 32-bit scalar given by its bits.
type Arg struct {
	Buffer Buffer
	Bits   uint32
}

func BufferArg(b Buffer) Arg   { return Arg{Buffer: b} }
func Uint32Arg(v uint32) Arg   { return Arg{Bits: v} }
func Float32Arg(v float32) Arg { return Arg{Bits: math.Float32bits(v)} }

// Buffer is device memory.
type Buffer interface {
	Size() int
	Release()
}

// Kernel is a compiled entry point.
type Kernel interface {
	// Run launches once and waits for completion.
	Run(args []Arg, l Launch) error
	// Time issues `launches` back-to-back launches between two device events
	// and returns the device time of the whole batch. CUDA captures the
	// batch in a graph and replays it, so host launch cost is not counted.
	Time(args []Arg, l Launch, launches int) (time.Duration, error)
	Release()
}

// Device is one GPU (or OpenCL device) with its own context and queue.
type Device interface {
	Info() Info
	Dialect() Dialect
	// Compile builds source with the defines and returns the entry kernel.
	// A source the compiler rejects returns a *CompileError with the log.
	Compile(ctx context.Context, source, entry string, defines []Define) (Kernel, error)
	Alloc(bytes int) (Buffer, error)
	Write(b Buffer, data []byte) error
	Read(b Buffer, data []byte) error
	// Fill sets words 4-byte words of b, from byte offset off on, to word,
	// on the device and waits: poisoning a 64 MB output costs no transfer.
	Fill(b Buffer, off, words int, word uint32) error
	// Sequence records steps to replay as one unit: CUDA captures them
	// into one graph; OpenCL enqueues them all, then waits once.
	Sequence(steps []Step) (Sequence, error)
	Close() error
}

// CompileError is a source the compiler rejected; Log is the build log.
type CompileError struct {
	Log string
}

func (e *CompileError) Error() string { return "compile error:\n" + e.Log }

// LaunchError is a launch the driver refused or that failed while running.
// Fatal means the context is unusable afterwards (a CUDA fault is sticky):
// the worker must exit so that its supervisor starts a fresh one.
type LaunchError struct {
	Op    string
	Code  int
	Name  string
	Fatal bool
}

func (e *LaunchError) Error() string {
	return fmt.Sprintf("%s failed: %s (%d)", e.Op, e.Name, e.Code)
}

// ErrUnavailable wraps every "this API is not usable on this machine" error
// (library missing, no platform, no GPU), so callers can print the hint.
var ErrUnavailable = errors.New("device unavailable")
