// Command report reads the JUnit files of upstream's e2e.test, one
// directory per conformance set, and prints a table: set, specs, passed,
// failed, and the first failure line of each failed spec. hack/conformance.sh
// runs it as `go run ./hack/conformance/report NAME=DIR...`.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
}

// run prints the table for sets given as NAME=DIR and fails when a set has
// a failed spec or no result.
func run(args []string, w io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: report NAME=DIR...")
	}
	var results []SetResult
	for _, a := range args {
		name, dir, ok := strings.Cut(a, "=")
		if !ok || name == "" || dir == "" {
			return fmt.Errorf("argument %q: want NAME=DIR", a)
		}
		results = append(results, ReadSet(name, dir))
	}
	fmt.Fprint(w, Table(results))
	if failed := countFailed(results); failed > 0 {
		return fmt.Errorf("%d set(s) with failures", failed)
	}
	return nil
}

func countFailed(results []SetResult) int {
	n := 0
	for _, r := range results {
		if r.Err != nil || r.Failed > 0 {
			n++
		}
	}
	return n
}
