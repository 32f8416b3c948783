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
	v := map[string]int{}
	for _, d := range dims {
		if d.Value < 1 {
			return nil, fmt.Errorf("%s: dim %s=%d must be positive", family, d.Name, d.Value)
		}
		v[d.Name] = d.Value
	}
	need := func(names ...string) error {
		if len(v) != len(names) {
			return fmt.Errorf("%s takes dims %s, got %v", family, strings.Join(names, ", "), dims)
		}
		for _, n := range names {
			if _, ok := v[n]; !ok {
				return fmt.Errorf("%s takes dims %s, got %v", family, strings.Join(names, ", "), dims)
			}
		}
		return nil
	}
	name := model + "_" + family
	var err error
	var t *Target
	switch family {
	case "rmsnorm":
		if err = need("D"); err == nil {
			t = newRMSNorm(name, model, v["D"])
		}
	case "swiglu":
		if err = need("D"); err == nil {
			t = newSwiGLU(name, model, v["D"])
		}
	case "moe_combine":
		if err = need("D", "K"); err == nil {
			t = newMoECombine(name, model, v["D"], v["K"])
		}
	case "topk_gating":
		if err = need("E", "K"); err == nil && v["K"] > v["E"] {
			err = fmt.Errorf("topk_gating: K=%d exceeds E=%d", v["K"], v["E"])
		}
		if err == nil {
			t = newTopKGating(name, model, v["E"], v["K"])
		}
	default:
		err = fmt.Errorf("no model targets of family %q (want rmsnorm, swiglu, moe_combine or topk_gating)", family)
	}
	return t, err
}
