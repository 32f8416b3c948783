package model

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"discover/internal/devtest"
)

// stTensorData is one tensor to write: dtype and raw little-endian data.
type stTensorData struct {
	dtype string
	shape []int
	data  []byte
}

// writeSafetensors writes a safetensors file, tensors in name order.
func writeSafetensors(t *testing.T, path string, tensors map[string]stTensorData) {
	t.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tn := tensors[n]
		header[n] = map[string]any{"dtype": tn.dtype, "shape": tn.shape, "data_offsets": []int{len(data), len(data) + len(tn.data)}}
		data = append(data, tn.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), data...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// encode stores v as F32, or as BF16 (v must have zero low 16 bits).
func encode(dtype string, v []float32) []byte {
	var out []byte
	for _, f := range v {
		if dtype == "BF16" {
			out = binary.LittleEndian.AppendUint16(out, uint16(math.Float32bits(f)>>16))
		} else {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(f))
		}
	}
	return out
}

// writeCheckpoint writes cfg's weights in Hugging Face names over two
// shards: the matrices in BF16 (rounded down to it), the norms in F16, the
// rest in F32, leaving out the tensors whose names end in one of omit. It
// returns the float32 values written.
func writeCheckpoint(t *testing.T, dir string, cfg Config, seed uint32, omit ...string) [][]float32 {
	t.Helper()
	want := referenceWeights(cfg, seed)
	shards := []map[string]stTensorData{{}, {}}
	for n, tn := range cfg.tensors() {
		if slices.ContainsFunc(omit, func(o string) bool { return strings.HasSuffix(tn.name, o) }) {
			continue
		}
		v := want[n]
		dtype := "F32"
		switch {
		case len(tn.shape) == 1: // a norm: halves in [0.5, 4)
			dtype = "F16"
			var raw []byte
			for i := range v {
				bits := uint16(0x3800 + (i*37)%0x0c00)
				raw = binary.LittleEndian.AppendUint16(raw, bits)
				v[i] = float16(bits)
			}
			shards[n%2][tn.name] = stTensorData{dtype, tn.shape, raw}
			continue
		case strings.Contains(tn.name, "experts"):
			dtype = "BF16"
			for i := range v {
				v[i] = math.Float32frombits(math.Float32bits(v[i]) &^ 0xffff)
			}
		}
		if !tn.expert {
			shards[n%2][tn.name] = stTensorData{dtype, tn.shape, encode(dtype, v)}
			continue
		}
		per := elements(tn.shape)
		for e := range cfg.Experts {
			shards[e%2][expertName(tn.name, e)] = stTensorData{dtype, tn.shape, encode(dtype, v[e*per:(e+1)*per])}
		}
	}
	for i, s := range shards {
		writeSafetensors(t, filepath.Join(dir, fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)), s)
	}
	return want
}

// TestSafetensorsWeights: a checkpoint the test writes (two shards, F32,
// BF16 and F16) loads into the model exactly, and the loop decodes it as
// the host reference does.
func TestSafetensorsWeights(t *testing.T) {
	dev := devtest.OpenCL(t)
	cfg := Presets["tiny"]
	dir := t.TempDir()
	want := writeCheckpoint(t, dir, cfg, 11)
	m, err := New(context.Background(), dev, cfg, Weights{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	checkAgainstReference(t, m, want, 5, 6)
}

// TestSafetensorsFallbacks: a real checkpoint has no mixing-step weights
// (they are random from the seed then), and one with tied embeddings no
// LM head (the embedding serves).
func TestSafetensorsFallbacks(t *testing.T) {
	dev := devtest.OpenCL(t)
	cfg := Presets["tiny"]
	dir := t.TempDir()
	want := writeCheckpoint(t, dir, cfg, 11, "mixer.weight", "lm_head.weight")
	const seed = 4
	m, err := New(context.Background(), dev, cfg, Weights{Dir: dir, Seed: seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	random := referenceWeights(cfg, seed)
	for n, tn := range cfg.tensors() {
		if isMixer(tn) {
			want[n] = random[n]
		}
	}
	want[2] = want[0] // lm_head = embed_tokens
	checkAgainstReference(t, m, want, 5, 6)
	if src := m.WeightSource(); !strings.Contains(src, "mixing steps random (seed 4)") {
		t.Errorf("weight source %q", src)
	}
}

// TestSafetensorsErrors: a missing tensor is named, a wrong shape or a
// broken file is an error.
func TestSafetensorsErrors(t *testing.T) {
	dev := devtest.OpenCL(t)
	cfg := Presets["tiny"]
	cfg.Layers = 1
	f32 := func(shape ...int) stTensorData {
		return stTensorData{"F32", shape, make([]byte, 4*elements(shape))}
	}
	for _, tc := range []struct {
		name  string
		write func(dir string)
		want  string
	}{
		{"missing tensor", func(dir string) {
			writeSafetensors(t, filepath.Join(dir, "a.safetensors"), map[string]stTensorData{"model.embed_tokens.weight": f32(cfg.Vocab, cfg.Hidden)})
		}, "missing tensor model.norm.weight"},
		{"wrong shape", func(dir string) {
			writeSafetensors(t, filepath.Join(dir, "a.safetensors"), map[string]stTensorData{"model.embed_tokens.weight": f32(cfg.Hidden, cfg.Vocab)})
		}, fmt.Sprintf("model.embed_tokens.weight has shape [%d %d], want [%d %d]", cfg.Hidden, cfg.Vocab, cfg.Vocab, cfg.Hidden)},
		{"unsupported dtype", func(dir string) {
			writeSafetensors(t, filepath.Join(dir, "a.safetensors"), map[string]stTensorData{"x": {"I8", []int{4}, make([]byte, 4)}})
		}, "dtype I8"},
		{"truncated", func(dir string) {
			os.WriteFile(filepath.Join(dir, "a.safetensors"), []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0, '{'}, 0o644)
		}, "not a safetensors file"},
		{"offsets past the end", func(dir string) {
			h := []byte(`{"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}`)
			os.WriteFile(filepath.Join(dir, "a.safetensors"), append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), 0o644)
		}, "do not fit"},
		{"no files", func(string) {}, "no *.safetensors files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.write(dir)
			_, err := New(context.Background(), dev, cfg, Weights{Dir: dir}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
			if tc.name == "missing tensor" && !errors.Is(err, errMissingTensor) {
				t.Errorf("not errMissingTensor: %v", err)
			}
		})
	}
}

func TestFloat16(t *testing.T) {
	for bits, want := range map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x0400: 1.0 / (1 << 14),
		0x3555: 0.333251953125, 0x8000: float32(math.Copysign(0, -1)), 0x7c00: float32(math.Inf(1)),
	} {
		if got := float16(bits); got != want || math.Signbit(float64(got)) != math.Signbit(float64(want)) {
			t.Errorf("float16(%#04x) = %v, want %v", bits, got, want)
		}
	}
	if !math.IsNaN(float64(float16(0x7e00))) {
		t.Error("float16(0x7e00) is not NaN")
	}
}
