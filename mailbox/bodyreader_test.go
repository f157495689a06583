package mailbox

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestBodyReader: a body that ends before the size the server announced
// is an error the watcher remembers, whatever the sink does with it.
func TestBodyReader(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		size    int64
		wantErr error // of Read, and remembered
	}{
		{"whole", "From: a@b\r\n\r\nx\r\n", 16, nil},
		{"empty", "", 0, nil},
		{"cut short", "From: a@b\r\n", 16, io.ErrUnexpectedEOF},
		{"cut before anything", "", 16, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := &bodyReader{r: strings.NewReader(tt.body), size: tt.size}
			got, err := io.ReadAll(br)
			if string(got) != tt.body {
				t.Errorf("read %q, want %q", got, tt.body)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("ReadAll error %v, want %v", err, tt.wantErr)
			}
			if !errors.Is(br.err, tt.wantErr) || (tt.wantErr == nil) != (br.err == nil) {
				t.Errorf("remembered %v, want %v", br.err, tt.wantErr)
			}
		})
	}
}
