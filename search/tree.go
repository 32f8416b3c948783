// Package search is the PUCT tree that decides which kernel to improve
// next, with ZMLX Discover's semantics: max-reward backpropagation, priors
// of 1/n, dedup by normalized source hash.
package search

import (
	"errors"
	"fmt"
	"math"

	"discover/eval"
	"discover/kernel"
)

// RootID is the seed kernel's node id.
const RootID = "root"

// Node is one candidate in the tree; its JSON is ZMLX's node format.
type Node struct {
	NodeID     string           `json:"node_id"`
	Candidate  kernel.Candidate `json:"candidate"`
	EvalResult *eval.Result     `json:"eval_result,omitempty"`
	VisitCount int              `json:"visit_count"`
	MaxReward  float64          `json:"max_reward"`
	Prior      float64          `json:"prior"`
	Children   []*Node          `json:"children"`
	// Step is the search step that created the node (0 for the root).
	Step int `json:"step"`

	parent *Node
}

// Parent is the node's parent, nil for the root.
func (n *Node) Parent() *Node { return n.parent }

// Evaluated reports whether the node has a result.
func (n *Node) Evaluated() bool { return n.EvalResult != nil }

// Score is the PUCT score: max_reward + c * prior * sqrt(parent visits) / (1 + visits).
func (n *Node) Score(cPuct float64) float64 {
	parentVisits := 1
	if n.parent != nil {
		parentVisits = n.parent.VisitCount
	}
	return n.MaxReward + cPuct*n.Prior*math.Sqrt(float64(parentVisits))/float64(1+n.VisitCount)
}

// Tree is the search tree.
type Tree struct {
	CPuct float64 `json:"c_puct"`
	Root  *Node   `json:"root"`

	byHash map[string]*Node
	byID   map[string]*Node
}

// New makes a tree whose root is the seed kernel.
func New(seed kernel.Candidate, cPuct float64) *Tree {
	t := &Tree{CPuct: cPuct, Root: &Node{NodeID: RootID, Candidate: seed, Prior: 1, Children: []*Node{}}}
	t.reindex()
	return t
}

// reindex links parents and rebuilds the hash and id indexes, after
// construction or decoding.
func (t *Tree) reindex() {
	t.byHash, t.byID = map[string]*Node{}, map[string]*Node{}
	var walk func(n, parent *Node)
	walk = func(n, parent *Node) {
		n.parent = parent
		if n.Children == nil {
			n.Children = []*Node{}
		}
		t.byHash[kernel.SourceHash(n.Candidate.Spec.Source)] = n
		t.byID[n.NodeID] = n
		for _, c := range n.Children {
			walk(c, n)
		}
	}
	walk(t.Root, nil)
}

// Validate checks a decoded tree and builds its indexes.
func (t *Tree) Validate() error {
	if t.Root == nil {
		return errors.New("tree has no root")
	}
	t.reindex()
	count := 0
	var walk func(n *Node)
	walk = func(n *Node) {
		count++
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(t.Root)
	if count != len(t.byID) {
		return fmt.Errorf("tree has %d nodes but %d distinct node ids", count, len(t.byID))
	}
	return nil
}

// Select walks from the root to a leaf, taking the child of highest score.
func (t *Tree) Select() *Node {
	n := t.Root
	for len(n.Children) > 0 {
		best := n.Children[0]
		for _, c := range n.Children[1:] {
			if c.Score(t.CPuct) > best.Score(t.CPuct) {
				best = c
			}
		}
		n = best
	}
	return n
}

// Contains reports whether a source (normalized) is already in the tree.
func (t *Tree) Contains(source string) bool {
	_, ok := t.byHash[kernel.SourceHash(source)]
	return ok
}

// Expand adds the candidates as children of parent with prior 1/n each,
// skipping any whose normalized source is already in the tree (or repeated
// in the batch). It returns the new nodes.
func (t *Tree) Expand(parent *Node, cands []kernel.Candidate, step int) []*Node {
	var added []*Node
	prior := 1 / float64(max(len(cands), 1))
	for _, c := range cands {
		h := kernel.SourceHash(c.Spec.Source)
		if _, dup := t.byHash[h]; dup {
			continue
		}
		n := &Node{NodeID: c.ID(), Candidate: c, Prior: prior, Children: []*Node{}, Step: step, parent: parent}
		parent.Children = append(parent.Children, n)
		t.byHash[h], t.byID[n.NodeID] = n, n
		added = append(added, n)
	}
	return added
}

// Backpropagate counts a visit and raises max_reward from node to the root.
func (t *Tree) Backpropagate(n *Node, reward float64) {
	for ; n != nil; n = n.parent {
		n.VisitCount++
		n.MaxReward = math.Max(n.MaxReward, reward)
	}
}

// Prune removes nodes that were never evaluated (a step interrupted half
// way), so that a saved tree holds only results.
func (t *Tree) Prune() {
	var walk func(n *Node)
	walk = func(n *Node) {
		kept := n.Children[:0]
		for _, c := range n.Children {
			if c.Evaluated() {
				walk(c)
				kept = append(kept, c)
			}
		}
		n.Children = kept
	}
	walk(t.Root)
	t.reindex()
}

// Nodes returns every node, depth first from the root.
func (t *Tree) Nodes() []*Node {
	var out []*Node
	var walk func(n *Node)
	walk = func(n *Node) {
		out = append(out, n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(t.Root)
	return out
}

// Best is the evaluated node of highest reward in the whole tree, or the
// root when none is better.
func (t *Tree) Best() *Node {
	best := t.Root
	for _, n := range t.Nodes() {
		if n.Evaluated() && n.EvalResult.Correct && (!best.Evaluated() || n.EvalResult.Reward > best.EvalResult.Reward) {
			best = n
		}
	}
	return best
}

// BestAt is the correct node with the largest speedup over the seed at
// row count rows (each speedup paired with the seed in its own evaluation),
// or nil when no node was timed there. The seed itself (speedup 1) wins
// when nothing beat it.
func (t *Tree) BestAt(rows int) *Node {
	var best *Node
	bestSpeedup := 0.0
	for _, n := range t.Nodes() {
		if !n.Evaluated() || !n.EvalResult.Correct {
			continue
		}
		for _, sr := range n.EvalResult.Shapes {
			if sr.Rows == rows && sr.Speedup > bestSpeedup {
				best, bestSpeedup = n, sr.Speedup
			}
		}
	}
	return best
}

// Lookup finds a node by id.
func (t *Tree) Lookup(id string) *Node { return t.byID[id] }
