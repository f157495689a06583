package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// The running daemon holds the bbolt file lock, so the CLI reads through
// the daemon: a small HTTP API on a unix socket in data_dir (mode 0600,
// so only the daemon's user can read cases). Without a daemon the CLI
// opens the file read-only itself.

// caseView is a case with its messages, as `cases show` prints it.
type caseView struct {
	store.Case
	MessageList []store.Message `json:"messages"`
}

// statsView is what `stats` prints.
type statsView struct {
	Counters map[string]uint64 `json:"counters"`
	Mailbox  *mailbox.State    `json:"mailbox,omitempty"` // only from a running daemon
}

// reader is what the read-only commands need; served by the store
// directly or by the daemon over the socket.
type reader interface {
	// EachCase calls fn with the cases f selects as they are read, in
	// store.Tx.EachCase's order; an error from fn stops the listing.
	EachCase(ctx context.Context, f store.CaseFilter, fn func(store.Case) error) error
	ShowCase(ctx context.Context, id string) (caseView, error)
	ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error)
	Stats(ctx context.Context) (statsView, error)
	ListOutbox(ctx context.Context, f store.OutboxFilter) ([]store.OutboxItem, error)
	OutboxItem(ctx context.Context, id uint64) (store.OutboxItem, error)
}

type storeReader struct {
	db      *store.DB
	watcher *mailbox.Watcher // nil when not running
	sender  *outbox.Sender   // nil when not running or not sending
	daemon  *daemon          // nil when not running
}

// SetStatus changes a case's status and wakes the scheduler.
func (r storeReader) SetStatus(_ context.Context, id, status string) (store.Case, error) {
	if r.daemon == nil {
		return store.Case{}, fmt.Errorf("%w: no daemon", errBadRequest)
	}
	c, err := setCaseStatus(r.db, r.daemon.policy, id, status, r.daemon.now())
	if err == nil {
		r.daemon.scheduler.Wake()
	}
	return c, err
}

func (r storeReader) ListOutbox(_ context.Context, f store.OutboxFilter) (out []store.OutboxItem, err error) {
	err = r.db.View(func(tx *store.Tx) error {
		out, err = tx.ListOutbox(f)
		return err
	})
	return out, err
}

func (r storeReader) OutboxItem(_ context.Context, id uint64) (it store.OutboxItem, err error) {
	err = r.db.View(func(tx *store.Tx) error {
		var ok bool
		it, ok, err = tx.Outbox(id)
		if err == nil && !ok {
			err = fmt.Errorf("outbox item %d: %w", id, store.ErrNotFound)
		}
		return err
	})
	return it, err
}

// RetryOutbox makes an item due now and wakes the sender.
func (r storeReader) RetryOutbox(_ context.Context, id uint64) (it store.OutboxItem, err error) {
	err = r.db.Update(func(tx *store.Tx) error {
		it, err = outbox.Retry(tx, id, time.Now())
		return err
	})
	if err == nil && r.sender != nil {
		r.sender.Wake()
	}
	return it, err
}

// EachCase reads the cases a page at a time and calls fn between the
// pages' transactions (store.DB.EachCase): however long fn takes, no
// transaction stays open.
func (r storeReader) EachCase(ctx context.Context, f store.CaseFilter, fn func(store.Case) error) error {
	return r.db.EachCase(ctx, f, fn)
}

// casesErrorTrailer carries the error that stopped a listing of cases
// the daemon had begun to stream: the status line went out with the
// first cases. The array is then left unclosed, so that no client, of
// this version or an older one, takes the listing for complete.
const casesErrorTrailer = "X-Claimsd-Error"

// serveCases streams the cases of the query's filter (GET /v1/cases) as
// one JSON array, element by element, as the store gives them: the
// daemon holds one page of cases whatever the store's size. The array is
// the one daemons before streaming sent whole, so CLIs of either version
// read it.
func (r storeReader) serveCases(w http.ResponseWriter, req *http.Request, log *slog.Logger) {
	f, err := caseFilterOf(req.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Trailer", casesErrorTrailer)
	out := bufio.NewWriterSize(w, 32<<10)
	out.WriteByte('[')
	n := 0
	var sendErr error // the client stopped reading
	err = r.EachCase(req.Context(), f, func(c store.Case) error {
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode case %s: %w", c.ID, err)
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		_, sendErr = out.Write(data)
		return sendErr
	})
	if err == nil {
		out.WriteString("]\n")
		sendErr = out.Flush()
	}
	switch {
	case sendErr != nil || req.Context().Err() != nil:
		// A pager quit, `| head` had enough, Ctrl-C: nothing to report.
		log.Debug("listing of cases ended early: the client stopped reading", "cases_sent", n)
	case err != nil:
		log.Error("listing of cases failed", "cases_sent", n, "err", err)
		out.Flush()
		w.Header().Set(casesErrorTrailer, strings.Join(strings.Fields(err.Error()), " "))
	}
}

// caseFilterOf reads the filter of GET /v1/cases from its query.
func caseFilterOf(q url.Values) (store.CaseFilter, error) {
	f := store.CaseFilter{Status: q.Get("status"), LegalDueBy: q.Get("legal_due_by")}
	if v := q.Get("first_answer_due_by"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, fmt.Errorf("bad first_answer_due_by %q: want RFC 3339", v)
		}
		f.FirstAnswerDueBy = t
	}
	return f, nil
}

func (r storeReader) ShowCase(_ context.Context, id string) (v caseView, err error) {
	err = r.db.View(func(tx *store.Tx) error {
		c, ok, err := tx.Case(id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("case %s: %w", id, store.ErrNotFound)
		}
		msgs, err := tx.CaseMessages(id)
		v = caseView{Case: c, MessageList: msgs}
		return err
	})
	return v, err
}

func (r storeReader) ListMessages(_ context.Context, f store.MessageFilter) (out []store.Message, err error) {
	err = r.db.View(func(tx *store.Tx) error {
		out, err = tx.ListMessages(f)
		return err
	})
	return out, err
}

func (r storeReader) Stats(context.Context) (statsView, error) {
	var v statsView
	err := r.db.View(func(tx *store.Tx) error {
		v.Counters = tx.Counters()
		return nil
	})
	if r.watcher != nil {
		st := r.watcher.State()
		v.Mailbox = &st
	}
	return v, err
}

// control is the daemon's side of the socket.
type control struct {
	srv  *http.Server
	path string
}

func startControl(path string, r storeReader, log *slog.Logger) (*control, error) {
	// We hold the database lock, so a socket file left here is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict control socket: %w", err)
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if errors.Is(err, errBadRequest) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		if err != nil {
			log.Error("control request failed", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /v1/cases", func(w http.ResponseWriter, req *http.Request) {
		r.serveCases(w, req, log)
	})
	mux.HandleFunc("GET /v1/cases/{id}", func(w http.ResponseWriter, req *http.Request) {
		v, err := r.ShowCase(req.Context(), req.PathValue("id"))
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/messages", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		v, err := r.ListMessages(req.Context(), store.MessageFilter{Unfiled: q.Get("unfiled") != "", ParseFailed: q.Get("failed") != ""})
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/outbox", func(w http.ResponseWriter, req *http.Request) {
		v, err := r.ListOutbox(req.Context(), store.OutboxFilter{Status: req.URL.Query().Get("status")})
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/outbox/{id}", func(w http.ResponseWriter, req *http.Request) {
		id, err := strconv.ParseUint(req.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad outbox id", http.StatusBadRequest)
			return
		}
		v, err := r.OutboxItem(req.Context(), id)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/outbox/{id}/retry", func(w http.ResponseWriter, req *http.Request) {
		id, err := strconv.ParseUint(req.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad outbox id", http.StatusBadRequest)
			return
		}
		v, err := r.RetryOutbox(req.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("%w: %w", errBadRequest, err)
		}
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/cases/{id}/status", func(w http.ResponseWriter, req *http.Request) {
		v, err := r.SetStatus(req.Context(), req.PathValue("id"), req.URL.Query().Get("to"))
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/classifier/train", handleTrain(r, reply))
	mux.HandleFunc("GET /v1/stats", func(w http.ResponseWriter, req *http.Request) {
		v, err := r.Stats(req.Context())
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/backup", r.serveBackup) // ops.go
	mux.HandleFunc("GET /v1/report", r.serveReport) // report.go
	mux.HandleFunc("GET /v1/verify", r.serveVerify)
	registerGDPR(mux, r, log) // gdpr.go: /v1/gdpr/...
	c := &control{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, path: path}
	go func() {
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket stopped", "err", err)
		}
	}()
	return c, nil
}

func (c *control) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	os.Remove(c.path)
	return err
}

// errBadRequest marks a refused request (e.g. retrying a sent mail).
var errBadRequest = errors.New("refused")

// socketReader is the CLI's side of the socket.
type socketReader struct {
	client *http.Client
	socket string // for the requests that take as long as the store is big (longRequest)
}

func dialControl(path string) socketReader {
	return socketReader{socket: path, client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}}
}

func (s socketReader) get(ctx context.Context, path string, q url.Values, v any) error {
	return s.do(ctx, http.MethodGet, path, q, nil, v)
}

// do sends one request (with body as JSON when it is not nil) and decodes
// the daemon's JSON answer into v.
func (s socketReader) do(ctx context.Context, method, path string, q url.Values, body, v any) error {
	u := "http://claimsd" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("ask the running daemon: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w", path, store.ErrNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		var msg [512]byte
		n, _ := resp.Body.Read(msg[:])
		return fmt.Errorf("daemon answered %s: %s", resp.Status, strings.TrimSpace(string(msg[:n])))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// EachCase decodes the daemon's array of cases element by element as it
// arrives, calling fn with each: the CLI holds one case, and a listing
// of the whole store has no time limit but ctx's.
func (s socketReader) EachCase(ctx context.Context, f store.CaseFilter, fn func(store.Case) error) error {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.LegalDueBy != "" {
		q.Set("legal_due_by", f.LegalDueBy)
	}
	if !f.FirstAnswerDueBy.IsZero() {
		q.Set("first_answer_due_by", f.FirstAnswerDueBy.Format(time.RFC3339Nano))
	}
	path := "/v1/cases"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := longRequest(ctx, s.socket, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	tok, err := dec.Token()
	switch {
	case err != nil:
		return casesCutShort(resp, err)
	case tok == nil:
		return nil // null: a daemon from before streaming, with no case
	case tok != json.Delim('['):
		return fmt.Errorf("read the daemon's list of cases: want a JSON array, got %v", tok)
	}
	for dec.More() {
		var c store.Case
		if err := dec.Decode(&c); err != nil {
			return casesCutShort(resp, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ], missing when cut short
		return casesCutShort(resp, err)
	}
	return nil
}

// casesCutShort is the error of a listing that ended before its array
// did: the daemon's own error, from the trailer that follows the body,
// when it sent one.
func casesCutShort(resp *http.Response, err error) error {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if msg := resp.Trailer.Get(casesErrorTrailer); msg != "" {
		return fmt.Errorf("the daemon stopped listing cases: %s (see its log)", msg)
	}
	return fmt.Errorf("read the daemon's list of cases: %w", err)
}

func (s socketReader) ShowCase(ctx context.Context, id string) (v caseView, err error) {
	return v, s.get(ctx, "/v1/cases/"+url.PathEscape(id), nil, &v)
}

func (s socketReader) ListMessages(ctx context.Context, f store.MessageFilter) (out []store.Message, err error) {
	q := url.Values{}
	if f.Unfiled {
		q.Set("unfiled", "1")
	}
	if f.ParseFailed {
		q.Set("failed", "1")
	}
	return out, s.get(ctx, "/v1/messages", q, &out)
}

func (s socketReader) Stats(ctx context.Context) (v statsView, err error) {
	return v, s.get(ctx, "/v1/stats", nil, &v)
}

func (s socketReader) ListOutbox(ctx context.Context, f store.OutboxFilter) (out []store.OutboxItem, err error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	return out, s.get(ctx, "/v1/outbox", q, &out)
}

func (s socketReader) RetryOutbox(ctx context.Context, id uint64) (it store.OutboxItem, err error) {
	return it, s.do(ctx, http.MethodPost, "/v1/outbox/"+strconv.FormatUint(id, 10)+"/retry", nil, nil, &it)
}

func (s socketReader) SetStatus(ctx context.Context, id, status string) (c store.Case, err error) {
	return c, s.do(ctx, http.MethodPost, "/v1/cases/"+url.PathEscape(id)+"/status", url.Values{"to": {status}}, nil, &c)
}

func (s socketReader) OutboxItem(ctx context.Context, id uint64) (it store.OutboxItem, err error) {
	return it, s.get(ctx, "/v1/outbox/"+strconv.FormatUint(id, 10), nil, &it)
}
