package device

// Step is one launch of a recorded sequence: a kernel, its arguments and
// its geometry.
type Step struct {
	Kernel Kernel
	Args   []Arg
	Launch Launch
}

// Sequence is a list of launches recorded once and replayed as a whole. A
// model's decode step is tens of launches of kernels that run in a few
// microseconds each, about what a launch from Go costs on the host
// (DESIGN.md): replaying them as one unit keeps host cost out of the
// model-level time, as a real inference engine's graph replay does.
type Sequence interface {
	// Run replays every step once, in order, and waits for the last.
	Run() error
	Release()
}
