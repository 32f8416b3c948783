// Package session persists a search: a JSON file in ZMLX Discover's schema
// "1.0" (so ZMLX's files can be read), written atomically after every step.
package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"discover/device"
	"discover/eval"
	"discover/llm"
	"discover/search"
)

// SchemaVersion is ZMLX Discover's session schema.
const SchemaVersion = "1.0"

// Metadata keeps ZMLX's fields with their meaning; the rest are additions.
type Metadata struct {
	SessionID       string  `json:"session_id"`
	TargetName      string  `json:"target_name"`
	LLMBackend      string  `json:"llm_backend"`
	DeviceChip      string  `json:"device_chip"`
	DeviceMemoryGB  int     `json:"device_memory_gb"`
	OSVersion       string  `json:"os_version"`
	StartedAt       string  `json:"started_at"`
	UpdatedAt       string  `json:"updated_at"`
	TotalSteps      int     `json:"total_steps"`
	TotalCandidates int     `json:"total_candidates"`
	TotalEvaluated  int     `json:"total_evaluated"`
	BestReward      float64 `json:"best_reward"`
	BestSpeedup     float64 `json:"best_speedup"`
	BestSource      string  `json:"best_source"`
	BaselineUs      float64 `json:"baseline_us"`

	Dialect      device.Dialect `json:"dialect,omitempty"`
	Device       *device.Info   `json:"device,omitempty"`
	BestNodeID   string         `json:"best_node_id,omitempty"`
	Model        string         `json:"model,omitempty"`
	InputTokens  int            `json:"input_tokens,omitempty"`
	OutputTokens int            `json:"output_tokens,omitempty"`
	CostUSD      float64        `json:"cost_usd,omitempty"`
	StopReason   string         `json:"stop_reason,omitempty"`
}

// EvalRecord is one evaluation, in the order they happened.
type EvalRecord struct {
	NodeID      string      `json:"node_id"`
	Step        int         `json:"step"`
	Correct     bool        `json:"correct"`
	Reward      float64     `json:"reward"`
	Speedup     float64     `json:"speedup"`
	Failure     eval.Reason `json:"failure_reason,omitempty"`
	EvalSeconds float64     `json:"eval_seconds"`
}

// StepRecord is one search step: the parent chosen and what the generator
// returned.
type StepRecord struct {
	Step      int       `json:"step"`
	ParentID  string    `json:"parent_id"`
	Usage     llm.Usage `json:"usage"`
	Variants  int       `json:"variants"`
	Added     []string  `json:"added,omitempty"`      // new node ids
	Duplicate int       `json:"duplicates,omitempty"` // variants already in the tree
	Skipped   int       `json:"skipped,omitempty"`    // over the per-step cap
	Malformed int       `json:"malformed,omitempty"`
	Error     string    `json:"error,omitempty"`
	Seconds   float64   `json:"seconds"`
}

// Session is the whole file.
type Session struct {
	SchemaVersion    string            `json:"schema_version"`
	Metadata         Metadata          `json:"metadata"`
	TreeData         *search.Tree      `json:"tree_data"`
	EvalHistory      []EvalRecord      `json:"eval_history"`
	CandidateSources map[string]string `json:"candidate_sources"`
	Steps            []StepRecord      `json:"steps,omitempty"`
}

// New starts a session for a target on a device.
func New(targetName, backend string, info device.Info, tree *search.Tree) *Session {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	now := time.Now().Format(time.RFC3339)
	return &Session{
		SchemaVersion: SchemaVersion,
		Metadata: Metadata{
			SessionID: hex.EncodeToString(id), TargetName: targetName, LLMBackend: backend,
			DeviceChip: info.Name, DeviceMemoryGB: int(info.MemoryBytes >> 30),
			OSVersion: runtime.GOOS + "/" + runtime.GOARCH, StartedAt: now, UpdatedAt: now,
			Dialect: info.API, Device: &info,
		},
		TreeData:         tree,
		EvalHistory:      []EvalRecord{},
		CandidateSources: map[string]string{},
	}
}

// Path is where a target's session lives in a session directory.
func Path(dir, targetName string) string {
	return filepath.Join(dir, targetName+"_session.json")
}

// Refresh recomputes the summary fields from the tree.
func (s *Session) Refresh() {
	m := &s.Metadata
	m.TotalEvaluated = 0
	for _, n := range s.TreeData.Nodes() {
		if n.Evaluated() {
			m.TotalEvaluated++
			s.CandidateSources[n.NodeID] = n.Candidate.Spec.Source
		}
	}
	best := s.TreeData.Best()
	m.BestNodeID, m.BestSource = best.NodeID, best.Candidate.Spec.Source
	if best.Evaluated() {
		m.BestReward, m.BestSpeedup = best.EvalResult.Reward, best.EvalResult.Speedup
	}
	m.InputTokens, m.OutputTokens, m.CostUSD = 0, 0, 0
	for _, st := range s.Steps {
		if st.Usage.Model != "" {
			m.Model = st.Usage.Model
		}
		m.InputTokens += st.Usage.InputTokens
		m.OutputTokens += st.Usage.OutputTokens
		if st.Usage.CostUSD != nil {
			m.CostUSD += *st.Usage.CostUSD
		}
	}
}

// Save writes the session atomically: a temp file in the same directory,
// fsync, rename, fsync of the directory. A crash at any moment leaves the
// previous or the new complete file.
func (s *Session) Save(path string) error {
	s.Metadata.UpdatedAt = time.Now().Format(time.RFC3339)
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic replaces path with data so that readers see the old or
// the new content, never a mix, even across a crash.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// ErrNotSession marks a file that is not a session this tool can read.
var ErrNotSession = errors.New("not a discover session file")

// Load reads a session file, this tool's or ZMLX Discover's.
func Load(path string) (*Session, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Session
	// ZMLX writes Python's Infinity/NaN, which JSON does not have.
	if err := json.Unmarshal(pythonNonFinite(data), &s); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrNotSession, err)
	}
	if s.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: %w: schema_version %q, want %q", path, ErrNotSession, s.SchemaVersion, SchemaVersion)
	}
	if s.Metadata.TargetName == "" || s.TreeData == nil {
		return nil, fmt.Errorf("%s: %w: no target name or no tree", path, ErrNotSession)
	}
	if err := s.TreeData.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrNotSession, err)
	}
	if s.CandidateSources == nil {
		s.CandidateSources = map[string]string{}
	}
	return &s, nil
}

// pythonNonFinite replaces the bare tokens Infinity, -Infinity and NaN
// outside strings with null.
func pythonNonFinite(data []byte) []byte {
	if !bytes.Contains(data, []byte("Infinity")) && !bytes.Contains(data, []byte("NaN")) {
		return data
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		replaced := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString("null")
				i += len(tok) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			if c == '"' {
				inString = true
			}
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}
