package model

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"discover/device"
	"discover/internal/devtest"
)

// openTiny puts the tiny preset with random weights on the PoCL device.
func openTiny(t *testing.T, seed uint32) (*Model, device.Device) {
	t.Helper()
	dev := devtest.OpenCL(t)
	m, err := New(context.Background(), dev, Presets["tiny"], Weights{Seed: seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, dev
}

// TestDecodeMatchesReference: the device loop's tokens are those of a
// float64 host model over the same weights, which the device generated
// bit for bit as the host does.
func TestDecodeMatchesReference(t *testing.T) {
	const seed = 7
	m, _ := openTiny(t, seed)
	t.Logf("tokens %v", checkAgainstReference(t, m, referenceWeights(m.Config(), seed), 3, 12))
}

// checkAgainstReference checks that m's weights on the device are want,
// bit for bit, and that the seed loop decodes n tokens from start as the
// float64 host model does, twice. It returns the tokens.
func checkAgainstReference(t *testing.T, m *Model, want [][]float32, start uint32, n int) []uint32 {
	t.Helper()
	cfg := m.Config()
	for i, b := range m.weights {
		raw := make([]byte, b.Size())
		if err := m.dev.Read(b, raw); err != nil {
			t.Fatal(err)
		}
		for j := range want[i] {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:])); got != want[i][j] {
				t.Fatalf("%s[%d] = %v on the device, %v on the host", cfg.tensors()[i].name, j, got, want[i][j])
			}
		}
	}
	choices, err := Seeds(cfg)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := m.Build(context.Background(), choices)
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Release()
	got, _, err := loop.Decode(start, n)
	if err != nil {
		t.Fatal(err)
	}
	if ref := referenceDecode(cfg, want, start, n); !slices.Equal(got, ref) {
		t.Errorf("tokens %v\nreference %v", got, ref)
	}
	again, _, err := loop.Decode(start, n)
	if err != nil || !slices.Equal(again, got) {
		t.Errorf("second decode %v, %v; first %v", again, err, got)
	}
	return got
}

// TestCUDAKernelsCompile: every kernel of the CUDA source compiles for the
// H200 (sm_90) with NVRTC, which CI has without a GPU.
func TestCUDAKernelsCompile(t *testing.T) {
	c := devtest.NVRTC(t)
	for _, entry := range ownEntries {
		if err := c.Check(kernelsCU, entry, nil); err != nil {
			t.Errorf("%s: %v", entry, err)
		}
	}
}
