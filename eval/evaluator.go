package eval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"discover/device"
	"discover/kernel"
	"discover/target"
)

// Options say how hard the evaluator looks.
type Options struct {
	ChecksPerShape int           // fresh input draws per shape, each run twice
	Warmup         int           // untimed launches of each kernel before sampling
	Samples        int           // timed samples per kernel and shape
	SampleTime     time.Duration // device time one sample aims for
	MaxLaunches    int           // cap on launches per sample
	// CompileTimeout bounds compile and load on their own (0: no bound),
	// so a compile bomb fails as such, well before the candidate's limit.
	CompileTimeout time.Duration
}

// DefaultOptions suit the dialect: a GPU affords many short samples, a CPU
// OpenCL device (PoCL in CI) fewer and longer ones.
func DefaultOptions(d device.Dialect) Options {
	if d == device.CUDA {
		return Options{ChecksPerShape: 2, Warmup: 3, Samples: 15, SampleTime: 2 * time.Millisecond, MaxLaunches: 2000,
			CompileTimeout: 30 * time.Second}
	}
	return Options{ChecksPerShape: 2, Warmup: 1, Samples: 5, SampleTime: 5 * time.Millisecond, MaxLaunches: 200,
		CompileTimeout: 30 * time.Second}
}

// Evaluator checks and times candidates of one target on one device against
// the target's seed kernel, which it compiles once.
type Evaluator struct {
	dev    device.Device
	target *target.Target
	opts   Options
	seed   *program
	shapes map[int]*buffers // by row count
}

// program is a compiled kernel and how to launch it.
type program struct {
	kernel device.Kernel
	spec   kernel.Spec
}

// New compiles the target's seed for the device's dialect.
func New(ctx context.Context, dev device.Device, t *target.Target, opts Options) (*Evaluator, error) {
	if opts.ChecksPerShape < 2 {
		return nil, fmt.Errorf("evaluator: need at least 2 input draws per shape, got %d", opts.ChecksPerShape)
	}
	spec, err := SeedSpec(t, dev.Dialect())
	if err != nil {
		return nil, err
	}
	k, err := dev.Compile(ctx, spec.Source, t.Entry, t.Defines())
	if err != nil {
		return nil, fmt.Errorf("compile seed of %s: %w", t.Name, err)
	}
	return &Evaluator{dev: dev, target: t, opts: opts, seed: &program{kernel: k, spec: spec}, shapes: map[int]*buffers{}}, nil
}

// SeedSpec is the target's seed kernel for a dialect as a candidate spec.
func SeedSpec(t *target.Target, d device.Dialect) (kernel.Spec, error) {
	s, ok := t.Seeds[d]
	if !ok {
		return kernel.Spec{}, fmt.Errorf("target %s has no %s seed kernel", t.Name, d)
	}
	var in, out []string
	for _, tn := range t.Inputs {
		in = append(in, tn.Name)
	}
	for _, tn := range t.Outputs {
		out = append(out, tn.Name)
	}
	return kernel.Spec{
		Name: t.Entry, InputNames: in, OutputNames: out, Source: s.Source,
		Threadgroup: s.Local, Grid: s.Global, Dialect: string(d), TemplateParams: [][]string{},
	}, nil
}

// Close releases the seed kernel and the buffers.
func (e *Evaluator) Close() {
	e.seed.kernel.Release()
	for _, b := range e.shapes {
		b.release()
	}
	clear(e.shapes)
}

// FatalError means the device context is unusable after this candidate
// (a sticky CUDA fault): the result stands, and the worker must restart.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "device context lost: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// failure is a candidate's typed failure inside the evaluator.
type failure struct {
	reason Reason
	detail string
	fatal  error
}

func (f *failure) Error() string { return string(f.reason) + ": " + f.detail }

func fail(reason Reason, format string, args ...any) *failure {
	return &failure{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// launchFailure classifies a device error from a launch or a copy.
func launchFailure(what string, err error) *failure {
	f := fail(LaunchError, "%s: %v", what, err)
	var le *device.LaunchError
	if errors.As(err, &le) && le.Fatal {
		f.fatal = err
	}
	return f
}

// Evaluate compiles, checks and times one candidate. nonce makes the input
// draws fresh for every call. A non-nil error is a *FatalError.
func (e *Evaluator) Evaluate(ctx context.Context, spec kernel.Spec, nonce uint64) (Result, error) {
	start := time.Now()
	res, f := e.evaluate(ctx, spec, nonce)
	var fatal error
	if f != nil {
		compiled := res.Compiled
		res = Failed(f.reason, f.detail)
		res.Compiled = compiled
		if f.fatal != nil {
			fatal = &FatalError{Err: f.fatal}
		}
	}
	res.EvalSeconds = time.Since(start).Seconds()
	return res, fatal
}

func (e *Evaluator) evaluate(ctx context.Context, spec kernel.Spec, nonce uint64) (Result, *failure) {
	if err := kernel.CheckIncludes(string(e.dev.Dialect()), spec.Source); err != nil {
		return Result{}, fail(CompileError, "%v", err)
	}
	phase := time.Now()
	compileCtx, cancel := ctx, context.CancelFunc(func() {})
	if e.opts.CompileTimeout > 0 {
		compileCtx, cancel = context.WithTimeout(ctx, e.opts.CompileTimeout)
	}
	k, err := e.dev.Compile(compileCtx, spec.Source, e.target.Entry, e.target.Defines())
	cancel()
	compileSeconds := time.Since(phase).Seconds()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// NVRTC cannot be stopped and may still be running: the worker goes.
		f := fail(Timeout, "compile and load did not finish within %s", e.opts.CompileTimeout)
		f.fatal = err
		return Result{}, f
	}
	if err != nil {
		var ce *device.CompileError
		if errors.As(err, &ce) {
			return Result{}, fail(CompileError, "%s", kernel.TrimLog(ce.Log))
		}
		return Result{}, fail(CompileError, "%v", err)
	}
	defer k.Release()
	cand := &program{kernel: k, spec: spec}
	compiled := Result{Compiled: true} // what a failure from here on reports

	// Correctness at every shape before any timing, so a wrong kernel costs
	// no timing; each shape's last draw is kept and timed on (its output is
	// checked again after the timed launches), and its first draw too, for
	// one more launch after the timed ones (see time).
	phase = time.Now()
	firstDraw := make([]*draw, len(e.target.Shapes))
	lastDraw := make([]*draw, len(e.target.Shapes))
	for i, rows := range e.target.Shapes {
		for c := range e.opts.ChecksPerShape {
			if err := ctx.Err(); err != nil {
				return compiled, fail(Timeout, "cancelled: %v", err)
			}
			d := e.newDraw(rows, int64(nonce)*1_000_003+int64(rows)*101+int64(c),
				checkDistribution(c, e.opts.ChecksPerShape, nonce))
			if f := e.check(cand, d); f != nil {
				f.detail = fmt.Sprintf("%s=%d, %s inputs: %s", e.target.RowVar, rows, d.dist, f.detail)
				return compiled, f
			}
			if c == 0 {
				firstDraw[i] = d
			}
			lastDraw[i] = d
		}
	}

	res := Result{Compiled: true, Correct: true, CompileSeconds: compileSeconds, CheckSeconds: time.Since(phase).Seconds()}
	phase = time.Now()
	for i, rows := range e.target.Shapes {
		if err := ctx.Err(); err != nil {
			return compiled, fail(Timeout, "cancelled: %v", err)
		}
		sr, samples, f := e.time(cand, lastDraw[i], firstDraw[i])
		firstDraw[i], lastDraw[i] = nil, nil // let the large shape's host inputs and references go
		if f != nil {
			f.detail = fmt.Sprintf("%s=%d, timing: %s", e.target.RowVar, rows, f.detail)
			return compiled, f
		}
		res.Shapes = append(res.Shapes, sr)
		res.TimingsUs, res.MedianUs = samples, sr.MedianUs
	}
	res.TimingSeconds = time.Since(phase).Seconds()
	res.Score()
	return res, nil
}

// TimedDistribution is what the timed inputs are drawn from. A kernel's
// speed can depend on its inputs' values: on the H200 a swiglu runs 9-10%
// slower at B=4096, and 25% at B=1, on large-magnitude inputs (where its
// exp overflows) than on normal ones. Runs that timed different
// distributions would disagree, so every run times the same one, the one
// activations resemble.
const TimedDistribution = target.Normal

// checkDistribution is the input distribution of check c of checks at a
// shape. The last check's draw is also the one timed, so it is
// TimedDistribution; the checks before it take the others in turn,
// starting where the nonce says.
func checkDistribution(c, checks int, nonce uint64) target.Distribution {
	if c == checks-1 {
		return TimedDistribution
	}
	var others []target.Distribution
	for _, d := range target.Distributions {
		if d != TimedDistribution {
			others = append(others, d)
		}
	}
	return others[(int(nonce%uint64(len(others)))+c)%len(others)]
}

// geometry resolves a spec's launch at a row count: the work-group from
// THREADGROUP (or the seed's), the grid from GRID (or the seed's rule),
// rounded up to a whole number of work-groups.
func (e *Evaluator) geometry(spec kernel.Spec, rows int) (device.Launch, *failure) {
	seed := e.target.Seeds[e.dev.Dialect()]
	local := spec.Threadgroup
	if local == [3]int{} {
		local = seed.Local
	}
	for i := range local {
		if local[i] == 0 {
			local[i] = 1
		}
	}
	grid := spec.Grid
	if len(grid) == 0 {
		grid = seed.Global
	}
	info := e.dev.Info()
	if n := local[0] * local[1] * local[2]; local[0] < 0 || local[1] < 0 || local[2] < 0 || n > info.MaxWorkGroupSize {
		return device.Launch{}, fail(LaunchError, "work-group %v has %d work-items; the device allows 1 to %d", local, n, info.MaxWorkGroupSize)
	}
	vars := e.target.Vars(rows)
	vars["LOCAL"] = local[0]
	global, err := kernel.GlobalSize(grid, vars, local)
	if err != nil {
		return device.Launch{}, fail(LaunchError, "%v at %s=%d", err, e.target.RowVar, rows)
	}
	return device.Launch{Local: local, Global: global}, nil
}

// buffers are one shape's device buffers, each followed by a guard region:
// the inputs and two output sets (0: candidate, 1: seed). They live as
// long as the evaluator: every use loads fresh inputs and poisons the
// outputs on the device first, so nothing carries over between
// candidates, and a 64 MB tensor is not allocated and freed per check.
type buffers struct {
	dev      device.Device
	inputs   []device.Buffer
	outputs  []device.Buffer
	inBytes  [][]byte // each input's payload as last loaded
	inSizes  []int    // payload bytes
	outSizes []int
	readBack map[device.Buffer][]byte
}

// outputSets is how many output sets a shape's buffers hold.
const outputSets = 2

// buffersFor returns the buffers of a row count, allocating them on first
// use.
func (e *Evaluator) buffersFor(rows int) (*buffers, *failure) {
	if b, ok := e.shapes[rows]; ok {
		return b, nil
	}
	b := &buffers{dev: e.dev, readBack: map[device.Buffer][]byte{}}
	alloc := func(n int) (device.Buffer, error) {
		buf, err := e.dev.Alloc(n + guardBytes(n))
		if err == nil {
			err = e.dev.Fill(buf, n, guardBytes(n)/4, guardBits)
		}
		if err != nil && buf != nil {
			buf.Release()
		}
		return buf, err
	}
	for _, tn := range e.target.Inputs {
		n := 4 * e.target.Elements(tn, rows)
		buf, err := alloc(n)
		if err != nil {
			b.release()
			return nil, launchFailure("input buffer", err)
		}
		b.inputs = append(b.inputs, buf)
		b.inSizes = append(b.inSizes, n)
	}
	for range outputSets {
		for _, tn := range e.target.Outputs {
			n := 4 * e.target.Elements(tn, rows)
			buf, err := alloc(n)
			if err != nil {
				b.release()
				return nil, launchFailure("output buffer", err)
			}
			b.outputs = append(b.outputs, buf)
			b.outSizes = append(b.outSizes, n)
		}
	}
	e.shapes[rows] = b
	return b, nil
}

// load writes a draw's inputs and resets their guard regions (a kernel
// may have written there), and keeps the bytes for verify.
func (b *buffers) load(inputs [][]float32) *failure {
	b.inBytes = b.inBytes[:0]
	for i, in := range inputs {
		payload := bytesOf(in)
		if len(payload) != b.inSizes[i] {
			return fail(LaunchError, "input %d holds %d bytes, its buffer %d", i, len(payload), b.inSizes[i])
		}
		b.inBytes = append(b.inBytes, payload)
		if err := b.dev.Write(b.inputs[i], payload); err != nil {
			return launchFailure("input buffer", err)
		}
		if err := b.dev.Fill(b.inputs[i], len(payload), guardBytes(len(payload))/4, guardBits); err != nil {
			return launchFailure("input guard", err)
		}
	}
	return nil
}

func (b *buffers) release() {
	for _, buf := range append(b.inputs, b.outputs...) {
		buf.Release()
	}
}

// args are the kernel arguments with output set `set`: inputs, outputs, rows.
func (b *buffers) args(set, nOut, rows int) []device.Arg {
	var args []device.Arg
	for _, in := range b.inputs {
		args = append(args, device.BufferArg(in))
	}
	for _, out := range b.outputs[set*nOut : (set+1)*nOut] {
		args = append(args, device.BufferArg(out))
	}
	return append(args, device.Uint32Arg(uint32(rows)))
}

// poison fills output set `set` with NaN and its guards with the canary,
// on the device.
func (b *buffers) poison(set, nOut int) *failure {
	for i := set * nOut; i < (set+1)*nOut; i++ {
		n := b.outSizes[i]
		err := b.dev.Fill(b.outputs[i], 0, n/4, poisonBits)
		if err == nil {
			err = b.dev.Fill(b.outputs[i], n, guardBytes(n)/4, guardBits)
		}
		if err != nil {
			return launchFailure("poison output", err)
		}
	}
	return nil
}

// read copies a buffer back into its reusable host memory.
func (b *buffers) read(buf device.Buffer) ([]byte, error) {
	data, ok := b.readBack[buf]
	if !ok {
		data = make([]byte, buf.Size())
		b.readBack[buf] = data
	}
	return data, b.dev.Read(buf, data)
}

// verify reads output set `set` back and checks, in order: the guards of
// every buffer, the inputs unchanged (with withInputs), and each output
// against d's reference. Reading the inputs back costs as much as the
// outputs and more, so the checks do it once per draw, after the last run
// on it: a kernel that changed an input in an earlier run has left it
// changed, and it is reported as such before its outputs are compared.
func (b *buffers) verify(t *target.Target, set int, d *draw, withInputs bool) *failure {
	nOut := len(t.Outputs)
	outs := make([][]byte, nOut)
	for i := range nOut {
		data, err := b.read(b.outputs[set*nOut+i])
		if err != nil {
			return launchFailure("read output", err)
		}
		if at := firstChanged(data[b.outSizes[set*nOut+i]:], guardBits); at >= 0 {
			return fail(OutOfBounds, "wrote past the end of output %s (guard word %d changed)", t.Outputs[i].Name, at)
		}
		outs[i] = data[:b.outSizes[set*nOut+i]]
	}
	if withInputs {
		if f := b.verifyInputs(t); f != nil {
			return f
		}
	}
	for i, tn := range t.Outputs {
		if err := compare(tn, t.Tolerance, outs[i], d.ref[i], d.scales[i]); err != nil {
			return fail(WrongResult, "%v", err)
		}
	}
	return nil
}

// verifyInputs reads the inputs back: their guards intact, their payload
// as last loaded.
func (b *buffers) verifyInputs(t *target.Target) *failure {
	for i, buf := range b.inputs {
		data, err := b.read(buf)
		if err != nil {
			return launchFailure("read input", err)
		}
		payload := len(b.inBytes[i])
		if at := firstChanged(data[payload:], guardBits); at >= 0 {
			return fail(OutOfBounds, "wrote past the end of input %s (guard word %d changed)", t.Inputs[i].Name, at)
		}
		if string(data[:payload]) != string(b.inBytes[i]) {
			return fail(InputModified, "input %s changed during the launch", t.Inputs[i].Name)
		}
	}
	return nil
}
