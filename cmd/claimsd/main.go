// Command claimsd is the claims desk daemon and its command line: it runs
// the intake (`run`), answers questions about cases (`cases`, `messages`),
// checks configuration (`config check`) and shows the whole flow on an
// embedded mail server (`demo`). main wires the adapters (IMAP, bbolt, the
// clock, the control socket) around the pure packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3").
var version = ""

const usage = `claimsd: an email-driven claims desk.

Usage:
  claimsd [--config FILE] COMMAND [flags]

Commands:
  run [--once] [--now RFC3339]     run the daemon (or process waiting mail, due deadlines and mail once, and exit)
  cases list [--status S] [--overdue] [--due-before DATE] [--json]
                                   list cases (deadline filters read the deadline indexes)
  cases show ID [--json]           show a case with its messages
  cases status ID STATUS           set open, waiting (pauses the first-answer clock), resolved or rejected
  messages list [--unfiled|--failed] [--json]
                                   messages kept outside cases, or that did not parse
  outbox list [--status S] [--json]
                                   outgoing mail and its delivery state
  outbox show ID                   one outgoing mail as it is sent (headers and body)
  outbox retry ID                  send a failed, bounced or suppressed mail again now
  classifier eval DIR [--json] [--misses] [--rules FILE] [--train DIR]
                                   score the classifier on labelled .eml files (X-Expected-* headers)
  classifier train DIR [--reset] [--dry-run]
                                   teach the stored model from labelled .eml files (category and remedy)
  classifier rules                 print the built-in classifier rules (a start for classifier.rules_file)
  report [--from DATE --to DATE] [--format text|csv|xlsx|json] [--out FILE] [--lang pl|en]
                                   cases opened, closed and answered on time, backlog, breakdowns (default: last full week)
  stats [--json]                   counters and mailbox state
  gdpr export EMAIL [--out FILE]   everything held about a person, in one zip
  gdpr erase EMAIL [--dry-run] [--json]
                                   erase or restrict a person's data, audited (daemon stopped; dry run any time)
  gdpr retention [--dry-run] [--now RFC3339] [--json]
                                   purge cases past retention.years and compact (daemon stopped; dry run any time)
  gdpr audit [--json]              erasures and retention runs (the person only as a keyed hash)
  backup FILE                      online backup into one file, while the daemon runs (.tar; .tar.gz compressed)
  restore [--force] [--ignore-problems] FILE
                                   replace data_dir with a backup, verified first (daemon stopped)
  verify [--backup FILE] [--json]  check the store's pages, indexes and raw mail, or a backup file
  config check                     validate the configuration
  config example                   print a complete example configuration
  demo [--serve]                   run the whole flow on an in-process IMAP and SMTP server
  version                          print the version

The configuration file comes from --config or CLAIMSD_CONFIG.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit status; commands return it for usage errors.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func usageErr(format string, args ...any) error {
	return exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("claimsd", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := global.String("config", os.Getenv("CLAIMSD_CONFIG"), "configuration file")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	env := &cli{ctx: ctx, stdout: stdout, stderr: stderr, configPath: *configPath}
	var err error
	switch cmd, cmdArgs := rest[0], rest[1:]; cmd {
	case "run":
		err = env.run(cmdArgs)
	case "cases":
		err = env.cases(cmdArgs)
	case "messages":
		err = env.messages(cmdArgs)
	case "outbox":
		err = env.outbox(cmdArgs)
	case "classifier":
		err = env.classifierCmd(cmdArgs)
	case "stats":
		err = env.stats(cmdArgs)
	case "config":
		err = env.config(cmdArgs)
	case "demo":
		err = env.demo(cmdArgs)
	case "report":
		err = env.report(cmdArgs)
	case "gdpr":
		err = env.gdpr(cmdArgs)
	case "backup":
		err = env.backup(cmdArgs)
	case "restore":
		err = env.restore(cmdArgs)
	case "verify":
		err = env.verify(cmdArgs)
	case "version":
		fmt.Fprintln(stdout, "claimsd", versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageErr("unknown command %q (see claimsd help)", cmd)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "claimsd:", err)
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// cli carries what every command needs.
type cli struct {
	ctx        context.Context
	stdout     io.Writer
	stderr     io.Writer
	configPath string
}
