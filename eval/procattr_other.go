//go:build !linux

package eval

import "syscall"

// workerProcAttr puts a worker in its own process group, so that killing
// the group also ends whatever it started.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
