package mailtest

import "syscall"

// sysProcAttr makes the kernel SIGTERM Dovecot's master when the test binary
// dies without running its cleanups (a panic, a -timeout, a kill), so no
// server outlives its test. Pdeathsig is tied to the thread that started the
// child; the Go runtime does not end its threads unless a goroutine exits
// while locked to one, which mailtest never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
