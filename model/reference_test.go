package model

import (
	"math"
	"slices"
)

// referenceWeights are a model's random weights generated on the host
// with the device's hash, in cfg.tensors() order.
func referenceWeights(cfg Config, seed uint32) [][]float32 {
	var out [][]float32
	for _, t := range cfg.tensors() {
		v := make([]float32, t.elements(cfg.Experts))
		for i := range v {
			v[i] = initValue(seed, t, uint32(i))
		}
		out = append(out, v)
	}
	return out
}

// referenceDecode is the loop's model in float64 on the host: n greedy
// tokens from start.
func referenceDecode(cfg Config, w [][]float32, start uint32, n int) []uint32 {
	d, inter, e, k := cfg.Hidden, cfg.MoEIntermediate, cfg.Experts, cfg.TopK
	rmsnorm := func(x []float64, weight []float32) []float64 {
		ss := 0.0
		for _, v := range x {
			ss += v * v
		}
		r := math.Sqrt(ss/float64(len(x)) + 1e-6)
		out := make([]float64, len(x))
		for j, v := range x {
			out[j] = v / r * float64(weight[j])
		}
		return out
	}
	matvec := func(m []float32, x []float64, rows int) []float64 {
		cols := len(x)
		y := make([]float64, rows)
		for r := range rows {
			for c, v := range x {
				y[r] += float64(m[r*cols+c]) * v
			}
		}
		return y
	}
	tok := start
	var tokens []uint32
	for range n {
		x := make([]float64, d)
		for j := range x {
			x[j] = float64(w[0][int(tok)*d+j])
		}
		for l := range cfg.Layers {
			lw := w[3+layerTensors*l:]
			for j, v := range matvec(lw[1], rmsnorm(x, lw[0]), d) {
				x[j] += v
			}
			n2 := rmsnorm(x, lw[2])
			logits := matvec(lw[3], n2, e)
			order := make([]int, e)
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int {
				switch {
				case logits[a] > logits[b]:
					return -1
				case logits[a] < logits[b]:
					return 1
				}
				return 0
			})
			sum := 0.0
			for _, i := range order[:k] {
				sum += math.Exp(logits[i] - logits[order[0]])
			}
			for _, i := range order[:k] {
				weight := math.Exp(logits[i]-logits[order[0]]) / sum
				g := matvec(lw[4][i*inter*d:], n2, inter)
				u := matvec(lw[5][i*inter*d:], n2, inter)
				a := make([]float64, inter)
				for j := range a {
					a[j] = g[j] / (1 + math.Exp(-g[j])) * u[j]
				}
				for j, v := range matvec(lw[6][i*d*inter:], a, d) {
					x[j] += weight * v
				}
			}
		}
		logits := matvec(w[2], rmsnorm(x, w[1]), cfg.Vocab)
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		tok = uint32(best)
		tokens = append(tokens, tok)
	}
	return tokens
}
