// Package reliability owns the pieces of claimsd's reliability suite that
// drive the real binary from outside: building it, configuring and running
// it as a process (SIGKILL included), measuring its peak memory, auditing
// its store after the fact, reading the mailboxes it talks to, the crash
// round, hostile messages, the loop partners (a mailing list echo, a
// careless auto-responder) and corpus seeds for the fuzzers, and the table
// of figures the suite prints.
//
// The suite itself is TestReliability in this package's tests: short in
// every `go test ./...`, long with `-tags reliability` (make reliability).
package reliability
