package cuda

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"discover/device"
)

func openFake(t *testing.T, f *fake) *cudaDevice {
	t.Helper()
	d, err := open(f.driver(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

const addSource = `extern "C" __global__ void add(float* a, const float* b, unsigned n, float s) {}`

func compileFake(t *testing.T, d *cudaDevice) device.Kernel {
	t.Helper()
	k, err := d.Compile(context.Background(), addSource, "add", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Release)
	return k
}

func TestOpenInfo(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	got := d.Info()
	// 5 copies of 1 GiB, read and written, in the fake's 2 ms.
	wantBW := 2 * float64(1<<30) * 5 / 0.002 / 1e9
	want := device.Info{
		API: device.CUDA, Platform: "NVRTC 13.0 (fake)", Name: "Fake H200", ComputeUnits: 132,
		MemoryBytes: 141 << 30, ComputeCapability: "9.0", MaxWorkGroupSize: 1024,
		LocalMemBytes: 49152, DriverVersion: "13.0", CopyBandwidthGBs: got.CopyBandwidthGBs,
	}
	if got != want {
		t.Errorf("Info() = %+v\nwant %+v", got, want)
	}
	if math.Abs(got.CopyBandwidthGBs-wantBW) > 1e-6*wantBW {
		t.Errorf("CopyBandwidthGBs = %v, want %v", got.CopyBandwidthGBs, wantBW)
	}
	if d.Dialect() != device.CUDA {
		t.Errorf("Dialect() = %q", d.Dialect())
	}
	if !slices.Equal(f.allocs, []uint64{1 << 30, 1 << 30}) {
		t.Errorf("bandwidth buffers = %v, want two of 1 GiB", f.allocs)
	}
	if d.arch != "--gpu-architecture=sm_90" || !d.cubin {
		t.Errorf("arch = %q cubin=%v, want sm_90 CUBIN", d.arch, d.cubin)
	}
}

func TestOpenSmallMemoryShrinksCopy(t *testing.T) {
	f := newFake()
	f.free = 100 << 20
	openFake(t, f)
	if !slices.Equal(f.allocs, []uint64{16 << 20, 16 << 20}) {
		t.Errorf("bandwidth buffers = %v, want two of 16 MiB in 100 MiB free", f.allocs)
	}
}

func TestOpenUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(*fake)
		ordinal int
	}{
		{"cuInit fails", func(f *fake) { f.initResult = 100 }, 0},
		{"no device", func(f *fake) { f.devices = 0 }, 0},
		{"ordinal out of range", func(f *fake) {}, 1},
		{"negative ordinal", func(f *fake) {}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			_, err := open(f.driver(), tc.ordinal)
			if !errors.Is(err, device.ErrUnavailable) {
				t.Errorf("open = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestArchOption(t *testing.T) {
	for _, tc := range []struct {
		major, minor int
		supported    []int
		want         string
		cubin        bool
	}{
		{9, 0, []int{75, 80, 86, 89, 90, 100}, "--gpu-architecture=sm_90", true},
		{8, 6, []int{75, 80, 86, 89, 90}, "--gpu-architecture=sm_86", true},
		{9, 0, []int{75, 80, 86, 89}, "--gpu-architecture=compute_89", false},
		{12, 0, []int{75, 80, 90, 100}, "--gpu-architecture=compute_100", false},
		{9, 0, nil, "--gpu-architecture=compute_90", false},
		{7, 0, []int{75, 80}, "--gpu-architecture=compute_70", false},
	} {
		got, cubin := archOption(tc.major, tc.minor, tc.supported)
		if got != tc.want || cubin != tc.cubin {
			t.Errorf("archOption(%d, %d, %v) = %q, %v; want %q, %v", tc.major, tc.minor, tc.supported, got, cubin, tc.want, tc.cubin)
		}
	}
}

func TestGeometry(t *testing.T) {
	for _, tc := range []struct {
		l           device.Launch
		grid, block [3]uint32
		ok          bool
	}{
		{device.Launch{Global: [3]int{1024, 1, 1}, Local: [3]int{256, 1, 1}}, [3]uint32{4, 1, 1}, [3]uint32{256, 1, 1}, true},
		{device.Launch{Global: [3]int{64, 6, 4}, Local: [3]int{32, 2, 4}}, [3]uint32{2, 3, 1}, [3]uint32{32, 2, 4}, true},
		{device.Launch{Global: [3]int{1000, 1, 1}, Local: [3]int{256, 1, 1}}, [3]uint32{}, [3]uint32{}, false},
		{device.Launch{Global: [3]int{256, 1, 1}, Local: [3]int{256, 0, 1}}, [3]uint32{}, [3]uint32{}, false},
		{device.Launch{Global: [3]int{0, 1, 1}, Local: [3]int{1, 1, 1}}, [3]uint32{}, [3]uint32{}, false},
		{device.Launch{Global: [3]int{-256, 1, 1}, Local: [3]int{256, 1, 1}}, [3]uint32{}, [3]uint32{}, false},
		{device.Launch{Global: [3]int{1 << 40, 1, 1}, Local: [3]int{1, 1, 1}}, [3]uint32{}, [3]uint32{}, false},
	} {
		grid, block, err := geometry(tc.l)
		if !tc.ok {
			var le *device.LaunchError
			if !errors.As(err, &le) || le.Fatal || le.Code != int(cuErrInvalidValue) {
				t.Errorf("geometry(%+v) = %v, want a non-fatal invalid value LaunchError", tc.l, err)
			}
			continue
		}
		if err != nil || grid != tc.grid || block != tc.block {
			t.Errorf("geometry(%+v) = %v, %v, %v; want %v, %v", tc.l, grid, block, err, tc.grid, tc.block)
		}
	}
}

func TestRunPacksParams(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	a, _ := d.Alloc(64)
	b, _ := d.Alloc(64)
	f.nparams = 4
	args := []device.Arg{device.BufferArg(a), device.BufferArg(b), device.Uint32Arg(7), device.Float32Arg(1.5)}
	l := device.Launch{Global: [3]int{512, 2, 1}, Local: [3]int{128, 1, 1}}
	if err := k.Run(args, l); err != nil {
		t.Fatal(err)
	}
	if len(f.launches) != 1 {
		t.Fatalf("launches = %d, want 1", len(f.launches))
	}
	got := f.launches[0]
	want := fakeLaunch{
		grid: [3]uint32{4, 2, 1}, block: [3]uint32{128, 1, 1},
		params: []uint64{a.(*buffer).ptr, b.(*buffer).ptr, 7, uint64(math.Float32bits(1.5))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("launch = %+v, want %+v", got, want)
	}
	if calls := f.called("cuLaunchKernel", "cuStreamSynchronize"); !slices.Equal(calls, []string{"cuLaunchKernel", "cuStreamSynchronize"}) {
		t.Errorf("calls = %v, want a launch then a sync", calls)
	}
}

func TestRunRejectsBadArgs(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	other := openFake(t, newFake())
	foreign, _ := other.Alloc(4)
	released, _ := d.Alloc(4)
	released.Release()
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	for name, args := range map[string][]device.Arg{
		"foreign buffer":  {device.BufferArg(foreign)},
		"released buffer": {device.BufferArg(released)},
	} {
		if err := k.Run(args, l); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
	bad := device.Launch{Global: [3]int{100, 1, 1}, Local: [3]int{32, 1, 1}}
	if err := k.Run(nil, bad); err == nil {
		t.Error("Run with global not a multiple of local succeeded")
	}
	if n := len(f.called("cuLaunchKernel")); n != 0 {
		t.Errorf("%d launches reached the driver", n)
	}
}

func TestLaunchErrors(t *testing.T) {
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	for _, tc := range []struct {
		launch, sync cuResult
		op, name     string
		fatal        bool
	}{
		{launch: 701, op: "cuLaunchKernel", name: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"},
		{launch: 1, op: "cuLaunchKernel", name: "CUDA_ERROR_INVALID_VALUE"},
		{launch: 700, op: "cuLaunchKernel", name: "CUDA_ERROR_ILLEGAL_ADDRESS", fatal: true},
		{sync: 700, op: "cuStreamSynchronize", name: "CUDA_ERROR_ILLEGAL_ADDRESS", fatal: true},
		{sync: 719, op: "cuStreamSynchronize", name: "CUDA_ERROR_LAUNCH_FAILED", fatal: true},
		{sync: 999, op: "cuStreamSynchronize", name: "CUDA_ERROR_999", fatal: true},
		{sync: 1, op: "cuStreamSynchronize", name: "CUDA_ERROR_INVALID_VALUE"},
	} {
		f := newFake()
		d := openFake(t, f)
		k := compileFake(t, d)
		f.launchResult, f.syncResult = tc.launch, tc.sync
		err := k.Run(nil, l)
		var le *device.LaunchError
		if !errors.As(err, &le) {
			t.Errorf("launch %d sync %d: Run = %v, want a LaunchError", tc.launch, tc.sync, err)
			continue
		}
		code := max(tc.launch, tc.sync)
		want := device.LaunchError{Op: tc.op, Code: int(code), Name: tc.name, Fatal: tc.fatal}
		if *le != want {
			t.Errorf("launch %d sync %d: %+v, want %+v", tc.launch, tc.sync, *le, want)
		}
	}
}

func TestFatal(t *testing.T) {
	for _, code := range []cuResult{700, 702, 714, 715, 716, 718, 719} {
		if !fatal(code, false) || !fatal(code, true) {
			t.Errorf("fatal(%d) = false, want true", code)
		}
	}
	for _, code := range []cuResult{1, 400, 701, 98, 209} {
		if fatal(code, false) {
			t.Errorf("fatal(%d) at launch = true, want false", code)
		}
	}
	if !fatal(999, true) || fatal(cuErrInvalidValue, true) {
		t.Error("after a wait: want unknown errors fatal, invalid value not")
	}
}

func TestStickyFaultOnCopyIsFatal(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	b, _ := d.Alloc(4)
	f.syncResult = 700
	var le *device.LaunchError
	if err := d.Read(b, make([]byte, 4)); !errors.As(err, &le) || !le.Fatal {
		t.Errorf("Read after a fault = %v, want a fatal LaunchError", err)
	}
}

var timeSequence = []string{"cuEventRecord", "cuGraphLaunch", "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime"}

// timeCalls are the calls of Time, from capture to the elapsed time.
func timeCalls(f *fake) []string {
	return f.called("cuStreamBeginCapture", "cuLaunchKernel", "cuStreamEndCapture", "cuGraph", "cuEvent")
}

func TestTimeCapturesOnceAndReplays(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	buf, _ := d.Alloc(16)
	args := []device.Arg{device.BufferArg(buf), device.Uint32Arg(4)}
	l := device.Launch{Global: [3]int{64, 1, 1}, Local: [3]int{32, 1, 1}}
	f.nparams = 2
	f.elapsedMs = 0.25
	f.calls = nil

	got, err := k.Time(args, l, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got != 250*time.Microsecond {
		t.Errorf("Time = %v, want 250µs", got)
	}
	capture := []string{"cuStreamBeginCapture", "cuLaunchKernel", "cuLaunchKernel", "cuLaunchKernel", "cuStreamEndCapture", "cuGraphInstantiate"}
	if want := append(slices.Clone(capture), timeSequence...); !slices.Equal(timeCalls(f), want) {
		t.Errorf("first Time: calls = %v\nwant %v", timeCalls(f), want)
	}
	for i, fl := range f.launches {
		if !fl.captured || fl.grid != [3]uint32{2, 1, 1} || !slices.Equal(fl.params, []uint64{buf.(*buffer).ptr, 4}) {
			t.Errorf("captured launch %d = %+v", i, fl)
		}
	}
	for g, n := range f.graphs {
		if n != 3 {
			t.Errorf("graph %d holds %d launches, want 3", g, n)
		}
	}

	// Same arguments: replay only.
	f.calls = nil
	if _, err := k.Time(args, l, 3); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(timeCalls(f), timeSequence) {
		t.Errorf("second Time: calls = %v, want a replay only %v", timeCalls(f), timeSequence)
	}

	// Another count or other scalars: a new graph each.
	f.calls = nil
	k.Time(args, l, 2)
	k.Time([]device.Arg{device.BufferArg(buf), device.Uint32Arg(5)}, l, 2)
	if n := len(f.called("cuStreamBeginCapture")); n != 2 {
		t.Errorf("captures = %d, want 2", n)
	}

	f.calls = nil
	k.Release()
	want := []string{"cuGraphExecDestroy", "cuGraphDestroy", "cuGraphExecDestroy", "cuGraphDestroy", "cuGraphExecDestroy", "cuGraphDestroy", "cuModuleUnload"}
	if got := f.called("cuGraph", "cuModule"); !slices.Equal(got, want) {
		t.Errorf("Release: calls = %v, want %v", got, want)
	}
	if _, err := k.Time(args, l, 3); err == nil {
		t.Error("Time after Release succeeded")
	}
}

// A sample longer than graphBatch replays one captured batch, then a graph
// of the rest, between the same two events.
func TestTimeReplaysBatches(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	f.calls = nil
	if _, err := k.Time(nil, l, 2*graphBatch+5); err != nil {
		t.Fatal(err)
	}
	if n := len(f.called("cuLaunchKernel")); n != graphBatch+5 {
		t.Errorf("captured %d launches, want %d", n, graphBatch+5)
	}
	if n := len(f.called("cuStreamBeginCapture")); n != 2 {
		t.Errorf("captures = %d, want 2 (a batch, the rest)", n)
	}
	want := []string{"cuEventRecord", "cuGraphLaunch", "cuGraphLaunch", "cuGraphLaunch", "cuEventRecord"}
	if got := f.called("cuEventRecord", "cuGraphLaunch"); !slices.Equal(got, want) {
		t.Errorf("replay calls = %v, want %v", got, want)
	}
	// Another count reuses the batch and captures only its rest.
	f.calls = nil
	if _, err := k.Time(nil, l, graphBatch+7); err != nil {
		t.Fatal(err)
	}
	if n := len(f.called("cuLaunchKernel")); n != 7 {
		t.Errorf("captured %d launches, want 7", n)
	}
}

func TestTimeRefusedLaunchEndsCapture(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	f.launchResult, f.failLaunchAt = 701, 2
	f.calls = nil
	_, err := k.Time(nil, l, 5)
	var le *device.LaunchError
	if !errors.As(err, &le) || le.Fatal || le.Code != 701 {
		t.Fatalf("Time = %v, want a non-fatal LaunchError 701", err)
	}
	want := []string{"cuStreamBeginCapture", "cuLaunchKernel", "cuLaunchKernel", "cuStreamEndCapture", "cuGraphDestroy"}
	if !slices.Equal(timeCalls(f), want) {
		t.Errorf("calls = %v, want %v", timeCalls(f), want)
	}
	// Nothing was cached: the next Time captures again.
	f.launchResult = cuSuccess
	f.calls = nil
	if _, err := k.Time(nil, l, 5); err != nil {
		t.Fatal(err)
	}
	if n := len(f.called("cuStreamBeginCapture")); n != 1 {
		t.Errorf("captures = %d, want 1", n)
	}
	if _, err := k.Time(nil, l, 0); err == nil {
		t.Error("Time of 0 launches succeeded")
	}
}

func TestCompile(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	d.includes = []string{"/cuda/include", "/cuda/include/cccl"}
	defines := []device.Define{{Name: "N", Value: "4"}, {Name: "SCALE", Value: "0.5f"}}
	k, err := d.Compile(context.Background(), addSource, "add", defines)
	if err != nil {
		t.Fatal(err)
	}
	k.Release()
	want := []string{"--gpu-architecture=sm_90", "--std=c++17", "-I/cuda/include", "-I/cuda/include/cccl", "-DN=4", "-DSCALE=0.5f"}
	if !slices.Equal(f.options, want) {
		t.Errorf("options = %q, want %q", f.options, want)
	}
	if f.nameExpr != "add" || f.image != "CUBIN" {
		t.Errorf("name expression %q, image %q; want add, CUBIN", f.nameExpr, f.image)
	}
}

func TestIncludeDirs(t *testing.T) {
	bare, cuda12, cuda13 := t.TempDir(), t.TempDir(), t.TempDir()
	for _, dir := range []string{cuda12 + "/include", cuda13 + "/include/cccl"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, root := range []string{cuda12, cuda13} {
		if err := os.WriteFile(root+"/include/cuda_fp16.h", nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		roots []string
		want  []string
	}{
		{[]string{"", bare, cuda12, cuda13}, []string{cuda12 + "/include"}},
		{[]string{cuda13, cuda12}, []string{cuda13 + "/include", cuda13 + "/include/cccl"}},
		{[]string{bare}, nil},
	} {
		if got := includeDirs(tc.roots...); !slices.Equal(got, tc.want) {
			t.Errorf("includeDirs(%q) = %q, want %q", tc.roots, got, tc.want)
		}
	}
}

func TestCompilePTXWhenNVRTCLacksArch(t *testing.T) {
	f := newFake()
	f.archs = []int32{75, 80, 86, 89}
	d := openFake(t, f)
	compileFake(t, d)
	if f.options[0] != "--gpu-architecture=compute_89" || f.image != "PTX" {
		t.Errorf("arch %q, image %q; want compute_89, PTX", f.options[0], f.image)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, source, entry string
		defines             []device.Define
		log                 string
		nvrtc               bool // the source reached NVRTC
	}{
		{"syntax", "__global__ void add() { syntax error }", "add", nil, `expected a ";"`, true},
		{"missing entry", addSource, "mul", nil, `entry "mul" not found`, true},
		{"include", "#include <stdio.h>\n" + addSource, "add", nil, "#include <stdio.h> is not allowed", false},
		{"define", addSource, "add", []device.Define{{Name: "A B", Value: "1"}}, "not an identifier", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			d := openFake(t, f)
			_, err := d.Compile(context.Background(), tc.source, tc.entry, tc.defines)
			var ce *device.CompileError
			if !errors.As(err, &ce) || !strings.Contains(ce.Log, tc.log) {
				t.Fatalf("Compile = %v, want a CompileError containing %q", err, tc.log)
			}
			if reached := len(f.called("nvrtcCreateProgram")) > 0; reached != tc.nvrtc {
				t.Errorf("reached NVRTC = %v, want %v", reached, tc.nvrtc)
			}
		})
	}
}

func TestCompileHonoursContext(t *testing.T) {
	f := newFake()
	f.block = make(chan string)
	d := openFake(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := d.Compile(ctx, addSource, "add", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Compile = %v, want DeadlineExceeded", err)
	}
	f.block <- addSource // let the abandoned build finish
}

func TestReadWrite(t *testing.T) {
	d := openFake(t, newFake())
	b, err := d.Alloc(8)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != 8 {
		t.Errorf("Size = %d", b.Size())
	}
	in := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	if err := d.Write(b, in); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 8)
	if err := d.Read(b, out); err != nil || !bytes.Equal(in, out) {
		t.Errorf("Read = %v, %v; want %v", out, err, in)
	}
	if err := d.Write(b, make([]byte, 9)); err == nil {
		t.Error("Write past the end succeeded")
	}
	if err := d.Fill(b, 4, 1, 0x7fc00000); err != nil {
		t.Fatal(err)
	}
	if err := d.Read(b, out); err != nil || !bytes.Equal(out, []byte{1, 2, 3, 4, 0, 0, 0xc0, 0x7f}) {
		t.Errorf("after Fill of the second word: %v, %v", out, err)
	}
	for _, bad := range [][2]int{{4, 2}, {2, 1}, {-4, 1}} {
		if err := d.Fill(b, bad[0], bad[1], 0); err == nil {
			t.Errorf("Fill(offset %d, %d words) of 8 bytes succeeded", bad[0], bad[1])
		}
	}
	if _, err := d.Alloc(0); err == nil {
		t.Error("Alloc(0) succeeded")
	}
	b.Release()
	b.Release()
	if err := d.Read(b, out); err == nil {
		t.Error("Read of a released buffer succeeded")
	}
}

func TestClose(t *testing.T) {
	f := newFake()
	d, err := open(f.driver(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := d.Alloc(4); !errors.Is(err, errClosed) {
		t.Errorf("Alloc after Close = %v, want errClosed", err)
	}
	if got := f.called("cuCtxDestroy"); len(got) != 1 {
		t.Errorf("cuCtxDestroy calls = %d, want 1", len(got))
	}
}
