package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"discover/session"
)

func newExportCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "export SESSION -o FILE",
		Short:   "Write the best kernel of a session to a file",
		Long:    "Write the source of the best correct kernel of a session to a file.\n\n" + exitCodesHelp,
		Example: "  discover export discover_sessions/rmsnorm_session.json -o kernels/rmsnorm.cl",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return usagef("-o FILE is required")
			}
			s, err := session.Load(args[0])
			if err != nil {
				return err
			}
			best := s.TreeData.Best()
			if err := session.WriteFileAtomic(output, []byte(best.Candidate.Spec.Source)); err != nil {
				return fmt.Errorf("write %s: %w", output, err)
			}
			fmt.Fprintf(os.Stderr, "wrote %s (node %s, %.3fx)\n", output, best.NodeID, s.Metadata.BestSpeedup)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write")
	return cmd
}
