// Package model is a mixture-of-experts decode loop at a real model's dims,
// built from the kernels the search works on (RMSNorm, SwiGLU, top-k
// gating, MoE combine) and its own matrix-vector kernels: it answers
// whether a kernel that is faster alone makes whole tokens faster, and
// whether the tokens stay the same.
package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Config is a model's shape: what the decode loop needs of a Hugging Face
// config.json.
type Config struct {
	Name            string `json:"name"`
	Hidden          int    `json:"hidden_size"`
	MoEIntermediate int    `json:"moe_intermediate_size"`
	Experts         int    `json:"num_experts"`
	TopK            int    `json:"num_experts_per_tok"`
	Vocab           int    `json:"vocab_size"`
	Layers          int    `json:"num_hidden_layers"`
}

// Presets are the models the loop knows by name. Every layer is a MoE
// layer here; the real models' dense first layers, shared experts and
// attention are not modelled (docs/validate.md).
//
// Sources (docs/validate.md has the details; the Hub itself was not
// reachable, so the values were checked against the models' configuration
// classes in Hugging Face transformers, whose defaults mirror the releases):
//   - glm-4.7-flash: https://huggingface.co/zai-org/GLM-4.7-Flash (glm4_moe_lite);
//     transformers' Glm4MoeLiteConfig (models/glm4_moe_lite/modular_glm4_moe_lite.py):
//     vocab 154880, hidden 2048, moe_intermediate 1536, 47 layers,
//     n_routed_experts 64, num_experts_per_tok 4.
//   - qwen3-30b-a3b: https://huggingface.co/Qwen/Qwen3-30B-A3B; transformers'
//     Qwen3MoeConfig (models/qwen3_moe/configuration_qwen3_moe.py): vocab
//     151936, hidden 2048, moe_intermediate 768, 128 experts, top-8; 48
//     layers from the model card and slime's scripts/models/qwen3-30B-A3B.sh.
//   - lfm2-8b-a1b: https://huggingface.co/LiquidAI/LFM2-8B-A1B (lfm2_moe);
//     transformers' Lfm2MoeConfig (models/lfm2_moe/configuration_lfm2_moe.py):
//     vocab 65536, hidden 2048, moe_intermediate 1792, 32 experts, top-4; 24
//     layers from Liquid AI's LFM2-24B-A2B announcement ("24 layers to 40")
//     and copies of the config.json (the transformers default is 32).
//   - tiny: not a real model; small enough for CI on a CPU. Its E=8, K=2
//     are the registered topk_gating target's dims, so a pack from a
//     session of that target patches it.
var Presets = map[string]Config{
	"glm-4.7-flash": {Name: "glm-4.7-flash", Hidden: 2048, MoEIntermediate: 1536, Experts: 64, TopK: 4, Vocab: 154880, Layers: 47},
	"qwen3-30b-a3b": {Name: "qwen3-30b-a3b", Hidden: 2048, MoEIntermediate: 768, Experts: 128, TopK: 8, Vocab: 151936, Layers: 48},
	"lfm2-8b-a1b":   {Name: "lfm2-8b-a1b", Hidden: 2048, MoEIntermediate: 1792, Experts: 32, TopK: 4, Vocab: 65536, Layers: 24},
	"tiny":          {Name: "tiny", Hidden: 64, MoEIntermediate: 32, Experts: 8, TopK: 2, Vocab: 512, Layers: 2},
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var names []string
	for n := range Presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ErrUnknownModel is a --model that is neither a preset nor a file.
var ErrUnknownModel = errors.New("unknown model")

// Resolve returns the preset of that name, or the config of a config.json
// at that path.
func Resolve(nameOrPath string) (Config, error) {
	if c, ok := Presets[strings.ToLower(nameOrPath)]; ok {
		return c, nil
	}
	if _, err := os.Stat(nameOrPath); err != nil {
		return Config{}, fmt.Errorf("%w %q: not a preset (%s) nor a config.json file", ErrUnknownModel, nameOrPath, strings.Join(PresetNames(), ", "))
	}
	return LoadConfig(nameOrPath)
}

// LoadConfig reads the dims from a Hugging Face config.json. The model's
// name is its "_name_or_path", else its "model_type", else the file's path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("%s: not a JSON config: %w", path, err)
	}
	c := Config{Name: path}
	for _, k := range []string{"model_type", "_name_or_path"} {
		if s, ok := raw[k].(string); ok && s != "" {
			c.Name = s
		}
	}
	// The keys read for each field, first found wins: Qwen3-MoE and
	// LFM2-MoE say num_experts, GLM-4.7-Flash (like DeepSeek-V3)
	// n_routed_experts, Mixtral num_local_experts.
	fields := []struct {
		dst  *int
		keys []string
	}{
		{&c.Hidden, []string{"hidden_size"}},
		{&c.MoEIntermediate, []string{"moe_intermediate_size"}},
		{&c.Experts, []string{"num_experts", "n_routed_experts", "num_local_experts"}},
		{&c.TopK, []string{"num_experts_per_tok"}},
		{&c.Vocab, []string{"vocab_size"}},
		{&c.Layers, []string{"num_hidden_layers"}},
	}
	var missing []string
	for _, f := range fields {
		found := false
		for _, k := range f.keys {
			v, ok := raw[k]
			if !ok || v == nil {
				continue
			}
			n, ok := v.(float64)
			if !ok || n != float64(int(n)) {
				return Config{}, fmt.Errorf("%s: %s is %v, want an integer", path, k, v)
			}
			*f.dst, found = int(n), true
			break
		}
		if !found {
			missing = append(missing, strings.Join(f.keys, " or "))
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("%s: not a mixture-of-experts config: missing %s", path, strings.Join(missing, ", "))
	}
	return c, c.Validate()
}

// Validate checks that the dims make a model.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    int
	}{{"hidden_size", c.Hidden}, {"moe_intermediate_size", c.MoEIntermediate}, {"num_experts", c.Experts},
		{"num_experts_per_tok", c.TopK}, {"vocab_size", c.Vocab}, {"num_hidden_layers", c.Layers}} {
		if d.v < 1 {
			return fmt.Errorf("model %s: %s is %d, must be positive", c.Name, d.name, d.v)
		}
	}
	if c.TopK > c.Experts {
		return fmt.Errorf("model %s: num_experts_per_tok %d exceeds num_experts %d", c.Name, c.TopK, c.Experts)
	}
	return nil
}

// WeightBytes is the device memory the weights take, in float32.
func (c Config) WeightBytes() int64 {
	d, i, e, v := int64(c.Hidden), int64(c.MoEIntermediate), int64(c.Experts), int64(c.Vocab)
	perLayer := 2*d + d*d + e*d + 3*e*i*d // two norms, mixer, router, experts
	return 4 * (2*v*d + d + int64(c.Layers)*perLayer)
}

// activationBytes is the device memory of the activations of one token.
func (c Config) activationBytes() int64 {
	d, i, k := int64(c.Hidden), int64(c.MoEIntermediate), int64(c.TopK)
	return 4 * (5*d + int64(c.Experts) + 2*k + 3*k*i + k*d + int64(c.Vocab) + 1)
}
