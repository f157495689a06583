package mailbox

import (
	"context"
	"fmt"
	"io"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// FetchAllRaw connects as a Watcher would, runs `UID FETCH 1:* BODY.PEEK[]`
// on a read-only selection of opts.Mailbox and discards the bodies. It is
// the baseline for intake benchmarks: the cost of the transfer alone.
func FetchAllRaw(ctx context.Context, opts Options) (messages int, bytes int64, err error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return 0, 0, err
	}
	cn, err := dial(ctx, &opts, defaultDialTimeout, nil)
	if err != nil {
		return 0, 0, err
	}
	stop := context.AfterFunc(ctx, cn.kill)
	defer stop()
	logout := false
	defer func() { cn.close(logout) }()

	err = cn.within(defaultCmdTimeout, func() error {
		_, err := cn.c.Select(opts.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("examine %q: %w", opts.Mailbox, connCtxErr(ctx, err))
	}

	cmd := cn.c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var readErr error
	for {
		stopWatch := cn.watchdog(defaultCmdTimeout)
		msg := cmd.Next()
		stopWatch()
		if msg == nil {
			break
		}
		for item := msg.Next(); item != nil; item = msg.Next() {
			body, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || body.Literal == nil {
				continue
			}
			n, err := io.Copy(io.Discard, body.Literal)
			bytes += n
			if err != nil && readErr == nil {
				readErr = err
			}
		}
		messages++
	}
	if err := cmd.Close(); err != nil {
		return messages, bytes, fmt.Errorf("fetch: %w", connCtxErr(ctx, err))
	}
	if readErr != nil {
		return messages, bytes, fmt.Errorf("fetch: read body: %w", readErr)
	}
	logout = true
	return messages, bytes, nil
}

// connCtxErr prefers ctx's error: when ctx is done the connection was
// closed on purpose, and err only describes the symptom.
func connCtxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
