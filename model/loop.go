package model

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"discover/device"
)

// Step classes for the time per kernel class. The projections are split
// by role: the LM head and the experts dominate the bytes.
const (
	ClassMixer   = "matvec_mix"
	ClassRouter  = "matvec_router"
	ClassExperts = "matvec_experts"
	ClassLMHead  = "matvec_lm_head"
	ClassOther   = "other" // embedding, residual adds, argmax
)

// Classes lists every step class in report order.
var Classes = append([]string{ClassMixer, ClassRouter, ClassExperts, ClassLMHead}, append(slices.Clone(Families), ClassOther)...)

// step is one launch of the token step, with its class and, for a
// projection, the bytes it must move.
type step struct {
	device.Step
	class string
	bytes int64
}

// Loop is one token step of the model recorded as a sequence: embed the
// token, the layers, the final norm, the LM head and argmax, which writes
// the next token where embed reads it.
type Loop struct {
	m       *Model
	Choices []Choice
	steps   []step
	seq     device.Sequence
	kernels []device.Kernel // the classes' kernels, owned by the loop
}

// classKernel is a class's compiled kernel and its launch at the loop's
// row count.
type classKernel struct {
	k      device.Kernel
	launch device.Launch
}

// Build compiles the chosen kernels of the four classes and records the
// token step.
func (m *Model) Build(ctx context.Context, choices []Choice) (*Loop, error) {
	l := &Loop{m: m, Choices: choices}
	class, err := l.compile(ctx, choices)
	if err != nil {
		l.Release()
		return nil, err
	}
	l.record(class)
	steps := make([]device.Step, len(l.steps))
	for i, s := range l.steps {
		steps[i] = s.Step
	}
	if l.seq, err = m.dev.Sequence(steps); err != nil {
		l.Release()
		return nil, fmt.Errorf("record the token step: %w", err)
	}
	return l, nil
}

// compile builds each choice's kernel, owned by the loop, with its launch.
func (l *Loop) compile(ctx context.Context, choices []Choice) (map[string]classKernel, error) {
	dev := l.m.dev
	class := map[string]classKernel{}
	for _, ch := range choices {
		spec, err := ch.kernel(dev.Dialect())
		if err != nil {
			return nil, err
		}
		global, err := spec.launch.GlobalAt(spec.rowVar, ch.Rows)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", ch.Family, ch.From, err)
		}
		local := spec.launch.Local
		if n, most := local[0]*local[1]*local[2], dev.Info().MaxWorkGroupSize; n > most {
			return nil, fmt.Errorf("%s (%s): work-group of %d exceeds the device's %d", ch.Family, ch.From, n, most)
		}
		k, err := dev.Compile(ctx, spec.source, spec.entry, spec.defines)
		if err != nil {
			return nil, fmt.Errorf("compile %s (%s): %w", ch.Family, ch.From, err)
		}
		l.kernels = append(l.kernels, k)
		class[ch.Family] = classKernel{k, device.Launch{Global: global, Local: local}}
	}
	for _, f := range Families {
		if class[f].k == nil {
			return nil, fmt.Errorf("no kernel chosen for %s", f)
		}
	}
	return class, nil
}

// record lists the token step's launches: the embedding, each layer, the
// final norm, the LM head and argmax, which writes the next token where
// the embedding reads it.
func (l *Loop) record(class map[string]classKernel) {
	m := l.m
	c, a, w := m.cfg, m.act, m.weights
	d, inter, k := uint32(c.Hidden), uint32(c.MoEIntermediate), c.TopK
	buf := device.BufferArg
	u32 := device.Uint32Arg
	own := func(name, cls string, launch device.Launch, bytes int64, args ...device.Arg) {
		l.steps = append(l.steps, step{device.Step{Kernel: m.own[name], Args: args, Launch: launch}, cls, bytes})
	}
	run := func(family string, args ...device.Arg) {
		cl := class[family]
		l.steps = append(l.steps, step{device.Step{Kernel: cl.k, Args: args, Launch: cl.launch}, family, 0})
	}
	// matvecBytes is the traffic of y[n] = W[n, k] x[k], `experts` times.
	matvecBytes := func(n, kk, experts int) int64 {
		return 4 * int64(experts) * (int64(n)*int64(kk) + int64(kk) + int64(n))
	}

	own("embed", ClassOther, elementwise(c.Hidden), 0, buf(a.tok), buf(w[0]), buf(a.x), u32(d))
	for layer := range c.Layers {
		lw := w[3+layerTensors*layer : 3+layerTensors*(layer+1)]
		inNorm, mixer, postNorm, router, gate, up, down := lw[0], lw[1], lw[2], lw[3], lw[4], lw[5], lw[6]
		run("rmsnorm", buf(a.x), buf(inNorm), buf(a.n1), u32(1))
		own("matvec", ClassMixer, matvecLaunch(c.Hidden, 1), matvecBytes(c.Hidden, c.Hidden, 1),
			buf(mixer), buf(a.n1), buf(a.mixed), u32(d), u32(d))
		own("add", ClassOther, elementwise(c.Hidden), 0, buf(a.x), buf(a.mixed), u32(d))
		run("rmsnorm", buf(a.x), buf(postNorm), buf(a.n2), u32(1))
		own("matvec", ClassRouter, matvecLaunch(c.Experts, 1), matvecBytes(c.Experts, c.Hidden, 1),
			buf(router), buf(a.n2), buf(a.router), u32(uint32(c.Experts)), u32(d))
		run("topk_gating", buf(a.router), buf(a.weights), buf(a.indices), u32(1))
		for _, proj := range []struct{ w, y device.Buffer }{{gate, a.gate}, {up, a.up}} {
			own("expert_matvec", ClassExperts, matvecLaunch(c.MoEIntermediate, k), matvecBytes(c.MoEIntermediate, c.Hidden, k),
				buf(proj.w), buf(a.n2), buf(a.indices), buf(proj.y), u32(inter), u32(d), u32(0))
		}
		run("swiglu", buf(a.gate), buf(a.up), buf(a.act), u32(uint32(k)))
		own("expert_matvec", ClassExperts, matvecLaunch(c.Hidden, k), matvecBytes(c.Hidden, c.MoEIntermediate, k),
			buf(down), buf(a.act), buf(a.indices), buf(a.experts), u32(d), u32(inter), u32(inter))
		run("moe_combine", buf(a.experts), buf(a.weights), buf(a.combined), u32(1))
		own("add", ClassOther, elementwise(c.Hidden), 0, buf(a.x), buf(a.combined), u32(d))
	}
	run("rmsnorm", buf(a.x), buf(w[1]), buf(a.n1), u32(1))
	own("matvec", ClassLMHead, matvecLaunch(c.Vocab, 1), matvecBytes(c.Vocab, c.Hidden, 1),
		buf(w[2]), buf(a.n1), buf(a.logits), u32(uint32(c.Vocab)), u32(d))
	own("argmax", ClassOther, argmaxLaunch(m.dev.Info()), 0, buf(a.logits), buf(a.tok), u32(uint32(c.Vocab)))
}

// Release frees the sequence and the classes' kernels.
func (l *Loop) Release() {
	if l.seq != nil {
		l.seq.Release()
	}
	for _, k := range l.kernels {
		k.Release()
	}
}

// Decode runs n token steps from token start, greedy, and returns the
// tokens and the host time of the loop: per token, one replay of the
// sequence and a 4-byte read of the token (which waits for it).
func (l *Loop) Decode(start uint32, n int) ([]uint32, time.Duration, error) {
	if int(start) >= l.m.cfg.Vocab {
		return nil, 0, fmt.Errorf("start token %d is outside the vocabulary (%d)", start, l.m.cfg.Vocab)
	}
	word := binary.LittleEndian.AppendUint32(nil, start)
	if err := l.m.dev.Write(l.m.act.tok, word); err != nil {
		return nil, 0, err
	}
	tokens := make([]uint32, 0, n)
	t0 := time.Now()
	for range n {
		if err := l.seq.Run(); err != nil {
			return nil, 0, err
		}
		if err := l.m.dev.Read(l.m.act.tok, word); err != nil {
			return nil, 0, err
		}
		tokens = append(tokens, binary.LittleEndian.Uint32(word))
	}
	return tokens, time.Since(t0), nil
}

// StepTime is the device time of one step of the token step.
type StepTime struct {
	Class string
	Time  time.Duration // per launch
	Bytes int64         // a projection's traffic, else 0
}

// Profile times each step alone with Kernel.Time (a batch of `launches`
// launches with the step's own arguments, the median of `samples`
// batches, after one warm-up batch), in step order. Run it after Decode:
// the buffers then hold a real token's activations and expert choice.
func (l *Loop) Profile(launches, samples int) ([]StepTime, error) {
	out := make([]StepTime, len(l.steps))
	for i, s := range l.steps {
		times := make([]time.Duration, 0, samples)
		for j := range samples + 1 {
			t, err := s.Kernel.Time(s.Args, s.Launch, launches)
			if err != nil {
				return nil, fmt.Errorf("time step %d (%s): %w", i, s.class, err)
			}
			if j > 0 {
				times = append(times, t/time.Duration(launches))
			}
		}
		slices.Sort(times)
		out[i] = StepTime{Class: s.class, Time: times[len(times)/2], Bytes: s.bytes}
	}
	return out, nil
}
