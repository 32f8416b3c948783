package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"discover/report"
	"discover/session"
)

func newReportCommand() *cobra.Command {
	var top int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report SESSION",
		Short: "Show a session's best kernels, failures, tokens and cost",
		Long:  "Show a session's best kernels, failures, tokens and cost. Reads this tool's session files and ZMLX Discover's (schema 1.0).\n\n" + exitCodesHelp,
		Example: `  discover report discover_sessions/rmsnorm_session.json
  discover report discover_sessions/rmsnorm_session.json --top 10 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 1 {
				return usagef("--top must be at least 1, got %d", top)
			}
			s, err := session.Load(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				sum := report.Summarize(s, args[0])
				sum.Top = sum.Top[:min(top, len(sum.Top))]
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			report.Print(os.Stdout, s, top)
			return nil
		},
	}
	cmd.Flags().IntVar(&top, "top", 5, "how many candidates to show")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
