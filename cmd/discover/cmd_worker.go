package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"discover/device"
	"discover/devices"
	"discover/eval"
	"discover/target"
)

// The worker is the process that touches the GPU. The parent starts it with
// the request pipe on fd 3 and the response pipe on fd 4, and kills it when
// a candidate hangs or crashes it.
func newWorkerCommand() *cobra.Command {
	var targetName, deviceName string
	cmd := &cobra.Command{
		Use:    "worker",
		Short:  "Evaluate candidates for a parent discover process (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, ok := target.Lookup(targetName)
			if !ok {
				return usagef("unknown target %q", targetName)
			}
			in, out := os.NewFile(3, "requests"), os.NewFile(4, "responses")
			if in == nil || out == nil {
				return fmt.Errorf("worker: fds 3 and 4 must be the request and response pipes")
			}
			open := func() (device.Device, error) { return devices.Open(deviceName, 0) }
			return eval.Serve(cmd.Context(), open, t, eval.DefaultOptions, in, out)
		},
	}
	cmd.Flags().StringVar(&targetName, "target", "", "target to evaluate")
	cmd.Flags().StringVar(&deviceName, "device", "auto", "device: auto, cuda or opencl")
	return cmd
}

// workerCommand re-executes this binary as the worker of one target.
func workerCommand(targetName, deviceName string) (eval.WorkerCommand, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the worker: %w", err)
	}
	return func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, exe, "worker", "--target", targetName, "--device", deviceName)
	}, nil
}
