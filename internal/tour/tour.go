// Package tour is the docs tour (docs/*.md): pages of prose and shell
// steps that run against a live sandboxed cluster, so every output the
// pages show is svcplane's real output of the day. hack/docs.sh runs it
// and writes the pages; test/e2e's TestDocsTour runs a short part in
// check mode so the steps stay valid.
package tour

import (
	"fmt"
	"regexp"
	"strings"
)

// Page is one markdown file of the tour.
type Page struct {
	// File is the name under docs/, Title its heading.
	File, Title string
	// Intro is markdown before the first step.
	Intro string
	// Steps run in order against the cluster.
	Steps []Step
	// Short marks the pages a check run goes through.
	Short bool
}

// Step is some prose and, usually, a command whose output is shown.
type Step struct {
	// Text is markdown shown before the command.
	Text string
	// Cmd is a bash command line; {{node}} is the cluster's (and its
	// first node's) name, {{ui}} the live view's address. Empty: prose
	// only.
	Cmd string
	// Shown is the command the page shows when it differs from Cmd.
	Shown string
	// Hidden runs Cmd without showing it (waits, set-up).
	Hidden bool
	// Until repeats Cmd (every 500 ms, up to a minute) until it exits 0.
	Until bool
	// MayFail shows a failing command's output instead of stopping.
	MayFail bool
	// Screenshot, when set, is a PNG written under docs/ by Cmd
	// ({{png}} in Cmd is its path), shown as an image.
	Screenshot string
}

// UpArgs are the tour cluster's flags beyond the sandbox's: LoadBalancer
// addresses from the node's own subnet, so they are reachable from it.
func UpArgs() []string {
	return []string{"--example=false", "--loadbalancer-ip-range", "10.240.0.200-10.240.0.220"}
}

// Vars are what a step's placeholders stand for.
type Vars struct {
	Node, UI, PNG string
}

var placeholder = regexp.MustCompile(`\{\{[a-z]+\}\}`)

// expand puts vars into cmd; an unknown placeholder is an error.
func expand(cmd string, v Vars) (string, error) {
	var bad []string
	out := placeholder.ReplaceAllStringFunc(cmd, func(p string) string {
		switch p {
		case "{{node}}":
			return v.Node
		case "{{ui}}":
			return v.UI
		case "{{png}}":
			return v.PNG
		}
		bad = append(bad, p)
		return p
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("unknown placeholders %s in %q", strings.Join(bad, ", "), cmd)
	}
	return out, nil
}
