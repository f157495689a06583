package message

import (
	"reflect"
	"strings"
	"testing"
)

// A bounce as Postfix writes it for an unknown virtual recipient.
const postfixBounce = "Return-Path: <>\r\n" +
	"From: MAILER-DAEMON@mail.example.test (Mail Delivery System)\r\n" +
	"Subject: Undelivered Mail Returned to Sender\r\n" +
	"To: claims+b-7@example.test\r\n" +
	"Auto-Submitted: auto-replied\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/report; report-type=delivery-status;\r\n" +
	"\tboundary=\"B1\"\r\n" +
	"Message-Id: <20261129.ABC@mail.example.test>\r\n" +
	"\r\n" +
	"--B1\r\n" +
	"Content-Description: Notification\r\n" +
	"Content-Type: text/plain; charset=us-ascii\r\n" +
	"\r\n" +
	"I'm sorry to have to inform you that your message could not\r\n" +
	"be delivered to one or more recipients.\r\n" +
	"\r\n" +
	"--B1\r\n" +
	"Content-Description: Delivery report\r\n" +
	"Content-Type: message/delivery-status\r\n" +
	"\r\n" +
	"Reporting-MTA: dns; mail.example.test\r\n" +
	"X-Postfix-Queue-ID: 4ABC\r\n" +
	"Arrival-Date: Sun, 29 Nov 2026 08:00:00 +0000 (UTC)\r\n" +
	"\r\n" +
	"Final-Recipient: rfc822; Ghost@example.test\r\n" +
	"Original-Recipient: rfc822;ghost@example.test\r\n" +
	"Action: failed\r\n" +
	"Status: 5.1.1\r\n" +
	"Diagnostic-Code: X-Postfix; unknown user:\r\n" +
	"    \"ghost@example.test\"\r\n" +
	"\r\n" +
	"--B1\r\n" +
	"Content-Description: Undelivered Message Headers\r\n" +
	"Content-Type: text/rfc822-headers\r\n" +
	"\r\n" +
	"From: Claims <claims@example.test>\r\n" +
	"To: ghost@example.test\r\n" +
	"Message-ID: <CLM-2026-000001.n1.mac@example.test>\r\n" +
	"\r\n" +
	"--B1--\r\n"

func TestDeliveryStatus(t *testing.T) {
	p, err := Parse(strings.NewReader(postfixBounce), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []RecipientStatus{{Recipient: "ghost@example.test", Action: "failed", Status: "5.1.1",
		Diagnostic: `X-Postfix; unknown user: "ghost@example.test"`}}
	if !reflect.DeepEqual(p.DeliveryStatus, want) {
		t.Errorf("DeliveryStatus = %+v, want %+v", p.DeliveryStatus, want)
	}
	if p.EnclosedMessageID != "CLM-2026-000001.n1.mac@example.test" {
		t.Errorf("EnclosedMessageID = %q", p.EnclosedMessageID)
	}
}

func TestParseDeliveryStatusTable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []RecipientStatus
	}{
		{"empty", "", []RecipientStatus{}},
		{"per-message block only", "Reporting-MTA: dns; x\r\n\r\n", []RecipientStatus{}},
		{"delayed, two recipients", "Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@x\r\nAction: delayed\r\nStatus: 4.4.1 (timeout)\r\n\r\nFinal-Recipient: rfc822;<B@X>\r\nAction: Failed\r\nStatus: 5.0.0\r\n",
			[]RecipientStatus{{Recipient: "a@x", Action: "delayed", Status: "4.4.1"}, {Recipient: "b@x", Action: "failed", Status: "5.0.0"}}},
		{"original recipient only", "\r\nOriginal-Recipient: rfc822;c@x\r\nAction: failed\r\n", []RecipientStatus{{Recipient: "c@x", Action: "failed"}}},
		{"garbage", "\x00\x01 not a header at all\r\n", []RecipientStatus{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDeliveryStatus([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDeliveryStatus: any bytes give recipients with an address and
// never a panic.
func FuzzDeliveryStatus(f *testing.F) {
	f.Add([]byte("Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@x\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
	f.Add([]byte("\r\n\r\n\r\nOriginal-Recipient: ;\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, rs := range parseDeliveryStatus(b) {
			if rs.Recipient == "" {
				t.Fatalf("recipient without address: %+v", rs)
			}
		}
	})
}
