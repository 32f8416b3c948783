package model

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"discover/device"
)

// tensor is one weight: its Hugging Face name, shape and random init.
// Experts' weights are one tensor per projection, [E, rows, cols], read
// from E tensors of the checkpoint (expert is then set).
type tensor struct {
	name   string // with {e} for the expert number when expert
	expert bool
	shape  []int // of one expert when expert
	id     uint32
	// Random init: value = (int(h >> 9) + bias) * step, h a hash of
	// (seed, id, index); see init_weights in the kernels.
	bias int32
	step float32
}

func (t tensor) elements(experts int) int {
	n := elements(t.shape)
	if t.expert {
		n *= experts
	}
	return n
}

// half is half the range of h >> 9, which is uniform on [0, 2^23).
const half = 1 << 22

// matrix is a projection with fan-in fanIn: uniform(-a, a), a =
// sqrt(3/fanIn), so outputs keep the variance of the inputs.
func matrix(name string, fanIn int, shape ...int) tensor {
	a := math.Sqrt(3 / float64(fanIn))
	return tensor{name: name, shape: shape, bias: -half, step: float32(a / half)}
}

// norm is an RMSNorm weight: uniform(0.5, 1.5).
func norm(name string, d int) tensor {
	return tensor{name: name, shape: []int{d}, bias: half, step: 1.0 / (2 * half)}
}

// layerTensors are one layer's weights, in the order of layerWeights.
const layerTensors = 7

// tensors lists every weight of c: the embedding, final norm and LM head,
// then each layer's; ids number them in that order.
func (c Config) tensors() []tensor {
	d, i, e, v := c.Hidden, c.MoEIntermediate, c.Experts, c.Vocab
	embed := tensor{name: "model.embed_tokens.weight", shape: []int{v, d}, bias: -half, step: 1.0 / half} // uniform(-1, 1)
	ts := []tensor{embed, norm("model.norm.weight", d), matrix("lm_head.weight", d, v, d)}
	for l := range c.Layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		gate := matrix(p+"mlp.experts.{e}.gate_proj.weight", d, i, d)
		up := matrix(p+"mlp.experts.{e}.up_proj.weight", d, i, d)
		down := matrix(p+"mlp.experts.{e}.down_proj.weight", i, d, i)
		gate.expert, up.expert, down.expert = true, true, true
		ts = append(ts,
			norm(p+"input_layernorm.weight", d),
			matrix(p+"mixer.weight", d, d, d),
			norm(p+"post_attention_layernorm.weight", d),
			matrix(p+"mlp.gate.weight", d, e, d),
			gate, up, down)
	}
	for n := range ts {
		ts[n].id = uint32(n)
	}
	return ts
}

// hash32 is init_weights' mixer (lowbias32).
func hash32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

// initValue is element i of tensor t with the given seed, as init_weights
// computes it on the device.
func initValue(seed uint32, t tensor, i uint32) float32 {
	h := hash32(i ^ hash32(seed^hash32(t.id)))
	return float32(int32(h>>9)+t.bias) * t.step
}

// Weights says where the weights come from: Dir's safetensors files, or
// random from Seed when Dir is empty.
type Weights struct {
	Seed uint32
	Dir  string
}

func (w Weights) String() string {
	if w.Dir != "" {
		return "safetensors in " + w.Dir
	}
	return fmt.Sprintf("random (seed %d)", w.Seed)
}

// fallbacks are what a checkpoint may lack: the mixing step's weight is
// this loop's own (random from the seed then), and a model with tied
// embeddings (LFM2) has no lm_head.weight but reuses the embedding.
var fallbacks = map[string]string{"lm_head.weight": "model.embed_tokens.weight"}

func isMixer(t tensor) bool { return strings.HasSuffix(t.name, ".mixer.weight") }

// loadWeights allocates the weights and fills them, reporting each tensor
// done, and says where they came from.
func (m *Model) loadWeights(ctx context.Context, w Weights, progress func(done, total int)) error {
	ts := m.cfg.tensors()
	var ckpt *checkpoint
	if w.Dir != "" {
		var err error
		if ckpt, err = openCheckpoint(w.Dir); err != nil {
			return err
		}
		defer ckpt.Close()
	}
	m.source = w.String()
	randomMixers := false
	for n, t := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.elements(m.cfg.Experts) > math.MaxUint32 {
			return fmt.Errorf("weights: %s has %d elements; the loop's kernels index tensors with 32 bits", t.name, t.elements(m.cfg.Experts))
		}
		b, err := m.dev.Alloc(4 * t.elements(m.cfg.Experts))
		if err != nil {
			return fmt.Errorf("weights: %s: %w", t.name, err)
		}
		m.weights = append(m.weights, b)
		switch {
		case ckpt == nil:
			err = m.randomize(t, b, w.Seed)
		case isMixer(t) && !ckpt.has(t.name):
			randomMixers = true
			err = m.randomize(t, b, w.Seed)
		default:
			if alt, ok := fallbacks[t.name]; ok && !ckpt.has(t.name) {
				t.name = alt
			}
			err = m.upload(ckpt, t, b)
		}
		if err != nil {
			return fmt.Errorf("weights: %s: %w", t.name, err)
		}
		if progress != nil {
			progress(n+1, len(ts))
		}
	}
	if randomMixers {
		m.source += fmt.Sprintf(", mixing steps random (seed %d)", w.Seed)
	}
	return nil
}

// randomize fills b with t's random values on the device.
func (m *Model) randomize(t tensor, b device.Buffer, seed uint32) error {
	n := t.elements(m.cfg.Experts)
	args := []device.Arg{device.BufferArg(b), device.Uint32Arg(uint32(n)), device.Uint32Arg(seed),
		device.Uint32Arg(t.id), device.Uint32Arg(uint32(t.bias)), device.Float32Arg(t.step)}
	return m.own["init_weights"].Run(args, elementwise(n))
}

// upload reads t from the checkpoint (each expert's tensor in turn) and
// writes it to b.
func (m *Model) upload(c *checkpoint, t tensor, b device.Buffer) error {
	data := make([]byte, 0, 4*t.elements(m.cfg.Experts))
	names := []string{t.name}
	if t.expert {
		names = names[:0]
		for e := range m.cfg.Experts {
			names = append(names, expertName(t.name, e))
		}
	}
	for _, name := range names {
		v, err := c.read(name, t.shape)
		if err != nil {
			return err
		}
		for _, f := range v {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(f))
		}
	}
	return m.dev.Write(b, data)
}

// expertName is expert e's tensor name.
func expertName(pattern string, e int) string {
	return strings.Replace(pattern, "{e}", fmt.Sprint(e), 1)
}
