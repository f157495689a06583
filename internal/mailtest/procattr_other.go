//go:build !linux

package mailtest

import "syscall"

// sysProcAttr: only Linux can tie the master's life to the test binary's.
func sysProcAttr() *syscall.SysProcAttr { return nil }
