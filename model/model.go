package model

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"discover/device"
)

//go:embed kernels/opencl/model.cl
var kernelsCL string

//go:embed kernels/cuda/model.cu
var kernelsCU string

// ownEntries are the loop's own kernels, each compiled once: their sizes
// are arguments, so one build serves every projection.
var ownEntries = []string{"init_weights", "embed", "add", "matvec", "expert_matvec", "argmax"}

// Model is a model's weights and activations on a device, with the loop's
// own kernels. Loops built on it share them.
type Model struct {
	cfg     Config
	dev     device.Device
	own     map[string]device.Kernel
	weights []device.Buffer // in cfg.tensors() order
	source  string          // where the weights came from
	act     activations
	actBufs []device.Buffer // every buffer of act, to release
}

// activations are one token's buffers (batch 1).
type activations struct {
	tok                     device.Buffer // the token id, uint32: argmax writes it, embed reads it
	x                       device.Buffer // residual stream [D]
	n1, n2, mixed, combined device.Buffer // [D]
	router                  device.Buffer // [E]
	weights, indices        device.Buffer // [K] routing weights, expert ids
	gate, up, act           device.Buffer // [K, I]
	experts                 device.Buffer // [K, D]
	logits                  device.Buffer // [V]
}

// memoryHeadroom is the share of device memory the model may take: the
// driver, the copy-bandwidth probe and fragmentation need the rest.
const memoryHeadroom = 0.9

// ErrTooLarge marks a model whose weights do not fit the device.
var ErrTooLarge = errors.New("model does not fit the device")

// New puts cfg's weights on dev (random from w.Seed, or read from w.Dir)
// and compiles the loop's own kernels. progress, if set, is called after
// each tensor.
func New(ctx context.Context, dev device.Device, cfg Config, w Weights, progress func(done, total int)) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := fits(cfg, dev.Info()); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, dev: dev, own: map[string]device.Kernel{}}
	if err := m.compile(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.allocActivations(); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.loadWeights(ctx, w, progress); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// fits refuses a model whose weights and activations exceed the device's
// memory (less headroom), saying how many layers would fit.
func fits(cfg Config, info device.Info) error {
	need := cfg.WeightBytes() + cfg.activationBytes()
	limit := int64(memoryHeadroom * float64(info.MemoryBytes))
	if info.MemoryBytes == 0 || need <= limit {
		return nil
	}
	one := cfg
	one.Layers = 1
	zero := cfg
	zero.Layers = 0
	perLayer := one.WeightBytes() - zero.WeightBytes()
	hint := "even one layer does not fit"
	if n := (limit - zero.WeightBytes() - cfg.activationBytes()) / perLayer; n >= 1 {
		hint = fmt.Sprintf("--layers %d fits", n)
	}
	return fmt.Errorf("%w: %d layers of %s take %.1f GB in float32, %s has %.1f GB (%.0f%% usable); %s",
		ErrTooLarge, cfg.Layers, cfg.Name, float64(need)/1e9, info.Name, float64(info.MemoryBytes)/1e9, 100*memoryHeadroom, hint)
}

func (m *Model) compile(ctx context.Context) error {
	src := kernelsCL
	if m.dev.Dialect() == device.CUDA {
		src = kernelsCU
	}
	for _, entry := range ownEntries {
		k, err := m.dev.Compile(ctx, src, entry, nil)
		if err != nil {
			return fmt.Errorf("compile the loop's %s kernel: %w", entry, err)
		}
		m.own[entry] = k
	}
	return nil
}

func (m *Model) allocActivations() error {
	c := m.cfg
	d, i, k := c.Hidden, c.MoEIntermediate, c.TopK
	a := &m.act
	for _, b := range []struct {
		buf   *device.Buffer
		elems int
	}{
		{&a.tok, 1}, {&a.x, d}, {&a.n1, d}, {&a.n2, d}, {&a.mixed, d}, {&a.combined, d},
		{&a.router, c.Experts}, {&a.weights, k}, {&a.indices, k},
		{&a.gate, k * i}, {&a.up, k * i}, {&a.act, k * i}, {&a.experts, k * d}, {&a.logits, c.Vocab},
	} {
		buf, err := m.dev.Alloc(4 * b.elems)
		if err != nil {
			return fmt.Errorf("activations: %w", err)
		}
		*b.buf = buf
		m.actBufs = append(m.actBufs, buf)
	}
	return nil
}

// Config is the model's shape.
func (m *Model) Config() Config { return m.cfg }

// WeightSource says where the weights came from.
func (m *Model) WeightSource() string { return m.source }

// Close releases the weights, activations and kernels.
func (m *Model) Close() {
	for _, k := range m.own {
		k.Release()
	}
	for _, b := range append(m.weights, m.actBufs...) {
		b.Release()
	}
}

// Launch geometry of the loop's own kernels.
const (
	groupSize    = 256            // work-items per group of the elementwise and matvec kernels
	rowsPerGroup = groupSize / 32 // matvec rows per group: MV_LANES = 32 lanes per row
)

// elementwise launches one work-item per element.
func elementwise(n int) device.Launch {
	return device.Launch{Global: [3]int{(n + groupSize - 1) / groupSize * groupSize, 1, 1}, Local: [3]int{groupSize, 1, 1}}
}

// matvecLaunch launches n rows, in `experts` groups along dimension 1.
func matvecLaunch(n, experts int) device.Launch {
	groups := (n + rowsPerGroup - 1) / rowsPerGroup
	return device.Launch{Global: [3]int{groups * groupSize, experts, 1}, Local: [3]int{groupSize, 1, 1}}
}

// argmaxLaunch is one work-group, the largest power of two up to 1024
// (the kernels' LOCAL_MAX) that the device allows.
func argmaxLaunch(info device.Info) device.Launch {
	n := 1
	for n*2 <= min(1024, max(1, info.MaxWorkGroupSize)) {
		n *= 2
	}
	return device.Launch{Global: [3]int{n, 1, 1}, Local: [3]int{n, 1, 1}}
}
