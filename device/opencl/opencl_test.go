package opencl_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"discover/device"
	"discover/device/opencl"
)

// open returns device 0, skipping the test when OpenCL is missing unless
// DISCOVER_REQUIRE_OPENCL=1 (CI machines with PoCL set it).
func open(t *testing.T) device.Device {
	t.Helper()
	d, err := opencl.Open(0)
	if errors.Is(err, device.ErrUnavailable) && os.Getenv("DISCOVER_REQUIRE_OPENCL") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

const vaddSource = `
__kernel void vadd(__global const float* a, __global const float* b,
                   __global float* c, uint n) {
	uint i = get_global_id(0);
	if (i < n) c[i] = a[i] + SCALE * b[i];
}
`

func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func bytesOf(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestList(t *testing.T) {
	infos, err := opencl.List()
	if errors.Is(err, device.ErrUnavailable) && os.Getenv("DISCOVER_REQUIRE_OPENCL") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 || infos[0].Name == "" || infos[0].API != device.OpenCL {
		t.Fatalf("List() = %+v", infos)
	}
}

func TestInfo(t *testing.T) {
	d := open(t)
	info := d.Info()
	t.Logf("%+v", info)
	if info.API != device.OpenCL || d.Dialect() != device.OpenCL {
		t.Errorf("API = %q, Dialect = %q", info.API, d.Dialect())
	}
	if info.Platform == "" || info.Name == "" || info.DriverVersion == "" {
		t.Errorf("empty platform, name or driver version: %+v", info)
	}
	if info.ComputeUnits < 1 || info.MemoryBytes < 1<<20 || info.MaxWorkGroupSize < 1 || info.LocalMemBytes < 1<<10 {
		t.Errorf("implausible limits: %+v", info)
	}
	if info.CopyBandwidthGBs <= 0.1 || info.CopyBandwidthGBs > 1e5 {
		t.Errorf("implausible copy bandwidth %.2f GB/s", info.CopyBandwidthGBs)
	}
}

func TestKernel(t *testing.T) {
	d := open(t)
	const n = 1000
	k, err := d.Compile(context.Background(), vaddSource, "vadd", []device.Define{{Name: "SCALE", Value: "2.0f"}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()

	a, b := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], b[i] = float32(i), float32(3*i)
	}
	bufs := make([]device.Buffer, 3)
	for i := range bufs {
		if bufs[i], err = d.Alloc(4 * n); err != nil {
			t.Fatal(err)
		}
		defer bufs[i].Release()
	}
	if err := d.Write(bufs[0], bytesOf(a)); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(bufs[1], bytesOf(b)); err != nil {
		t.Fatal(err)
	}
	args := []device.Arg{device.BufferArg(bufs[0]), device.BufferArg(bufs[1]), device.BufferArg(bufs[2]), device.Uint32Arg(n)}
	l := device.Launch{Global: [3]int{1024, 1, 1}, Local: [3]int{64, 1, 1}}

	t.Run("Run", func(t *testing.T) {
		if err := k.Run(args, l); err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 4*n)
		if err := d.Read(bufs[2], out); err != nil {
			t.Fatal(err)
		}
		for i, v := range floats(out) {
			if want := a[i] + 2*b[i]; v != want {
				t.Fatalf("c[%d] = %v, want %v", i, v, want)
			}
		}
	})
	t.Run("Fill", func(t *testing.T) {
		if err := d.Fill(bufs[2], 8, 2, math.Float32bits(-1.5)); err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 16)
		if err := d.Read(bufs[2], out); err != nil {
			t.Fatal(err)
		}
		want := []float32{a[0] + 2*b[0], a[1] + 2*b[1], -1.5, -1.5}
		if got := floats(out); !slices.Equal(got, want) {
			t.Errorf("after Fill of words 2 and 3: %v, want %v", got, want)
		}
		if err := d.Fill(bufs[2], 4*n-4, 2, 0); err == nil {
			t.Error("Fill past the end succeeded")
		}
	})
	t.Run("Time", func(t *testing.T) {
		for _, launches := range []int{1, 10} {
			dt, err := k.Time(args, l, launches)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d launches: %v", launches, dt)
			if dt <= 0 {
				t.Errorf("Time(%d launches) = %v, want > 0", launches, dt)
			}
		}
	})
	t.Run("InvalidLocalSize", func(t *testing.T) {
		big := 2 * d.Info().MaxWorkGroupSize
		err := k.Run(args, device.Launch{Global: [3]int{big, 1, 1}, Local: [3]int{big, 1, 1}})
		var le *device.LaunchError
		if !errors.As(err, &le) || !strings.HasPrefix(le.Name, "CL_INVALID_") {
			t.Fatalf("Run with local size %d: got %v, want a CL_INVALID_* LaunchError", big, err)
		}
		t.Log(le)
	})
	t.Run("WrongArgCount", func(t *testing.T) {
		var le *device.LaunchError
		if err := k.Run(args[:3], l); !errors.As(err, &le) {
			t.Fatalf("Run with 3 of 4 args: got %v, want a LaunchError", err)
		}
	})
	t.Run("OversizedWrite", func(t *testing.T) {
		if err := d.Write(bufs[0], make([]byte, 4*n+1)); err == nil {
			t.Fatal("write past the end of a buffer succeeded")
		}
	})
}

func TestCompileErrors(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	t.Run("BrokenSource", func(t *testing.T) {
		_, err := d.Compile(ctx, "__kernel void f(__global float* x) { x[0] = undeclared_name; }", "f", nil)
		var ce *device.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("got %v, want a CompileError", err)
		}
		if !strings.Contains(ce.Log, "undeclared_name") {
			t.Errorf("log does not mention the error:\n%s", ce.Log)
		}
	})
	t.Run("MissingEntry", func(t *testing.T) {
		_, err := d.Compile(ctx, vaddSource, "nope", []device.Define{{Name: "SCALE", Value: "1.0f"}})
		var ce *device.CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Log, `"nope"`) {
			t.Fatalf("got %v, want a CompileError naming the entry", err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := d.Compile(ctx, vaddSource, "vadd", nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}
