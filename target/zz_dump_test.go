package target

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
	"discover/kernel"
)

// Temporary: dumps cases for the external OpenCL/CUDA harnesses.
func TestZZDump(t *testing.T) {
	dir := os.Getenv("DUMP_DIR")
	if dir == "" {
		t.Skip()
	}
	n := 0
	for _, tg := range All() {
		rowsList := append([]int{}, tg.Shapes...)
		if tg.RowVar == "B" {
			rowsList = append(rowsList, 3, 37)
		} else {
			rowsList = append(rowsList, 5)
		}
		if os.Getenv("DUMP_SMALL") != "" && tg.RowVar == "B" {
			rowsList = []int{1, 3, 16, 37, 256}
		}
		for _, rows := range rowsList {
			for di, dist := range Distributions {
				n++
				cd := filepath.Join(dir, fmt.Sprintf("case%04d", n))
				os.MkdirAll(cd, 0o755)
				in := tg.Generate(rows, int64(100+di), dist)
				ref := tg.Reference(rows, in)
				var meta strings.Builder
				var defs []string
				for _, d := range tg.Defines() {
					defs = append(defs, "-D"+d.Name+"="+d.Value)
				}
				s := tg.Seeds[device.OpenCL]
				vars := tg.Vars(rows)
				vars["LOCAL"] = s.Local[0]
				g, err := kernel.EvalExpr(s.Global[0], vars)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&meta, "%s %s %s %d %d %d %g %g %d %d\n", tg.Name, tg.Entry, dist, rows, s.Local[0], g, tg.Tolerance.Atol, tg.Tolerance.Rtol, len(in), len(ref))
				fmt.Fprintf(&meta, "%s\n", strings.Join(defs, " "))
				for i := range in {
					fmt.Fprintf(&meta, "%d\n", len(in[i]))
					b := make([]byte, 4*len(in[i]))
					for j, v := range in[i] {
						binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
					}
					os.WriteFile(filepath.Join(cd, fmt.Sprintf("in%d.bin", i)), b, 0o644)
				}
				for i, tn := range tg.Outputs {
					fmt.Fprintf(&meta, "%d %d\n", len(ref[i]), map[bool]int{true: 1}[tn.DType == Uint32])
					b := make([]byte, 8*len(ref[i]))
					for j, v := range ref[i] {
						binary.LittleEndian.PutUint64(b[8*j:], math.Float64bits(v))
					}
					os.WriteFile(filepath.Join(cd, fmt.Sprintf("ref%d.bin", i)), b, 0o644)
				}
				os.WriteFile(filepath.Join(cd, "meta.txt"), []byte(meta.String()), 0o644)
				os.WriteFile(filepath.Join(cd, "src.cl"), []byte(tg.Seeds[device.OpenCL].Source), 0o644)
				os.WriteFile(filepath.Join(cd, "src.cu"), []byte(tg.Seeds[device.CUDA].Source), 0o644)
			}
		}
	}
}
