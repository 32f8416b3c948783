package eval

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"discover/kernel"
)

// fakeParent is a supervisor process for TestWorkerDiesWithItsParent: it
// prints its worker's pid, then hands it a candidate that hangs.
func fakeParent() {
	ctx := context.Background()
	sup, err := NewSupervisor(ctx, fakeWorkerCommand, time.Hour)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	res, _ := sup.Evaluate(ctx, kernel.Spec{Source: "good"}, 1)
	fmt.Println("worker", res.Detail) // the fake worker answers with its pid
	_, _ = sup.Evaluate(ctx, kernel.Spec{Source: "hang"}, 2)
}

// TestWorkerDiesWithItsParent: a supervisor killed with SIGKILL cannot stop
// its worker, which may be stuck in a kernel that never ends; the worker
// must die with it rather than spin on, orphaned.
func TestWorkerDiesWithItsParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "DISCOVER_FAKE_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, convErr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "worker ")))
	if err != nil || convErr != nil {
		t.Fatalf("parent said %q (%v)", line, err)
	}
	time.Sleep(200 * time.Millisecond) // the worker is in the hanging candidate
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("worker %d still runs 10s after its parent was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie, dead but not yet reaped by
// whoever adopted it, does not count).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestAnswerThenExitIsNotACrash: a worker that loses its device context
// answers (launch_error, fatal) and exits at once. When the answer and the
// exit are both there before the supervisor looks, the answer must win,
// not "worker died". (Go's select picks at random among ready cases, so
// this repeats.)
func TestAnswerThenExitIsNotACrash(t *testing.T) {
	for i := range 20 {
		cmd := exec.Command("true")
		cmd.SysProcAttr = workerProcAttr()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		reqR, reqW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w := &workerProc{cmd: cmd, requests: reqW, responses: make(chan response, 1), done: make(chan struct{}), output: &outputBuffer{}}
		w.responses <- response{ID: 1, Result: Failed(LaunchError, "illegal address"), Fatal: true}
		close(w.done)
		s := &Supervisor{timeout: time.Minute, w: w}
		res, err := s.Evaluate(context.Background(), kernel.Spec{Source: "fatal"}, 1)
		reqR.Close()
		if err != nil || res.Failure != LaunchError || !strings.Contains(res.Detail, "illegal address") {
			t.Fatalf("try %d: got %s %q (%v), want the worker's answer, launch_error", i, res.Failure, res.Detail, err)
		}
	}
}
