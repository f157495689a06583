package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/oauthtoken"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// credentials watches the OAuth2 credentials of the mail servers that log
// in with XOAUTH2 (imap.auth, smtp.auth). It hands the mailbox watchers
// and the SMTP transport their token sources and sees every token they
// get. When a provider refuses a credential (revoked, expired), the
// problem shows in the health checks and the supervisors get one mail for
// it; the store remembers that the mail went, so neither retries nor a
// restart send it again. Once the credential works again both are
// cleared, and a later refusal is a new episode with a new mail.
type credentials struct {
	db     *store.DB
	notify credentialNotifier
	wake   func() // wakes the sender once a mail is queued
	log    *slog.Logger
	now    func() time.Time
	// imap and smtp are nil for a server that logs in with a password.
	imap, smtp *watchedTokens

	mu sync.Mutex
	// refused mirrors the store: the episodes whose mail was queued, by
	// server.
	refused map[string]refusal
}

// credentialNotifier queues the supervisors' mail (outbox.Responder).
type credentialNotifier interface {
	NotifyCredential(tx *store.Tx, p outbox.CredentialProblem, now time.Time) (int, error)
}

// refusal is what the store keeps of a refused credential.
type refusal struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
	Mailed int       `json:"mailed"` // mails queued to supervisors
}

// refusalKey is the store value recording server's refused credential.
func refusalKey(server string) string { return "oauth2_refused_" + server }

// newCredentials builds the token sources the configuration asks for
// (one, shared, when imap and smtp name the same credential) and reads
// the refusals recorded before a restart.
func newCredentials(cfg *config.Config, db *store.DB, notify credentialNotifier, wake func(), log *slog.Logger, now func() time.Time) (*credentials, error) {
	c := &credentials{db: db, notify: notify, wake: wake, log: log, now: now, refused: map[string]refusal{}}
	var imapSrc *oauthtoken.Source
	if cfg.IMAP.Auth == config.AuthXOAUTH2 {
		imapSrc = newTokenSource(cfg.IMAP.OAuth2, log)
		c.imap = &watchedTokens{server: templates.ServerIMAP, account: cfg.IMAP.Username, oauth: cfg.IMAP.OAuth2, src: imapSrc, c: c}
	}
	if cfg.SMTP.Host != "" && cfg.SMTP.Auth == config.AuthXOAUTH2 {
		src := imapSrc
		if src == nil || !sameCredential(cfg.IMAP.OAuth2, cfg.SMTP.OAuth2) {
			src = newTokenSource(cfg.SMTP.OAuth2, log)
		}
		c.smtp = &watchedTokens{server: templates.ServerSMTP, account: cfg.SMTP.Username, oauth: cfg.SMTP.OAuth2, src: src, c: c}
	}
	err := db.View(func(tx *store.Tx) error {
		for _, server := range []string{templates.ServerIMAP, templates.ServerSMTP} {
			data := tx.Value(refusalKey(server))
			if data == nil {
				continue
			}
			var r refusal
			if err := json.Unmarshal(data, &r); err != nil {
				return fmt.Errorf("%s: %w", refusalKey(server), err)
			}
			c.refused[server] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("oauth2: read the recorded credential refusals: %w", err)
	}
	return c, nil
}

// newTokenSource is the token source of one oauth2 section; its clock is
// the wall clock, which access tokens expire by.
func newTokenSource(o config.OAuth2, log *slog.Logger) *oauthtoken.Source {
	warnUnwritable(o.RefreshTokenFile, log)
	return oauthtoken.New(oauthtoken.Config{
		TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Scopes: o.Scopes, RefreshTokenFile: o.RefreshTokenFile, Log: log,
	})
}

// warnUnwritable warns at start when a rotated refresh token could not be
// saved next to file (a read-only /etc under the systemd unit's
// ProtectSystem=strict): Microsoft rotates them, and one kept only in
// memory is lost at the next restart.
func warnUnwritable(file string, log *slog.Logger) {
	f, err := os.CreateTemp(filepath.Dir(file), ".claimsd-write-check-*")
	if err != nil {
		log.Warn("oauth2: the refresh token's directory is not writable; a token the provider rotates cannot be saved",
			"file", file, "err", err, "fix", "keep the refresh token file in a directory claimsd may write to, e.g. data_dir")
		return
	}
	f.Close()
	os.Remove(f.Name())
}

// sameCredential reports whether two sections name the same credential,
// which one source then serves: one token cache and one writer of the
// refresh token file.
func sameCredential(a, b config.OAuth2) bool {
	return a.TokenURL == b.TokenURL && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		a.RefreshTokenFile == b.RefreshTokenFile && slices.Equal(a.Scopes, b.Scopes)
}

// startupTokens is a token source for a lookup before the daemon is
// wired (the Sent folder), not watched: a refusal there fails the start
// with its error. nil when imap logs in with a password.
func startupTokens(c config.IMAP, log *slog.Logger) mailbox.TokenSource {
	if c.Auth != config.AuthXOAUTH2 {
		return nil
	}
	return newTokenSource(c.OAuth2, log)
}

// imapTokens is what the mailbox watchers log in with; nil for a password.
func (c *credentials) imapTokens() mailbox.TokenSource {
	if c.imap == nil {
		return nil
	}
	return c.imap
}

// smtpTokens is what the SMTP transport logs in with; nil for a password.
func (c *credentials) smtpTokens() outbox.TokenSource {
	if c.smtp == nil {
		return nil
	}
	return c.smtp
}

// checks are the health checks of the watched credentials, one a server.
func (c *credentials) checks() []func(time.Time) error {
	var out []func(time.Time) error
	for _, w := range []*watchedTokens{c.imap, c.smtp} {
		if w != nil {
			out = append(out, func(time.Time) error { return c.check(w) })
		}
	}
	return out
}

// check fails while w's credential is refused.
func (c *credentials) check(w *watchedTokens) error {
	c.mu.Lock()
	r, ok := c.refused[w.server]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return fmt.Errorf("%s.oauth2: the provider refuses claimsd's credential for %s since %s: %s; fix: authorise claimsd again and write the new refresh token to %s (no restart needed)",
		w.server, w.account, r.Since.Format(time.RFC3339), r.Reason, w.oauth.RefreshTokenFile)
}

// works ends w's refusal episode, if one is recorded: the next refusal
// mails the supervisors again.
func (c *credentials) works(w *watchedTokens) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.refused[w.server]
	if !ok {
		return
	}
	if err := c.db.Update(func(tx *store.Tx) error { return tx.DeleteValue(refusalKey(w.server)) }); err != nil {
		// Kept in memory: the next success tries again.
		c.log.Error("oauth2: credential works again, but clearing its refusal failed", "server", w.server, "err", err)
		return
	}
	delete(c.refused, w.server)
	c.log.Info("oauth2: credential works again", "server", w.server, "account", w.account, "refused_since", r.Since)
}

// refuse records w's refused credential and queues the supervisors'
// mail, once per episode.
func (c *credentials) refuse(w *watchedTokens, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.refused[w.server]; ok {
		return
	}
	now := c.now()
	r := refusal{Since: now, Reason: refusalReason(cause)}
	err := c.db.Update(func(tx *store.Tx) error {
		n, err := c.notify.NotifyCredential(tx, outbox.CredentialProblem{
			Server: w.server, Account: w.account, Provider: w.oauth.Provider, Since: now,
			Reason: r.Reason, RefreshTokenFile: w.oauth.RefreshTokenFile,
		}, now)
		if err != nil {
			return err
		}
		r.Mailed = n
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return tx.PutValue(refusalKey(w.server), data)
	})
	if err != nil {
		// Not recorded: the next refusal tries again.
		c.log.Error("oauth2: the provider refuses the credential, and telling the supervisors failed",
			"server", w.server, "account", w.account, "refusal", cause, "err", err)
		return
	}
	c.refused[w.server] = r
	msg := "oauth2: the provider refuses the credential; supervisors told"
	if r.Mailed == 0 {
		msg = "oauth2: the provider refuses the credential; no supervisor or team address to tell"
	}
	c.log.Error(msg, "server", w.server, "account", w.account, "mails", r.Mailed, "err", cause,
		"fix", "authorise claimsd again and write the new refresh token to "+w.oauth.RefreshTokenFile)
	if r.Mailed > 0 && c.wake != nil {
		c.wake()
	}
}

// refusalReason is what the provider said, for the mail and the health
// check: the OAuth2 error code and description, else the error.
func refusalReason(err error) string {
	var e *oauthtoken.Error
	if errors.As(err, &e) && e.Code != "" {
		if e.Description != "" {
			return e.Code + ": " + e.Description
		}
		return e.Code
	}
	return err.Error()
}

// watchedTokens is one server's token source as the credentials see it:
// every token it hands out says the credential works, every refusal
// starts (or continues) an episode. A temporary failure (the network, the
// provider's outage) says nothing about the credential.
type watchedTokens struct {
	server, account string
	oauth           config.OAuth2
	src             *oauthtoken.Source
	c               *credentials
}

func (w *watchedTokens) Token(ctx context.Context) (string, error) {
	tok, err := w.src.Token(ctx)
	switch {
	case err == nil:
		w.c.works(w)
	case oauthtoken.Refused(err):
		w.c.refuse(w, err)
	}
	return tok, err
}

func (w *watchedTokens) Reject(token string) { w.src.Reject(token) }
