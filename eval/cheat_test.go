package eval

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"discover/device"
	"discover/target"
)

// A fake device whose kernels compute RMSNorm on the host, honestly or with
// a cheat named by their source: the cheats keep state across launches, as
// a kernel can in its output buffer or in device memory of its own, and
// skip their work during the timed launches, where only speed is measured.
type cheatDevice struct{}

func (cheatDevice) Info() device.Info {
	return device.Info{API: device.OpenCL, Name: "cheat-fake", ComputeUnits: 1, MaxWorkGroupSize: 1024}
}
func (cheatDevice) Dialect() device.Dialect { return device.OpenCL }
func (cheatDevice) Close() error            { return nil }

func (cheatDevice) Compile(ctx context.Context, source, _ string, defines []device.Define) (device.Kernel, error) {
	if source == "compile-forever" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	k := &cheatKernel{behavior: source}
	for _, d := range defines {
		if d.Name == "D" {
			k.d, _ = strconv.Atoi(d.Value)
		}
	}
	return k, nil
}

type hostBuffer struct{ data []byte }

func (b *hostBuffer) Size() int { return len(b.data) }
func (b *hostBuffer) Release()  {}

func (cheatDevice) Alloc(n int) (device.Buffer, error) { return &hostBuffer{make([]byte, n)}, nil }
func (cheatDevice) Write(b device.Buffer, data []byte) error {
	copy(b.(*hostBuffer).data, data)
	return nil
}
func (cheatDevice) Read(b device.Buffer, data []byte) error {
	copy(data, b.(*hostBuffer).data)
	return nil
}
func (cheatDevice) Sequence([]device.Step) (device.Sequence, error) {
	return nil, errors.New("cheat-fake: no sequences")
}
func (cheatDevice) Fill(b device.Buffer, off, words int, word uint32) error {
	for i := range words {
		binary.LittleEndian.PutUint32(b.(*hostBuffer).data[off+4*i:], word)
	}
	return nil
}

type cheatKernel struct {
	behavior string
	d        int
	calls    int // launches so far: a counter the kernel keeps in "device memory"
}

func (k *cheatKernel) Release() {}

func (k *cheatKernel) Time(args []device.Arg, l device.Launch, launches int) (time.Duration, error) {
	for range launches {
		if err := k.Run(args, l); err != nil {
			return 0, err
		}
	}
	return time.Duration(launches) * time.Microsecond, nil
}

// Run computes out = rmsnorm(x) * weight for n_rows rows, except where the
// cheat skips: "cache" skips a row whose output already holds a number (not
// the NaN poison); "counter" skips every launch after the 17th (it computes
// while checked, 16 launches, and for the first timed one).
func (k *cheatKernel) Run(args []device.Arg, _ device.Launch) error {
	k.calls++
	if k.behavior == "counter" && k.calls > 17 {
		return nil
	}
	x, w, out := args[0].Buffer.(*hostBuffer).data, args[1].Buffer.(*hostBuffer).data, args[2].Buffer.(*hostBuffer).data
	at := func(b []byte, i int) float64 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	for r := range int(args[3].Bits) {
		if k.behavior == "cache" && !math.IsNaN(at(out, r*k.d+k.d-1)) {
			continue
		}
		ss := 0.0
		for j := range k.d {
			ss += at(x, r*k.d+j) * at(x, r*k.d+j)
		}
		inv := 1 / math.Sqrt(ss/float64(k.d)+1e-6)
		for j := range k.d {
			binary.LittleEndian.PutUint32(out[4*(r*k.d+j):], math.Float32bits(float32(at(x, r*k.d+j)*inv*at(w, j))))
		}
	}
	return nil
}

// TestKernelsThatSkipWorkOnceCalledFail: a kernel that passes every check
// and then does no work in the timed launches (it finds its output already
// computed, or has counted its launches) must not get a speedup. The
// launch after the timed ones, on other inputs over the output they left,
// catches both.
func TestKernelsThatSkipWorkOnceCalledFail(t *testing.T) {
	tg, ok := target.Lookup("glm_rmsnorm")
	if !ok {
		t.Fatal("no target glm_rmsnorm")
	}
	ctx := context.Background()
	ev, err := New(ctx, cheatDevice{}, tg, quick)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	for _, tc := range []struct {
		behavior string
		correct  bool
	}{
		{"honest", true},
		{"cache", false},
		{"counter", false},
	} {
		t.Run(tc.behavior, func(t *testing.T) {
			spec := ev.seed.spec
			spec.Source = tc.behavior
			res, fatal := ev.Evaluate(ctx, spec, 11)
			if fatal != nil {
				t.Fatal(fatal)
			}
			if tc.correct {
				if !res.Correct {
					t.Fatalf("honest kernel failed: %s: %s", res.Failure, res.Detail)
				}
				return
			}
			if res.Correct || !res.Compiled || res.Failure != WrongResult || !strings.Contains(res.Detail, "launch after the timed ones") {
				t.Fatalf("%s cheat: correct=%v reward %.2f, %s: %s; want wrong_result after the timed launches",
					tc.behavior, res.Correct, res.Reward, res.Failure, res.Detail)
			}
		})
	}
}

// A compile that does not end fails on its own limit, as a timeout, and
// the worker is told to go (the compiler may still be running).
func TestCompileHasItsOwnTimeout(t *testing.T) {
	tg, _ := target.Lookup("glm_rmsnorm")
	ctx := context.Background()
	opts := quick
	opts.CompileTimeout = 50 * time.Millisecond
	ev, err := New(ctx, cheatDevice{}, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	spec := ev.seed.spec
	spec.Source = "compile-forever"
	res, fatal := ev.Evaluate(ctx, spec, 1)
	if res.Correct || res.Failure != Timeout || !strings.Contains(res.Detail, "compile and load did not finish within 50ms") {
		t.Fatalf("got %s: %s", res.Failure, res.Detail)
	}
	if fatal == nil || res.Compiled {
		t.Fatalf("a compile left running must make the worker restart (fatal %v) and is not compiled (%v)", fatal, res.Compiled)
	}
}
