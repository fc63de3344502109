// Package guest holds the checks that run inside the VM of test/vm, on a
// kernel with IPVS: test/vm builds them (CGO_ENABLED=0) into the guest's
// initramfs. Anywhere else (SVCPLANE_VM_GUEST unset) they do not run.
package guest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv("SVCPLANE_VM_GUEST") != "1" {
		fmt.Println("test/vm/guest runs inside test/vm's VM only (SVCPLANE_VM_GUEST=1)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run runs a command and fails the test with its output if it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
