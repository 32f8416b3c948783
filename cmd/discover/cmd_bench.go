package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"discover/eval"
	"discover/export"
	"discover/kernel"
	"discover/search"
	"discover/session"
	"discover/target"
)

// benchRow is one kernel at one shape.
type benchRow struct {
	Target  string `json:"target"`
	Kernel  string `json:"kernel"` // "seed" or the node id
	Device  string `json:"device"`
	Dialect string `json:"dialect"`
	Source  string `json:"from,omitempty"`
	Correct bool   `json:"correct"`
	Failure string `json:"failure,omitempty"`
	eval.ShapeResult
}

func newBenchCommand() *cobra.Command {
	var (
		targets    []string
		deviceName string
		timeout    time.Duration
		asJSON     bool
		perShape   bool
	)
	cmd := &cobra.Command{
		Use:   "bench [SESSION | EXPORTED.cl | EXPORTED.cu ...]",
		Short: "Time the seed and the best kernel of sessions (or exported kernels) on this device",
		Long: `Time the best kernel of each session, or each exported kernel (with its FILE.json
manifest beside it), against its target's seed on the current device, with the evaluator's full checks, and print per shape: median us,
p10/p90, speedup vs the seed, GB/s and % of the measured copy bandwidth.
With --per-shape, time for each shape a session's kernel with the largest
speedup at that shape instead of its best overall (by reward, the geometric mean
over shapes): the kernels a dispatch on the row count would run, as
torch.compile compiles one kernel per static shape (an exported file is one
kernel, timed at every shape).
With --targets (or no session), time the seeds alone (each against itself,
which shows the timing noise).

` + exitCodesHelp,
		Example: `  discover bench discover_sessions/rmsnorm_session.json
  discover bench kernels/rmsnorm.cu --device cuda
  discover bench discover_sessions/rmsnorm_session.json --per-shape --json
  discover bench --targets all --device cuda --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			type job struct {
				t      *target.Target
				spec   *kernel.Spec
				name   string
				from   string
				shapes []int // the row counts to report; nil for all
			}
			var jobs []job
			for _, path := range args {
				if ext := filepath.Ext(path); ext == ".cl" || ext == ".cu" {
					m, spec, err := export.Read(path)
					if err != nil {
						return err
					}
					t, ok := target.Lookup(m.Target)
					if !ok {
						return fmt.Errorf("%s: unknown target %q", path, m.Target)
					}
					jobs = append(jobs, job{t: t, spec: &spec, name: filepath.Base(path), from: path})
					continue
				}
				s, err := session.Load(path)
				if err != nil {
					return err
				}
				t, ok := target.Lookup(s.Metadata.TargetName)
				if !ok {
					return fmt.Errorf("%s: unknown target %q", path, s.Metadata.TargetName)
				}
				if !perShape {
					best := s.TreeData.Best()
					jobs = append(jobs, job{t: t, spec: &best.Candidate.Spec, name: best.NodeID, from: path})
					continue
				}
				for _, w := range shapeWinners(s.TreeData, t.Shapes) {
					jobs = append(jobs, job{t: t, spec: &w.node.Candidate.Spec, name: w.node.NodeID, from: path, shapes: w.rows})
				}
			}
			if len(targets) == 1 && targets[0] == "all" {
				targets = target.Names()
			}
			if len(args) == 0 && len(targets) == 0 {
				targets = target.Names()
			}
			for _, name := range targets {
				t, ok := target.Lookup(name)
				if !ok {
					return usagef("unknown target %q; valid targets: %s", name, strings.Join(target.Names(), ", "))
				}
				jobs = append(jobs, job{t: t, name: "seed"})
			}
			var rows []benchRow
			for _, j := range jobs {
				worker, err := workerCommand(j.t.Name, deviceName)
				if err != nil {
					return err
				}
				sup, err := eval.NewSupervisor(cmd.Context(), worker, timeout)
				if err != nil {
					return fmt.Errorf("%s: start evaluator: %w", j.t.Name, err)
				}
				info := sup.Info()
				spec := j.spec
				if spec == nil {
					seed, err := eval.SeedSpec(j.t, info.API)
					if err != nil {
						sup.Close()
						return err
					}
					spec = &seed
				}
				fmt.Fprintf(os.Stderr, "bench %s %s on %s...\n", j.t.Name, j.name, info.Name)
				res, err := sup.Evaluate(cmd.Context(), *spec, uint64(time.Now().UnixNano()))
				sup.Close()
				if err != nil {
					return err
				}
				base := benchRow{Target: j.t.Name, Kernel: j.name, Device: info.Name, Dialect: string(info.API),
					Source: j.from, Correct: res.Correct, Failure: string(res.Failure)}
				if !res.Correct {
					fmt.Fprintf(os.Stderr, "  %s failed: %s: %s\n", j.name, res.Failure, firstLine(res.Detail, 200))
					rows = append(rows, base)
					continue
				}
				for _, sr := range res.Shapes {
					if j.shapes != nil && !slices.Contains(j.shapes, sr.Rows) {
						continue
					}
					r := base
					r.ShapeResult = sr
					rows = append(rows, r)
				}
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			printBench(rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&targets, "targets", nil, "time these targets' seeds (\"all\" for every target)")
	f.StringVar(&deviceName, "device", "auto", "device: auto, cuda or opencl")
	f.DurationVar(&timeout, "timeout", 120*time.Second, "limit per kernel")
	f.BoolVar(&asJSON, "json", false, "print the rows as JSON")
	f.BoolVar(&perShape, "per-shape", false, "time each shape's fastest kernel of a session, not its best overall")
	return cmd
}

// shapeWinner is a node and the row counts at which it is a session's
// fastest kernel.
type shapeWinner struct {
	node *search.Node
	rows []int
}

// shapeWinners groups the shapes by their fastest node (Tree.BestAt), in
// the order of the shapes; a shape no node was timed at goes to the best
// node overall.
func shapeWinners(tree *search.Tree, shapes []int) []shapeWinner {
	var out []shapeWinner
	for _, rows := range shapes {
		n := tree.BestAt(rows)
		if n == nil {
			n = tree.Best()
		}
		i := slices.IndexFunc(out, func(w shapeWinner) bool { return w.node == n })
		if i < 0 {
			out = append(out, shapeWinner{node: n})
			i = len(out) - 1
		}
		out[i].rows = append(out[i].rows, rows)
	}
	return out
}

func printBench(rows []benchRow) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\tkernel\trows\tmedian us\tp10\tp90\tseed us\tspeedup\tGB/s\t% copy BW\t")
	for _, r := range rows {
		if !r.Correct {
			fmt.Fprintf(w, "%s\t%s\tFAILED: %s\t\t\t\t\t\t\t\t\n", r.Target, r.Kernel, r.Failure)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.3fx\t%.1f\t%.1f\t\n", r.Target, r.Kernel, r.Rows,
			r.MedianUs, r.P10Us, r.P90Us, r.SeedMedianUs, r.Speedup, r.GBs, r.PctCopyBW)
	}
	w.Flush()
}
