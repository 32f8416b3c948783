package export_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"discover/device"
	"discover/export"
	"discover/internal/devtest"
	"discover/internal/sessiontest"
	"discover/kernel"
	"discover/target"
)

var exportedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// manifest is what a program outside this project reads from FILE.json:
// decoded here into its own types, so the test relies on the file alone.
type manifest struct {
	Format     string `json:"format"`
	SourceFile string `json:"source_file"`
	Entry      string `json:"entry"`
	RowVar     string `json:"row_var"`
	Dims       []struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	} `json:"dims"`
	Defines []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"defines"`
	Args []struct {
		Name  string   `json:"name"`
		Kind  string   `json:"kind"`
		DType string   `json:"dtype"`
		Role  string   `json:"role"`
		Shape []string `json:"shape"`
		Value string   `json:"value"`
	} `json:"args"`
	Launch struct {
		Local  [3]int         `json:"local"`
		Global []string       `json:"global"`
		Vars   map[string]int `json:"variables"`
	} `json:"launch"`
	Shapes []struct {
		Rows   int    `json:"rows"`
		Global [3]int `json:"global"`
	} `json:"shapes"`
}

// cpuOperators compute each target family in float64, written here rather
// than taken from the registry: in[name] are the inputs, the result the
// single output.
var cpuOperators = map[string]func(rows, d int, in map[string][]float32) []float64{
	"rmsnorm": func(rows, d int, in map[string][]float32) []float64 {
		x, w := in["x"], in["weight"]
		out := make([]float64, rows*d)
		for b := range rows {
			ss := 0.0
			for j := range d {
				ss += float64(x[b*d+j]) * float64(x[b*d+j])
			}
			inv := 1 / math.Sqrt(ss/float64(d)+1e-6)
			for j := range d {
				out[b*d+j] = float64(x[b*d+j]) * inv * float64(w[j])
			}
		}
		return out
	},
	"fused_swiglu": func(rows, d int, in map[string][]float32) []float64 {
		g, u := in["gate"], in["up"]
		out := make([]float64, rows*d)
		for i := range out {
			out[i] = float64(g[i]) / (1 + math.Exp(-float64(g[i]))) * float64(u[i])
		}
		return out
	},
}

// TestExportedKernelRunsFromItsFiles exports a kernel whose work-group
// differs from the seed's, then compiles and launches it on OpenCL using
// only the .cl file and its manifest, and checks it against the CPU.
func TestExportedKernelRunsFromItsFiles(t *testing.T) {
	dev := devtest.OpenCL(t)
	for _, tc := range []struct {
		target string
		local  int
	}{
		{"rmsnorm", 64},
		{"fused_swiglu", 128},
	} {
		t.Run(tc.target, func(t *testing.T) {
			tg, _ := target.Lookup(tc.target)
			s, _ := sessiontest.New(tg, device.OpenCL,
				sessiontest.Node{Parent: -1, Local: tc.local, Reasoning: "smaller work-group", Speedups: []float64{1.1, 1.2, 1.3, 1.4}})
			path := filepath.Join(t.TempDir(), tc.target+".cl")
			if _, err := export.Write(path, s, tg, s.TreeData.Best(), exportedAt); err != nil {
				t.Fatal(err)
			}
			runFromFiles(t, dev, path, cpuOperators[tc.target])
		})
	}
}

func runFromFiles(t *testing.T, dev device.Device, path string, cpu func(rows, d int, in map[string][]float32) []float64) {
	data, err := os.ReadFile(path + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile(filepath.Join(filepath.Dir(path), m.SourceFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Launch.Local[0] == 256 {
		t.Fatalf("manifest has the seed's work-group, not the exported kernel's: %+v", m.Launch)
	}
	var defines []device.Define
	for _, d := range m.Defines {
		defines = append(defines, device.Define{Name: d.Name, Value: d.Value})
	}
	k, err := dev.Compile(t.Context(), string(source), m.Entry, defines)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()

	rng := rand.New(rand.NewPCG(1, 2))
	for _, rows := range []int{1, 5, 33} {
		vars := map[string]int{m.RowVar: rows}
		for _, d := range m.Dims {
			vars[d.Name] = d.Value
		}
		inputs := map[string][]float32{}
		var args []device.Arg
		var out device.Buffer
		outLen := 0
		for _, a := range m.Args {
			if a.Kind == "scalar" {
				args = append(args, device.Uint32Arg(uint32(vars[a.Value])))
				continue
			}
			if a.DType != "float32" {
				t.Fatalf("arg %s: dtype %s", a.Name, a.DType)
			}
			n := elements(t, a.Shape, vars)
			buf, err := dev.Alloc(4 * n)
			if err != nil {
				t.Fatal(err)
			}
			defer buf.Release()
			if a.Role == "input" {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				inputs[a.Name] = v
				if err := dev.Write(buf, bytesOf(v)); err != nil {
					t.Fatal(err)
				}
			} else {
				out, outLen = buf, n
			}
			args = append(args, device.BufferArg(buf))
		}
		launch := device.Launch{Local: m.Launch.Local, Global: [3]int{1, 1, 1}}
		gvars := map[string]int{m.RowVar: rows}
		for name, v := range m.Launch.Vars {
			gvars[name] = v
		}
		for i, expr := range m.Launch.Global {
			v, err := kernel.EvalExpr(expr, gvars)
			if err != nil {
				t.Fatal(err)
			}
			launch.Global[i] = (v + launch.Local[i] - 1) / launch.Local[i] * launch.Local[i]
		}
		if err := k.Run(args, launch); err != nil {
			t.Fatalf("rows %d, launch %+v: %v", rows, launch, err)
		}
		got := make([]byte, 4*outLen)
		if err := dev.Read(out, got); err != nil {
			t.Fatal(err)
		}
		want := cpu(rows, vars["D"], inputs)
		for i, w := range want {
			g := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:])))
			if math.Abs(g-w) > 1e-4+1e-4*math.Abs(w) {
				t.Fatalf("rows %d: out[%d] = %g, want %g", rows, i, g, w)
			}
		}
	}
	for _, sh := range m.Shapes {
		if sh.Global[0]%m.Launch.Local[0] != 0 {
			t.Errorf("manifest shape %d: global %v is not a multiple of local %v", sh.Rows, sh.Global, m.Launch.Local)
		}
	}
}

func elements(t *testing.T, shape []string, vars map[string]int) int {
	n := 1
	for _, s := range shape {
		v, ok := vars[s]
		if !ok {
			lit, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("shape symbol %q", s)
			}
			v = lit
		}
		n *= v
	}
	return n
}

func bytesOf(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestManifestAndHeader(t *testing.T) {
	tg, _ := target.Lookup("rmsnorm")
	s, nodes := sessiontest.New(tg, device.OpenCL,
		sessiontest.Node{Parent: -1, Local: 128, Reasoning: "half the work-group", Speedups: []float64{1.0, 1.1, 1.2, 1.5}})
	path := filepath.Join(t.TempDir(), "rmsnorm.cl")
	m, err := export.Write(path, s, tg, s.TreeData.Best(), exportedAt)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(path)
	for _, want := range []string{
		"// rmsnorm: RMSNorm", "session " + s.Metadata.SessionID, "node " + nodes[0].NodeID, "test device",
		"D=4096", "dtype float32", "-DD=4096", "B=4096   1.500x", "2026-03-01T12:00:00Z",
		"#ifndef D\n#define D 4096\n#endif", "rmsnorm.cl.json", nodes[0].Candidate.Spec.Source,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("exported source lacks %q:\n%s", want, src)
		}
	}
	wantArgs := []string{"x:buffer:input:B,D", "weight:buffer:input:D", "out:buffer:output:B,D", "n_rows:scalar:row_count:"}
	for i, a := range m.Args {
		if got := a.Name + ":" + a.Kind + ":" + a.Role + ":" + strings.Join(a.Shape, ","); got != wantArgs[i] {
			t.Errorf("arg %d = %s, want %s", i, got, wantArgs[i])
		}
	}
	if m.Launch.Local != [3]int{128, 1, 1} || strings.Join(m.Launch.Global, ",") != "B*LOCAL" || m.Launch.Vars["LOCAL"] != 128 {
		t.Errorf("launch = %+v", m.Launch)
	}
	if last := m.Shapes[len(m.Shapes)-1]; last.Rows != 4096 || last.Global != [3]int{4096 * 128, 1, 1} || last.Speedup != 1.5 {
		t.Errorf("last shape = %+v", last)
	}
}

func TestWriteRefuses(t *testing.T) {
	tg, _ := target.Lookup("rmsnorm")
	s, _ := sessiontest.New(tg, device.OpenCL)
	dir := t.TempDir()
	if _, err := export.Write(filepath.Join(dir, "k.cu"), s, tg, s.TreeData.Best(), exportedAt); !errors.Is(err, export.ErrExtension) || !strings.Contains(err.Error(), ".cl") {
		t.Errorf("OpenCL kernel to .cu: %v", err)
	}
	s.Metadata.Dialect, s.TreeData.Root.Candidate.Spec.Dialect = "", "" // a ZMLX Metal session
	if _, err := export.Write(filepath.Join(dir, "k.metal"), s, tg, s.TreeData.Best(), exportedAt); !errors.Is(err, export.ErrNotExportable) {
		t.Errorf("Metal session: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused exports left files: %v", entries)
	}
}
