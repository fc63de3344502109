package main

import (
	"fmt"
	"strings"
)

// Table renders the results as a Markdown table (so it pastes into the
// README as it is) followed by the failures, one per line.
func Table(results []SetResult) string {
	var b strings.Builder
	b.WriteString("| set | specs | passed | failed |\n|---|---|---|---|\n")
	var total SetResult
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | - | - | - |\n", r.Name)
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", r.Name, r.Specs, r.Passed, r.Failed)
		total.Specs, total.Passed, total.Failed = total.Specs+r.Specs, total.Passed+r.Passed, total.Failed+r.Failed
	}
	if len(results) > 1 {
		fmt.Fprintf(&b, "| **all** | %d | %d | %d |\n", total.Specs, total.Passed, total.Failed)
	}
	for _, r := range results {
		writeFailures(&b, r)
	}
	return b.String()
}

func writeFailures(b *strings.Builder, r SetResult) {
	if r.Err == nil && len(r.Failures) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", r.Name)
	if r.Err != nil {
		fmt.Fprintf(b, "- no result: %v\n", r.Err)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(b, "- %s: `%s`\n", f.Spec, strings.ReplaceAll(f.Line, "`", "'"))
	}
}
