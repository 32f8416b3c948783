package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"discover/target"
)

type listedTarget struct {
	Name     string         `json:"name"`
	Kernel   string         `json:"kernel"`
	Dims     map[string]int `json:"dims"`
	Model    string         `json:"model"`
	Shapes   []int          `json:"shapes"`
	Dialects []string       `json:"dialects"`
}

func newListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the targets: kernel, dims, model family, seed dialects",
		Long:    "List the targets: kernel, dims, model family, seed dialects.\n\n" + exitCodesHelp,
		Example: "  discover list\n  discover list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out []listedTarget
			for _, t := range target.All() {
				lt := listedTarget{Name: t.Name, Kernel: t.Kernel, Dims: map[string]int{}, Model: t.Model, Shapes: t.Shapes}
				for _, d := range t.Dims {
					lt.Dims[d.Name] = d.Value
				}
				for _, d := range t.Dialects() {
					lt.Dialects = append(lt.Dialects, string(d))
				}
				out = append(out, lt)
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "TARGET\tKERNEL\tDIMS\tMODEL\tSEEDS")
			for i, lt := range out {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", lt.Name, lt.Kernel, target.JoinDims(target.All()[i].Dims, " "), lt.Model, strings.Join(lt.Dialects, ","))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the targets as JSON")
	return cmd
}
