package cuda

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"discover/device"
)

// The TestGPU tests need a real GPU and skip without one.

func openGPU(t *testing.T) *cudaDevice {
	t.Helper()
	if !Available() {
		t.Skip("no CUDA device")
	}
	start := time.Now()
	dev, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Open took %v", time.Since(start))
	t.Cleanup(func() { dev.Close() })
	return dev.(*cudaDevice)
}

func compileGPU(t *testing.T, d *cudaDevice, source, entry string, defines ...device.Define) device.Kernel {
	t.Helper()
	start := time.Now()
	k, err := d.Compile(context.Background(), source, entry, defines)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compile+load of %s took %v", entry, time.Since(start))
	t.Cleanup(k.Release)
	return k
}

func floats(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

func floatBytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func upload(t *testing.T, d *cudaDevice, f []float32) device.Buffer {
	t.Helper()
	b, err := d.Alloc(4 * len(f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Release)
	if err := d.Write(b, floatBytes(f)); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t *testing.T, d *cudaDevice, b device.Buffer) []float32 {
	t.Helper()
	out := make([]byte, b.Size())
	if err := d.Read(b, out); err != nil {
		t.Fatal(err)
	}
	return floats(out)
}

func TestGPUInfo(t *testing.T) {
	d := openGPU(t)
	info := d.Info()
	js, _ := json.MarshalIndent(info, "", "  ")
	t.Logf("Info: %s\narch option %s (cubin %v)", js, d.arch, d.cubin)
	if info.Name == "" || info.ComputeUnits < 1 || info.MaxWorkGroupSize < 1 || info.CopyBandwidthGBs <= 0 {
		t.Errorf("incomplete Info: %+v", info)
	}
}

const vaddSource = `
extern "C" __global__ void vadd(float* out, const float* a, const float* b, unsigned n, float s) {
	unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) out[i] = a[i] + SCALE * s * b[i];
}
// Not extern "C": found through its lowered name.
__global__ void vadd_mangled(float* out, const float* a, const float* b, unsigned n, float s) {
	unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) out[i] = a[i] + SCALE * s * b[i];
}
`

func TestGPUVectorAdd(t *testing.T) {
	d := openGPU(t)
	const n = 1<<20 + 3
	a, b := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], b[i] = float32(i), float32(2*(i%1000))
	}
	bufA, bufB := upload(t, d, a), upload(t, d, b)
	out := upload(t, d, make([]float32, n))
	args := []device.Arg{device.BufferArg(out), device.BufferArg(bufA), device.BufferArg(bufB), device.Uint32Arg(n), device.Float32Arg(0.25)}
	l := device.Launch{Global: [3]int{(n + 255) / 256 * 256, 1, 1}, Local: [3]int{256, 1, 1}}
	for _, entry := range []string{"vadd", "vadd_mangled"} {
		k := compileGPU(t, d, vaddSource, entry, device.Define{Name: "SCALE", Value: "2.0f"})
		if err := d.Write(out, make([]byte, 4*n)); err != nil {
			t.Fatal(err)
		}
		if err := k.Run(args, l); err != nil {
			t.Fatal(err)
		}
		got := download(t, d, out)
		for i := range got {
			if want := a[i] + 0.5*b[i]; got[i] != want {
				t.Fatalf("%s: out[%d] = %v, want %v", entry, i, got[i], want)
			}
		}
	}
}

func TestGPUTiming(t *testing.T) {
	d := openGPU(t)
	counter := upload(t, d, []float32{0})
	tiny := compileGPU(t, d, `extern "C" __global__ void tiny(float* p) { if (threadIdx.x == 0) p[0] += 1.0f; }`, "tiny")
	args := []device.Arg{device.BufferArg(counter)}
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	const launches, samples = 100, 21
	var per []time.Duration
	for i := range samples + 1 { // the first is the warm-up and the capture
		total, err := tiny.Time(args, l, launches)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			per = append(per, total/launches)
		}
	}
	slices.Sort(per)
	t.Logf("tiny kernel, graph of %d launches: per launch median %v, p10 %v, p90 %v",
		launches, per[len(per)/2], per[len(per)/10], per[len(per)*9/10])
	if got := download(t, d, counter)[0]; got != launches*(samples+1) {
		t.Errorf("counter = %v, want %d: the replays did not all run", got, launches*(samples+1))
	}
	if med := per[len(per)/2]; med <= 0 || med > 50*time.Microsecond {
		t.Errorf("median per launch %v, want about 1-2 µs", med)
	}

	// The same kernel launched from Go, one Run (launch + sync) at a time.
	start := time.Now()
	for range launches {
		if err := tiny.Run(args, l); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("tiny kernel, Run from Go: %v per launch (host clock, includes sync)", time.Since(start)/launches)

	// A memory-bound kernel against the measured copy bandwidth.
	const n = 1 << 24
	big := make([]float32, n)
	bufA, bufB, out := upload(t, d, big), upload(t, d, big), upload(t, d, big)
	vadd := compileGPU(t, d, vaddSource, "vadd", device.Define{Name: "SCALE", Value: "1.0f"})
	vargs := []device.Arg{device.BufferArg(out), device.BufferArg(bufA), device.BufferArg(bufB), device.Uint32Arg(n), device.Float32Arg(1)}
	vl := device.Launch{Global: [3]int{n, 1, 1}, Local: [3]int{256, 1, 1}}
	if _, err := vadd.Time(vargs, vl, 20); err != nil {
		t.Fatal(err)
	}
	total, err := vadd.Time(vargs, vl, 20)
	if err != nil {
		t.Fatal(err)
	}
	gbs := 3 * 4 * n / (total / 20).Seconds() / 1e9
	t.Logf("vadd of %d floats: %v per launch, %.0f GB/s, %.0f%% of the copy bandwidth %.0f GB/s",
		n, total/20, gbs, 100*gbs/d.Info().CopyBandwidthGBs, d.Info().CopyBandwidthGBs)
}

func TestGPUCompileError(t *testing.T) {
	d := openGPU(t)
	for _, tc := range []struct{ source, entry, log string }{
		{`extern "C" __global__ void k(float* p) { p[0] = undefined_name; }`, "k", "undefined_name"},
		{`extern "C" __global__ void k(float* p) { p[0] = 1.0f; }`, "missing", "missing"},
	} {
		_, err := d.Compile(context.Background(), tc.source, tc.entry, nil)
		var ce *device.CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Log, tc.log) {
			t.Errorf("Compile(%q) = %v, want a CompileError mentioning %q", tc.entry, err, tc.log)
			continue
		}
		t.Logf("compile error log for entry %q:\n%s", tc.entry, ce.Log)
	}
}

func TestGPUHeaders(t *testing.T) {
	d := openGPU(t)
	t.Logf("include directories: %q", d.includes)
	for _, h := range []string{"cuda_fp16.h", "cuda_bf16.h", "cuda_fp8.h", "cooperative_groups.h", "cooperative_groups/reduce.h", "cuda/std/cmath", "cuda/std/limits"} {
		src := "#include <" + h + ">\n" + `extern "C" __global__ void k(float* p) { p[0] = 1.0f; }`
		k, err := d.Compile(context.Background(), src, "k", nil)
		if err != nil {
			t.Errorf("<%s> is allowed but does not compile: %v", h, err)
			continue
		}
		k.Release()
		t.Logf("<%s>: ok", h)
	}
}

// Last: the fault is sticky and the context is lost afterwards.
func TestGPUIllegalAddress(t *testing.T) {
	d := openGPU(t)
	buf := upload(t, d, []float32{0})
	k := compileGPU(t, d, `extern "C" __global__ void bad(float* p) { ((float*)16)[threadIdx.x] = p[0]; }`, "bad")
	err := k.Run([]device.Arg{device.BufferArg(buf)}, device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}})
	var le *device.LaunchError
	if !errors.As(err, &le) || !le.Fatal {
		t.Fatalf("Run = %v, want a fatal LaunchError", err)
	}
	t.Logf("illegal address: %v (fatal %v)", le, le.Fatal)
	if err := d.Read(buf, make([]byte, 4)); !errors.As(err, &le) || !le.Fatal {
		t.Errorf("Read after the fault = %v, want a fatal LaunchError", err)
	}
}
