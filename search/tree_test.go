package search

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"discover/eval"
	"discover/kernel"
)

func cand(src string, gen int) kernel.Candidate {
	return kernel.Candidate{Spec: kernel.Spec{Source: src}, Generation: gen}
}

func evaluated(reward float64) *eval.Result {
	return &eval.Result{Compiled: true, Correct: reward > 0, Reward: reward, Speedup: reward}
}

func TestScoreFormula(t *testing.T) {
	tr := New(cand("seed", 0), 1.5)
	tr.Root.VisitCount = 9
	kids := tr.Expand(tr.Root, []kernel.Candidate{cand("a", 1), cand("b", 1)}, 1)
	kids[0].MaxReward, kids[0].VisitCount = 1.2, 3
	want := 1.2 + 1.5*0.5*math.Sqrt(9)/4
	if got := kids[0].Score(1.5); math.Abs(got-want) > 1e-12 {
		t.Fatalf("Score = %v, want %v", got, want)
	}
}

func TestExpandDedupsByNormalizedSource(t *testing.T) {
	tr := New(cand("int x = 1;", 0), 1)
	added := tr.Expand(tr.Root, []kernel.Candidate{
		cand("int x = 1; // same as root", 1),
		cand("int x = 2;", 1),
		cand("int  x = 2;", 1), // same as the previous one
		cand("int x = 3;", 1),
	}, 1)
	if len(added) != 2 {
		t.Fatalf("added %d nodes, want 2", len(added))
	}
	for _, n := range added {
		if n.Prior != 0.25 {
			t.Errorf("prior = %v, want 1/4 (1/n of the batch)", n.Prior)
		}
	}
}

func TestSelectBackpropagateBest(t *testing.T) {
	tr := New(cand("seed", 0), 1)
	tr.Root.EvalResult = evaluated(1)
	tr.Backpropagate(tr.Root, 1)
	kids := tr.Expand(tr.Root, []kernel.Candidate{cand("a", 1), cand("b", 1)}, 1)
	kids[0].EvalResult = evaluated(2)
	tr.Backpropagate(kids[0], 2)
	kids[1].EvalResult = evaluated(0)
	tr.Backpropagate(kids[1], 0)
	if tr.Root.VisitCount != 3 || tr.Root.MaxReward != 2 {
		t.Fatalf("root visits %d max %v, want 3 and 2", tr.Root.VisitCount, tr.Root.MaxReward)
	}
	if got := tr.Select(); got != kids[0] {
		t.Fatalf("Select chose %s, want the better child", got.NodeID)
	}
	grand := tr.Expand(kids[0], []kernel.Candidate{cand("c", 2)}, 2)
	grand[0].EvalResult = evaluated(3)
	tr.Backpropagate(grand[0], 3)
	if kids[0].MaxReward != 3 || tr.Root.MaxReward != 3 {
		t.Fatal("max reward did not propagate to the root")
	}
	if tr.Best() != grand[0] {
		t.Fatal("Best is not the best evaluated node of the whole tree")
	}
}

func TestJSONRoundTripAndPrune(t *testing.T) {
	tr := New(cand("seed", 0), 2)
	tr.Root.EvalResult = evaluated(1)
	for i := range 3 {
		kids := tr.Expand(tr.Root, []kernel.Candidate{cand(fmt.Sprint("k", i), 1)}, i+1)
		if i < 2 {
			kids[0].EvalResult = evaluated(float64(i))
		}
	}
	tr.Prune()
	data, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var back Tree
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := len(back.Nodes()); n != 3 {
		t.Fatalf("%d nodes after prune and round trip, want 3", n)
	}
	if back.Root.Children[0].Parent() != back.Root {
		t.Fatal("parents not relinked")
	}
	if !back.Contains("k0") || back.Contains("k2") {
		t.Fatal("hash index wrong after decode")
	}
}

// BestAt picks by the speedup at one shape, skips wrong kernels, and has
// no answer for a shape nothing was timed at.
func TestBestAt(t *testing.T) {
	timed := func(correct bool, speedups map[int]float64) *eval.Result {
		r := &eval.Result{Compiled: true, Correct: correct, Reward: 1}
		for rows, sp := range speedups {
			r.Shapes = append(r.Shapes, eval.ShapeResult{Rows: rows, Speedup: sp})
		}
		return r
	}
	tr := New(cand("seed", 0), 1)
	tr.Root.EvalResult = timed(true, map[int]float64{1: 1, 4096: 1})
	kids := tr.Expand(tr.Root, []kernel.Candidate{cand("a", 1), cand("b", 1), cand("c", 1)}, 1)
	kids[0].EvalResult = timed(true, map[int]float64{1: 1.3, 4096: 1.1})
	kids[1].EvalResult = timed(true, map[int]float64{1: 0.9, 4096: 1.6})
	kids[2].EvalResult = timed(false, map[int]float64{1: 5, 4096: 5}) // wrong: never picked
	if got := tr.BestAt(1); got != kids[0] {
		t.Errorf("BestAt(1) = %v, want a", got.NodeID)
	}
	if got := tr.BestAt(4096); got != kids[1] {
		t.Errorf("BestAt(4096) = %v, want b", got.NodeID)
	}
	if got := tr.BestAt(16); got != nil {
		t.Errorf("BestAt(16) = %v, want nil: nothing was timed there", got.NodeID)
	}
}
