package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestParseDuration checks Go duration strings and the "d" day unit.
func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"60s":      60 * time.Second,
		"5m":       5 * time.Minute,
		"720h":     720 * time.Hour,
		"1h30m":    90 * time.Minute,
		"1.5h":     90 * time.Minute,
		"0s":       0,
		"0":        0,
		"30d":      30 * 24 * time.Hour,
		"1d":       24 * time.Hour,
		"1d12h":    36 * time.Hour,
		"0d":       0,
		" 2d ":     48 * time.Hour,
		"-1m":      -time.Minute,
		"500ms":    500 * time.Millisecond,
		"1d1h1m1s": 25*time.Hour + time.Minute + time.Second,
	}
	for in, want := range good {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                    "empty duration",
		"60":                  `"60" is not a duration: missing unit`,
		"1.5":                 "missing unit",
		"abc":                 `"abc" is not a duration`,
		"30 days":             `"30 days" is not a duration`,
		"1.5d":                `"1.5d" is not a duration`,
		"1d-1h":               `"1d-1h" is not a duration`,
		"1dx":                 `"1dx" is not a duration`,
		"-1d":                 `"-1d" is not a duration`,
		"999999999999999999d": "too many days",
		"106751d1000h":        `"106751d1000h" is not a duration`,
		"d":                   `"d" is not a duration`,
	}
	for in, want := range bad {
		_, err := parseDuration(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDuration(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

// TestDurationYAML checks decoding and encoding Duration in YAML.
func TestDurationYAML(t *testing.T) {
	var v struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
		C Duration `yaml:"c"`
	}
	if err := yaml.Unmarshal([]byte("a: 30d\nb: 90s\nc: 1h30m\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Duration != 720*time.Hour || v.B.Duration != 90*time.Second || v.C.Duration != 90*time.Minute {
		t.Errorf("decoded %v %v %v", v.A, v.B, v.C)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a: 720h\nb: 1m30s\nc: 1h30m\n"; got != want {
		t.Errorf("encoded %q, want %q", got, want)
	}
	if err := yaml.Unmarshal([]byte("a: [1]\n"), &v); err == nil {
		t.Errorf("decoding a list into Duration succeeded")
	}
}

// TestFormatDuration checks that formatted durations are short and parse
// back to the same value.
func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                       "0s",
		5 * time.Second:         "5s",
		time.Minute:             "1m",
		90 * time.Second:        "1m30s",
		720 * time.Hour:         "720h",
		time.Hour + time.Second: "1h0m1s",
		time.Hour + time.Minute: "1h1m",
		1500 * time.Millisecond: "1.5s",
		-24 * time.Hour:         "-24h",
	}
	for d, want := range tests {
		got := formatDuration(d)
		if got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		back, err := parseDuration(got)
		if err != nil || back != d {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}
