package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"discover/report"
	"discover/session"
)

func newReportCommand() *cobra.Command {
	var top int
	var asJSON bool
	var htmlFile string
	cmd := &cobra.Command{
		Use:   "report SESSION",
		Short: "Show a session's best kernels per shape, failures, tokens and cost",
		Long: `Show a session's best kernel with its per-shape results, the top candidates
with their per-shape speedups and strategies, failures counted by reason,
tokens and cost. Reads this tool's session files and ZMLX Discover's (schema 1.0).

--html FILE writes one self-contained page instead (no network needed to view
it): the best speedup over the steps, the search tree coloured by outcome and
sized by reward, the winner's per-shape speedup and share of copy bandwidth,
and its source.

` + exitCodesHelp,
		Example: `  discover report discover_sessions/rmsnorm_session.json
  discover report discover_sessions/rmsnorm_session.json --top 10 --json
  discover report discover_sessions/autorun/rmsnorm_mock/rmsnorm_session.json --html rmsnorm.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 1 {
				return usagef("--top must be at least 1, got %d", top)
			}
			if asJSON && htmlFile != "" {
				return usagef("--json and --html cannot be used together")
			}
			s, err := session.Load(args[0])
			if err != nil {
				return err
			}
			switch {
			case htmlFile != "":
				var buf bytes.Buffer
				if err := report.WriteHTML(&buf, s, args[0], top, time.Now()); err != nil {
					return err
				}
				if err := session.WriteFileAtomic(htmlFile, buf.Bytes()); err != nil {
					return fmt.Errorf("write %s: %w", htmlFile, err)
				}
				fmt.Fprintf(os.Stderr, "wrote %s\n", htmlFile)
				return nil
			case asJSON:
				sum := report.Summarize(s, args[0])
				sum.Top = sum.Top[:min(top, len(sum.Top))]
				return writeJSON(sum)
			}
			report.Print(os.Stdout, s, top)
			return nil
		},
	}
	cmd.Flags().IntVar(&top, "top", 5, "how many candidates to show")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&htmlFile, "html", "", "write a self-contained HTML report to this file")
	return cmd
}
