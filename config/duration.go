package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string such
// as "60s", "5m" or "720h". A whole number of days may also be written with
// a "d" unit, alone ("30d") or followed by a Go duration ("1d12h").
type Duration struct{ time.Duration }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind != yaml.ScalarNode {
		return errors.New("expected a duration such as 60s")
	}
	v, err := parseDuration(value.Value)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration in its shortest Go form, e.g. "720h"
// rather than "720h0m0s".
func (d Duration) MarshalYAML() (any, error) {
	return formatDuration(d.Duration), nil
}

// maxDays is the largest day count that fits in a time.Duration.
const maxDays = int64(1<<63-1) / int64(24*time.Hour)

// parseDuration parses a Go duration string, also accepting a leading whole
// number of days ("30d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && s[i] == 'd' {
		days, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || days > maxDays {
			return 0, fmt.Errorf("%q is not a duration: too many days", s)
		}
		total := time.Duration(days) * 24 * time.Hour
		rest := s[i+1:]
		if rest == "" {
			return total, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		r, err := time.ParseDuration(rest)
		if err != nil || r > time.Duration(1<<63-1)-total {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return total + r, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return 0, fmt.Errorf("%q is not a duration: missing unit", s)
		}
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return v, nil
}

// formatDuration is time.Duration.String without trailing zero units.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
