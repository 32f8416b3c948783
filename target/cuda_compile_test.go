package target_test

import (
	"errors"
	"testing"

	"discover/device"
	"discover/internal/devtest"
	"discover/target"
)

func TestEveryCUDASeedCompilesWithNVRTC(t *testing.T) {
	c := devtest.NVRTC(t)
	for _, tg := range target.All() {
		t.Run(tg.Name, func(t *testing.T) {
			if err := c.Check(tg.Seeds[device.CUDA].Source, tg.Entry, tg.Defines()); err != nil {
				t.Fatal(err)
			}
		})
	}
	var ce *device.CompileError
	if err := c.Check("extern \"C\" __global__ void rmsnorm() { undeclared = 1; }", "rmsnorm", nil); !errors.As(err, &ce) || ce.Log == "" {
		t.Fatalf("a broken source must give a compile log, got %v", err)
	}
}
