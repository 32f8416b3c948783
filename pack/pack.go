// Package pack collects the fastest correct kernel per (target, dialect,
// device, dtype, shape) from sessions run on several machines, in one file
// that carries each kernel's source and launch manifest.
package pack

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"discover/eval"
	"discover/export"
	"discover/search"
	"discover/session"
	"discover/target"
)

// Format names the pack schema.
const Format = "discover-pack/1"

// Pack is the file.
type Pack struct {
	Format  string  `json:"format"`
	Entries []Entry `json:"entries"`
}

// Key is what a pack holds one kernel for.
type Key struct {
	Target  string       `json:"target"`
	Dialect string       `json:"dialect"`
	Device  string       `json:"device"`
	DType   target.DType `json:"dtype"`
	Rows    int          `json:"rows"` // the row variable's value
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s/%s/%s/rows=%d", k.Target, k.Dialect, k.Device, k.DType, k.Rows)
}

// Entry is one kernel at one key, with its timing at that shape.
type Entry struct {
	Key
	// Speedup is over the seed kernel, timed interleaved with it on the
	// same device: what decides which entry is faster.
	Speedup float64 `json:"speedup"`
	// SpeedupP10 is the 10th percentile of the interleaved pairs' ratios
	// (seed sample / kernel sample): above 1, the gain is beyond the noise.
	// Zero in packs written before it was recorded.
	SpeedupP10   float64          `json:"speedup_p10,omitempty"`
	MedianUs     float64          `json:"median_us"`
	SeedMedianUs float64          `json:"seed_median_us"`
	Source       string           `json:"source"`
	Manifest     *export.Manifest `json:"manifest"`
}

// New returns an empty pack.
func New() *Pack { return &Pack{Format: Format, Entries: []Entry{}} }

// faster reports whether a beats b. Speedups are over the same seed on
// the same device name, and each was timed interleaved with that seed, so
// they compare across sessions and machines better than raw medians (which
// drift with clocks and load); the median breaks ties.
func faster(a, b Entry) bool {
	if a.Speedup != b.Speedup {
		return a.Speedup > b.Speedup
	}
	return a.MedianUs < b.MedianUs
}

// Add keeps e if its key is new or it is faster than the entry there, and
// reports whether it did.
func (p *Pack) Add(e Entry) bool {
	i := slices.IndexFunc(p.Entries, func(x Entry) bool { return x.Key == e.Key })
	switch {
	case i < 0:
		p.Entries = append(p.Entries, e)
	case faster(e, p.Entries[i]):
		p.Entries[i] = e
	default:
		return false
	}
	p.sort()
	return true
}

func (p *Pack) sort() {
	slices.SortFunc(p.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Dialect, b.Dialect),
			cmp.Compare(a.Device, b.Device), cmp.Compare(a.DType, b.DType), cmp.Compare(a.Rows, b.Rows))
	})
}

// Merge returns a pack with the faster entry for every key of the packs.
func Merge(packs ...*Pack) *Pack {
	out := New()
	for _, p := range packs {
		for _, e := range p.Entries {
			out.Add(e)
		}
	}
	return out
}

// FromSession returns, for each test shape of session s (of target t), the
// correct kernel of the session with the best speedup at that shape.
func FromSession(s *session.Session, t *target.Target, now time.Time) ([]Entry, error) {
	best := map[int]*search.Node{}
	var rows []int
	for _, n := range s.TreeData.Nodes() {
		if !n.Evaluated() || !n.EvalResult.Correct {
			continue
		}
		for _, sh := range n.EvalResult.Shapes {
			b, seen := best[sh.Rows]
			if !seen {
				rows = append(rows, sh.Rows)
			}
			if !seen || sh.Speedup > shapeOf(b, sh.Rows).Speedup {
				best[sh.Rows] = n
			}
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("session %s has no per-shape results", s.Metadata.SessionID)
	}
	var out []Entry
	for _, r := range rows {
		n := best[r]
		m, err := export.NewManifest(s, t, n, now)
		if err != nil {
			return nil, err
		}
		sh := shapeOf(n, r)
		out = append(out, Entry{
			Key:     Key{Target: t.Name, Dialect: string(m.Dialect), Device: s.Metadata.DeviceChip, DType: m.DType, Rows: r},
			Speedup: sh.Speedup, SpeedupP10: sh.SpeedupP10, MedianUs: sh.MedianUs, SeedMedianUs: sh.SeedMedianUs,
			Source: n.Candidate.Spec.Source, Manifest: m,
		})
	}
	return out, nil
}

// shapeOf is a node's result at a row count (zero when not measured).
func shapeOf(n *search.Node, rows int) eval.ShapeResult {
	for _, sh := range n.EvalResult.Shapes {
		if sh.Rows == rows {
			return sh
		}
	}
	return eval.ShapeResult{Rows: rows}
}

// Load reads a pack file.
func Load(path string) (*Pack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Pack
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: not a kernel pack: %w", path, err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("%s: not a kernel pack: format %q, want %q", path, p.Format, Format)
	}
	if p.Entries == nil {
		p.Entries = []Entry{}
	}
	for _, e := range p.Entries {
		if e.Manifest == nil || e.Source == "" {
			return nil, fmt.Errorf("%s: entry %s has no source or manifest", path, e.Key)
		}
	}
	return &p, nil
}

// Save writes the pack atomically.
func (p *Pack) Save(path string) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode pack: %w", err)
	}
	if err := session.WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
