package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFuzzSeeds(t *testing.T) {
	corpus := t.TempDir()
	msg := "From: Jan <jan@example.net>\r\nSubject: Odp: Reklamacja\r\nAuthentication-Results: mx.example.net; dkim=pass header.d=example.net\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n#status resolved\r\nDzień dobry\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@x\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
	if err := os.WriteFile(filepath.Join(corpus, "one.eml"), []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	written, err := WriteFuzzSeeds(corpus, cache)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   string // a line of one of its input files
	}{
		{"message/FuzzParse", `[]byte("From: Jan <jan@example.net>\r\nSubject: Odp: Reklamacja\r\n`},
		{"message/FuzzNormalizeSubject", `string("Odp: Reklamacja")`},
		{"staff/FuzzParseAuthResults", `string("mx.example.net; dkim=pass header.d=example.net")`},
		{"message/FuzzDeliveryStatus", `[]byte("Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@x\r\nAction: failed\r\nStatus: 5.1.1\r\n")`},
		{"staff/FuzzParseCommands", `string("#status resolved`},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if written[module+"/"+strings.Replace(tt.target, "/", ".", 1)] == 0 {
				t.Errorf("no inputs counted; written %v", written)
			}
			files, _ := filepath.Glob(filepath.Join(cache, "fuzz", module, tt.target, "*"))
			for _, f := range files {
				data, _ := os.ReadFile(f)
				if strings.HasPrefix(string(data), "go test fuzz v1\n") && strings.Contains(string(data), tt.want) {
					return
				}
			}
			t.Errorf("none of %d files has %s", len(files), tt.want)
		})
	}
}
