// Package kernel holds a candidate kernel: its source, launch geometry,
// lineage and the reasoning that produced it. A candidate's identity is the
// hash of its normalized source, so reformatting does not make it new.
package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Spec is the kernel as ZMLX Discover's session files store it, plus the
// dialect and the launch grid expressions.
type Spec struct {
	Name           string     `json:"name"`
	InputNames     []string   `json:"input_names"`
	OutputNames    []string   `json:"output_names"`
	Source         string     `json:"source"`
	Header         string     `json:"header"`
	Threadgroup    [3]int     `json:"threadgroup"`
	TemplateParams [][]string `json:"template_params"`
	// Grid is the total work-items per dimension as expressions over the
	// row variable, the dims and LOCAL; empty means the target's seed rule.
	Grid    []string `json:"grid,omitempty"`
	Dialect string   `json:"dialect,omitempty"`
}

// Candidate is one kernel proposed by a generator.
type Candidate struct {
	Spec         Spec    `json:"spec"`
	ParentID     *string `json:"parent_id"`
	Generation   int     `json:"generation"`
	LLMReasoning string  `json:"llm_reasoning"`
}

// ID is "gen<generation>_<first 12 hex of the normalized source hash>", as
// in ZMLX.
func (c *Candidate) ID() string {
	return fmt.Sprintf("gen%d_%s", c.Generation, SourceHash(c.Spec.Source)[:12])
}

var (
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	lineComment  = regexp.MustCompile(`//[^\n]*`)
	whitespace   = regexp.MustCompile(`\s+`)
)

// Normalize strips comments and collapses whitespace, so that two sources
// that differ only there are the same kernel.
func Normalize(source string) string {
	s := blockComment.ReplaceAllString(source, " ")
	s = lineComment.ReplaceAllString(s, " ")
	return strings.TrimSpace(whitespace.ReplaceAllString(s, " "))
}

// SourceHash is the sha256 of the normalized source, in hex.
func SourceHash(source string) string {
	sum := sha256.Sum256([]byte(Normalize(source)))
	return hex.EncodeToString(sum[:])
}
