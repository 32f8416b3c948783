package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"discover/session"
)

// AutorunFile is the name of autorun's summary in its session directory.
const AutorunFile = "autorun_summary.json"

// Pair statuses in an autorun summary.
const (
	StatusRan         = "ran"         // a new session
	StatusResumed     = "resumed"     // a session with fewer steps, continued
	StatusSkipped     = "skipped"     // already had the steps asked for
	StatusFailed      = "failed"      // see Error; the other pairs went on
	StatusInterrupted = "interrupted" // Ctrl-C; the session was saved
)

// Autorun is what an autorun did, pair by pair.
type Autorun struct {
	Dir               string        `json:"dir"`
	StartedAt         string        `json:"started_at"`
	FinishedAt        string        `json:"finished_at,omitempty"`
	Steps             int           `json:"steps"`
	CandidatesPerStep int           `json:"candidates_per_step"`
	Device            string        `json:"device"`
	Pairs             []AutorunPair `json:"pairs"`
}

// AutorunPair is one target x backend search.
type AutorunPair struct {
	Target  string `json:"target"`
	Backend string `json:"backend"`
	// Session is the session file, relative to the autorun directory (so the
	// directory can be moved or copied from another machine).
	Session     string  `json:"session"`
	Status      string  `json:"status"`
	Error       string  `json:"error,omitempty"`
	Steps       int     `json:"steps"`
	Evaluated   int     `json:"evaluated"`
	BestNodeID  string  `json:"best_node_id,omitempty"`
	BestSpeedup float64 `json:"best_speedup,omitempty"`
	Seconds     float64 `json:"seconds"`
}

// Record fills a pair's numbers from its session.
func (p *AutorunPair) Record(s *session.Session) {
	m := s.Metadata
	p.Steps, p.Evaluated, p.BestNodeID, p.BestSpeedup = m.TotalSteps, m.TotalEvaluated, m.BestNodeID, m.BestSpeedup
}

// PairDir is the directory of a pair's session inside an autorun directory.
func PairDir(dir, targetName, backend string) string {
	return filepath.Join(dir, targetName+"_"+backend)
}

// Save writes the summary atomically to dir/AutorunFile.
func (a *Autorun) Save() error {
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("encode autorun summary: %w", err)
	}
	path := filepath.Join(a.Dir, AutorunFile)
	if err := session.WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadAutorun reads dir/AutorunFile.
func LoadAutorun(dir string) (*Autorun, error) {
	path := filepath.Join(dir, AutorunFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Autorun
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	a.Dir = dir
	return &a, nil
}

// PrintAutorun writes the pairs as a table.
func PrintAutorun(w io.Writer, a *Autorun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tBACKEND\tSTATUS\tSTEPS\tEVALUATED\tBEST\tNODE\tTIME\tSESSION")
	for _, p := range a.Pairs {
		best := "-"
		if p.BestSpeedup > 0 {
			best = fmt.Sprintf("%.3fx", p.BestSpeedup)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%.0fs\t%s\n", p.Target, p.Backend, p.Status, p.Steps, p.Evaluated,
			best, orDash(p.BestNodeID), p.Seconds, p.Session)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range a.Pairs {
		if p.Error != "" {
			fmt.Fprintf(w, "%s x %s: %s\n", p.Target, p.Backend, oneLine(p.Error, 200))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
