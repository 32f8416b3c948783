// Package cltest opens the OpenCL device for tests that need one.
package cltest

import (
	"errors"
	"os"
	"testing"

	"discover/device"
	"discover/device/opencl"
)

// Open returns OpenCL device 0, closed when the test ends. Without OpenCL
// the test is skipped, unless DISCOVER_REQUIRE_OPENCL=1 (as in CI), where
// it fails instead.
func Open(t testing.TB) device.Device {
	t.Helper()
	dev, err := opencl.Open(0)
	if errors.Is(err, device.ErrUnavailable) && os.Getenv("DISCOVER_REQUIRE_OPENCL") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("OpenCL required: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}
