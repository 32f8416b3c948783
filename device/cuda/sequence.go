package cuda

import (
	"errors"
	"fmt"

	"discover/device"
)

// sequence is the steps captured in one CUDA graph. The graph's kernel
// nodes hold copies of the arguments, so nothing stays pinned.
type sequence struct {
	dev *cudaDevice
	g   graph // zero once released
}

// Sequence captures the steps, in order, into one graph.
func (d *cudaDevice) Sequence(steps []device.Step) (device.Sequence, error) {
	type launch struct {
		k           *kernel
		p           *params
		grid, block [3]uint32
	}
	launches := make([]launch, len(steps))
	for i, st := range steps {
		k, ok := st.Kernel.(*kernel)
		if !ok || k.dev != d {
			return nil, fmt.Errorf("cuda: sequence step %d: kernel %T is not from this device", i, st.Kernel)
		}
		grid, block, err := geometry(st.Launch)
		if err != nil {
			return nil, fmt.Errorf("sequence step %d: %w", i, err)
		}
		p, err := d.pack(st.Args)
		if err != nil {
			return nil, fmt.Errorf("cuda: sequence step %d: %w", i, err)
		}
		defer p.pin.Unpin()
		launches[i] = launch{k, p, grid, block}
	}
	s := &sequence{dev: d}
	err := d.do(func() error {
		var err error
		s.g, err = d.captureGraph(func() error {
			for i, l := range launches {
				if err := l.k.launch(l.p, l.grid, l.block); err != nil {
					return fmt.Errorf("sequence step %d: %w", i, err)
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

var errSequenceReleased = errors.New("cuda: sequence was released")

// Run replays the graph and waits for it.
func (s *sequence) Run() error {
	return s.dev.do(func() error {
		if s.g.exec == 0 {
			return errSequenceReleased
		}
		if r := s.dev.drv.cuGraphLaunch(s.g.exec, s.dev.stream); r != cuSuccess {
			return s.dev.drv.launchError("cuGraphLaunch", r, false)
		}
		return s.dev.sync()
	})
}

func (s *sequence) Release() {
	s.dev.do(func() error {
		if s.g.exec != 0 {
			s.dev.drv.cuGraphExecDestroy(s.g.exec)
			s.dev.drv.cuGraphDestroy(s.g.graph)
			s.g = graph{}
		}
		return nil
	})
}
