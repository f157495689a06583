package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics and health endpoint (metrics.listen). Metrics are read at
// scrape time: the store's figures in one read transaction, from its
// counters and indexes, and the mailbox watchers' connection state. No
// metric lives in a variable of its own, so nothing can drift from the
// store, and a restart loses nothing.

// watchedMailbox is a mailbox watcher with the label it is reported by.
type watchedMailbox struct {
	label string // "claims" or "sent": stable, whatever the folders are called
	name  string // for people: the folder
	w     *mailbox.Watcher
}

// storeCollector is the prometheus.Collector for the store and the
// watchers.
type storeCollector struct {
	db        *store.DB
	mailboxes []watchedMailbox
	loc       *time.Location
	now       func() time.Time

	counters                                           map[string]*prometheus.Desc
	ingested, otherCounter, cases, overdue             *prometheus.Desc
	outboxPending, outboxRetrying, outboxOldest        *prometheus.Desc
	imapConnected, imapLastSuccess, imapLastSuccessAge *prometheus.Desc
	storeBytes, storeRead, buildInfo                   *prometheus.Desc
}

func newStoreCollector(db *store.DB, mailboxes []watchedMailbox, loc *time.Location, now func() time.Time) *storeCollector {
	c := &storeCollector{db: db, mailboxes: mailboxes, loc: loc, now: now}
	// The store's counters under metric names; others are reported as
	// claimsd_store_counter_total{name=...}.
	desc := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	c.counters = map[string]*prometheus.Desc{
		store.CountIngested:       desc("claimsd_messages_committed_total", "Messages committed to the store (duplicates excluded)."),
		store.CountDuplicates:     desc("claimsd_messages_duplicate_total", "Messages recognised as already held (same Message-ID or same bytes) and only counted."),
		store.CountParseFailed:    desc("claimsd_messages_unparsable_total", "Messages that did not parse; kept raw (claimsd messages list --failed)."),
		store.CountUnfiled:        desc("claimsd_messages_unfiled_total", "Messages kept outside any case (claimsd messages list --unfiled)."),
		store.CountCases:          desc("claimsd_cases_created_total", "Cases opened."),
		store.CountQueued:         desc("claimsd_mail_queued_total", "Outgoing mails queued in the outbox."),
		store.CountSecurity:       desc("claimsd_security_events_total", "Staff mail that failed authentication: recorded, with no effect."),
		store.CountMailFailed:     desc("claimsd_mail_failed_total", "Outgoing mails that failed for good (5xx, or temporary failures past outbox.give_up_after)."),
		store.CountMailBounced:    desc("claimsd_mail_bounced_total", "Outgoing mails a delivery status notification reported undelivered."),
		store.CountMailSuppressed: desc("claimsd_mail_suppressed_total", "Automatic mails a safety rule (rate caps, loops) stopped."),
	}
	c.ingested = prometheus.NewDesc("claimsd_messages_ingested_total",
		"Messages committed, by kind (customer, staff, auto_reply, bounce, bulk, own).", []string{"kind"}, nil)
	c.otherCounter = prometheus.NewDesc("claimsd_store_counter_total",
		"Other counters the store keeps, by name.", []string{"name"}, nil)
	c.cases = prometheus.NewDesc("claimsd_cases", "Cases by status.", []string{"status"}, nil)
	c.overdue = prometheus.NewDesc("claimsd_cases_overdue",
		"Open cases past a deadline without its answer: legal (the legal due date is over) or first_answer (the service level).",
		[]string{"deadline"}, nil)
	c.outboxPending = prometheus.NewDesc("claimsd_outbox_pending",
		"Outgoing mails not yet delivered, by status (queued, sending).", []string{"status"}, nil)
	c.outboxRetrying = prometheus.NewDesc("claimsd_outbox_retrying",
		"Outgoing mails not yet delivered whose last attempt failed (they are retried).", nil, nil)
	c.outboxOldest = prometheus.NewDesc("claimsd_outbox_oldest_waiting_seconds",
		"How long the undelivered mail that has waited longest has waited since it was due (0: none waiting).", nil, nil)
	c.imapConnected = prometheus.NewDesc("claimsd_imap_connected",
		"1 while the watcher is logged in with its mailbox selected.", []string{"watcher"}, nil)
	c.imapLastSuccess = prometheus.NewDesc("claimsd_imap_last_success_timestamp_seconds",
		"When the watcher last completed a fetch cycle (Unix time; absent before the first).", []string{"watcher"}, nil)
	c.imapLastSuccessAge = prometheus.NewDesc("claimsd_imap_last_success_age_seconds",
		"Time since the watcher last completed a fetch cycle (absent before the first).", []string{"watcher"}, nil)
	c.storeBytes = prometheus.NewDesc("claimsd_store_size_bytes", "Size of the database file (claimsd.db).", nil, nil)
	c.storeRead = prometheus.NewDesc("claimsd_store_read_seconds", "Time this scrape spent reading the store.", nil, nil)
	c.buildInfo = prometheus.NewDesc("claimsd_build_info", "Always 1; the version is a label.", []string{"version"}, nil)
	return c
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.ingested, c.otherCounter, c.cases, c.overdue, c.outboxPending, c.outboxRetrying,
		c.outboxOldest, c.imapConnected, c.imapLastSuccess, c.imapLastSuccessAge, c.storeBytes, c.storeRead, c.buildInfo} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1, versionString())
	c.collectMailboxes(ch)
	now := c.now()
	// Overdue as `cases list --overdue` counts: the legal due date was
	// yesterday or earlier in the configured zone; the first answer was
	// due by now.
	yesterday := calendar.DateOf(now, c.loc).AddDays(-1).String()
	start := time.Now()
	var g store.Gauges
	err := c.db.View(func(tx *store.Tx) (err error) {
		g, err = tx.Gauges(yesterday, now)
		return err
	})
	if err != nil {
		// Reported once, by the handler (promhttp.HandlerOpts.ErrorLog).
		ch <- prometheus.NewInvalidMetric(c.cases, fmt.Errorf("read the store: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.storeRead, prometheus.GaugeValue, time.Since(start).Seconds())
	ch <- prometheus.MustNewConstMetric(c.storeBytes, prometheus.GaugeValue, float64(g.Bytes))

	// Every known kind and status is reported from the start, at 0 if
	// need be, so that rate() and alert rules see the series at once.
	kinds := map[string]uint64{}
	for _, k := range []classifier.Kind{classifier.KindCustomer, classifier.KindStaff, classifier.KindAutoReply,
		classifier.KindBounce, classifier.KindBulk, classifier.KindOwn} {
		kinds[string(k)] = 0
	}
	for name, v := range g.Counters {
		if kind, ok := strings.CutPrefix(name, store.CountKindPrefix); ok {
			kinds[kind] = v
		} else if _, ok := c.counters[name]; !ok {
			ch <- prometheus.MustNewConstMetric(c.otherCounter, prometheus.CounterValue, float64(v), name)
		}
	}
	for kind, v := range kinds {
		ch <- prometheus.MustNewConstMetric(c.ingested, prometheus.CounterValue, float64(v), kind)
	}
	for name, d := range c.counters {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(g.Counters[name]))
	}
	byStatus := map[string]int{store.StatusOpen: 0, store.StatusWaiting: 0, store.StatusResolved: 0, store.StatusRejected: 0}
	for s, n := range g.CasesByStatus {
		byStatus[s] = n
	}
	for s, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(c.cases, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(g.LegalOverdue), "legal")
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(g.FirstAnswerOverdue), "first_answer")
	for s, n := range g.Outbox.Pending {
		ch <- prometheus.MustNewConstMetric(c.outboxPending, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(c.outboxRetrying, prometheus.GaugeValue, float64(g.Outbox.Retrying))
	var oldest float64
	if !g.Outbox.OldestSince.IsZero() {
		oldest = max(now.Sub(g.Outbox.OldestSince).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.outboxOldest, prometheus.GaugeValue, oldest)
}

func (c *storeCollector) collectMailboxes(ch chan<- prometheus.Metric) {
	for _, m := range c.mailboxes {
		st := m.w.State()
		connected := 0.0
		if st.Connected {
			connected = 1
		}
		ch <- prometheus.MustNewConstMetric(c.imapConnected, prometheus.GaugeValue, connected, m.label)
		if st.LastSuccess.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.imapLastSuccess, prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/1e9, m.label)
		// The watcher stamps with the wall clock, so it is aged by it.
		ch <- prometheus.MustNewConstMetric(c.imapLastSuccessAge, prometheus.GaugeValue, time.Since(st.LastSuccess).Seconds(), m.label)
	}
}

// mailboxCheck fails while the watcher is not connected, or when its last
// successful fetch cycle (or, before the first, the daemon's start) is
// older than staleAfter.
func mailboxCheck(m watchedMailbox, staleAfter time.Duration, started time.Time) func(time.Time) error {
	return func(time.Time) error {
		st := m.w.State()
		why := ""
		if st.LastError != "" {
			why = ": " + st.LastError
		}
		// The watcher's times are the wall clock's.
		last, since := st.LastSuccess, "last successful poll"
		if last.IsZero() {
			last, since = started, "no successful poll since the start"
		}
		switch age := time.Since(last); {
		case !st.Connected:
			return fmt.Errorf("mailbox %s: not connected%s", m.name, why)
		case age > staleAfter:
			return fmt.Errorf("mailbox %s: %s %s ago, more than metrics.poll_stale_after (%s)%s",
				m.name, since, age.Round(time.Second), staleAfter, why)
		}
		return nil
	}
}

// outboxCheck fails when a mail due for sending has waited longer than
// stuckAfter: the SMTP server refuses it or is unreachable, or the sender
// is stuck.
func outboxCheck(db *store.DB, stuckAfter time.Duration) func(time.Time) error {
	return func(now time.Time) error {
		var w store.OutboxWaiting
		err := db.View(func(tx *store.Tx) (err error) {
			w, err = tx.OutboxWaiting()
			return err
		})
		if err != nil {
			return fmt.Errorf("outbox: read the store: %w", err)
		}
		if w.OldestSince.IsZero() {
			return nil
		}
		if waited := now.Sub(w.OldestSince); waited > stuckAfter {
			return fmt.Errorf("outbox: mail %d has waited %s to be sent, more than metrics.outbox_stuck_after (%s); %d waiting, %d failed their last attempt (claimsd outbox show %d)",
				w.OldestID, waited.Round(time.Second), stuckAfter, w.Pending[store.OutboxQueued]+w.Pending[store.OutboxSending], w.Retrying, w.OldestID)
		}
		return nil
	}
}

// healthView is the body of /healthz.
type healthView struct {
	Status   string   `json:"status"` // ok or failing
	Checks   int      `json:"checks"`
	Failures []string `json:"failures,omitempty"`
}

// serveHealth runs every check in d.healthChecks: 200 when all pass, 503
// naming each that fails.
func (d *daemon) serveHealth(w http.ResponseWriter, _ *http.Request) {
	now := d.now()
	v := healthView{Status: "ok", Checks: len(d.healthChecks)}
	for _, check := range d.healthChecks {
		if err := check(now); err != nil {
			v.Failures = append(v.Failures, err.Error())
		}
	}
	code := http.StatusOK
	if len(v.Failures) > 0 {
		v.Status, code = "failing", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// opsEndpoint serves /metrics and /healthz.
type opsEndpoint struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// listenOps binds addr at once, so a taken port fails the start rather
// than a job in the background.
func listenOps(addr string, reg *prometheus.Registry, health http.HandlerFunc, log *slog.Logger) (*opsEndpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrintln{log},
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes wait for each other rather than pile up on the store.
		MaxRequestsInFlight: 2,
		Timeout:             30 * time.Second,
	}))
	mux.HandleFunc("GET /healthz", health)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "claimsd: /metrics (Prometheus), /healthz")
	})
	return &opsEndpoint{ln: ln, log: log, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}}, nil
}

// run serves until ctx ends, then lets requests in flight finish.
func (e *opsEndpoint) run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(e.ln) }()
	e.log.Info("metrics and health endpoint listening", "addr", e.ln.Addr().String())
	select {
	case err := <-served:
		e.log.Error("metrics endpoint stopped", "err", err)
		return fmt.Errorf("metrics endpoint %s: %w", e.ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(shutdown)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("metrics endpoint shutdown: %w", err)
	}
	return nil
}

// newMetricsRegistry is the endpoint's own registry: the store and
// watchers, the Go runtime and the process (RSS, open files, CPU).
func newMetricsRegistry(c *storeCollector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// slogPrintln adapts slog to promhttp's Println logger.
type slogPrintln struct{ log *slog.Logger }

func (l slogPrintln) Println(v ...any) {
	l.log.Error("metrics scrape", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
