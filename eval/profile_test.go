package eval

import (
	"cmp"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"discover/device"
	"discover/devices"
	"discover/target"
)

// BenchmarkEvaluate says where an evaluation's time goes on a real device:
// per candidate, the phases the result records and the time spent in each
// device call, the rest being host work (input draws, float64 references,
// comparisons). The seed is evaluated as the candidate, each time on fresh
// inputs. On the GPU machine, with a binary from `go test -c ./eval`:
//
//	DISCOVER_BENCH_DEVICE=cuda DISCOVER_BENCH_TARGET=fused_swiglu ./eval.test -test.run '^$' -test.bench Evaluate -test.benchtime 10x
func BenchmarkEvaluate(b *testing.B) {
	name := cmp.Or(os.Getenv("DISCOVER_BENCH_TARGET"), "glm_rmsnorm")
	tg, ok := target.Lookup(name)
	if !ok {
		b.Fatalf("no target %q", name)
	}
	dev, err := devices.Open(cmp.Or(os.Getenv("DISCOVER_BENCH_DEVICE"), "auto"), 0)
	if err != nil {
		b.Skipf("no device: %v", err)
	}
	defer dev.Close()
	td := &timedDevice{Device: dev, spent: map[string]time.Duration{}}
	ctx := context.Background()
	ev, err := New(ctx, td, tg, DefaultOptions(dev.Dialect()))
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	// The first evaluation allocates the buffers; later ones reuse them.
	if res, _ := ev.Evaluate(ctx, ev.seed.spec, 0); !res.Correct {
		b.Fatalf("seed failed: %s: %s", res.Failure, res.Detail)
	}
	td.reset()
	var compile, check, timing float64
	b.ResetTimer()
	for i := range b.N {
		res, fatal := ev.Evaluate(ctx, ev.seed.spec, uint64(i+1))
		if fatal != nil || !res.Correct {
			b.Fatalf("seed failed: %s: %s (fatal %v)", res.Failure, res.Detail, fatal)
		}
		compile += res.CompileSeconds
		check += res.CheckSeconds
		timing += res.TimingSeconds
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(60*n/b.Elapsed().Seconds(), "candidates/min")
	b.ReportMetric(compile/n, "compile-s/op")
	b.ReportMetric(check/n, "check-s/op")
	b.ReportMetric(timing/n, "timing-s/op")
	for op, d := range td.spent {
		b.ReportMetric(d.Seconds()/n, op+"-s/op")
	}
}

// timedDevice sums the wall time of each device call by name.
type timedDevice struct {
	device.Device
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (d *timedDevice) add(op string, start time.Time) {
	d.mu.Lock()
	d.spent[op] += time.Since(start)
	d.mu.Unlock()
}

func (d *timedDevice) reset() {
	d.mu.Lock()
	clear(d.spent)
	d.mu.Unlock()
}

func (d *timedDevice) Compile(ctx context.Context, source, entry string, defines []device.Define) (device.Kernel, error) {
	defer d.add("compile", time.Now())
	k, err := d.Device.Compile(ctx, source, entry, defines)
	if err != nil {
		return nil, err
	}
	return &timedKernel{Kernel: k, dev: d}, nil
}

func (d *timedDevice) Write(b device.Buffer, data []byte) error {
	defer d.add("write", time.Now())
	return d.Device.Write(b, data)
}

func (d *timedDevice) Read(b device.Buffer, data []byte) error {
	defer d.add("read", time.Now())
	return d.Device.Read(b, data)
}

func (d *timedDevice) Fill(b device.Buffer, off, words int, word uint32) error {
	defer d.add("fill", time.Now())
	return d.Device.Fill(b, off, words, word)
}

type timedKernel struct {
	device.Kernel
	dev *timedDevice
}

func (k *timedKernel) Run(args []device.Arg, l device.Launch) error {
	defer k.dev.add("run", time.Now())
	return k.Kernel.Run(args, l)
}

func (k *timedKernel) Time(args []device.Arg, l device.Launch, launches int) (time.Duration, error) {
	defer k.dev.add("time", time.Now())
	return k.Kernel.Time(args, l, launches)
}
