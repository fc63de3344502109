package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// junitSuites is the part of a ginkgo JUnit file the table needs.
type junitSuites struct {
	Suites []struct {
		Cases []junitCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitCase struct {
	Name    string     `xml:"name,attr"`
	Skipped *struct{}  `xml:"skipped"`
	Failure *junitText `xml:"failure"`
	Error   *junitText `xml:"error"`
}

type junitText struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// SetResult is one set's line of the table.
type SetResult struct {
	Name          string
	Specs, Passed int
	Failed        int
	Failures      []Failure // failed specs and failed suite nodes
	Err           error     // no readable result
}

// Failure is a failed spec (or suite node) and its first failure line.
type Failure struct{ Spec, Line string }

// ReadSet reads every junit_*.xml under dir.
func ReadSet(name, dir string) SetResult {
	r := SetResult{Name: name}
	files, _ := filepath.Glob(filepath.Join(dir, "junit_*.xml"))
	sort.Strings(files)
	if len(files) == 0 {
		r.Err = fmt.Errorf("no junit_*.xml in %s", dir)
		return r
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			r.Err = err
			return r
		}
		if err := r.add(data); err != nil {
			r.Err = fmt.Errorf("%s: %w", f, err)
			return r
		}
	}
	return r
}

// add counts the cases of one JUnit document. Suite nodes
// ([SynchronizedBeforeSuite], [ReportAfterSuite] ...) are not specs, but
// their failures are listed: they fail every spec.
func (r *SetResult) add(data []byte) error {
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		return err
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			r.addCase(c)
		}
	}
	return nil
}

func (r *SetResult) addCase(c junitCase) {
	failure := c.Failure
	if failure == nil {
		failure = c.Error
	}
	spec := isSpec(c.Name)
	switch {
	case c.Skipped != nil && failure == nil:
		return
	case failure != nil:
		r.Failures = append(r.Failures, Failure{Spec: specName(c.Name), Line: firstLine(*failure)})
		if spec {
			r.Specs++
			r.Failed++
		}
	case spec:
		r.Specs++
		r.Passed++
	}
}

// isSpec tells specs ("[It] [sig-network] ...") from suite nodes
// ("[SynchronizedBeforeSuite]", "[ReportAfterSuite] Kubernetes e2e suite report").
func isSpec(name string) bool {
	return strings.HasPrefix(name, "[It] ")
}

// specName drops ginkgo's "[It] " prefix.
func specName(name string) string {
	return strings.TrimPrefix(name, "[It] ")
}

// firstLine is the failure's first meaningful line: the message attribute
// when written, else the first non-empty line of the text, with ginkgo's
// "[FAILED] " prefix removed.
func firstLine(t junitText) string {
	text := t.Message
	if strings.TrimSpace(text) == "" {
		text = t.Text
	}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		for _, p := range []string{"[FAILED] ", "[PANICKED] ", "[TIMEDOUT] ", "[INTERRUPTED] "} {
			l = strings.TrimPrefix(l, p)
		}
		return truncate(l, 200)
	}
	return "(no message)"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
