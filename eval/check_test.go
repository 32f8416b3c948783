package eval

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"discover/target"
)

func TestCompare(t *testing.T) {
	f32 := target.Tensor{Name: "out", DType: target.Float32}
	u32 := target.Tensor{Name: "idx", DType: target.Uint32}
	tol := target.Tolerance{Atol: 1e-5, Rtol: 1e-4}
	ref := make([]float64, 200_000)
	for i := range ref {
		ref[i] = math.Sin(float64(i))
	}
	good := make([]float32, len(ref))
	for i, r := range ref {
		good[i] = float32(r)
	}
	if err := compare(f32, tol, float32Bytes(good), ref, maxAbs(ref)); err != nil {
		t.Fatalf("float32 rounding must pass: %v", err)
	}
	for _, tc := range []struct {
		name string
		at   int
		v    float32
		want string
	}{
		{"nan", 150_000, float32(math.NaN()), "2 of 200000 elements wrong; first at [150000]: got NaN"},
		{"inf", 70_000, float32(math.Inf(1)), "2 of 200000 elements wrong; first at [70000]: got +Inf"},
		{"off", 3, 0.5, "2 of 200000 elements wrong; first at [3]: got 0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := append([]float32(nil), good...)
			bad[tc.at] = tc.v
			bad[tc.at+1000] = tc.v // the first wrong element is reported, whatever the chunk order
			if err := compare(f32, tol, float32Bytes(bad), ref, maxAbs(ref)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("compare = %v, want %q", err, tc.want)
			}
		})
	}
	idx := []byte{1, 0, 0, 0, 7, 0, 0, 0}
	if err := compare(u32, tol, idx, []float64{1, 7}, 7); err != nil {
		t.Fatal(err)
	}
	if err := compare(u32, tol, idx, []float64{1, 6}, 6); err == nil {
		t.Fatal("indices must match exactly")
	}
}

func TestPoisonAndGuards(t *testing.T) {
	b := make([]byte, 4*100_000)
	for i := 0; i < len(b); i += 4 {
		binary.LittleEndian.PutUint32(b[i:], guardBits)
	}
	if at := firstChanged(b, guardBits); at != -1 {
		t.Fatalf("fresh guard changed at %d", at)
	}
	b[4*99_999] = 0
	if at := firstChanged(b, guardBits); at != 99_999 {
		t.Fatalf("changed word at %d, want 99999", at)
	}
	if v := math.Float32frombits(poisonBits); !math.IsNaN(float64(v)) {
		t.Fatalf("poison is %v, want NaN", v)
	}
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
