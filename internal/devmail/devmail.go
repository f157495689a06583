// Package devmail runs throwaway mail servers in-process on loopback: an
// IMAP server backed by memory (go-imap's imapmemserver) and an SMTP sink
// that records what it is sent. `claimsd demo` and the tests use them so
// that real sockets and real protocol code are exercised without any
// outside service. Nothing here is meant to face a network: both servers
// accept plain-text logins because they only listen on 127.0.0.1.
package devmail

import (
	"fmt"
	"log/slog"
	"strings"
)

// printfLogger adapts the Printf-style loggers go-imap and go-smtp want to
// slog, so server-side errors land in the caller's log.
type printfLogger struct {
	log *slog.Logger
}

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}

func (l printfLogger) Println(args ...any) {
	l.log.Warn(strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
}

// orDiscard lets callers pass a nil logger.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
