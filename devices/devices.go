// Package devices opens a device by name: cuda, opencl, or auto (CUDA when
// a driver and a GPU are present, else OpenCL).
package devices

import (
	"fmt"
	"slices"
	"strings"

	"discover/device"
	"discover/device/cuda"
	"discover/device/opencl"
)

// Names are the values --device accepts.
var Names = []string{"auto", "cuda", "opencl"}

// Valid reports whether name is one of Names.
func Valid(name string) bool { return slices.Contains(Names, name) }

// Open opens the named device; index picks among several of that API.
func Open(name string, index int) (device.Device, error) {
	switch name {
	case "opencl":
		return opencl.Open(index)
	case "cuda":
		return cuda.Open(index)
	case "auto":
		if cuda.Available() {
			return cuda.Open(index)
		}
		return opencl.Open(index)
	}
	return nil, fmt.Errorf("unknown device %q (want one of %s)", name, strings.Join(Names, ", "))
}
