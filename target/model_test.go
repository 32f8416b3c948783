package target

import (
	"reflect"
	"testing"
)

// TestForModel: a model's target is the registered family at other dims,
// with the same seeds; wrong dims are errors.
func TestForModel(t *testing.T) {
	got, err := ForModel("topk_gating", "m", Dim{"E", 8}, Dim{"K", 2})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Lookup("topk_gating") // E=8, K=2
	if got.Name != "m_topk_gating" || got.Kernel != want.Kernel || !reflect.DeepEqual(got.Dims, want.Dims) ||
		!reflect.DeepEqual(got.Seeds, want.Seeds) || got.Entry != want.Entry {
		t.Errorf("ForModel = %+v", got)
	}
	for _, tc := range []struct {
		family string
		dims   []Dim
	}{
		{"rmsnorm", nil},
		{"rmsnorm", []Dim{{"D", 64}, {"K", 2}}},
		{"swiglu", []Dim{{"E", 64}}},
		{"moe_combine", []Dim{{"D", 64}}},
		{"topk_gating", []Dim{{"E", 2}, {"K", 4}}},
		{"rmsnorm", []Dim{{"D", 0}}},
		{"ttt_linear_decode", []Dim{{"F", 64}}},
	} {
		if _, err := ForModel(tc.family, "m", tc.dims...); err == nil {
			t.Errorf("ForModel(%s, %v) succeeded", tc.family, tc.dims)
		}
	}
}
