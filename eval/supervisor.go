package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"discover/device"
	"discover/kernel"
)

// WorkerCommand builds the command line of a worker process; the supervisor
// adds the pipes. Tests substitute their own binary.
type WorkerCommand func(ctx context.Context) *exec.Cmd

// Supervisor runs candidates in a worker subprocess, so that a kernel that
// hangs or crashes costs that candidate only: the worker is killed after
// the timeout and a fresh one is started for the next candidate.
type Supervisor struct {
	command      WorkerCommand
	timeout      time.Duration
	startTimeout time.Duration
	info         device.Info

	w      *workerProc
	nextID int
}

type workerProc struct {
	cmd       *exec.Cmd
	requests  *os.File
	responses chan response
	done      chan struct{} // closed when the response pipe ends
	output    *outputBuffer
	waitErr   error
	waitOnce  sync.Once
}

// NewSupervisor starts a worker and waits for it to open the device and
// compile the seed. timeout bounds each candidate.
func NewSupervisor(ctx context.Context, command WorkerCommand, timeout time.Duration) (*Supervisor, error) {
	s := &Supervisor{command: command, timeout: timeout, startTimeout: max(timeout, 2*time.Minute)}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Info is the device the worker opened.
func (s *Supervisor) Info() device.Info { return s.info }

func (s *Supervisor) start(ctx context.Context) error {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return err
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := s.command(ctx)
	cmd.ExtraFiles = []*os.File{reqR, respW}
	output := &outputBuffer{}
	cmd.Stdout = output // kernel printf; kept only for a crash report
	cmd.Stderr = output
	cmd.SysProcAttr = workerProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	reqR.Close()
	respW.Close()
	w := &workerProc{cmd: cmd, requests: reqW, responses: make(chan response, 1), done: make(chan struct{}), output: output}
	helloCh := make(chan hello, 1)
	go func() {
		defer close(w.done)
		dec := json.NewDecoder(bufio.NewReader(respR))
		var h hello
		if err := dec.Decode(&h); err != nil {
			return
		}
		helloCh <- h
		for {
			var r response
			if err := dec.Decode(&r); err != nil {
				return
			}
			w.responses <- r
		}
	}()
	select {
	case h := <-helloCh:
		if h.Error != "" {
			w.kill()
			return errors.New(h.Error)
		}
		s.info, s.w = h.Info, w
		return nil
	case <-w.done:
		w.kill()
		return fmt.Errorf("worker exited during start: %s", w.describeExit())
	case <-time.After(s.startTimeout):
		w.kill()
		return fmt.Errorf("worker did not open the device within %s", s.startTimeout)
	case <-ctx.Done():
		w.kill()
		return ctx.Err()
	}
}

// Evaluate runs one candidate in the worker. The error is non-nil only when
// ctx was cancelled or a worker cannot be started at all; a candidate that
// hangs or crashes is a failed Result.
func (s *Supervisor) Evaluate(ctx context.Context, spec kernel.Spec, nonce uint64) (Result, error) {
	if s.w == nil {
		if err := s.start(ctx); err != nil {
			return Result{}, fmt.Errorf("restart worker: %w", err)
		}
	}
	w := s.w
	s.nextID++
	line, _ := json.Marshal(request{ID: s.nextID, Spec: spec, Nonce: nonce})
	started := time.Now()
	// A crash report shows what this candidate printed, not what the
	// candidates before it did on the same worker. (Output still in the
	// pipe when the previous answer came may land after this; a kernel
	// prints while it runs, long before its result is checked and sent.)
	w.output.reset()
	if _, err := w.requests.Write(append(line, '\n')); err != nil {
		s.discard()
		return s.crashed(w, started), nil
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case r := <-w.responses:
		if r.Fatal {
			s.discard()
		}
		return r.Result, nil
	case <-w.done:
		s.discard()
		// A worker that answers and then exits (a lost context) may have
		// both ready by the time we look: its answer is pushed before done
		// is closed, so it is here if it was sent.
		select {
		case r := <-w.responses:
			return r.Result, nil
		default:
		}
		return s.crashed(w, started), nil
	case <-timer.C:
		s.discard()
		res := Failed(Timeout, fmt.Sprintf("no result within %s; worker killed", s.timeout))
		res.EvalSeconds = time.Since(started).Seconds()
		return res, nil
	case <-ctx.Done():
		s.discard()
		return Result{}, ctx.Err()
	}
}

func (s *Supervisor) crashed(w *workerProc, started time.Time) Result {
	res := Failed(Crash, "worker died: "+w.describeExit())
	res.EvalSeconds = time.Since(started).Seconds()
	return res
}

// discard kills the current worker; the next Evaluate starts a fresh one.
func (s *Supervisor) discard() {
	if s.w != nil {
		s.w.kill()
		s.w = nil
	}
}

// closeGrace is how long Close waits for an idle worker to release its
// device context and exit before killing it.
const closeGrace = 10 * time.Second

// Close stops the worker. It closes the request pipe and waits for the
// worker to release its context and exit, rather than killing it: the
// driver tears a killed process's context down after the fact, while the
// next worker may already be timing on the same GPU.
func (s *Supervisor) Close() {
	if s.w == nil {
		return
	}
	s.w.stop(closeGrace)
	s.w = nil
}

// stop closes the request pipe and waits up to grace for the worker to
// exit, then kills it.
func (w *workerProc) stop(grace time.Duration) {
	w.requests.Close()
	exited := make(chan struct{})
	go func() {
		w.wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(grace):
		w.kill()
		<-exited
	}
}

func (w *workerProc) kill() {
	w.requests.Close()
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	w.wait()
}

func (w *workerProc) wait() {
	w.waitOnce.Do(func() { w.waitErr = w.cmd.Wait() })
}

func (w *workerProc) describeExit() string {
	w.wait()
	msg := "exited"
	if w.waitErr != nil {
		msg = w.waitErr.Error()
	}
	if out := strings.TrimSpace(w.output.String()); out != "" {
		msg += "; output: " + kernel.TrimLog(out)
	}
	return msg
}

// outputBuffer keeps the first and the last bytes a worker printed: the
// head says why it died (a Go runtime crash report starts with the signal),
// the tail what it did last; a printf flood in between is dropped.
type outputBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped bool
}

const outputHead, outputTail = 1024, 1024

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := outputHead - len(b.head); room > 0 {
		take := min(room, len(p))
		b.head = append(b.head, p[:take]...)
		p = p[take:]
	}
	b.tail = append(b.tail, p...)
	if over := len(b.tail) - outputTail; over > 0 {
		b.tail = append(b.tail[:0], b.tail[over:]...)
		b.dropped = true
	}
	return n, nil
}

// reset forgets what was printed so far.
func (b *outputBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.head, b.tail, b.dropped = b.head[:0], b.tail[:0], false
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	sep := ""
	if b.dropped {
		sep = "\n[...]\n"
	}
	return string(b.head) + sep + string(b.tail)
}
