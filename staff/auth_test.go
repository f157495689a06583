package staff

import (
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// ms365 is an Authentication-Results value as Microsoft 365 writes it: no
// authserv-id.
const ms365 = `spf=pass (sender IP is 203.0.113.5) smtp.mailfrom=sklep.example; dkim=pass (signature was verified) header.d=sklep.example;dmarc=pass action=none header.from=sklep.example;compauth=pass reason=100`

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		id      string
		results []Result
		wantErr bool
	}{
		{
			name:    "one result",
			in:      "mx.sklep.example; dmarc=pass (p=none dis=none) header.from=sklep.example",
			id:      "mx.sklep.example",
			results: []Result{{Method: "dmarc", Result: "pass", Props: map[string]string{"header.from": "sklep.example"}}},
		},
		{
			name: "version after id, several results, case",
			in: "MX.Sklep.Example 1; DKIM=Pass header.d=sklep.example header.i=@sklep.example header.s=s1 header.b=Ab/cd+E=;\r\n\t" +
				"SPF=pass smtp.mailfrom=anna@sklep.example; dmarc=pass header.from=sklep.example",
			id: "MX.Sklep.Example",
			results: []Result{
				{Method: "dkim", Result: "pass", Props: map[string]string{"header.d": "sklep.example", "header.i": "@sklep.example", "header.s": "s1", "header.b": "Ab/cd+E="}},
				{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "anna@sklep.example"}},
				{Method: "dmarc", Result: "pass", Props: map[string]string{"header.from": "sklep.example"}},
			},
		},
		{
			name: "nested comments with semicolons, quoted strings, reason",
			in:   `mx.sklep.example (relay; (inner; comment)) ; dkim=fail reason="signature; bad" (2048-bit key; "x") header.d=sklep.example ; spf=none smtp.mailfrom="john doe"@sklep.example`,
			id:   "mx.sklep.example",
			results: []Result{
				{Method: "dkim", Result: "fail", Props: map[string]string{"reason": "signature; bad", "header.d": "sklep.example"}},
				{Method: "spf", Result: "none", Props: map[string]string{"smtp.mailfrom": "john doe@sklep.example"}},
			},
		},
		{
			name: "none",
			in:   "mx.sklep.example 1; none",
			id:   "mx.sklep.example",
		},
		{
			name:    "quoted authserv-id, method version, trailing semicolon",
			in:      `"mx.sklep.example"; dkim/1=pass header.d=sklep.example;`,
			id:      "mx.sklep.example",
			results: []Result{{Method: "dkim", Result: "pass", Props: map[string]string{"header.d": "sklep.example"}}},
		},
		{
			name: "Microsoft 365 without authserv-id",
			in:   ms365,
			id:   "",
			results: []Result{
				{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "sklep.example"}},
				{Method: "dkim", Result: "pass", Props: map[string]string{"header.d": "sklep.example"}},
				{Method: "dmarc", Result: "pass", Props: map[string]string{"action": "none", "header.from": "sklep.example"}},
				{Method: "compauth", Result: "pass", Props: map[string]string{"reason": "100"}},
			},
		},
		{
			name:    "value after whitespace",
			in:      "mx.sklep.example; dmarc=pass header.from= sklep.example",
			id:      "mx.sklep.example",
			results: []Result{{Method: "dmarc", Result: "pass", Props: map[string]string{"header.from": "sklep.example"}}},
		},
		{name: "empty", in: "", wantErr: true},
		{name: "only spaces and comment", in: "  (x) ", wantErr: true},
		{name: "id without results", in: "mx.sklep.example", id: "mx.sklep.example", wantErr: true},
		{name: "text after id", in: "mx.sklep.example dkim=pass; dmarc=pass", id: "mx.sklep.example", wantErr: true},
		{name: "unterminated comment", in: "mx.sklep.example; dkim=pass (oops", id: "mx.sklep.example", wantErr: true},
		{name: "unterminated quote", in: `mx.sklep.example; dkim=pass reason="oops`, id: "mx.sklep.example", wantErr: true},
		{name: "stray paren", in: "mx.sklep.example; dkim=pass )", id: "mx.sklep.example", wantErr: true},
		{name: "resinfo without result", in: "mx.sklep.example; dkim=", id: "mx.sklep.example", wantErr: true},
		{name: "resinfo without method", in: "mx.sklep.example; =pass", id: "mx.sklep.example", wantErr: true},
		{name: "garbage resinfo", in: "mx.sklep.example; hello world", id: "mx.sklep.example", wantErr: true},
		{name: "binary garbage", in: "\x00\xff;;==//", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, results, err := ParseAuthResults(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if id != tt.id {
				t.Errorf("id = %q, want %q", id, tt.id)
			}
			if !reflect.DeepEqual(results, tt.results) {
				t.Errorf("results =\n%#v\nwant\n%#v", results, tt.results)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	ours := AuthPolicy{AuthservIDs: []string{"mx.sklep.example"}, Domains: []string{"sklep.example", "serwis.sklep.example"}}
	with := func(p AuthPolicy, f func(*AuthPolicy)) AuthPolicy { f(&p); return p }
	ms := with(ours, func(p *AuthPolicy) { p.AllowMissingAuthservID = true })

	tests := []struct {
		name      string
		ar        []string // Authentication-Results values, topmost first
		from      string
		folder    string
		p         AuthPolicy
		authentic bool
		reason    string // a substring of Reason
	}{
		{
			name: "dmarc pass from our id",
			ar:   []string{"mx.sklep.example; spf=pass smtp.mailfrom=sklep.example; dmarc=pass (p=reject) header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, authentic: true,
			reason: "dmarc=pass for sklep.example by mx.sklep.example",
		},
		{
			name: "authserv-id compared case-insensitively, From with display name",
			ar:   []string{"MX.SKLEP.EXAMPLE; dmarc=pass header.from=Sklep.Example"},
			from: "Anna Nowak <Anna@Sklep.Example>", p: ours, authentic: true,
		},
		{
			name: "dkim pass aligned",
			ar:   []string{"mx.sklep.example; dkim=pass header.d=sklep.example header.s=s1"},
			from: "anna@sklep.example", p: ours, authentic: true, reason: "dkim=pass",
		},
		{
			name: "dkim pass relaxed alignment: From in a subdomain of header.d",
			ar:   []string{"mx.sklep.example; dkim=pass header.d=sklep.example"},
			from: "jan@serwis.sklep.example", p: ours, authentic: true,
		},
		{
			name: "dkim pass via header.i",
			ar:   []string{"mx.sklep.example; dkim=pass header.i=@sklep.example"},
			from: "anna@sklep.example", p: ours, authentic: true,
		},
		{
			name: "dkim pass for another domain is not aligned",
			ar:   []string{"mx.sklep.example; dkim=pass header.d=mailer.example; dmarc=none header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, reason: "no dmarc or dkim=pass aligned",
		},
		{
			name: "dkim pass for a parent that is not a company domain",
			ar:   []string{"mx.sklep.example; dkim=pass header.d=example"},
			from: "anna@sklep.example", p: ours,
		},
		{
			name: "dmarc pass for another header.from",
			ar:   []string{"mx.sklep.example; dmarc=pass header.from=evil.example"},
			from: "anna@sklep.example", p: ours,
		},
		{
			name: "dmarc fail",
			ar:   []string{"mx.sklep.example; dmarc=fail (p=reject) header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, reason: "dmarc=fail",
		},
		{
			name: "dmarc fail vetoes an aligned dkim pass",
			ar:   []string{"mx.sklep.example; dkim=pass header.d=sklep.example; dmarc=fail header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, reason: "dmarc=fail",
		},
		{
			name: "methods restricted to dkim: dmarc pass does not count",
			ar:   []string{"mx.sklep.example; dmarc=pass header.from=sklep.example"},
			from: "anna@sklep.example", p: with(ours, func(p *AuthPolicy) { p.Methods = []string{"DKIM"} }),
			reason: "no dkim=pass",
		},
		{
			name: "empty methods: nothing counts",
			ar:   []string{"mx.sklep.example; dmarc=pass header.from=sklep.example"},
			from: "anna@sklep.example", p: with(ours, func(p *AuthPolicy) { p.Methods = []string{} }),
		},
		{
			name: "customer-injected header with a look-alike id",
			ar:   []string{"mx.sklep.example.evil; dmarc=pass header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, reason: "no Authentication-Results from a trusted authserv-id",
		},
		{
			name: "ours on top says fail, a forged one below with our id says pass",
			ar: []string{
				"mx.sklep.example; dmarc=fail header.from=sklep.example",
				"mx.sklep.example; dmarc=pass header.from=sklep.example",
			},
			from: "anna@sklep.example", p: ours, reason: "dmarc=fail",
		},
		{
			name: "ours on top has no pass, a forged one below with our id says pass",
			ar: []string{
				"mx.sklep.example; spf=pass smtp.mailfrom=sklep.example",
				"mx.sklep.example; dkim=pass header.d=sklep.example",
			},
			from: "anna@sklep.example", p: ours,
		},
		{
			name: "another server's header above ours is skipped",
			ar: []string{
				"imap.sklep.example; none",
				"mx.sklep.example; dmarc=pass header.from=sklep.example",
			},
			from: "anna@sklep.example", p: ours, authentic: true,
		},
		{
			name: "our header unreadable",
			ar:   []string{"mx.sklep.example; dmarc=pass (unterminated header.from=sklep.example"},
			from: "anna@sklep.example", p: ours, reason: "unreadable",
		},
		{
			name: "garbage values",
			ar:   []string{"", ";;;", "((((", "\x00\xff=", "mx.sklep.example"},
			from: "anna@sklep.example", p: ours,
		},
		{
			name: "Microsoft 365 form, allowed",
			ar:   []string{ms365, "mx.sklep.example; dmarc=fail header.from=sklep.example"},
			from: "anna@sklep.example", p: ms, authentic: true, reason: "without authserv-id",
		},
		{
			name: "Microsoft 365 form, not allowed",
			ar:   []string{ms365},
			from: "anna@sklep.example", p: ours, reason: "no Authentication-Results from a trusted authserv-id",
		},
		{
			name: "Microsoft 365 form not topmost is ignored",
			ar:   []string{"other.example; none", ms365},
			from: "anna@sklep.example", p: ms,
		},
		{
			name: "Microsoft 365 form not topmost, below ours, is ignored",
			ar:   []string{"mx.sklep.example; spf=pass smtp.mailfrom=sklep.example", ms365},
			from: "anna@sklep.example", p: ms,
		},
		{
			name: "From domain not a company domain",
			ar:   []string{"mx.sklep.example; dmarc=pass header.from=evil.example"},
			from: "boss@evil.example", p: ours, reason: "From domain evil.example is not a company domain",
		},
		{
			name: "From without domain",
			from: "anna", p: ours, reason: "no domain",
		},
		{
			name:      "trusted folder",
			from:      "anna@sklep.example",
			folder:    "internal",
			p:         with(ours, func(p *AuthPolicy) { p.TrustedMailboxes = []string{"Internal"} }),
			authentic: true, reason: "arrived in trusted folder internal",
		},
		{
			name:   "trusted folder still needs a company domain",
			from:   "boss@evil.example",
			folder: "Internal",
			p:      with(ours, func(p *AuthPolicy) { p.TrustedMailboxes = []string{"Internal"} }),
		},
		{
			name:   "other folder",
			from:   "anna@sklep.example",
			folder: "INBOX",
			p:      with(ours, func(p *AuthPolicy) { p.TrustedMailboxes = []string{"Internal"} }),
		},
		{
			// A forwarded message/rfc822 part may carry a valid A-R field;
			// only the top-level header is passed in, and it has none.
			name: "forwarded message with A-R only inside: no evidence",
			from: "anna@sklep.example", p: ours, reason: "no Authentication-Results",
		},
		{
			name: "zero policy trusts nothing",
			ar:   []string{"mx.sklep.example; dmarc=pass header.from=sklep.example"},
			from: "anna@sklep.example",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := textproto.MIMEHeader{}
			for _, v := range tt.ar {
				h.Add("Authentication-Results", v)
			}
			h.Add("From", tt.from)
			got := Authenticate(h, tt.from, tt.folder, tt.p)
			if got.Authentic != tt.authentic {
				t.Errorf("Authentic = %v, want %v (reason %q)", got.Authentic, tt.authentic, got.Reason)
			}
			if !strings.Contains(got.Reason, tt.reason) || got.Reason == "" {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestAuthenticateNilHeader(t *testing.T) {
	p := AuthPolicy{AuthservIDs: []string{"mx.sklep.example"}, Domains: []string{"sklep.example"}}
	if v := Authenticate(nil, "anna@sklep.example", "INBOX", p); v.Authentic {
		t.Fatalf("nil header: %+v", v)
	}
}
