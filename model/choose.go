package model

import (
	"fmt"
	"slices"
	"strings"

	"discover/device"
	"discover/export"
	"discover/pack"
	"discover/target"
)

// Families are the kernel classes the search works on, in the order a
// layer runs them.
var Families = []string{"rmsnorm", "topk_gating", "swiglu", "moe_combine"}

// Choice is the kernel the loop runs for one class: the target's seed, or
// a pack's kernel for the same family, dims, device and row count.
type Choice struct {
	Family string `json:"class"`
	Target string `json:"target"` // the model's target, e.g. glm-4.7-flash_rmsnorm
	Rows   int    `json:"rows"`   // the row count the loop launches it at
	From   string `json:"from"`   // "seed" or "pack"
	// Why says why the seed runs (no pack, or which check no entry
	// passed), or which pack entry runs.
	Why   string      `json:"why"`
	Entry *pack.Entry `json:"-"`

	target *target.Target
}

// targets are the model's four classes at its dims, with the rows each is
// launched at: SwiGLU runs once over the K selected experts' rows.
func (c Config) targets() ([]*target.Target, []int, error) {
	type class struct {
		dims []target.Dim
		rows int
	}
	classes := map[string]class{
		"rmsnorm":     {[]target.Dim{{Name: "D", Value: c.Hidden}}, 1},
		"topk_gating": {[]target.Dim{{Name: "E", Value: c.Experts}, {Name: "K", Value: c.TopK}}, 1},
		"swiglu":      {[]target.Dim{{Name: "D", Value: c.MoEIntermediate}}, c.TopK},
		"moe_combine": {[]target.Dim{{Name: "D", Value: c.Hidden}, {Name: "K", Value: c.TopK}}, 1},
	}
	var ts []*target.Target
	var rows []int
	for _, f := range Families {
		cl := classes[f]
		t, err := target.ForModel(f, c.Name, cl.dims...)
		if err != nil {
			return nil, nil, err
		}
		ts, rows = append(ts, t), append(rows, cl.rows)
	}
	return ts, rows, nil
}

// Seeds chooses the seed kernel for every class: the baseline.
func Seeds(c Config) ([]Choice, error) { return Choose(c, device.Info{}, nil) }

// Choose picks, per class, the pack's kernel for the same family and dims,
// dialect, device name, dtype float32 and row count (the fastest, if
// several), else the seed with the reason. A pack with no kernel at all for
// this device is an error: it was made on another machine.
func Choose(c Config, info device.Info, p *pack.Pack) ([]Choice, error) {
	ts, rows, err := c.targets()
	if err != nil {
		return nil, err
	}
	if p != nil && !slices.ContainsFunc(p.Entries, func(e pack.Entry) bool {
		return e.Device == info.Name && e.Dialect == string(info.API)
	}) {
		return nil, fmt.Errorf("the pack has no kernels for %s (%s); it has kernels for %s", info.Name, info.API, packDevices(p))
	}
	var out []Choice
	for n, t := range ts {
		ch := Choice{Family: t.Kernel, Target: t.Name, Rows: rows[n], From: "seed", Why: "baseline", target: t}
		if p != nil {
			if e, why := match(p, t, rows[n], info); e != nil {
				ch.From, ch.Entry = "pack", e
				ch.Why = fmt.Sprintf("%s node %s, %.3fx at rows=%d", e.Target, e.Manifest.Provenance.NodeID, e.Speedup, e.Rows)
			} else {
				ch.Why = why
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// match returns the fastest entry of p for target t at rows on this
// device, or why there is none: the first check that no entry passed.
func match(p *pack.Pack, t *target.Target, rows int, info device.Info) (*pack.Entry, string) {
	dims := target.JoinDims(t.Dims, " ")
	checks := []struct {
		ok   func(e pack.Entry) bool
		fail func(left []pack.Entry) string
	}{
		{func(e pack.Entry) bool { return e.Manifest.Entry == t.Entry && slices.Equal(e.Manifest.Dims, t.Dims) },
			func([]pack.Entry) string { return fmt.Sprintf("no pack entry for %s at %s", t.Kernel, dims) }},
		{func(e pack.Entry) bool { return e.Dialect == string(info.API) && e.Device == info.Name },
			func([]pack.Entry) string {
				return fmt.Sprintf("no pack entry for %s at %s on %s", t.Kernel, dims, info.Name)
			}},
		{func(e pack.Entry) bool { return e.DType == target.Float32 },
			func([]pack.Entry) string { return fmt.Sprintf("no float32 pack entry for %s at %s", t.Kernel, dims) }},
		{func(e pack.Entry) bool { return e.Rows == rows },
			func(left []pack.Entry) string {
				var have []string
				for _, e := range left {
					have = append(have, fmt.Sprint(e.Rows))
				}
				return fmt.Sprintf("no pack entry at rows=%d (has rows %s)", rows, strings.Join(have, ", "))
			}},
	}
	left := p.Entries
	for _, c := range checks {
		var kept []pack.Entry
		for _, e := range left {
			if c.ok(e) {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil, c.fail(left)
		}
		left = kept
	}
	best := slices.MaxFunc(left, func(a, b pack.Entry) int {
		switch {
		case a.Speedup < b.Speedup:
			return -1
		case a.Speedup > b.Speedup:
			return 1
		}
		return 0
	})
	return &best, ""
}

// packDevices lists the devices a pack has kernels for.
func packDevices(p *pack.Pack) string {
	var ds []string
	for _, e := range p.Entries {
		if d := fmt.Sprintf("%s (%s)", e.Device, e.Dialect); !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return "nothing (it is empty)"
	}
	return strings.Join(ds, ", ")
}

// kernelSpec is what the loop compiles and launches for a choice.
type kernelSpec struct {
	source, entry string
	defines       []device.Define
	launch        export.Launch
	rowVar        string
}

func (ch Choice) kernel(d device.Dialect) (kernelSpec, error) {
	if e := ch.Entry; e != nil {
		m := e.Manifest
		return kernelSpec{e.Source, m.Entry, m.Defines, m.Launch, m.RowVar}, nil
	}
	t := ch.target
	l, err := export.SeedLaunch(t, d)
	if err != nil {
		return kernelSpec{}, err
	}
	return kernelSpec{t.Seeds[d].Source, t.Entry, t.Defines(), l, t.RowVar}, nil
}
