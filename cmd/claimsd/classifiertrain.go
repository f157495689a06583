package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// trainRequest is a bulk training run, as the CLI sends it to the daemon.
type trainRequest struct {
	// Reset drops what the model learnt so far (including specialists'
	// corrections) and trains on these examples alone.
	Reset    bool           `json:"reset"`
	Examples []trainExample `json:"examples"`
}

type trainExample struct {
	Space string           `json:"space"`
	Label string           `json:"label"`
	Input classifier.Input `json:"input"`
}

// trainResult says what the model holds after a training run.
type trainResult struct {
	Added map[string]int `json:"added"` // space -> examples added now
	Total map[string]int `json:"total"` // space -> examples the model holds
}

// classifierTrain is `claimsd classifier train DIR`: it teaches the stored
// model from a folder of labelled mail, e.g. a desk's own history exported
// from the mail client with labels added, so the model helps from the
// first day instead of only after many #category corrections. The running
// daemon trains its live model; otherwise the store is opened here.
func (c *cli) classifierTrain(args []string) error {
	fs := c.flags("classifier train")
	reset := fs.Bool("reset", false, "forget what the model learnt so far (also the specialists' corrections) and train on this folder alone")
	dryRun := fs.Bool("dry-run", false, "read and count the examples, change nothing")
	dir, err := oneArg(fs, args, "folder", "a folder of labelled .eml files (X-Expected-Category and X-Expected-Remedy headers, or NAME.labels sidecars)")
	if err != nil {
		return err
	}
	msgs, notRead, err := readLabelled(dir)
	if err != nil {
		return err
	}
	for _, e := range notRead {
		fmt.Fprintf(c.stderr, "not read: %s\n", e)
	}
	examples := trainingExamples(msgs)
	if len(examples) == 0 {
		return fmt.Errorf("classifier train: no message in %s has a category or remedy label", dir)
	}
	req := trainRequest{Reset: *reset}
	for _, e := range examples {
		req.Examples = append(req.Examples, trainExample{Space: e.Space, Label: e.Label, Input: e.Input})
	}
	if *dryRun {
		printTrain(c, len(msgs), trainResult{Added: countSpaces(examples)}, true)
		return nil
	}
	res, err := c.train(req)
	if err != nil {
		return err
	}
	printTrain(c, len(msgs), res, false)
	return nil
}

func printTrain(c *cli, messages int, res trainResult, dry bool) {
	spaces := make([]string, 0, len(res.Added))
	for s := range res.Added {
		spaces = append(spaces, s)
	}
	sort.Strings(spaces)
	verb := "trained on"
	if dry {
		verb = "would train on"
	}
	fmt.Fprintf(c.stdout, "%d messages read\n", messages)
	for _, s := range spaces {
		if dry {
			fmt.Fprintf(c.stdout, "%s: %s %d examples\n", s, verb, res.Added[s])
		} else {
			fmt.Fprintf(c.stdout, "%s: %s %d examples; the model now holds %d\n", s, verb, res.Added[s], res.Total[s])
		}
	}
}

func countSpaces(examples []classifier.Example) map[string]int {
	n := map[string]int{}
	for _, e := range examples {
		n[e.Space]++
	}
	return n
}

// train runs a training request in the daemon, or on the store directly
// when no daemon runs.
func (c *cli) train(req trainRequest) (trainResult, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return trainResult{}, err
	}
	if s, ok := c.daemonSocket(cfg.SocketPath()); ok {
		return s.Train(c.ctx, req)
	}
	db, err := store.Open(cfg.DataDir, store.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		return trainResult{}, err
	}
	defer db.Close()
	learner, err := newLearner(cfg, db)
	if err != nil {
		return trainResult{}, err
	}
	return trainAndStore(db, learner, req)
}

// trainAndStore trains learner and stores the model it ends with.
func trainAndStore(db *store.DB, learner *classifier.Learner, req trainRequest) (trainResult, error) {
	examples := make([]classifier.Example, len(req.Examples))
	for i, e := range req.Examples {
		if e.Space != classifier.SpaceCategory && e.Space != classifier.SpaceRemedy {
			return trainResult{}, fmt.Errorf("%w: example %d: space %q is not category or remedy", errBadRequest, i, e.Space)
		}
		examples[i] = classifier.Example{Space: e.Space, Label: e.Label, Input: e.Input}
	}
	data, err := learner.TrainAll(examples, req.Reset)
	if err != nil {
		return trainResult{}, err
	}
	if err := db.Update(func(tx *store.Tx) error { return tx.PutValue(outbox.ModelKey, data) }); err != nil {
		return trainResult{}, fmt.Errorf("store classifier model: %w", err)
	}
	res := trainResult{Added: countSpaces(examples), Total: map[string]int{}}
	for _, s := range []string{classifier.SpaceCategory, classifier.SpaceRemedy} {
		res.Total[s] = learner.Examples(s)
	}
	return res, nil
}

// Train is the daemon's side of `classifier train`.
func (r storeReader) Train(_ context.Context, req trainRequest) (trainResult, error) {
	if r.daemon == nil || r.daemon.learner == nil {
		return trainResult{}, fmt.Errorf("%w: no daemon", errBadRequest)
	}
	return trainAndStore(r.db, r.daemon.learner, req)
}

// Train sends a training run to the daemon.
func (s socketReader) Train(ctx context.Context, req trainRequest) (res trainResult, err error) {
	return res, s.do(ctx, http.MethodPost, "/v1/classifier/train", nil, req, &res)
}

// maxTrainBody bounds a training request (about 20,000 typical mails).
const maxTrainBody = 64 << 20

// handleTrain serves POST /v1/classifier/train.
func handleTrain(r storeReader, reply func(http.ResponseWriter, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var tr trainRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxTrainBody)).Decode(&tr); err != nil {
			http.Error(w, "bad training request: "+err.Error(), http.StatusBadRequest)
			return
		}
		res, err := r.Train(req.Context(), tr)
		reply(w, res, err)
	}
}
