package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"discover/pack"
)

const packHelp = `A kernel pack holds the fastest correct kernel per (target, dialect, device
name, dtype, shape), each with its source and launch manifest, for collecting
results from several machines. Faster means a higher speedup over the seed
kernel at that shape (timed interleaved with the seed on the same device, so
it compares across machines better than raw times); the median breaks ties.`

func newPackCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pack",
		Short: "Collect the fastest kernel per target, device and shape in a pack file",
		Long:  packHelp + "\n\n" + exitCodesHelp,
		Example: `  discover pack add discover_sessions/autorun/*/*_session.json -o pack.json
  discover pack merge machine1.json machine2.json -o pack.json
  discover pack show pack.json`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newPackAddCommand(), newPackMergeCommand(), newPackShowCommand())
	return cmd
}

func newPackAddCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "add SESSION... -o PACK",
		Short: "Add the fastest kernel per shape of sessions to a pack (created if missing)",
		Long: packHelp + `

For each test shape of each session, the session's correct kernel with the best
speedup at that shape goes into PACK, replacing a slower entry of the same key.

` + exitCodesHelp,
		Example: `  discover pack add discover_sessions/rmsnorm_session.json -o pack.json
  discover pack add discover_sessions/autorun/*/*_session.json -o pack.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return usagef("-o PACK is required")
			}
			p, err := pack.Load(output)
			if errors.Is(err, fs.ErrNotExist) {
				p, err = pack.New(), nil
			}
			if err != nil {
				return err
			}
			kept, offered := 0, 0
			for _, path := range args {
				s, t, err := loadSessionTarget(path)
				if err != nil {
					return err
				}
				entries, err := pack.FromSession(s, t, time.Now())
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				for _, e := range entries {
					offered++
					if p.Add(e) {
						kept++
					}
				}
			}
			if err := p.Save(output); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: %d of %d kernels added or faster; %d entries\n", output, kept, offered, len(p.Entries))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "pack file to add to")
	return cmd
}

func newPackMergeCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "merge PACK... -o PACK",
		Short: "Merge packs, keeping the faster kernel for each key",
		Long:  packHelp + "\n\n" + exitCodesHelp,
		Example: `  discover pack merge machine1.json machine2.json -o pack.json
  discover pack merge pack.json new.json -o pack.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return usagef("-o PACK is required")
			}
			var packs []*pack.Pack
			for _, path := range args {
				p, err := pack.Load(path)
				if err != nil {
					return err
				}
				packs = append(packs, p)
			}
			merged := pack.Merge(packs...)
			if err := merged.Save(output); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: %d entries from %d packs\n", output, len(merged.Entries), len(packs))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "pack file to write")
	return cmd
}

func newPackShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show PACK",
		Short:   "List a pack's kernels",
		Long:    packHelp + "\n\n" + exitCodesHelp,
		Example: "  discover pack show pack.json\n  discover pack show pack.json --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pack.Load(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(p)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "TARGET\tDIALECT\tDEVICE\tDTYPE\tROWS\tSPEEDUP\tMEDIAN US\tSEED US\tNODE\tSESSION")
			for _, e := range p.Entries {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%.3fx\t%.2f\t%.2f\t%s\t%s\n", e.Target, e.Dialect, e.Device, e.DType, e.Rows,
					e.Speedup, e.MedianUs, e.SeedMedianUs, e.Manifest.Provenance.NodeID, e.Manifest.Provenance.SessionID)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the pack as JSON")
	return cmd
}
