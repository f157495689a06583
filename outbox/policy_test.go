package outbox

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/message"
)

func TestDecideAck(t *testing.T) {
	l := Limits{MaxPerRecipient: 5, MaxPerCase: 3, Window: 24 * time.Hour, MaxAge: 72 * time.Hour}
	base := AckInput{Enabled: true, Kind: classifier.KindCustomer, NewCase: true, ThreadedBy: "new_case", Recipient: "jan@example.com"}
	with := func(f func(*AckInput)) AckInput { in := base; f(&in); return in }
	tests := []struct {
		name       string
		in         AckInput
		send, caps bool
		reason     string
	}{
		{"new complaint", base, true, false, "new complaint"},
		{"turned off", with(func(in *AckInput) { in.Enabled = false }), false, false, "turned off"},
		{"auto reply", with(func(in *AckInput) { in.Kind, in.KindReason = classifier.KindAutoReply, "Auto-Submitted: auto-replied" }), false, false, "no acknowledgement to auto_reply mail (Auto-Submitted: auto-replied)"},
		{"bounce", with(func(in *AckInput) { in.Kind = classifier.KindBounce }), false, false, "bounce mail"},
		{"bulk", with(func(in *AckInput) { in.Kind = classifier.KindBulk }), false, false, "bulk mail"},
		{"own", with(func(in *AckInput) { in.Kind = classifier.KindOwn }), false, false, "own mail"},
		{"staff", with(func(in *AckInput) { in.Kind = classifier.KindStaff }), false, false, "staff mail"},
		{"reply in open case", with(func(in *AckInput) { in.NewCase, in.ThreadedBy = false, "references" }), false, false, "joined an existing case (references)"},
		{"no address", with(func(in *AckInput) { in.Recipient = "" }), false, false, "no address"},
		{"recipient cap reached", with(func(in *AckInput) { in.RecentToRecipient = 5 }), false, true, "rate cap: 5 automatic mails to jan@example.com within 24h0m0s (auto_mail.max_per_recipient)"},
		{"recipient below cap", with(func(in *AckInput) { in.RecentToRecipient = 4 }), true, false, "new complaint"},
		{"old complaint", with(func(in *AckInput) { in.Age = 100 * time.Hour }), false, false, "received 100h0m0s ago, more than 72h0m0s (auto_mail.max_age)"},
		{"recent enough", with(func(in *AckInput) { in.Age = 71 * time.Hour }), true, false, "new complaint"},
		{"case cap reached", with(func(in *AckInput) { in.RecentForCase = 3 }), false, true, "auto_mail.max_per_case"},
		// Kind is decided before caps: automatic mail is never even counted.
		{"auto reply over cap", with(func(in *AckInput) { in.Kind, in.RecentToRecipient = classifier.KindAutoReply, 99 }), false, false, "auto_reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := DecideAck(tt.in, l)
			if v.Send != tt.send || v.Capped != tt.caps || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("DecideAck = %+v, want send=%v capped=%v reason containing %q", v, tt.send, tt.caps, tt.reason)
			}
		})
	}
}

func TestReplySubject(t *testing.T) {
	const tag = "[CLM-2026-000123]"
	tests := []struct{ in, want string }{
		{"Pęknięty ekran", "Re: Pęknięty ekran [CLM-2026-000123]"},
		{"Re: Pęknięty ekran", "Re: Pęknięty ekran [CLM-2026-000123]"},
		{"ODP: RE: Fwd: Pęknięty ekran", "Re: Pęknięty ekran [CLM-2026-000123]"},
		{"Re[2]: Pęknięty ekran", "Re: Pęknięty ekran [CLM-2026-000123]"},
		{"Pęknięty ekran [clm-2026-000123]", "Re: Pęknięty ekran [clm-2026-000123]"},
		{"", "Re: Reklamacja [CLM-2026-000123]"},
		{"   ", "Re: Reklamacja [CLM-2026-000123]"},
		{"Hello\r\nBcc: evil@example.com", "Re: Hello Bcc: evil@example.com [CLM-2026-000123]"},
		{"Re: [CLM-2026-000001] refund to me", "Re: refund to me [CLM-2026-000123]"},
		{"Fwd: [CLM-2026-000001]", "Re: Reklamacja [CLM-2026-000123]"},
		// "Ref" alone is a prefix only with a colon.
		{"Reference manual broken", "Re: Reference manual broken [CLM-2026-000123]"},
	}
	for _, tt := range tests {
		if got := ReplySubject(tt.in, tag, "Reklamacja"); got != tt.want {
			t.Errorf("ReplySubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("x", 2000)
	if got := ReplySubject(long, tag, "R"); len(got) > 300 {
		t.Errorf("subject of %d bytes from a 2000-byte one", len(got))
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		inReplyTo []string
		refs      []string
		wantIRT   string
		wantRefs  []string
	}{
		{"first message", "a@x", nil, nil, "a@x", []string{"a@x"}},
		{"reply with references", "c@x", []string{"b@x"}, []string{"a@x", "b@x"}, "c@x", []string{"a@x", "b@x", "c@x"}},
		{"reply with only in-reply-to", "c@x", []string{"b@x"}, nil, "c@x", []string{"b@x", "c@x"}},
		// RFC 5322 §3.6.4: several In-Reply-To ids are not a chain.
		{"several in-reply-to", "c@x", []string{"a@x", "b@x"}, nil, "c@x", []string{"c@x"}},
		{"no message id", "", nil, []string{"a@x"}, "", []string{"a@x"}},
		{"hostile ids dropped", "c@x\r\nBcc: e@x", nil, []string{"a@x", "<b@x>", "d @x"}, "", []string{"a@x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			irt, refs := References(tt.id, tt.inReplyTo, tt.refs)
			if irt != tt.wantIRT || !slices.Equal(refs, tt.wantRefs) {
				t.Errorf("References = %q %q, want %q %q", irt, refs, tt.wantIRT, tt.wantRefs)
			}
		})
	}
}

func TestNeedsOf(t *testing.T) {
	photo := message.Attachment{Name: "ekran.jpg", ContentType: "image/jpeg", Size: 900 << 10}
	logo := message.Attachment{Name: "logo.png", ContentType: "image/png", Size: 4 << 10, Inline: true}
	pdf := message.Attachment{Name: "faktura.pdf", ContentType: "application/pdf", Size: 80 << 10}
	tests := []struct {
		name string
		text string
		atts []message.Attachment
		want Needs
	}{
		{"bare complaint", "Ekran pękł po tygodniu.", nil, Needs{ProofOfPurchase: true, Photos: true, OrderNumber: true}},
		{"order number given", "Zamówienie nr 2026/11/4711, ekran pękł.", nil, Needs{ProofOfPurchase: true, Photos: true}},
		{"order number english", "Order #123456: the screen cracked.", nil, Needs{ProofOfPurchase: true, Photos: true}},
		{"photo attached", "Ekran pękł.", []message.Attachment{photo}, Needs{OrderNumber: true}},
		{"logo is not a photo", "Ekran pękł.", []message.Attachment{logo}, Needs{ProofOfPurchase: true, Photos: true, OrderNumber: true}},
		{"invoice attached", "Ekran pękł.", []message.Attachment{pdf}, Needs{Photos: true, OrderNumber: true}},
		{"receipt mentioned", "W załączeniu paragon. Zamowienie 88812", nil, Needs{Photos: true}},
		{"everything", "Order no. 99812, invoice attached", []message.Attachment{photo, pdf}, Needs{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsOf(tt.text, tt.atts); got != tt.want {
				t.Errorf("NeedsOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}
