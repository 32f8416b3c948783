package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"discover/device"
	"discover/eval"
	"discover/export"
	"discover/session"
	"discover/target"
)

// Verdict says whether to replace the seed kernel with the best one found.
type Verdict string

const (
	Use      Verdict = "USE"
	Marginal Verdict = "MARGINAL"
	Keep     Verdict = "KEEP"
)

// The USE thresholds: the gain, and the gain that must hold in nine
// paired samples out of ten.
const (
	UseSpeedup    = 1.05
	UseP10Speedup = 1.01
)

// VerdictHelp explains the verdicts, for compare's --help.
const VerdictHelp = `Verdicts, for the best kernel of each session:
  USE       speedup > 1.05 and p10 speedup > 1.01
  MARGINAL  speedup > 1.0 but not USE: within the noise, or too small to matter
  KEEP      keep the seed kernel
where, over the target's test shapes,
  speedup      geometric mean of the per-shape speedups, seed median / kernel median
  p10 speedup  geometric mean of the per-shape 10th percentiles of the paired
               ratios seed sample / kernel sample (the two are timed interleaved)
Pairing cancels drift: a p10 above 1.01 says the kernel won by 1% or more in
nine pairs out of ten (averaged over the shapes). Seed p10 / kernel p90 would instead pit the seed's luckiest sample against
the kernel's unluckiest and reject real gains wherever timings spread by a few
percent. No shape must gain on its own: WORST SHAPE shows the weakest one, so a
regression is visible. A kernel without per-shape timings (a ZMLX session) is
MARGINAL at best.`

// Judgement is the verdict on one kernel with the numbers behind it.
type Judgement struct {
	Speedup    float64 `json:"speedup"`
	P10Speedup float64 `json:"p10_speedup"` // 0 when not measured
	// WorstSpeedup is the smallest per-shape speedup, at WorstRows.
	WorstSpeedup float64 `json:"worst_shape_speedup"`
	WorstRows    int     `json:"worst_shape_rows"`
	Verdict      Verdict `json:"verdict"`
}

// Judge gives the verdict on a result.
func Judge(r *eval.Result) Judgement {
	if r == nil || !r.Correct {
		return Judgement{Verdict: Keep}
	}
	j := Judgement{Speedup: r.Speedup, WorstSpeedup: r.Speedup}
	logP10, measured := 0.0, len(r.Shapes) > 0
	for i, s := range r.Shapes {
		if i == 0 || s.Speedup < j.WorstSpeedup {
			j.WorstSpeedup, j.WorstRows = s.Speedup, s.Rows
		}
		measured = measured && s.SpeedupP10 > 0
		logP10 += math.Log(s.SpeedupP10)
	}
	if measured {
		j.P10Speedup = math.Exp(logP10 / float64(len(r.Shapes)))
	}
	switch {
	case j.Speedup > UseSpeedup && j.P10Speedup > UseP10Speedup:
		j.Verdict = Use
	case j.Speedup > 1:
		j.Verdict = Marginal
	default:
		j.Verdict = Keep
	}
	return j
}

// Comparison ranks, per target, the backends of an autorun directory.
type Comparison struct {
	Dir string `json:"dir"`
	// From is AutorunFile, or "scan" when the session files were found by
	// looking in the directory.
	From    string             `json:"from"`
	Targets []TargetComparison `json:"targets"`
}

// TargetComparison is one target's backends, best first, and what to do.
type TargetComparison struct {
	Target         string          `json:"target"`
	Recommendation Verdict         `json:"recommendation"`
	Backends       []BackendResult `json:"backends"`
}

// BackendResult is one backend's best kernel for a target.
type BackendResult struct {
	Backend    string `json:"backend"`
	Session    string `json:"session"` // path as given to compare
	Dialect    string `json:"dialect,omitempty"`
	Device     string `json:"device,omitempty"`
	Steps      int    `json:"steps"`
	Evaluated  int    `json:"evaluated"`
	BestNodeID string `json:"best_node_id,omitempty"`
	Judgement
	Error string `json:"error,omitempty"`
}

// hasResult reports whether the row has a session to judge.
func (b BackendResult) hasResult() bool { return b.BestNodeID != "" }

// Compare reads dir's autorun summary, or when there is none, every
// session file in dir and its subdirectories one level down.
func Compare(dir string) (*Comparison, error) {
	c := &Comparison{Dir: dir, From: AutorunFile}
	var rows []BackendResult
	var targets []string
	a, err := LoadAutorun(dir)
	switch {
	case err == nil:
		for _, p := range a.Pairs {
			row := BackendResult{Backend: p.Backend, Session: filepath.Join(dir, p.Session), Error: p.Error}
			judgeSession(&row, p.Status == StatusFailed)
			rows, targets = append(rows, row), append(targets, p.Target)
		}
	case errors.Is(err, fs.ErrNotExist):
		c.From = "scan"
		paths, _ := filepath.Glob(filepath.Join(dir, "*_session.json"))
		nested, _ := filepath.Glob(filepath.Join(dir, "*", "*_session.json"))
		for _, path := range append(paths, nested...) {
			s, err := session.Load(path)
			if err != nil {
				continue // not a session: a scan skips what it cannot read
			}
			row := BackendResult{Backend: s.Metadata.LLMBackend, Session: path}
			judge(&row, s)
			rows, targets = append(rows, row), append(targets, s.Metadata.TargetName)
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("%s holds no %s and no session files", dir, AutorunFile)
		}
	default:
		return nil, err
	}

	byTarget := map[string]*TargetComparison{}
	for i, row := range rows {
		tc := byTarget[targets[i]]
		if tc == nil {
			tc = &TargetComparison{Target: targets[i]}
			byTarget[targets[i]] = tc
		}
		tc.Backends = append(tc.Backends, row)
	}
	for _, tc := range byTarget {
		sort.SliceStable(tc.Backends, func(i, j int) bool {
			a, b := tc.Backends[i], tc.Backends[j]
			if a.hasResult() != b.hasResult() {
				return a.hasResult()
			}
			return a.Speedup > b.Speedup
		})
		tc.Recommendation = tc.Backends[0].Verdict
		c.Targets = append(c.Targets, *tc)
	}
	sort.Slice(c.Targets, func(i, j int) bool { return c.Targets[i].Target < c.Targets[j].Target })
	return c, nil
}

// judgeSession loads a row's session and judges it. A failed pair may have
// no session, or one that stopped part way (which still counts).
func judgeSession(row *BackendResult, failed bool) {
	s, err := session.Load(row.Session)
	if err != nil {
		if !failed || !errors.Is(err, fs.ErrNotExist) {
			row.Error = joinErrors(row.Error, err.Error())
		}
		row.Verdict = Keep
		return
	}
	judge(row, s)
}

func judge(row *BackendResult, s *session.Session) {
	m := s.Metadata
	best := s.TreeData.Best()
	row.Dialect, row.Device, row.Steps, row.Evaluated, row.BestNodeID = string(m.Dialect), m.DeviceChip, m.TotalSteps, m.TotalEvaluated, best.NodeID
	row.Judgement = Judge(best.EvalResult)
}

func joinErrors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// PrintComparison writes the ranking and a recommendation per target.
func PrintComparison(w io.Writer, c *Comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tRANK\tBACKEND\tSPEEDUP\tP10\tWORST SHAPE\tSTEPS\tEVALUATED\tVERDICT")
	for _, tc := range c.Targets {
		rowVar := rowVar(tc.Target)
		for i, b := range tc.Backends {
			if !b.hasResult() {
				fmt.Fprintf(tw, "%s\t%d\t%s\t-\t-\t-\t-\t-\tFAILED\n", tc.Target, i+1, b.Backend)
				continue
			}
			worst := "-"
			if b.WorstRows > 0 {
				worst = fmt.Sprintf("%.3fx %s=%d", b.WorstSpeedup, rowVar, b.WorstRows)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.3fx\t%s\t%s\t%d\t%d\t%s\n", tc.Target, i+1, b.Backend, b.Speedup,
				speedupOrDash(b.P10Speedup), worst, b.Steps, b.Evaluated, b.Verdict)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRecommendations:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, tc := range c.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", tc.Target, tc.Recommendation, advice(tc))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, tc := range c.Targets {
		for _, b := range tc.Backends {
			if b.Error != "" {
				fmt.Fprintf(w, "%s x %s: %s\n", tc.Target, b.Backend, oneLine(b.Error, 200))
			}
		}
	}
	return nil
}

func advice(tc TargetComparison) string {
	b := tc.Backends[0]
	switch {
	case !b.hasResult():
		return "no backend produced a session"
	case tc.Recommendation == Use:
		ext, err := export.Ext(device.Dialect(b.Dialect))
		if err != nil {
			return fmt.Sprintf("%s's %s: %.3fx (%.3fx p10)", b.Backend, b.BestNodeID, b.Speedup, b.P10Speedup)
		}
		return fmt.Sprintf("%s's %s: %.3fx (%.3fx p10); discover export %s -o %s%s",
			b.Backend, b.BestNodeID, b.Speedup, b.P10Speedup, b.Session, tc.Target, ext)
	case tc.Recommendation == Marginal && b.P10Speedup == 0:
		return fmt.Sprintf("%s's %s: %.3fx, without paired timings to confirm it; re-time it here", b.Backend, b.BestNodeID, b.Speedup)
	case tc.Recommendation == Marginal:
		return fmt.Sprintf("%s's %s: %.3fx, not clearly faster; keep the seed or search longer", b.Backend, b.BestNodeID, b.Speedup)
	}
	return "no kernel beat the seed"
}

func speedupOrDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fx", v)
}

// rowVar is the target's row variable, "B" for targets not in the registry.
func rowVar(targetName string) string {
	if t, ok := target.Lookup(targetName); ok {
		return t.RowVar
	}
	return "B"
}
