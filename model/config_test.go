package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadConfig reads the real config.json formats, trimmed to the keys
// that matter and a few neighbours (see the presets' sources).
func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       Config
	}{
		{"glm4_moe_lite (n_routed_experts)", `{"architectures": ["Glm4MoeLiteForCausalLM"], "model_type": "glm4_moe_lite",
			"hidden_size": 2048, "intermediate_size": 10240, "moe_intermediate_size": 1536, "n_routed_experts": 64,
			"n_shared_experts": 1, "num_experts_per_tok": 4, "num_hidden_layers": 47, "vocab_size": 154880, "q_lora_rank": 768}`,
			named(Presets["glm-4.7-flash"], "glm4_moe_lite")},
		{"qwen3_moe (num_experts)", `{"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048,
			"intermediate_size": 6144, "moe_intermediate_size": 768, "num_experts": 128, "num_experts_per_tok": 8,
			"num_hidden_layers": 48, "vocab_size": 151936, "norm_topk_prob": true, "mlp_only_layers": []}`,
			named(Presets["qwen3-30b-a3b"], "qwen3_moe")},
		{"lfm2_moe", `{"architectures": ["Lfm2MoeForCausalLM"], "model_type": "lfm2_moe", "hidden_size": 2048,
			"intermediate_size": 7168, "moe_intermediate_size": 1792, "num_experts": 32, "num_experts_per_tok": 4,
			"num_dense_layers": 2, "num_hidden_layers": 24, "vocab_size": 65536, "layer_types": ["conv", "full_attention"]}`,
			named(Presets["lfm2-8b-a1b"], "lfm2_moe")},
		{"mixtral-style (num_local_experts), named", `{"_name_or_path": "my/moe", "model_type": "mixtral", "hidden_size": 64,
			"moe_intermediate_size": 32, "num_local_experts": 8, "num_experts_per_tok": 2, "num_hidden_layers": 2, "vocab_size": 100}`,
			Config{Name: "my/moe", Hidden: 64, MoEIntermediate: 32, Experts: 8, TopK: 2, Vocab: 100, Layers: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(writeFile(t, "config.json", tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("LoadConfig = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// named is c under another name: a config.json names the model by its type.
func named(c Config, name string) Config {
	c.Name = name
	return c
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"dense model", `{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 10}`,
			"missing moe_intermediate_size, num_experts or n_routed_experts or num_local_experts, num_experts_per_tok"},
		{"not JSON", `{"hidden_size": `, "not a JSON config"},
		{"fraction", `{"hidden_size": 64.5}`, "hidden_size is 64.5, want an integer"},
		{"top-k above experts", `{"hidden_size": 64, "moe_intermediate_size": 32, "num_experts": 2, "num_experts_per_tok": 4,
			"num_hidden_layers": 1, "vocab_size": 10}`, "num_experts_per_tok 4 exceeds num_experts 2"},
		{"zero", `{"hidden_size": 0, "moe_intermediate_size": 32, "num_experts": 2, "num_experts_per_tok": 1,
			"num_hidden_layers": 1, "vocab_size": 10}`, "hidden_size is 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, "config.json", tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadConfig = %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Resolve("no-such-model")
	if !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), "glm-4.7-flash, lfm2-8b-a1b, qwen3-30b-a3b, tiny") {
		t.Errorf("Resolve(unknown) = %v", err)
	}
}

// TestFits: GLM-4.7-Flash's 47 layers take about 117 GB in float32: they
// fit an H200 (141 GB); on a 24 GB device the error says how many layers
// would.
func TestFits(t *testing.T) {
	glm := Presets["glm-4.7-flash"]
	if gb := float64(glm.WeightBytes()) / 1e9; gb < 110 || gb > 125 {
		t.Errorf("GLM-4.7-Flash weights = %.1f GB", gb)
	}
	if err := fits(glm, device.Info{Name: "H200", MemoryBytes: 141 << 30}); err != nil {
		t.Errorf("H200: %v", err)
	}
	err := fits(glm, device.Info{Name: "small", MemoryBytes: 24 << 30})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "--layers 8 fits") {
		t.Errorf("24 GB: %v", err)
	}
	if err := fits(glm, device.Info{Name: "tiny", MemoryBytes: 1 << 30}); err == nil || !strings.Contains(err.Error(), "even one layer does not fit") {
		t.Errorf("1 GB: %v", err)
	}
}
