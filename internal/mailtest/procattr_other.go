//go:build !linux

package mailtest

import "syscall"

// sysProcAttr puts Dovecot's master and its children in a process group of
// their own, so Stop can signal exactly them.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// groupAlive reports whether process group pgid still has a member. Other
// systems get no /proc scan, so the master itself (except) counts too.
func groupAlive(pgid, except int) bool { return syscall.Kill(-pgid, 0) != syscall.ESRCH }
