// Package export turns a session's kernel into files that live without this
// project: the source with a provenance header, and a JSON manifest that
// says how to compile and launch it (arguments, defines, work-group, grid).
package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"discover/device"
	"discover/kernel"
	"discover/search"
	"discover/session"
	"discover/target"
)

// Format names the manifest schema.
const Format = "discover-kernel/1"

// RowCountArg is the name of the scalar argument every target's kernel
// takes last: the number of rows (the value of the row variable).
const RowCountArg = "n_rows"

// GridRule is how a launch's global size follows from its expressions.
const GridRule = "evaluate each global expression with integer arithmetic (/ truncates) over the row variable, " +
	"the dims and LOCAL (local[0]); round each dimension up to a multiple of local in that dimension. " +
	"OpenCL: that is the global work size. CUDA: launch global/local blocks of local threads."

// Layout is how buffers hold their tensors.
const Layout = "each buffer is a contiguous row-major array of its dtype (4-byte elements), shaped as its shape says; " +
	"the scalar is passed by value"

// ToleranceRule is how outputs were checked against the float64 reference.
const ToleranceRule = "|out - ref| <= atol * max|ref| + rtol * |ref| elementwise, per output (max over that output); " +
	"NaN and Inf never pass; integer outputs must match exactly"

// Manifest says how to compile and launch an exported kernel, for a program
// that has only the source file and this manifest.
type Manifest struct {
	Format      string `json:"format"`
	Target      string `json:"target"`
	Description string `json:"description"`
	// Math is the operator's definition, enough to write a reference.
	Math       string           `json:"math"`
	Model      string           `json:"model,omitempty"`
	Dialect    device.Dialect   `json:"dialect"`
	SourceFile string           `json:"source_file,omitempty"` // next to the manifest
	Entry      string           `json:"entry"`
	DType      target.DType     `json:"dtype"`
	RowVar     string           `json:"row_var"`
	Dims       []target.Dim     `json:"dims"`
	Defines    []device.Define  `json:"defines"`
	Flags      []string         `json:"compiler_flags"`
	Args       []Arg            `json:"args"`
	Layout     string           `json:"layout"`
	Launch     Launch           `json:"launch"`
	Tolerance  target.Tolerance `json:"tolerance"`
	// ToleranceRule says how Tolerance applies.
	ToleranceRule string     `json:"tolerance_rule"`
	Shapes        []Shape    `json:"shapes"`
	Speedup       float64    `json:"speedup"` // geometric mean over Shapes
	Provenance    Provenance `json:"provenance"`
}

// Arg is one kernel argument, in order.
type Arg struct {
	Name  string       `json:"name"`
	Kind  string       `json:"kind"` // "buffer" or "scalar"
	DType target.DType `json:"dtype"`
	// Role is "input" or "output" for buffers, "row_count" for the scalar.
	Role string `json:"role"`
	// Shape is a buffer's row-major shape in terms of the row variable and
	// the dims (or integer literals).
	Shape []string `json:"shape,omitempty"`
	// Value is a scalar's value as an expression, e.g. "B".
	Value string `json:"value,omitempty"`
}

// Launch is the launch geometry as a function of the row variable.
type Launch struct {
	Local [3]int `json:"local"`
	// Global is the total work-items per dimension (missing ones are 1).
	Global []string `json:"global"`
	// Vars are the values of the names the expressions use besides the
	// row variable: the dims and LOCAL.
	Vars map[string]int `json:"variables"`
	Rule string         `json:"rule"`
}

// Shape is the launch and the measurement at one row count.
type Shape struct {
	Rows         int     `json:"rows"`
	Global       [3]int  `json:"global"` // after rounding up
	MedianUs     float64 `json:"median_us,omitempty"`
	P10Us        float64 `json:"p10_us,omitempty"`
	P90Us        float64 `json:"p90_us,omitempty"`
	SeedMedianUs float64 `json:"seed_median_us,omitempty"`
	Speedup      float64 `json:"speedup,omitempty"`
	GBs          float64 `json:"gb_per_s,omitempty"`
	PctCopyBW    float64 `json:"pct_copy_bw,omitempty"`
}

// Provenance says where the kernel came from.
type Provenance struct {
	SessionID  string `json:"session_id"`
	NodeID     string `json:"node_id"`
	Backend    string `json:"backend"`
	Device     string `json:"device"`
	Driver     string `json:"driver,omitempty"`
	Reasoning  string `json:"reasoning,omitempty"`
	ExportedAt string `json:"exported_at"`
}

// ErrNotExportable marks a kernel this tool cannot export (a ZMLX Metal
// session, a failed node).
var ErrNotExportable = errors.New("cannot export")

// Ext is the source file extension of a dialect.
func Ext(d device.Dialect) (string, error) {
	switch d {
	case device.OpenCL:
		return ".cl", nil
	case device.CUDA:
		return ".cu", nil
	case "":
		return "", fmt.Errorf("%w: the kernels are Metal (a ZMLX session); only opencl and cuda kernels can be exported", ErrNotExportable)
	}
	return "", fmt.Errorf("%w: kernels in dialect %q; only opencl and cuda kernels can be exported", ErrNotExportable, d)
}

// dtypeOf is the element type a kernel is keyed by: its first input's (the
// activations; an index output such as top-k's does not change it).
func dtypeOf(t *target.Target) target.DType { return t.Inputs[0].DType }

// dialectOf is the kernel language of a session's node.
func dialectOf(s *session.Session, n *search.Node) device.Dialect {
	if d := n.Candidate.Spec.Dialect; d != "" {
		return device.Dialect(d)
	}
	return s.Metadata.Dialect
}

// NewManifest describes node n of session s, a kernel of target t.
func NewManifest(s *session.Session, t *target.Target, n *search.Node, now time.Time) (*Manifest, error) {
	if s.Metadata.TargetName != t.Name {
		return nil, fmt.Errorf("session is of target %q, not %q", s.Metadata.TargetName, t.Name)
	}
	if !n.Evaluated() || !n.EvalResult.Correct {
		return nil, fmt.Errorf("%w: node %s has no correct result", ErrNotExportable, n.NodeID)
	}
	dialect := dialectOf(s, n)
	if _, err := Ext(dialect); err != nil {
		return nil, err
	}
	seed, ok := t.Seeds[dialect]
	if !ok {
		return nil, fmt.Errorf("%w: target %s has no %s launch rule", ErrNotExportable, t.Name, dialect)
	}
	spec := n.Candidate.Spec
	m := &Manifest{
		Format: Format, Target: t.Name, Description: t.Description, Math: t.Math, Model: t.Model,
		Dialect: dialect, Entry: t.Entry, DType: dtypeOf(t), RowVar: t.RowVar, Dims: t.Dims,
		Defines: t.Defines(), Flags: flags(dialect), Layout: Layout, Tolerance: t.Tolerance, ToleranceRule: ToleranceRule,
		Speedup: n.EvalResult.Speedup,
		Launch:  launch(spec, seed, t),
		Provenance: Provenance{
			SessionID: s.Metadata.SessionID, NodeID: n.NodeID, Backend: s.Metadata.LLMBackend,
			Device: s.Metadata.DeviceChip, Reasoning: n.Candidate.LLMReasoning, ExportedAt: now.UTC().Format(time.RFC3339),
		},
	}
	if d := s.Metadata.Device; d != nil {
		m.Provenance.Driver = strings.TrimSpace(d.Platform + " " + d.DriverVersion)
	}
	for _, tn := range t.Inputs {
		m.Args = append(m.Args, Arg{Name: tn.Name, Kind: "buffer", DType: tn.DType, Role: "input", Shape: tn.Shape})
	}
	for _, tn := range t.Outputs {
		m.Args = append(m.Args, Arg{Name: tn.Name, Kind: "buffer", DType: tn.DType, Role: "output", Shape: tn.Shape})
	}
	m.Args = append(m.Args, Arg{Name: RowCountArg, Kind: "scalar", DType: target.Uint32, Role: "row_count", Value: t.RowVar})

	measured := map[int]Shape{}
	for _, sr := range n.EvalResult.Shapes {
		measured[sr.Rows] = Shape{Rows: sr.Rows, MedianUs: sr.MedianUs, P10Us: sr.P10Us, P90Us: sr.P90Us,
			SeedMedianUs: sr.SeedMedianUs, Speedup: sr.Speedup, GBs: sr.GBs, PctCopyBW: sr.PctCopyBW}
	}
	for _, rows := range t.Shapes {
		sh := measured[rows]
		sh.Rows = rows
		g, err := m.Launch.GlobalAt(t.RowVar, rows)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.NodeID, err)
		}
		sh.Global = g
		m.Shapes = append(m.Shapes, sh)
	}
	return m, nil
}

// launch resolves a spec's geometry as the evaluator does: THREADGROUP (or
// the seed's) with zeros as 1, GRID (or the seed's rule).
func launch(spec kernel.Spec, seed target.Seed, t *target.Target) Launch {
	local := spec.Threadgroup
	if local == [3]int{} {
		local = seed.Local
	}
	for i := range local {
		local[i] = max(local[i], 1)
	}
	grid := spec.Grid
	if len(grid) == 0 {
		grid = seed.Global
	}
	vars := map[string]int{"LOCAL": local[0]}
	for _, d := range t.Dims {
		vars[d.Name] = d.Value
	}
	return Launch{Local: local, Global: grid, Vars: vars, Rule: GridRule}
}

// SeedLaunch is the launch rule of t's seed kernel in dialect d.
func SeedLaunch(t *target.Target, d device.Dialect) (Launch, error) {
	seed, ok := t.Seeds[d]
	if !ok {
		return Launch{}, fmt.Errorf("target %s has no %s seed", t.Name, d)
	}
	return launch(kernel.Spec{}, seed, t), nil
}

// GlobalAt is the global size at a row count, rounded up to whole
// work-groups.
func (l Launch) GlobalAt(rowVar string, rows int) ([3]int, error) {
	vars := map[string]int{rowVar: rows}
	for k, v := range l.Vars {
		vars[k] = v
	}
	return kernel.GlobalSize(l.Global, vars, l.Local)
}

// flags are the compiler options the evaluator used besides the defines.
func flags(d device.Dialect) []string {
	if d == device.CUDA {
		return []string{"--std=c++17", "-arch=<your GPU, e.g. sm_90>"}
	}
	return []string{"-cl-std=CL1.2"}
}

// header is the provenance comment put before the exported source, followed
// by defaults for the dims so the file compiles on its own.
func header(m *Manifest, manifestFile string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, "// "+format+"\n", args...) }
	line("%s: %s", m.Target, m.Description)
	line("Exported by discover on %s from session %s (node %s, generator %s).", m.Provenance.ExportedAt, m.Provenance.SessionID, m.Provenance.NodeID, m.Provenance.Backend)
	line("Tuned on: %s (%s %s).", m.Provenance.Device, m.Dialect, m.Provenance.Driver)
	var defs []string
	for _, d := range m.Defines {
		defs = append(defs, "-D"+d.Name+"="+d.Value)
	}
	line("Dims: %s; dtype %s. Compile with: %s %s", target.JoinDims(m.Dims, " "), m.DType, strings.Join(m.Flags, " "), strings.Join(defs, " "))
	var args []string
	for _, a := range m.Args {
		args = append(args, a.Name)
	}
	line("Entry %s(%s).", m.Entry, strings.Join(args, ", "))
	line("Launch: local %dx%dx%d, global %s (rounded up to a multiple of local).", m.Launch.Local[0], m.Launch.Local[1], m.Launch.Local[2], strings.Join(m.Launch.Global, ", "))
	line("Speedup over the seed kernel (medians, timed interleaved), geometric mean %.3fx:", m.Speedup)
	for _, sh := range m.Shapes {
		if sh.Speedup > 0 {
			line("  %s=%-6d %.3fx  (%.2f us vs %.2f us)", m.RowVar, sh.Rows, sh.Speedup, sh.MedianUs, sh.SeedMedianUs)
		}
	}
	if manifestFile != "" {
		line("Manifest (arguments, shapes, launch rule): %s", manifestFile)
	}
	b.WriteString("\n")
	for _, d := range m.Defines {
		fmt.Fprintf(&b, "#ifndef %s\n#define %s %s\n#endif\n", d.Name, d.Name, d.Value)
	}
	return b.String()
}

// Write exports node n of session s (of target t) to path, whose extension
// must match the kernel's dialect, and its manifest to path+".json".
func Write(path string, s *session.Session, t *target.Target, n *search.Node, now time.Time) (*Manifest, error) {
	m, err := NewManifest(s, t, n, now)
	if err != nil {
		return nil, err
	}
	if err := checkExt(path, m.Dialect); err != nil {
		return nil, err
	}
	m.SourceFile = filepath.Base(path)
	source := header(m, filepath.Base(path)+".json") + "\n" + n.Candidate.Spec.Source
	if !strings.HasSuffix(source, "\n") {
		source += "\n"
	}
	data, err := marshal(m)
	if err != nil {
		return nil, err
	}
	if err := session.WriteFileAtomic(path, []byte(source)); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := session.WriteFileAtomic(path+".json", data); err != nil {
		return nil, fmt.Errorf("write %s.json: %w", path, err)
	}
	return m, nil
}

// ErrExtension marks an output file name whose extension does not match
// the kernel's dialect.
var ErrExtension = errors.New("wrong file extension")

// checkExt refuses a file name whose extension is not the dialect's.
// Read loads an exported kernel: the source file and the manifest beside
// it (FILE.json), as a spec the evaluator can run.
func Read(path string) (*Manifest, kernel.Spec, error) {
	data, err := os.ReadFile(path + ".json")
	if err != nil {
		return nil, kernel.Spec{}, fmt.Errorf("read the manifest of %s: %w", path, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Format != Format {
		return nil, kernel.Spec{}, fmt.Errorf("%s.json is not a %s manifest", path, Format)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, kernel.Spec{}, err
	}
	spec := kernel.Spec{Name: m.Entry, Source: string(src), Threadgroup: m.Launch.Local, Grid: m.Launch.Global,
		Dialect: string(m.Dialect), TemplateParams: [][]string{}}
	return &m, spec, nil
}

func checkExt(path string, d device.Dialect) error {
	want, err := Ext(d)
	if err != nil {
		return err
	}
	if got := filepath.Ext(path); got != want {
		return fmt.Errorf("%w: the kernel is %s, so the file must end in %s, not %q", ErrExtension, d, want, got)
	}
	return nil
}

func marshal(m *Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(data, '\n'), nil
}
