package main

import (
	"os"

	"github.com/spf13/cobra"

	"discover/report"
)

func newCompareCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare DIR",
		Short: "Rank the backends of an autorun per target, and say which kernels to use",
		Long: `Rank, per target, the backends of an autorun directory by the speedup of their
best kernel, and recommend USE, MARGINAL or KEEP. Reads DIR/autorun_summary.json,
or when there is none, every session file in DIR and one level below it.

` + report.VerdictHelp + `

` + exitCodesHelp,
		Example: `  discover compare discover_sessions/autorun
  discover compare discover_sessions/autorun --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := report.Compare(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c)
			}
			return report.PrintComparison(os.Stdout, c)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	return cmd
}
