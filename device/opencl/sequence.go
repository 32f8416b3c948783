package opencl

import (
	"fmt"

	"discover/device"
)

// sequence is steps enqueued back to back on every Run, with one wait at
// the end: OpenCL has no graphs, and an in-order queue keeps the order.
type sequence struct {
	dev   *clDevice
	steps []device.Step
}

// Sequence checks that every step's kernel is of this device and takes as
// many arguments as it is given.
func (d *clDevice) Sequence(steps []device.Step) (device.Sequence, error) {
	for i, st := range steps {
		k, ok := st.Kernel.(*kernel)
		if !ok || k.dev != d {
			return nil, fmt.Errorf("opencl: sequence step %d: kernel %T is not from this device", i, st.Kernel)
		}
		if len(st.Args) != k.nargs {
			return nil, fmt.Errorf("opencl: sequence step %d: %d args for a %d-arg kernel", i, len(st.Args), k.nargs)
		}
	}
	return &sequence{dev: d, steps: steps}, nil
}

// Run enqueues every step and waits for the queue. Arguments are set
// before each enqueue: OpenCL takes their values at enqueue time, so a
// kernel may appear in several steps.
func (s *sequence) Run() error {
	for i, st := range s.steps {
		if err := s.enqueue(st); err != nil {
			// Let the steps already queued finish before the caller
			// frees their buffers.
			clFinish(s.dev.queue)
			return fmt.Errorf("sequence step %d: %w", i, err)
		}
	}
	return s.dev.wait()
}

func (s *sequence) enqueue(st device.Step) error {
	k := st.Kernel.(*kernel)
	k.mu.Lock()
	defer k.mu.Unlock()
	h, err := k.setArgs(st.Args)
	if err != nil {
		return err
	}
	return k.enqueue(h, st.Launch, nil)
}

func (s *sequence) Release() { s.steps = nil }
