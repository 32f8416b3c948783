//go:build linux

package eval

import "syscall"

// workerProcAttr puts a worker in its own process group, so that killing
// the group also ends whatever it started, and has the kernel SIGKILL it
// when its parent dies: a supervisor that is itself SIGKILLed (kill -9, the
// OOM killer, a CI timeout) cannot kill its worker, which may be spinning
// in a hostile kernel forever. (Pdeathsig fires when the thread that
// started the worker exits; Go only ends threads locked to a goroutine,
// and starting a process never runs on one.)
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
