package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, listed in --help.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    failure (a search that could not run or stopped on an error, an autorun
       with a failed pair, a bad session or pack file)
  2    usage error (unknown target, generator or command, bad flag value, an
       export file name that does not match the kernel's language)
  130  interrupted (Ctrl-C); the session was saved first (Ctrl-C twice: at once)`

// usageError marks an error as the user's invocation: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "discover",
		Short: "Find faster GPU kernels for the hot operators of real models",
		Long: `discover searches for faster GPU kernels: a generator (an LLM, or the built-in
tuner) writes kernel variants, each is compiled, checked against a float64
reference on fresh inputs and timed against the seed kernel on the real device,
and a PUCT tree picks which kernel to improve next.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newListCommand(), newSearchCommand(), newAutorunCommand(), newCompareCommand(), newReportCommand(),
		newExportCommand(), newPackCommand(), newBenchCommand(), newValidateCommand(), newWorkerCommand())
	return root
}

func run(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "\ninterrupted: saving the session (Ctrl-C again to quit at once)")
		cancel()
		<-signals
		os.Exit(exitInterrupted)
	}()

	root := newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted // the interrupt handler has said so already
	}
	// cobra's suggestion comes on lines of its own; keep the error one line.
	msg := strings.TrimSpace(strings.Replace(err.Error(), "\n\nDid you mean this?\n\t", "; did you mean ", 1))
	fmt.Fprintln(os.Stderr, "discover: "+strings.ReplaceAll(msg, "\n\t", ", "))
	var ue usageError
	switch {
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command"),
		strings.HasPrefix(err.Error(), "accepts "), strings.HasPrefix(err.Error(), "requires "):
		return exitUsage
	}
	return exitFailure
}
