// Package sessiontest builds sessions with chosen results, for tests of
// what reads sessions (reports, compare, export, packs) without a device.
package sessiontest

import (
	"fmt"

	"discover/device"
	"discover/eval"
	"discover/kernel"
	"discover/search"
	"discover/session"
	"discover/target"
)

// Node is a kernel to add under Parent (an earlier Node's index, or -1
// for the seed).
type Node struct {
	Parent    int
	Local     int // work-group x size; 0 keeps the parent's
	Reasoning string
	// Speedups per test shape of the target; ignored when Failure is set.
	Speedups []float64
	Failure  eval.Reason
}

// Device is the device sessions are made on.
var Device = device.Info{API: device.OpenCL, Platform: "Test Platform", Name: "test device", DriverVersion: "1.0",
	MaxWorkGroupSize: 1024, CopyBandwidthGBs: 100}

// New makes a session of target t whose seed (dialect d) is timed at 10 us
// per row and whose other nodes have the given results. Node i is created
// at step i+1 with the seed's source plus a marker define (a comment would
// normalize to the same kernel), so it compiles and computes what the seed
// does. It returns the session and the nodes.
func New(t *target.Target, d device.Dialect, nodes ...Node) (*session.Session, []*search.Node) {
	spec, err := eval.SeedSpec(t, d)
	if err != nil {
		panic(err)
	}
	tree := search.New(kernel.Candidate{Spec: spec, LLMReasoning: "seed"}, 1)
	info := Device
	info.API = d
	s := session.New(t.Name, "mock", info, tree)
	tree.Root.EvalResult = result(t, nil)
	s.Metadata.BaselineUs = tree.Root.EvalResult.MedianUs
	tree.Backpropagate(tree.Root, 1)
	var out []*search.Node
	for i, n := range nodes {
		parent := tree.Root
		if n.Parent >= 0 {
			parent = out[n.Parent]
		}
		child := parent.Candidate.Spec
		child.Source = fmt.Sprintf("#define VARIANT_%d 1\n%s", i+1, spec.Source)
		if n.Local > 0 {
			child.Threadgroup = [3]int{n.Local, 1, 1}
		}
		pid := parent.NodeID
		c := kernel.Candidate{Spec: child, ParentID: &pid, Generation: i + 1, LLMReasoning: n.Reasoning}
		node := tree.Expand(parent, []kernel.Candidate{c}, i+1)[0]
		if n.Failure != "" {
			r := eval.Failed(n.Failure, "failed on purpose")
			node.EvalResult = &r
		} else {
			node.EvalResult = result(t, n.Speedups)
		}
		tree.Backpropagate(node, node.EvalResult.Reward)
		s.EvalHistory = append(s.EvalHistory, session.EvalRecord{NodeID: node.NodeID, Step: i + 1,
			Correct: node.EvalResult.Correct, Reward: node.EvalResult.Reward, Speedup: node.EvalResult.Speedup, Failure: n.Failure})
		s.Steps = append(s.Steps, session.StepRecord{Step: i + 1, ParentID: pid, Variants: 1, Added: []string{node.NodeID}})
		s.Metadata.TotalSteps, s.Metadata.TotalCandidates = i+1, i+1
		out = append(out, node)
	}
	s.Refresh()
	return s, out
}

// result is a correct result with the given speedups (nil: the seed's).
func result(t *target.Target, speedups []float64) *eval.Result {
	r := &eval.Result{Compiled: true, Correct: true}
	for i, rows := range t.Shapes {
		sp := 1.0
		if speedups != nil {
			sp = speedups[i]
		}
		seed := 10 * float64(rows)
		med := seed / sp
		bytes := t.Bytes(rows)
		gbs := float64(bytes) / med / 1e3
		r.Shapes = append(r.Shapes, eval.ShapeResult{
			Rows: rows, MedianUs: med, P10Us: 0.95 * med, P90Us: 1.05 * med,
			SeedMedianUs: seed, SeedP10Us: 0.95 * seed, SeedP90Us: 1.05 * seed,
			Speedup: sp, SpeedupP10: 0.97 * sp, SpeedupP90: 1.03 * sp,
			Bytes: bytes, GBs: gbs, PctCopyBW: 100 * gbs / Device.CopyBandwidthGBs, Samples: 5, Launches: 10,
		})
		r.MedianUs = med
	}
	r.Score()
	return r
}
