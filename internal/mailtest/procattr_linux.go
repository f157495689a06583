package mailtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// sysProcAttr puts Dovecot's master and its children in a process group of
// their own, so Stop can signal exactly them, and makes the kernel SIGTERM the
// master when the test binary dies without running its cleanups (a panic, a
// -timeout, a kill). Pdeathsig is tied to the thread that started the child;
// the Go runtime does not end its threads unless a goroutine exits while
// locked to one, which mailtest never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// groupAlive reports whether process group pgid has a member other than
// process except that is not a zombie. Members that outlive the master are
// reparented to PID 1, which in a container need not reap them promptly,
// and kill(-pgid, 0) succeeds for zombies.
func groupAlive(pgid, except int) bool {
	if err := syscall.Kill(-pgid, 0); err == syscall.ESRCH {
		return false
	}
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return true
	}
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces and ")".
		i := bytes.LastIndexByte(data, ')')
		j := bytes.IndexByte(data, ' ')
		if i < 0 || j < 0 {
			continue
		}
		f := bytes.Fields(data[i+1:])
		if len(f) < 3 {
			continue
		}
		pid, _ := strconv.Atoi(string(data[:j]))
		if g, _ := strconv.Atoi(string(f[2])); g == pgid && pid != except && string(f[0]) != "Z" {
			return true
		}
	}
	return false
}
