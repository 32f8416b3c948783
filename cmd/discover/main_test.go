package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// discoverBin is the binary under test, built once for the package: the CLI
// tests run it as a user does, with its worker subprocess.
var discoverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "discover-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	discoverBin = filepath.Join(dir, "discover")
	build := exec.Command("go", "build", "-o", discoverBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build discover: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cliResult is what a run of the binary printed and its exit code.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary in dir with extra environment variables.
func runCLI(t *testing.T, dir string, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(discoverBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run discover %v: %v", args, err)
	}
	return res
}

// requireOpenCL skips a test that needs an OpenCL device when there is none,
// unless DISCOVER_REQUIRE_OPENCL=1 (CI), where it fails instead.
func requireOpenCL(t *testing.T) {
	t.Helper()
	res := runCLI(t, t.TempDir(), nil, "search", "topk_gating", "--steps", "0", "--device", "opencl", "--llm", "mock")
	if res.code == 0 {
		return
	}
	if os.Getenv("DISCOVER_REQUIRE_OPENCL") == "1" {
		t.Fatalf("OpenCL required: %s", res.stderr)
	}
	t.Skipf("no OpenCL device: %s", res.stderr)
}
