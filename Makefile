# claimsd: developer and CI entry points. CI runs `make test` (.ci/run).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
FUZZTIME ?= 30s

# Tests that load maildirs (internal/mailtest) create thousands of files; on
# the project's VMs that is ~10x faster on tmpfs than in /tmp.
MAILTEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm)
export MAILTEST_TMPDIR

.PHONY: test bench fuzz reliability demo build

# .ci/deps installs Dovecot, Sieve and Postfix (for the end-to-end tests)
# only when missing.
test:
	./.ci/deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Unit benchmarks, then the intake figures against a real Dovecot, each with
# the repetitions its statistic needs. /tmp can be far slower than the data
# disk on shared machines; set BENCH_TMPDIR to where the data dir would live.
BENCH_TMPDIR ?= /var/tmp
bench:
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v -e /cmd/claimsd -e /deadline)
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=IntakeVsRawFetch -benchtime=3x ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=PeakRSS50MB -benchtime=2x ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=IdleLatency -benchtime=300x ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=AckLatency -benchtime=200x ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=OutboxThroughput -benchtime=3x ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=SIGKILL -benchtime=20x -timeout=30m ./cmd/claimsd
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=Tick -benchtime=3x -benchmem -timeout=60m ./deadline
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -run='^$$' -bench=DaemonRSS1M -benchtime=2x -timeout=60m ./cmd/claimsd

# Runs every fuzz target for FUZZTIME each, one at a time (go test -fuzz
# takes one target in one package), after writing the ../shared/corpus
# messages into Go's fuzz cache as seeds of the parsers' fuzzers (MIME,
# subject, replies, DSN, Authentication-Results, commands, classifier,
# outgoing headers).
fuzz:
	$(GO) run ./internal/reliability/fuzzseeds || echo "fuzz: without the corpus seeds"
	@targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { names[n++] = $$1; next } /^ok/ { for (i = 0; i < n; i++) print $$2 " " names[i]; n = 0 }'); \
	if [ -z "$$targets" ]; then echo "fuzz: no fuzz targets"; exit 0; fi; \
	while read -r pkg name; do \
		echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
	done <<< "$$targets"

# The long reliability suite against real Dovecot and Postfix: 20 crash
# rounds of 1,000 complaints, SMTP and IMAP outages, a full and a
# read-only data directory, hostile mail, mail loops, a 10,000-message
# backlog and a million-case store, and every fuzzer for FUZZTIME with the
# corpus as seeds; about 12 minutes. The table of figures is printed at
# the end and written to RELIABILITY_REPORT. (make test runs the short
# form.) Data directories go to BENCH_TMPDIR, a real disk.
RELIABILITY_REPORT ?= $(BENCH_TMPDIR)/claimsd-reliability.md
reliability:
	./.ci/deps
	TMPDIR=$(BENCH_TMPDIR) $(GO) test -tags reliability -count=1 -v -timeout=3h -run '^TestReliability$$' ./internal/reliability \
		-args -reliability.report=$(RELIABILITY_REPORT) -reliability.fuzztime=$(FUZZTIME)
	@echo "reliability: the table is in $(RELIABILITY_REPORT)"

demo:
	$(GO) run ./cmd/claimsd demo

build:
	$(GO) build -o bin/claimsd ./cmd/claimsd
