// Package devtest gives tests the devices they need, skipping a test when
// its device is missing except where CI requires it.
package devtest

import (
	"errors"
	"os"
	"testing"

	"discover/device"
	"discover/device/cuda"
	"discover/device/opencl"
)

// OpenCL returns OpenCL device 0, closed when the test ends. Without OpenCL
// the test is skipped, unless DISCOVER_REQUIRE_OPENCL=1 (as in CI), where
// it fails instead.
func OpenCL(t testing.TB) device.Device {
	t.Helper()
	dev, err := opencl.Open(0)
	skipUnlessRequired(t, err, "DISCOVER_REQUIRE_OPENCL")
	t.Cleanup(func() { dev.Close() })
	return dev
}

// NVRTC returns a compiler for the H200's architecture (sm_90) that needs
// no GPU. Without NVRTC the test is skipped, unless
// DISCOVER_REQUIRE_NVRTC=1 (CI installs Debian's libnvrtc11.2).
func NVRTC(t testing.TB) *cuda.Compiler {
	t.Helper()
	c, err := cuda.NewCompiler(9, 0)
	skipUnlessRequired(t, err, "DISCOVER_REQUIRE_NVRTC")
	t.Log(c.Version())
	return c
}

func skipUnlessRequired(t testing.TB, err error, requireVar string) {
	t.Helper()
	if errors.Is(err, device.ErrUnavailable) && os.Getenv(requireVar) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("required by %s=1: %v", requireVar, err)
	}
}
