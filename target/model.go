package target

import (
	"fmt"
	"strings"
)

// ForModel builds a target of a family at a model's dims, as the
// registered targets are built, e.g. ForModel("topk_gating", "my-model",
// Dim{"E", 64}, Dim{"K", 4}). It is not registered. Families and their
// dims: rmsnorm and swiglu (D), moe_combine (D, K), topk_gating (E, K).
func ForModel(family, model string, dims ...Dim) (*Target, error) {
	f, ok := modelFamilies[family]
	if !ok {
		return nil, fmt.Errorf("no model targets of family %q (want rmsnorm, swiglu, moe_combine or topk_gating)", family)
	}
	v := map[string]int{}
	for _, d := range dims {
		if d.Value < 1 {
			return nil, fmt.Errorf("%s: dim %s=%d must be positive", family, d.Name, d.Value)
		}
		v[d.Name] = d.Value
	}
	for _, n := range f.dims {
		if _, ok := v[n]; !ok || len(v) != len(f.dims) {
			return nil, fmt.Errorf("%s takes dims %s, got %v", family, strings.Join(f.dims, ", "), dims)
		}
	}
	if family == "topk_gating" && v["K"] > v["E"] {
		return nil, fmt.Errorf("topk_gating: K=%d exceeds E=%d", v["K"], v["E"])
	}
	name := model + "_" + family
	return f.build(name, model, v), nil
}

// modelFamilies are the families ForModel builds: their dims, and their
// constructor at given dim values.
var modelFamilies = map[string]struct {
	dims  []string
	build func(name, model string, v map[string]int) *Target
}{
	"rmsnorm":     {[]string{"D"}, func(n, m string, v map[string]int) *Target { return newRMSNorm(n, m, v["D"]) }},
	"swiglu":      {[]string{"D"}, func(n, m string, v map[string]int) *Target { return newSwiGLU(n, m, v["D"]) }},
	"moe_combine": {[]string{"D", "K"}, func(n, m string, v map[string]int) *Target { return newMoECombine(n, m, v["D"], v["K"]) }},
	"topk_gating": {[]string{"E", "K"}, func(n, m string, v map[string]int) *Target { return newTopKGating(n, m, v["E"], v["K"]) }},
}
