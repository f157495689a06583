package mailbox

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// FindSpecialUse returns the name of the folder with a special-use
// attribute (RFC 6154), e.g. imap.MailboxAttrSent: folder names are
// localised ("Wysłane", "Sent Items"), the attribute is not (DOMAIN §7).
// It returns "" when no folder has it.
func FindSpecialUse(ctx context.Context, opts Options, attr imap.MailboxAttr) (string, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return "", err
	}
	cn, err := dial(ctx, &opts, defaultDialTimeout, nil)
	if err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, cn.kill)
	defer stop()
	logout := false
	defer func() { cn.close(logout) }()
	var found string
	err = cn.within(defaultCmdTimeout, func() error {
		var listOpts *imap.ListOptions
		if cn.caps.Has(imap.CapSpecialUse) {
			listOpts = &imap.ListOptions{ReturnSpecialUse: true}
		}
		boxes, err := cn.c.List("", "*", listOpts).Collect()
		if err != nil {
			return err
		}
		for _, b := range boxes {
			for _, a := range b.Attrs {
				if a == attr && found == "" {
					found = b.Mailbox
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list folders: %w", connCtxErr(ctx, err))
	}
	logout = true
	return found, nil
}
