package cuda

import (
	"fmt"

	"discover/device"
)

// Compiler is NVRTC without a driver or a GPU: it checks that CUDA sources
// compile, so that CI (which has no GPU, but can install NVRTC) compiles
// every seed and template.
type Compiler struct {
	dev *cudaDevice
}

// NewCompiler loads NVRTC and targets compute capability major.minor: the
// real architecture when NVRTC knows it, else the newest virtual one.
func NewCompiler(major, minor int) (*Compiler, error) {
	drv, err := bindNVRTC()
	if err != nil {
		return nil, err
	}
	arch, cubin := archOption(major, minor, drv.supportedArchs())
	return &Compiler{dev: &cudaDevice{drv: drv, arch: arch, cubin: cubin, includes: toolkitIncludes()}}, nil
}

// Version names the NVRTC library and the architecture option.
func (c *Compiler) Version() string {
	var major, minor int32
	c.dev.drv.nvrtcVersion(&major, &minor)
	return fmt.Sprintf("NVRTC %d.%d (%s), %s", major, minor, c.dev.drv.nvrtcLib, c.dev.arch)
}

// Check compiles source and looks its entry up; a rejected source is a
// *device.CompileError with NVRTC's log.
func (c *Compiler) Check(source, entry string, defines []device.Define) error {
	_, _, err := c.dev.build(source, entry, defines)
	return err
}
