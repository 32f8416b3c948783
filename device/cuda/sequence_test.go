package cuda

import (
	"errors"
	"slices"
	"testing"

	"discover/device"
)

// TestSequenceCapturesStepsInOrder: the steps of a sequence are captured
// once, in order, into one graph with their own arguments and geometry;
// Run replays it and waits; Release destroys it.
func TestSequenceCapturesStepsInOrder(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k1, k2 := compileFake(t, d), compileFake(t, d)
	a, _ := d.Alloc(64)
	b, _ := d.Alloc(64)
	f.nparams = 2
	steps := []device.Step{
		{Kernel: k1, Args: []device.Arg{device.BufferArg(a), device.Uint32Arg(1)}, Launch: device.Launch{Global: [3]int{64, 1, 1}, Local: [3]int{32, 1, 1}}},
		{Kernel: k2, Args: []device.Arg{device.BufferArg(b), device.Uint32Arg(2)}, Launch: device.Launch{Global: [3]int{256, 4, 1}, Local: [3]int{256, 1, 1}}},
		{Kernel: k1, Args: []device.Arg{device.BufferArg(b), device.Uint32Arg(3)}, Launch: device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}},
	}
	f.calls = nil
	seq, err := d.Sequence(steps)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cuStreamBeginCapture", "cuLaunchKernel", "cuLaunchKernel", "cuLaunchKernel", "cuStreamEndCapture", "cuGraphInstantiate"}
	if got := timeCalls(f); !slices.Equal(got, want) {
		t.Errorf("capture calls = %v, want %v", got, want)
	}
	wantLaunches := []fakeLaunch{
		{grid: [3]uint32{2, 1, 1}, block: [3]uint32{32, 1, 1}, params: []uint64{a.(*buffer).ptr, 1}, captured: true},
		{grid: [3]uint32{1, 4, 1}, block: [3]uint32{256, 1, 1}, params: []uint64{b.(*buffer).ptr, 2}, captured: true},
		{grid: [3]uint32{1, 1, 1}, block: [3]uint32{32, 1, 1}, params: []uint64{b.(*buffer).ptr, 3}, captured: true},
	}
	if len(f.launches) != len(wantLaunches) {
		t.Fatalf("launches = %+v", f.launches)
	}
	for i, w := range wantLaunches {
		if got := f.launches[i]; got.grid != w.grid || got.block != w.block || !slices.Equal(got.params, w.params) || !got.captured {
			t.Errorf("launch %d = %+v, want %+v", i, got, w)
		}
	}

	for range 2 {
		f.calls = nil
		if err := seq.Run(); err != nil {
			t.Fatal(err)
		}
		if got := f.called("cuGraphLaunch", "cuStreamSynchronize", "cuLaunchKernel"); !slices.Equal(got, []string{"cuGraphLaunch", "cuStreamSynchronize"}) {
			t.Errorf("Run calls = %v, want a replay and a wait", got)
		}
	}
	f.calls = nil
	seq.Release()
	if got := f.called("cuGraph"); !slices.Equal(got, []string{"cuGraphExecDestroy", "cuGraphDestroy"}) {
		t.Errorf("Release calls = %v", got)
	}
	if err := seq.Run(); err == nil {
		t.Error("Run after Release succeeded")
	}
}

// TestSequenceRefusedLaunchEndsCapture: a step the driver refuses fails the
// sequence with the step's number and leaves the stream out of capture.
func TestSequenceRefusedLaunchEndsCapture(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	k := compileFake(t, d)
	l := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	steps := []device.Step{{Kernel: k, Launch: l}, {Kernel: k, Launch: l}, {Kernel: k, Launch: l}}
	f.launchResult, f.failLaunchAt = 701, 2
	f.calls = nil
	_, err := d.Sequence(steps)
	var le *device.LaunchError
	if !errors.As(err, &le) || le.Code != 701 {
		t.Fatalf("Sequence = %v, want LaunchError 701", err)
	}
	want := []string{"cuStreamBeginCapture", "cuLaunchKernel", "cuLaunchKernel", "cuStreamEndCapture", "cuGraphDestroy"}
	if got := timeCalls(f); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
}

// TestSequenceRejectsBadSteps: a foreign kernel or a bad geometry is refused
// before anything is captured.
func TestSequenceRejectsBadSteps(t *testing.T) {
	f := newFake()
	d := openFake(t, f)
	other := openFake(t, newFake())
	k, foreign := compileFake(t, d), compileFake(t, other)
	ok := device.Launch{Global: [3]int{32, 1, 1}, Local: [3]int{32, 1, 1}}
	for name, steps := range map[string][]device.Step{
		"foreign kernel": {{Kernel: k, Launch: ok}, {Kernel: foreign, Launch: ok}},
		"bad geometry":   {{Kernel: k, Launch: device.Launch{Global: [3]int{33, 1, 1}, Local: [3]int{32, 1, 1}}}},
	} {
		f.calls = nil
		if _, err := d.Sequence(steps); err == nil {
			t.Errorf("%s: Sequence succeeded", name)
		}
		if n := len(f.called("cuStreamBeginCapture")); n != 0 {
			t.Errorf("%s: %d captures begun", name, n)
		}
	}
}
