package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"discover/export"
	"discover/session"
	"discover/target"
)

func newExportCommand() *cobra.Command {
	var output, nodeID string
	cmd := &cobra.Command{
		Use:   "export SESSION -o FILE",
		Short: "Write the best kernel of a session as a standalone file with a manifest",
		Long: `Write the best correct kernel of a session (or, with --node, another correct
one, such as a shape's fastest from bench --per-shape) to FILE (.cl for OpenCL, .cu for
CUDA; another extension is refused) with a provenance header comment (target,
dims, dtype, device, per-shape speedup, session id, date) and defaults for the
dims, and FILE.json, a manifest that lets any program run it without this
project: entry name, arguments in order (name, buffer or scalar, dtype, input
or output, shape in terms of B and the dims), compile-time defines and flags,
the work-group size and the grid as expressions of B with the rule that turns
them into a launch, and the measured per-shape results.

` + exitCodesHelp,
		Example: `  discover export discover_sessions/rmsnorm_session.json -o kernels/rmsnorm.cl
  discover export discover_sessions/autorun/glm_rmsnorm_claude/glm_rmsnorm_session.json -o glm_rmsnorm.cu`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return usagef("-o FILE is required")
			}
			s, t, err := loadSessionTarget(args[0])
			if err != nil {
				return err
			}
			n := s.TreeData.Best()
			if nodeID != "" {
				if n = s.TreeData.Lookup(nodeID); n == nil {
					return usagef("%s has no node %q", args[0], nodeID)
				}
			}
			m, err := export.Write(output, s, t, n, time.Now())
			if errors.Is(err, export.ErrExtension) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s and %s.json (node %s, %.3fx over the seed)\n", output, output, m.Provenance.NodeID, m.Speedup)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "kernel file to write (.cl or .cu, by the session's dialect)")
	cmd.Flags().StringVar(&nodeID, "node", "", "export this node instead of the best (a node id from the session)")
	return cmd
}

// loadSessionTarget loads a session and looks up its target, which export
// and packs need for the kernel's arguments and dims.
func loadSessionTarget(path string) (*session.Session, *target.Target, error) {
	s, err := session.Load(path)
	if err != nil {
		return nil, nil, err
	}
	t, ok := target.Lookup(s.Metadata.TargetName)
	if !ok {
		return nil, nil, fmt.Errorf("%s: target %q is not one of this build's: %s", path, s.Metadata.TargetName, strings.Join(target.Names(), ", "))
	}
	return s, t, nil
}
