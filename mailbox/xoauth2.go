package mailbox

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// TokenSource gives the OAuth2 access tokens Options.Tokens logs in with.
type TokenSource interface {
	// Token returns a valid access token, refreshing it when needed.
	Token(ctx context.Context) (string, error)
	// Reject says the server refused token, so that Token does not hand
	// it out again (a provider revokes access tokens with their grant,
	// before they expire).
	Reject(token string)
}

// mechXOAUTH2 is the SASL mechanism of Google and Microsoft
// (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol).
// go-sasl has OAUTHBEARER (RFC 7628) but not this older one, which
// Microsoft 365 alone offers.
const mechXOAUTH2 = "XOAUTH2"

// xoauth2Client is the client side of SASL XOAUTH2: one initial response
// naming the user and the bearer token. A refused token makes the server
// send a JSON error as a challenge, answered with an empty response, after
// which it fails the command; the JSON is kept for the error message.
type xoauth2Client struct {
	user, token string
	serverErr   []byte
}

func (c *xoauth2Client) Start() (mech string, ir []byte, err error) {
	return mechXOAUTH2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	c.serverErr = challenge
	return []byte{}, nil
}

// detail is what the server's error challenge said, for the login error:
// {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}
// says the token was refused, a 400 that it lacks the scope.
func (c *xoauth2Client) detail() string {
	if len(c.serverErr) == 0 {
		return ""
	}
	var e struct {
		Status string `json:"status"`
		Scope  string `json:"scope"`
	}
	if json.Unmarshal(c.serverErr, &e) != nil || e.Status == "" {
		return ""
	}
	d := " (token refused with status " + e.Status
	if e.Scope != "" {
		d += ", scope needed: " + e.Scope
	}
	return d + ")"
}

// offeredAuth lists the SASL mechanisms a server offers, for errors.
func offeredAuth(caps imap.CapSet) string {
	var m []string
	for c := range caps {
		if mech, ok := strings.CutPrefix(string(c), "AUTH="); ok {
			m = append(m, mech)
		}
	}
	if len(m) == 0 {
		return "none"
	}
	slices.Sort(m)
	return strings.Join(m, ", ")
}
