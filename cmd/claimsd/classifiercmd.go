package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/message"
)

func (c *cli) classifierCmd(args []string) error {
	if len(args) == 0 {
		return usageErr("classifier: want eval, train or rules")
	}
	switch args[0] {
	case "rules":
		_, err := c.stdout.Write(classifier.DefaultRulesYAML())
		return err
	case "train":
		return c.classifierTrain(args[1:])
	case "eval":
		fs := c.flags("classifier eval")
		asJSON := fs.Bool("json", false, "print JSON")
		rulesFile := fs.String("rules", "", "rules file to evaluate instead of the configured or built-in ones")
		misses := fs.Bool("misses", false, "also list every wrong answer with the classifier's reason")
		trainDir := fs.String("train", "", "folder of labelled .eml files to train a fresh model on, combined with the rules (the stored model is not used)")
		dir, err := oneArg(fs, args[1:], "folder", "a folder of labelled .eml files")
		if err != nil {
			return err
		}
		rules, err := c.evalRules(*rulesFile)
		if err != nil {
			return err
		}
		var model *classifier.Model
		if *trainDir != "" {
			train, _, err := readLabelled(*trainDir)
			if err != nil {
				return fmt.Errorf("--train: %w", err)
			}
			model = classifier.NewModel()
			for _, e := range trainingExamples(train) {
				model.Train(e.Space, e.Label, e.Input)
			}
		}
		rep, err := evaluate(dir, classifier.New(rules, model))
		if err != nil {
			return err
		}
		if *asJSON {
			return c.printJSON(rep)
		}
		printEval(c.stdout, rep)
		if *misses {
			printMisses(c.stdout, rep.Misses)
		}
		return nil
	}
	return usageErr("classifier: unknown subcommand %q (want eval, train or rules)", args[0])
}

// evalRules picks the rules to evaluate: --rules, else classifier.rules_file
// of the configuration (when one is given), else the built-in rules.
func (c *cli) evalRules(file string) (*classifier.Rules, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return classifier.LoadRules(data)
	}
	if c.configPath != "" {
		cfg, err := c.loadConfig()
		if err != nil {
			return nil, err
		}
		return loadRules(cfg)
	}
	return loadRules(&config.Config{})
}

// dimensions are what `classifier eval` scores, with the X-Expected-*
// header (or sidecar key) holding the label.
var dimensions = []string{"category", "remedy", "priority", "language"}

// evalReport is what `classifier eval` prints.
type evalReport struct {
	Messages   int                   `json:"messages"`
	Dimensions map[string]*dimReport `json:"dimensions"`
	Errors     []string              `json:"errors,omitempty"`
	// Misses are the wrong answers with the reason the classifier gave.
	Misses []evalMiss `json:"misses,omitempty"`
}

// evalMiss is one wrong answer.
type evalMiss struct {
	File      string `json:"file"`
	Dimension string `json:"dimension"`
	Expected  string `json:"expected"`
	Got       string `json:"got"`
	Reason    string `json:"reason"`
}

type dimReport struct {
	N         int                       `json:"n"`
	Accuracy  float64                   `json:"accuracy"`
	MacroF1   float64                   `json:"macro_f1"`
	Classes   map[string]classReport    `json:"classes"`
	Confusion map[string]map[string]int `json:"confusion"` // expected -> predicted -> n
}

type classReport struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// labelled is one message of a labelled folder.
type labelled struct {
	name   string
	input  classifier.Input
	labels map[string]string // dimension -> label; "" when not given
}

// readLabelled reads every .eml in dir with its labels: X-Expected-Category
// (-Remedy, -Priority, -Language) headers, or a sidecar NAME.labels file of
// "category: x" lines. The labels never reach the classifier: it reads
// only the subject, the text and the attachments. Messages that do not
// parse are returned in notRead.
func readLabelled(dir string) (msgs []labelled, notRead []string, err error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no .eml files in %s", dir)
	}
	sort.Strings(paths)
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		p, err := message.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			notRead = append(notRead, fmt.Sprintf("%s: %v", filepath.Base(path), err))
			continue
		}
		labels := map[string]string{}
		for _, d := range dimensions {
			labels[d] = strings.ToLower(strings.TrimSpace(p.Header.Get("X-Expected-" + d)))
		}
		if side, err := os.ReadFile(strings.TrimSuffix(path, ".eml") + ".labels"); err == nil {
			for _, line := range strings.Split(string(side), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && slices.Contains(dimensions, strings.TrimSpace(k)) {
					labels[strings.TrimSpace(k)] = strings.ToLower(strings.TrimSpace(v))
				}
			}
		}
		text := p.NewText
		if text == "" {
			text = p.Text
		}
		msgs = append(msgs, labelled{
			name:   filepath.Base(path),
			input:  classifier.Input{Subject: p.Subject, Text: text, Attachments: p.Attachments},
			labels: labels,
		})
	}
	return msgs, notRead, nil
}

// trainingExamples turns labelled messages into examples for the model's
// spaces (category and remedy; priority and language are rules only).
func trainingExamples(msgs []labelled) []classifier.Example {
	var out []classifier.Example
	for _, m := range msgs {
		if l := m.labels["category"]; slices.Contains(classifier.Categories(), l) {
			out = append(out, classifier.Example{Space: classifier.SpaceCategory, Label: l, Input: m.input})
		}
		if l := m.labels["remedy"]; slices.Contains(classifier.Remedies(), l) {
			out = append(out, classifier.Example{Space: classifier.SpaceRemedy, Label: l, Input: m.input})
		}
	}
	return out
}

// evaluate classifies every labelled message of dir and scores it.
func evaluate(dir string, cl *classifier.Classifier) (*evalReport, error) {
	msgs, notRead, err := readLabelled(dir)
	if err != nil {
		return nil, err
	}
	evals := map[string]*classifier.Eval{}
	for _, d := range dimensions {
		evals[d] = &classifier.Eval{}
	}
	rep := &evalReport{Dimensions: map[string]*dimReport{}, Errors: notRead}
	for _, m := range msgs {
		res := cl.Classify(m.input)
		got := map[string]classifier.Decision{"category": res.Category, "remedy": res.Remedy, "priority": res.Priority, "language": res.Language}
		rep.Messages++
		for _, d := range dimensions {
			if m.labels[d] == "" {
				continue
			}
			evals[d].Add(m.labels[d], got[d].Value)
			if m.labels[d] != got[d].Value {
				rep.Misses = append(rep.Misses, evalMiss{File: m.name, Dimension: d, Expected: m.labels[d], Got: got[d].Value, Reason: got[d].Reason})
			}
		}
	}
	for _, d := range dimensions {
		e := evals[d]
		if e.N == 0 {
			continue
		}
		dr := &dimReport{N: e.N, Accuracy: e.Accuracy(), MacroF1: e.MacroF1(), Classes: map[string]classReport{}, Confusion: e.Confusion}
		for _, l := range e.Labels {
			support := 0
			for _, n := range e.Confusion[l] {
				support += n
			}
			dr.Classes[l] = classReport{Precision: e.Precision(l), Recall: e.Recall(l), F1: e.F1(l), Support: support}
		}
		rep.Dimensions[d] = dr
	}
	return rep, nil
}

func printEval(w io.Writer, rep *evalReport) {
	fmt.Fprintf(w, "%d messages\n", rep.Messages)
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  not read: %s\n", e)
	}
	for _, d := range dimensions {
		dr := rep.Dimensions[d]
		if dr == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s: accuracy %.3f, macro-F1 %.3f (%d labelled)\n", d, dr.Accuracy, dr.MacroF1, dr.N)
		labels := make([]string, 0, len(dr.Classes))
		for l := range dr.Classes {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "class\tprecision\trecall\tF1\tsupport\t")
		for _, l := range labels {
			c := dr.Classes[l]
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", l, c.Precision, c.Recall, c.F1, c.Support)
		}
		tw.Flush()
		fmt.Fprintf(w, "confusion (rows expected, columns predicted):\n")
		tw = tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, l := range labels {
			fmt.Fprintf(tw, "%s\t", abbreviate(l))
		}
		fmt.Fprintln(tw)
		for _, exp := range labels {
			fmt.Fprintf(tw, "%s\t", exp)
			for _, got := range labels {
				fmt.Fprintf(tw, "%d\t", dr.Confusion[exp][got])
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}

func printMisses(w io.Writer, misses []evalMiss) {
	fmt.Fprintf(w, "\n%d wrong answers:\n", len(misses))
	for _, m := range misses {
		fmt.Fprintf(w, "%s %s: expected %s, got %s: %s\n", m.File, m.Dimension, m.Expected, m.Got, m.Reason)
	}
}

func abbreviate(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
