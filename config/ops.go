package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults of the operations sections.
const (
	DefaultPollStaleAfter    = 15 * time.Minute
	DefaultOutboxStuckAfter  = time.Hour
	DefaultReportSchedule    = "0 7 * * 1"
	DefaultRetentionYears    = 6
	DefaultRetentionSchedule = "30 3 * * *"
)

// Metrics configures the Prometheus metrics and the health endpoint.
type Metrics struct {
	// Listen is the host:port serving /metrics and /healthz, e.g.
	// "127.0.0.1:9464"; empty turns the endpoint off. It carries no
	// authentication, so keep it on loopback or behind a proxy.
	Listen string `yaml:"listen"`
	// PollStaleAfter: /healthz fails when the last successful mailbox
	// poll is older than this; default 15m.
	PollStaleAfter Duration `yaml:"poll_stale_after"`
	// OutboxStuckAfter: /healthz fails when a mail due for sending has
	// waited longer than this; default 1h.
	OutboxStuckAfter Duration `yaml:"outbox_stuck_after"`
}

// Reports configures the weekly report mail.
type Reports struct {
	// WeeklySchedule is a cron spec (minute hour day month weekday) in the
	// configured zone for the report of the past week; default
	// "0 7 * * 1" (Monday 07:00). Empty string turns the mail off.
	WeeklySchedule *string `yaml:"weekly_schedule"`
	// Recipients get the weekly report; empty: every supervisor in staff.
	Recipients []string `yaml:"recipients"`
}

// Retention configures how long raw messages and attachments of closed
// cases are kept (DOMAIN §3: the limitation period, rounded to year end).
type Retention struct {
	// Years after the year a case was closed in: its raw messages and
	// attachments are purged on 1 January after that; default 6 (the
	// consumer limitation period).
	Years int `yaml:"years"`
	// Schedule is a cron spec for the retention job; default
	// "30 3 * * *". Empty string turns the job off.
	Schedule *string `yaml:"schedule"`
}

func (k *checker) metrics(m *Metrics) {
	m.Listen = strings.TrimSpace(m.Listen)
	if m.Listen != "" {
		if _, port, err := net.SplitHostPort(m.Listen); err != nil || port == "" {
			k.add("metrics.listen", fmt.Sprintf("%q is not host:port", m.Listen), "use e.g. 127.0.0.1:9464, or \"\" to turn metrics off")
		}
	}
	k.duration("metrics.poll_stale_after", &m.PollStaleAfter, DefaultPollStaleAfter, time.Minute)
	k.duration("metrics.outbox_stuck_after", &m.OutboxStuckAfter, DefaultOutboxStuckAfter, time.Minute)
}

func (k *checker) reports(r *Reports) {
	k.schedule("reports.weekly_schedule", &r.WeeklySchedule, DefaultReportSchedule, "\"0 7 * * 1\" (Monday 07:00)")
	for i, a := range r.Recipients {
		r.Recipients[i] = strings.TrimSpace(a)
		if !strings.Contains(r.Recipients[i], "@") {
			k.add(fmt.Sprintf("reports.recipients[%d]", i), fmt.Sprintf("%q is not an e-mail address", a), "write an address such as kierownik@example.com")
		}
	}
}

func (k *checker) retention(r *Retention) {
	if !k.present["retention.years"] {
		r.Years = DefaultRetentionYears
	} else if r.Years < 1 || r.Years > 50 {
		k.add("retention.years", fmt.Sprintf("must be between 1 and 50, got %d", r.Years), "use 6 for consumer claims (the limitation period) or 3 for business-only desks")
	}
	k.schedule("retention.schedule", &r.Schedule, DefaultRetentionSchedule, "\"30 3 * * *\" (every night at 03:30)")
}

// schedule defaults and checks an optional cron spec; "" turns it off.
func (k *checker) schedule(key string, spec **string, def, example string) {
	if *spec == nil {
		s := def
		*spec = &s
	}
	s := strings.TrimSpace(**spec)
	**spec = s
	if s == "" {
		return
	}
	if _, err := cron.ParseStandard(s); err != nil || strings.Contains(s, "TZ=") {
		k.add(key, fmt.Sprintf("%q is not a cron schedule", s),
			"write five fields: minute hour day-of-month month day-of-week, e.g. "+example+" (the configured timezone applies), or \"\" to turn it off")
	}
}
