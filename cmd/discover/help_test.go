package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelp: each command a user runs documents an example
// and the exit codes.
func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			t.Run(sub.CommandPath(), func(t *testing.T) {
				if sub.Example == "" || !strings.Contains(sub.Long, "Exit codes:") {
					t.Errorf("%s: example %q, long help without exit codes", sub.CommandPath(), sub.Example)
				}
			})
			walk(sub)
		}
	}
	walk(newRootCommand())
}
