package llm

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"

	"discover/kernel"
)

// Tuner proposes kernels from parameterized templates, without an LLM.
// Each proposal is a point of its family's knob space (tuner_space.go),
// stated as its reasoning and in the source's first line, so that it is
// read back when the kernel returns as a parent. From a tuner parent it
// proposes neighbours (one knob moved) plus a few random draws; from any
// other parent (the seed, an LLM's kernel) the default point plus random
// draws, or once that is known, the default's neighbours. The PUCT tree
// does the rest.
type Tuner struct {
	mu sync.Mutex
	// seen holds the source hashes proposed so far, per target and dialect
	// (the dims are compile-time defines, so targets share sources).
	seen map[string]map[string]bool
}

// NewTuner returns a tuner with no memory of earlier proposals.
func NewTuner() *Tuner { return &Tuner{seen: map[string]map[string]bool{}} }

func (*Tuner) Name() string { return "tuner" }

// Generate proposes up to req.N fresh kernels: none proposed before by this
// tuner, none that is the request's parent, best or in its history. Draws
// are seeded from the step and the target, so a run can be reproduced. It
// returns ErrExhausted once the whole template space has been proposed.
func (g *Tuner) Generate(ctx context.Context, req Request) (Response, error) {
	s, err := newSpace(req.Target, req.Dialect, req.Device)
	if err != nil {
		return Response{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	key := s.t.Name + "/" + string(s.dialect)
	if g.seen[key] == nil {
		g.seen[key] = map[string]bool{}
	}
	b := batch{s: s, want: max(req.N, 1), known: knownSources(s, req, g.seen[key])}
	h := fnv.New64a()
	h.Write([]byte(s.t.Name))
	rng := rand.New(rand.NewPCG(uint64(req.Step), h.Sum64()))

	parent, ok := s.parse(req.Parent.Reasoning)
	if !ok {
		parent, ok = s.parse(req.Parent.Spec.Source)
	}
	draws := b.want / 4 // "a few"
	if !ok {
		if parent, ok = s.start(); !ok {
			return Response{}, fmt.Errorf("tuner: no %s template fits device %s", s.t.Name, req.Device.Name)
		}
		if b.propose(parent, "default point") {
			draws = b.want - 1
		}
	}
	neighbours := s.neighbours(parent)
	rng.Shuffle(len(neighbours), func(i, j int) { neighbours[i], neighbours[j] = neighbours[j], neighbours[i] })
	near := func(limit int) {
		for _, q := range neighbours {
			if len(b.out) >= limit {
				return
			}
			b.propose(q, "neighbour of the parent: "+s.moved(parent, q))
		}
	}
	near(b.want - draws)
	for range 50 * b.want {
		if len(b.out) >= b.want {
			break
		}
		if q, ok := s.random(rng); ok {
			b.propose(q, "random draw")
		}
	}
	// A crowded space: what is left near the parent, then anywhere.
	near(b.want)
	if len(b.out) < b.want {
		rest := s.all()
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		for _, q := range rest {
			b.propose(q, "unexplored point")
		}
	}
	resp := Response{Variants: b.out, Usage: Usage{Backend: "tuner"}}
	if len(b.out) == 0 {
		return resp, fmt.Errorf("%w: every %s template has been proposed", ErrExhausted, s.t.Name)
	}
	for _, v := range b.out {
		g.seen[key][kernel.SourceHash(v.Source)] = true
	}
	return resp, nil
}

// batch collects one answer's variants.
type batch struct {
	s     *space
	want  int
	known map[string]bool // source hashes not to propose
	out   []Variant
}

// propose adds p unless the batch is full or p's kernel is known.
func (b *batch) propose(p point, why string) bool {
	if len(b.out) >= b.want {
		return false
	}
	v, err := b.s.render(p)
	if err != nil {
		panic(err) // a template bug: every point offered here passed check
	}
	hash := kernel.SourceHash(v.Source)
	if b.known[hash] {
		return false
	}
	b.known[hash] = true
	v.Reasoning += "; " + why
	b.out = append(b.out, v)
	return true
}

// knownSources are the source hashes not to propose again: this tuner's
// earlier proposals (seen) and, after a resume, what the request shows of
// the session.
func knownSources(s *space, req Request, seen map[string]bool) map[string]bool {
	known := map[string]bool{
		kernel.SourceHash(req.Parent.Spec.Source): true,
		kernel.SourceHash(req.Best.Spec.Source):   true,
	}
	for h := range seen {
		known[h] = true
	}
	for _, a := range req.History {
		if p, ok := s.parse(a.Reasoning); ok {
			if v, err := s.render(p); err == nil {
				known[kernel.SourceHash(v.Source)] = true
			}
		}
	}
	return known
}

// moved names the knobs that differ from p to q, as "vec 2->4".
func (s *space) moved(p, q point) string {
	var out []string
	for _, k := range s.fam.knobs {
		if p[k.name] != q[k.name] {
			out = append(out, fmt.Sprintf("%s %s->%s", k.name, p[k.name], q[k.name]))
		}
	}
	return strings.Join(out, ", ")
}
