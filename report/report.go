// Package report turns a session into what a reader wants: the top
// candidates, failures by reason, tokens and cost.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"discover/eval"
	"discover/search"
	"discover/session"
)

// Summary is a session's outcome as data (search --json, report --json).
type Summary struct {
	SessionPath  string             `json:"session_path,omitempty"`
	SessionID    string             `json:"session_id"`
	Target       string             `json:"target"`
	Backend      string             `json:"backend"`
	Device       string             `json:"device"`
	Dialect      string             `json:"dialect,omitempty"`
	Steps        int                `json:"steps"`
	Candidates   int                `json:"candidates"`
	Evaluated    int                `json:"evaluated"`
	BaselineUs   float64            `json:"baseline_us"`
	BestNodeID   string             `json:"best_node_id"`
	BestSpeedup  float64            `json:"best_speedup"`
	BestReward   float64            `json:"best_reward"`
	BestShapes   []eval.ShapeResult `json:"best_shapes,omitempty"`
	Failures     map[string]int     `json:"failures"`
	InputTokens  int                `json:"input_tokens"`
	OutputTokens int                `json:"output_tokens"`
	CostUSD      float64            `json:"cost_usd"`
	StopReason   string             `json:"stop_reason,omitempty"`
	Top          []Entry            `json:"top"`
}

// Entry is one evaluated candidate.
type Entry struct {
	NodeID    string             `json:"node_id"`
	Step      int                `json:"step"`
	Speedup   float64            `json:"speedup"`
	Reward    float64            `json:"reward"`
	MedianUs  float64            `json:"median_us"`
	Reasoning string             `json:"reasoning"`
	Shapes    []eval.ShapeResult `json:"shapes,omitempty"`
}

// Ranked returns the correct evaluated nodes, best reward first.
func Ranked(s *session.Session) []*search.Node {
	var out []*search.Node
	for _, n := range s.TreeData.Nodes() {
		if n.Evaluated() && n.EvalResult.Correct {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EvalResult.Reward > out[j].EvalResult.Reward })
	return out
}

// Failures counts failed candidates by reason.
func Failures(s *session.Session) map[string]int {
	out := map[string]int{}
	for _, n := range s.TreeData.Nodes() {
		if n.Evaluated() && !n.EvalResult.Correct {
			reason := string(n.EvalResult.Failure)
			if reason == "" { // a ZMLX file: no typed reason
				reason = "failed"
			}
			out[reason]++
		}
	}
	return out
}

// Summarize builds the summary with the top `top` candidates.
func Summarize(s *session.Session, path string) Summary {
	m := s.Metadata
	sum := Summary{
		SessionPath: path, SessionID: m.SessionID, Target: m.TargetName, Backend: m.LLMBackend,
		Device: m.DeviceChip, Dialect: string(m.Dialect), Steps: m.TotalSteps, Candidates: m.TotalCandidates,
		Evaluated: m.TotalEvaluated, BaselineUs: m.BaselineUs, BestNodeID: s.TreeData.Best().NodeID,
		BestSpeedup: m.BestSpeedup, BestReward: m.BestReward, Failures: Failures(s),
		InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, CostUSD: m.CostUSD, StopReason: m.StopReason,
	}
	if best := s.TreeData.Best(); best.Evaluated() {
		sum.BestShapes = best.EvalResult.Shapes
	}
	for _, n := range Ranked(s) {
		r := n.EvalResult
		sum.Top = append(sum.Top, Entry{NodeID: n.NodeID, Step: stepOf(n), Speedup: r.Speedup, Reward: r.Reward,
			MedianUs: r.MedianUs, Reasoning: n.Candidate.LLMReasoning, Shapes: r.Shapes})
	}
	return sum
}

// Print writes the terminal report with the top n candidates.
func Print(w io.Writer, s *session.Session, n int) {
	sum := Summarize(s, "")
	fmt.Fprintf(w, "Target %s on %s (%s), generator %s, session %s\n", sum.Target, sum.Device, DialectName(sum.Dialect), sum.Backend, sum.SessionID)
	fmt.Fprintf(w, "%d steps, %d candidates, %d evaluated; seed %.2f us at the largest shape\n",
		sum.Steps, sum.Candidates, sum.Evaluated, sum.BaselineUs)
	fmt.Fprintf(w, "Best: %s, %.3fx (geometric mean over shapes), reward %.3f\n", sum.BestNodeID, sum.BestSpeedup, sum.BestReward)
	rv := rowVar(sum.Target)
	if len(sum.BestShapes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\tmedian us\tp10\tp90\tseed us\tspeedup\tpaired p10-p90\tGB/s\t%% copy BW\t\n", rv)
		for _, sh := range sum.BestShapes {
			fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.3fx\t%.3f-%.3f\t%.1f\t%s\t\n", sh.Rows, sh.MedianUs, sh.P10Us, sh.P90Us,
				sh.SeedMedianUs, sh.Speedup, sh.SpeedupP10, sh.SpeedupP90, sh.GBs, pct(sh.PctCopyBW))
		}
		tw.Flush()
	}
	if len(sum.Top) > 0 {
		fmt.Fprintln(w, "\nTop candidates:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "node\tstep\tspeedup\treward\tmedian us\tper shape%s\tstrategy\n", shapeRows(rv, sum.Top[0].Shapes))
		for _, e := range sum.Top[:min(n, len(sum.Top))] {
			fmt.Fprintf(tw, "%s\t%d\t%.3fx\t%.3f\t%.2f\t%s\t%s\n", e.NodeID, e.Step, e.Speedup, e.Reward, e.MedianUs,
				shapeSpeedups(e.Shapes), oneLine(e.Reasoning, 90))
		}
		tw.Flush()
	}
	if len(sum.Failures) > 0 {
		var parts []string
		for reason, c := range sum.Failures {
			parts = append(parts, fmt.Sprintf("%s %d", reason, c))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "\nFailures: %s\n", strings.Join(parts, ", "))
	}
	if sum.InputTokens+sum.OutputTokens > 0 {
		fmt.Fprintf(w, "Tokens: %d in, %d out; cost $%.4f\n", sum.InputTokens, sum.OutputTokens, sum.CostUSD)
	}
	if sum.StopReason != "" {
		fmt.Fprintf(w, "Stopped: %s\n", sum.StopReason)
	}
}

// shapeRows names the row counts of a result's shapes: " (B=1,4,16,4096)",
// or nothing without shapes.
func shapeRows(rowVar string, shapes []eval.ShapeResult) string {
	var out []string
	for _, s := range shapes {
		out = append(out, fmt.Sprint(s.Rows))
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + rowVar + "=" + strings.Join(out, ",") + ")"
}

// stepOf is the step that made a node. ZMLX's nodes have no step; their
// generation is that step.
func stepOf(n *search.Node) int { return max(n.Step, n.Candidate.Generation) }

// DialectName names a session's kernel language; ZMLX's sessions have none
// recorded, and are Metal.
func DialectName[D ~string](d D) string {
	if d == "" {
		return "metal"
	}
	return string(d)
}

// shapeSpeedups lists a result's per-shape speedups: "1.00 0.98 1.21".
func shapeSpeedups(shapes []eval.ShapeResult) string {
	var out []string
	for _, s := range shapes {
		out = append(out, fmt.Sprintf("%.2f", s.Speedup))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " ")
}

func pct(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
