package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"discover/eval"
	"discover/export"
	"discover/search"
	"discover/session"
)

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").
	Funcs(template.FuncMap{"shapeRows": shapeRows, "shapeSpeedups": shapeSpeedups, "dialectName": DialectName[string]}).
	Parse(pageSource))

// WriteHTML writes the session's report as one self-contained HTML page
// (inline CSS and SVG, no scripts, nothing fetched): the best speedup over
// the steps, the search tree, the winner per shape and its source, the top
// candidates and the failures.
func WriteHTML(w io.Writer, s *session.Session, path string, top int, now time.Time) error {
	sum := Summarize(s, path)
	best := s.TreeData.Best()
	p := htmlPage{
		Summary:    sum,
		RowVar:     rowVar(sum.Target),
		Generated:  now.Format("2006-01-02 15:04 MST"),
		Progress:   progressChart(s),
		Tree:       layoutTree(s.TreeData, best),
		Failures:   failureRows(s),
		Top:        sum.Top[:min(top, len(sum.Top))],
		Best:       best,
		Judgement:  Judge(best.EvalResult),
		IsSeed:     best == s.TreeData.Root,
		Exportable: exportable(s),
		Source:     best.Candidate.Spec.Source,
	}
	if best.Evaluated() {
		p.Shapes = best.EvalResult.Shapes
		p.SpeedupBars = speedupBars(p.Shapes, p.RowVar)
		p.BandwidthBars = bandwidthBars(p.Shapes, p.RowVar)
	}
	for reason := range sum.Failures {
		p.Legend = append(p.Legend, legendItem{Label: reason, Color: outcomeColor(eval.Reason(reason))})
	}
	sort.Slice(p.Legend, func(i, j int) bool { return p.Legend[i].Label < p.Legend[j].Label })
	p.Legend = append([]legendItem{{Label: "correct", Color: okColor}}, p.Legend...)
	if err := page.Execute(w, p); err != nil {
		return fmt.Errorf("render HTML report: %w", err)
	}
	return nil
}

type htmlPage struct {
	Summary                    Summary
	RowVar                     string
	Generated                  string
	Progress                   lineChart
	Tree                       treeChart
	Legend                     []legendItem
	Failures                   []failureRow
	Top                        []Entry
	Best                       *search.Node
	Judgement                  Judgement
	IsSeed, Exportable         bool
	Shapes                     []eval.ShapeResult
	SpeedupBars, BandwidthBars barChart
	Source                     string
}

type legendItem struct{ Label, Color string }

// Outcome colours: one per failure reason, distinct at a glance.
const okColor = "#2e9d4f"

var reasonColors = map[eval.Reason]string{
	eval.CompileError:  "#e6862a",
	eval.LaunchError:   "#8e44ad",
	eval.WrongResult:   "#d62728",
	eval.Race:          "#e377c2",
	eval.OutOfBounds:   "#8c564b",
	eval.InputModified: "#bcbd22",
	eval.Timeout:       "#7f7f7f",
	eval.Crash:         "#17202a",
}

func outcomeColor(r eval.Reason) string {
	if c, ok := reasonColors[r]; ok {
		return c
	}
	return "#5b6b8c" // a ZMLX failure without a typed reason
}

type failureRow struct {
	Reason, Color, Example, NodeID string
	Count                          int
}

// failureRows counts failures by reason, with the latest one's detail as
// an example.
func failureRows(s *session.Session) []failureRow {
	rows := map[string]*failureRow{}
	for _, n := range s.TreeData.Nodes() {
		if !n.Evaluated() || n.EvalResult.Correct {
			continue
		}
		reason := failureReason(n.EvalResult)
		r := rows[reason]
		if r == nil {
			r = &failureRow{Reason: reason, Color: outcomeColor(n.EvalResult.Failure)}
			rows[reason] = r
		}
		r.Count++
		r.Example, r.NodeID = oneLine(failureDetail(n.EvalResult), 200), n.NodeID
	}
	var out []failureRow
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Reason < out[j].Reason
	})
	return out
}

// failureReason is a failed result's reason; ZMLX files have none.
func failureReason(r *eval.Result) string {
	if r.Failure == "" {
		return "failed"
	}
	return string(r.Failure)
}

// exportable reports whether discover export can write the session's
// kernels (ZMLX's Metal kernels it cannot).
func exportable(s *session.Session) bool {
	_, err := export.Ext(s.Metadata.Dialect)
	return err == nil
}

// failureDetail is a failed result's log or mismatch; ZMLX files keep it in
// compile_error or correctness_error only.
func failureDetail(r *eval.Result) string {
	switch {
	case r.Detail != "":
		return r.Detail
	case r.CompileError != nil:
		return *r.CompileError
	case r.CorrectnessError != nil:
		return *r.CorrectnessError
	}
	return ""
}

// axis maps data values to SVG pixels, with tick marks at round values.
type axis struct {
	lo, hi     float64 // data range
	from, to   float64 // pixel range
	Ticks      []tick
	tickFormat string
}

type tick struct {
	Pos   float64
	Label string
}

func (a axis) at(v float64) float64 {
	if a.hi == a.lo {
		return a.from
	}
	return a.from + (v-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// niceAxis spans [lo, hi] widened to round tick values, about n of them.
func niceAxis(lo, hi, from, to float64, n int, format string) axis {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	a := axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, from: from, to: to, tickFormat: format}
	for v := a.lo; v <= a.hi+step/2; v += step {
		a.Ticks = append(a.Ticks, tick{Pos: a.at(v), Label: fmt.Sprintf(format, v)})
	}
	return a
}

// lineChart is the best speedup after each step, over every candidate's.
type lineChart struct {
	Width, Height float64
	Left, Right   float64 // plot area, pixels
	Top, Bottom   float64
	X, Y          axis
	Line          string // polyline points
	Baseline      float64
	Points        []chartPoint
	Failed        []chartPoint
}

type chartPoint struct {
	X, Y  float64
	Title string
}

func progressChart(s *session.Session) lineChart {
	c := lineChart{Width: 1140, Height: 300, Left: 60, Right: 1120, Top: 20, Bottom: 250}
	steps := s.Metadata.TotalSteps
	lo, hi := 1.0, 1.0
	nodes := s.TreeData.Nodes()
	for _, n := range nodes {
		if n.Evaluated() && n.EvalResult.Correct && stepOf(n) <= steps {
			lo, hi = math.Min(lo, n.EvalResult.Speedup), math.Max(hi, n.EvalResult.Speedup)
		}
	}
	c.X = niceAxis(0, math.Max(float64(steps), 1), c.Left, c.Right, min(max(steps, 1), 10), "%.0f")
	c.Y = niceAxis(lo-0.05*(hi-lo+0.1), hi+0.05*(hi-lo+0.1), c.Bottom, c.Top, 5, "%.2fx")
	best := map[int]*search.Node{} // best node (by reward, as the tree) per step
	failedAt := map[int]int{}
	for _, n := range nodes {
		step := stepOf(n)
		if !n.Evaluated() || step > steps {
			continue
		}
		r := n.EvalResult
		title := fmt.Sprintf("%s, step %d: ", n.NodeID, step)
		if !r.Correct {
			// Spread a step's failures along the axis so each can be hovered.
			x := c.X.at(float64(step)) + 9*float64(failedAt[step])
			failedAt[step]++
			c.Failed = append(c.Failed, chartPoint{X: x, Y: c.Bottom, Title: title + failureReason(r)})
			continue
		}
		c.Points = append(c.Points, chartPoint{X: c.X.at(float64(step)), Y: c.Y.at(r.Speedup), Title: fmt.Sprintf("%s%.3fx", title, r.Speedup)})
		if b := best[step]; b == nil || r.Reward > b.EvalResult.Reward {
			best[step] = n
		}
	}
	var line []string
	var cur *search.Node
	for i := 0; i <= steps; i++ {
		if b := best[i]; b != nil && (cur == nil || b.EvalResult.Reward > cur.EvalResult.Reward) {
			cur = b
		}
		if cur != nil {
			line = append(line, fmt.Sprintf("%.1f,%.1f", c.X.at(float64(i)), c.Y.at(cur.EvalResult.Speedup)))
		}
	}
	c.Line = strings.Join(line, " ")
	c.Baseline = c.Y.at(1)
	return c
}

// treeChart is the search tree laid out top-down: leaves evenly spaced,
// each parent centred over its children.
type treeChart struct {
	Width, Height float64
	// MinWidth is how far a wide tree may shrink to fit the page before it
	// scrolls instead: below it, labels are too small to read.
	MinWidth float64
	Nodes    []treeNode
	Edges    []treeEdge
	Labels   bool // room for a speedup under each node
}

type treeNode struct {
	X, Y, R       float64
	RingR         float64 // the best node's ring
	Color         string
	Best          bool
	ID, Label     string // Label: "seed" or "best", above the node
	Title         string // tooltip
	Speedup       string // under the node
	LabelY, TextY float64
}

type treeEdge struct{ X1, Y1, X2, Y2 float64 }

const (
	leafGap  = 44.0
	levelGap = 80.0
	maxR     = 14.0
	minR     = 5.0
)

func layoutTree(t *search.Tree, best *search.Node) treeChart {
	var c treeChart
	maxReward := 0.0
	for _, n := range t.Nodes() {
		if n.Evaluated() {
			maxReward = math.Max(maxReward, n.EvalResult.Reward)
		}
	}
	leaves, depth := 0, 0
	pos := map[*search.Node][2]float64{}
	var place func(n *search.Node, d int) float64
	place = func(n *search.Node, d int) float64 {
		depth = max(depth, d)
		var x float64
		if len(n.Children) == 0 {
			x = 30 + float64(leaves)*leafGap
			leaves++
		} else {
			first := place(n.Children[0], d+1)
			last := first
			for _, ch := range n.Children[1:] {
				last = place(ch, d+1)
			}
			x = (first + last) / 2
		}
		pos[n] = [2]float64{x, 30 + float64(d)*levelGap}
		return x
	}
	place(t.Root, 0)
	c.Width = math.Max(60+float64(leaves-1)*leafGap, 300)
	c.Height = 70 + float64(depth)*levelGap
	c.MinWidth = 0.4 * c.Width
	c.Labels = leaves <= 60

	for _, n := range t.Nodes() {
		p := pos[n]
		for _, ch := range n.Children {
			q := pos[ch]
			c.Edges = append(c.Edges, treeEdge{X1: p[0], Y1: p[1], X2: q[0], Y2: q[1]})
		}
		tn := treeNode{X: p[0], Y: p[1], R: minR, ID: n.NodeID, Best: n == best}
		switch r := n.EvalResult; {
		case r == nil:
			tn.Color, tn.Title = "#cccccc", n.NodeID+": not evaluated"
		case r.Correct:
			// Area follows reward, so a node twice as good looks twice as big.
			if maxReward > 0 {
				tn.R = minR + (maxR-minR)*math.Sqrt(r.Reward/maxReward)
			}
			tn.Color, tn.Speedup = okColor, fmt.Sprintf("%.2fx", r.Speedup)
			tn.Title = fmt.Sprintf("%s (step %d): %.3fx, reward %.3f\n%s", n.NodeID, stepOf(n), r.Speedup, r.Reward, oneLine(n.Candidate.LLMReasoning, 160))
		default:
			// No text under a failure: reasons are long and siblings are
			// close; the colour and the legend say it.
			tn.Color = outcomeColor(r.Failure)
			tn.Title = fmt.Sprintf("%s (step %d): %s\n%s", n.NodeID, stepOf(n), failureReason(r), oneLine(failureDetail(r), 200))
		}
		tn.RingR, tn.TextY = tn.R+4, p[1]+tn.R+13
		switch {
		case n == t.Root:
			tn.Label = "seed"
		case tn.Best:
			tn.Label = "best"
		}
		tn.LabelY = p[1] - tn.R - 7
		c.Nodes = append(c.Nodes, tn)
	}
	return c
}

// barChart is one horizontal bar per shape.
type barChart struct {
	Width, Height float64
	Left, Right   float64
	X             axis
	Bars          []bar
	// Mark is a reference line (1.0x for speedups), 0 for none.
	Mark      float64
	MarkLabel string
	Top       float64
}

type bar struct {
	Label      string
	Y, W, H    float64
	Value      string
	WhiskerX1  float64 // p10..p90 of the paired speedups; 0 when absent
	WhiskerX2  float64
	Below      bool // under the reference mark
	ValueX     float64
	LabelTextY float64
}

const barRow = 34.0

func newBarChart(n int, lo, hi float64, format string) barChart {
	c := barChart{Width: 420, Left: 70, Right: 360, Top: 20}
	c.Height = c.Top + float64(n)*barRow + 30
	c.X = niceAxis(lo, hi, c.Left, c.Right, 4, format)
	return c
}

func (c *barChart) add(label string, v float64, value string, lo, hi float64) {
	y := c.Top + float64(len(c.Bars))*barRow + 6
	b := bar{Label: label, Y: y, H: barRow - 12, W: math.Max(c.X.at(v)-c.Left, 1), Value: value, LabelTextY: y + (barRow-12)/2 + 4}
	if lo > 0 && hi > 0 {
		b.WhiskerX1, b.WhiskerX2 = c.X.at(lo), c.X.at(hi)
	}
	b.ValueX = math.Max(c.Left+b.W, b.WhiskerX2) + 6
	c.Bars = append(c.Bars, b)
}

func speedupBars(shapes []eval.ShapeResult, rowVar string) barChart {
	hi := 1.0
	for _, s := range shapes {
		hi = math.Max(hi, math.Max(s.Speedup, s.SpeedupP90))
	}
	c := newBarChart(len(shapes), 0, hi*1.05, "%.1fx")
	c.Mark, c.MarkLabel = c.X.at(1), "seed"
	for _, s := range shapes {
		c.add(fmt.Sprintf("%s=%d", rowVar, s.Rows), s.Speedup, fmt.Sprintf("%.3fx", s.Speedup), s.SpeedupP10, s.SpeedupP90)
		c.Bars[len(c.Bars)-1].Below = s.Speedup < 1
	}
	return c
}

func bandwidthBars(shapes []eval.ShapeResult, rowVar string) barChart {
	hi := 100.0
	for _, s := range shapes {
		hi = math.Max(hi, s.PctCopyBW)
	}
	c := newBarChart(len(shapes), 0, hi, "%.0f%%")
	for _, s := range shapes {
		c.add(fmt.Sprintf("%s=%d", rowVar, s.Rows), s.PctCopyBW, fmt.Sprintf("%.1f%% (%.1f GB/s)", s.PctCopyBW, s.GBs), 0, 0)
	}
	return c
}
