package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"discover/device"
	"discover/kernel"
)

// TestMain lets the test binary act as a worker that speaks the protocol
// but decides by the candidate's source what to do: hang, crash, lose its
// context, or answer.
func TestMain(m *testing.M) {
	if os.Getenv("DISCOVER_FAKE_WORKER") == "1" {
		fakeWorker()
		return
	}
	if os.Getenv("DISCOVER_FAKE_PARENT") == "1" {
		fakeParent()
		return
	}
	os.Exit(m.Run())
}

func fakeWorker() {
	in, out := os.NewFile(3, "requests"), os.NewFile(4, "responses")
	enc := json.NewEncoder(out)
	_ = enc.Encode(hello{Info: device.Info{API: device.OpenCL, Name: "fake"}})
	scanner := bufio.NewScanner(in)
	for scanner.Scan() {
		var req request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			os.Exit(4)
		}
		res := Result{Compiled: true, Correct: true, Reward: 1.5, Speedup: 1.5, Detail: fmt.Sprint(os.Getpid())}
		switch req.Spec.Source {
		case "print":
			// A kernel prints while it runs, well before its result is
			// checked and sent.
			fmt.Println("printed by an earlier candidate")
			time.Sleep(100 * time.Millisecond)
		case "hang":
			time.Sleep(time.Hour)
		case "crash":
			fmt.Println("kernel printf before the crash")
			_ = syscall.Kill(os.Getpid(), syscall.SIGSEGV)
			time.Sleep(time.Hour)
		case "fatal":
			_ = enc.Encode(response{ID: req.ID, Result: Failed(LaunchError, "illegal address"), Fatal: true})
			os.Exit(1)
		}
		_ = enc.Encode(response{ID: req.ID, Result: res})
	}
	// The request pipe closed: release the "device" (slowly, as a driver
	// tearing down a context) and say so.
	if path := os.Getenv("DISCOVER_FAKE_WORKER_RELEASED"); path != "" {
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(path, []byte("released"), 0o644)
	}
}

// Close lets an idle worker release its device and exit before returning,
// so the next worker never overlaps a context being torn down.
func TestCloseWaitsForTheWorkerToRelease(t *testing.T) {
	released := t.TempDir() + "/released"
	t.Setenv("DISCOVER_FAKE_WORKER_RELEASED", released)
	s, err := NewSupervisor(context.Background(), fakeWorkerCommand, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.Evaluate(context.Background(), kernel.Spec{Source: "ok"}, 1); err != nil || !res.Correct {
		t.Fatalf("Evaluate = %+v, %v", res, err)
	}
	s.Close()
	if _, err := os.Stat(released); err != nil {
		t.Errorf("Close returned before the worker released its device: %v", err)
	}
}

func fakeWorkerCommand(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DISCOVER_FAKE_WORKER=1")
	return cmd
}

func TestSupervisorSurvivesHangsCrashesAndLostContexts(t *testing.T) {
	ctx := context.Background()
	sup, err := NewSupervisor(ctx, fakeWorkerCommand, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	if sup.Info().Name != "fake" {
		t.Fatalf("info = %+v", sup.Info())
	}
	eval := func(src string) Result {
		t.Helper()
		res, err := sup.Evaluate(ctx, kernel.Spec{Source: src}, 1)
		if err != nil {
			t.Fatalf("Evaluate(%s): %v", src, err)
		}
		return res
	}
	first := eval("good")
	if !first.Correct || first.Reward != 1.5 {
		t.Fatalf("good candidate: %+v", first)
	}
	for _, tc := range []struct {
		src    string
		reason Reason
		detail string
	}{
		{"hang", Timeout, "no result within 2s"},
		{"crash", Crash, "SIGSEGV"},
		{"fatal", LaunchError, "illegal address"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			res := eval(tc.src)
			if res.Correct || res.Failure != tc.reason || !strings.Contains(res.Detail, tc.detail) {
				t.Fatalf("%s: got %s %q, want %s containing %q", tc.src, res.Failure, res.Detail, tc.reason, tc.detail)
			}
			after := eval("good")
			if !after.Correct {
				t.Fatalf("candidate after %s failed: %+v", tc.src, after)
			}
			if after.Detail == first.Detail {
				t.Fatalf("the worker was not restarted after %s (same pid %s)", tc.src, after.Detail)
			}
			first = after
		})
	}
	eval("print")
	if res := eval("crash"); !strings.Contains(res.Detail, "kernel printf before the crash") {
		t.Errorf("crash report lacks the worker's last output: %q", res.Detail)
	} else if strings.Contains(res.Detail, "earlier candidate") {
		t.Errorf("crash report shows what an earlier candidate printed: %q", res.Detail)
	}
}

func TestSupervisorReportsAWorkerThatCannotStart(t *testing.T) {
	cmd := func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, "/bin/false") }
	if _, err := NewSupervisor(context.Background(), cmd, time.Second); err == nil || !strings.Contains(err.Error(), "worker exited during start") {
		t.Fatalf("err = %v", err)
	}
}

func TestSupervisorStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sup, err := NewSupervisor(ctx, fakeWorkerCommand, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := sup.Evaluate(ctx, kernel.Spec{Source: "hang"}, 1); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
