// Package e2e builds the svcplane binary and runs whole clusters with it,
// checked with the machine's kubectl (and, for networking, dig and curl
// inside network namespaces the tests create). Every process, namespace
// and interface a test makes is removed when it ends, also on failure.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the svcplane binary built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "svcplane-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "svcplane")
	// svcplane-init beside svcplane starts containers (see its doc).
	build := exec.Command("go", "build", "-race", "-o", dir+"/", "github.com/svcplane/svcplane/cmd/svcplane",
		"github.com/svcplane/svcplane/cmd/svcplane-init")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build svcplane:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
