// Package vm runs the tests that need a real IPVS kernel, which this
// machine's kernel lacks: hack/vm/run.sh boots Debian's linux-image-amd64
// under qemu (no network device) with an initramfs holding the test
// binaries built here, and this test reads their results from the guest's
// console. It skips where qemu or the packages cannot be had.
package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unavailable is run.sh's exit code when the VM cannot be had here.
const unavailable = 3

// guestSuite is one test binary run in the guest.
type guestSuite struct {
	// name is the section's name in the console and the subtest's.
	name string
	// pkg is the package whose tests are built (with CGO_ENABLED=0).
	pkg string
	// run is the -test.run pattern.
	run string
}

// TestIPVSKernel boots the VM once and runs in it: the guest checks of
// ./guest (ipvsadm, then a whole svcplane node in ipvs mode) and the
// TestKernel* tests of internal/proxy/ipvs. Each suite's top-level tests
// show here as subtests.
func TestIPVSKernel(t *testing.T) {
	root := repoRoot(t)
	skipUnlessPossible(t, root)
	suites := []guestSuite{
		{name: "guest", pkg: "./test/vm/guest", run: "."},
		{name: "ipvs", pkg: "./internal/proxy/ipvs", run: "^TestKernel"},
		{name: "cgroups", pkg: "./internal/agent/cgroups", run: "^TestKernel"},
	}
	bin := t.TempDir()
	adds := buildPrograms(t, root, bin, []string{"./cmd/svcplane", "./cmd/svcplane-init"})
	suites, suiteAdds := buildSuites(t, root, bin, suites)
	adds = append(adds, suiteAdds...)
	out, code := runVM(t, root, vmTimeout(t, 12*time.Minute), adds, guestScript(suites))
	if code == unavailable {
		t.Skipf("no VM here: %s", unavailableReason(out))
	}
	results := parseSuites(out)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			r, ok := results[s.name]
			if !ok {
				t.Fatalf("suite %s did not run in the VM (run.sh exit %d); console:\n%s", s.name, code, tail(out, 80))
			}
			reportSuite(t, r)
		})
	}
	if code != 0 && !t.Failed() {
		t.Fatalf("the VM's command exited %d; console:\n%s", code, tail(out, 80))
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack/vm/run.sh")); err != nil {
		t.Fatalf("no hack/vm/run.sh under %s: %v", root, err)
	}
	return root
}

// skipUnlessPossible skips where the VM cannot run: another platform, or
// not root (run.sh installs packages and caches under /var/cache).
func skipUnlessPossible(t *testing.T, root string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the VM test boots an amd64 Linux kernel; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if os.Geteuid() != 0 {
		t.Skip("the VM test needs root: hack/vm/run.sh installs qemu and caches the kernel under /var/cache/svcplane/vm")
	}
	if testing.Short() {
		t.Skip("the VM test boots a kernel under emulation (a minute or more); skipped with -short")
	}
}

// buildPrograms builds the commands (static, without symbols: the guest
// unpacks them into its memory) into dir and returns run.sh's --add
// arguments, which put them on the guest's PATH.
func buildPrograms(t *testing.T, root, dir string, pkgs []string) []string {
	t.Helper()
	var adds []string
	for _, pkg := range pkgs {
		out := filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
		adds = append(adds, "--add", out)
	}
	return adds
}

// buildSuites builds each suite's test binary, static, into dir and
// returns the suites built and run.sh's --add arguments. A package
// without test files (or absent) is left out.
func buildSuites(t *testing.T, root, dir string, suites []guestSuite) ([]guestSuite, []string) {
	t.Helper()
	var built []guestSuite
	var adds []string
	for _, s := range suites {
		if _, err := os.Stat(filepath.Join(root, s.pkg)); err != nil {
			t.Logf("%s: %v: not run in the VM", s.pkg, err)
			continue
		}
		out := filepath.Join(dir, s.name+".test")
		cmd := exec.Command("go", "test", "-c", "-o", out, s.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", s.pkg, err, b)
		}
		if _, err := os.Stat(out); err != nil {
			t.Logf("%s has no tests: not run in the VM", s.pkg)
			continue
		}
		built = append(built, s)
		adds = append(adds, "--add", out)
	}
	return built, adds
}

// guestScript runs each suite's binary in the guest between markers that
// parseSuites reads, and exits non-zero if one failed.
func guestScript(suites []guestSuite) string {
	var b strings.Builder
	b.WriteString("export SVCPLANE_VM_GUEST=1; failed=0\n")
	if os.Getenv("SVCPLANE_VM_LIMITS") == "1" { // the guest's TestPodLimitsCgroupV2 (a second node start)
		b.WriteString("export SVCPLANE_VM_LIMITS=1\n")
	}
	for _, s := range suites {
		fmt.Fprintf(&b, "if [ -x /usr/local/bin/%[1]s.test ]; then\n", s.name)
		fmt.Fprintf(&b, "  echo '== suite %s'\n", s.name)
		fmt.Fprintf(&b, "  /usr/local/bin/%s.test -test.v -test.timeout 10m -test.run '%s' 2>&1; rc=$?\n", s.name, s.run)
		fmt.Fprintf(&b, "  echo \"== end %s exit=$rc\"; [ $rc -eq 0 ] || failed=1\n", s.name)
		b.WriteString("fi\n")
	}
	b.WriteString("exit $failed\n")
	return b.String()
}

// vmTimeout is the VM's time: at most max, and short enough that run.sh
// stops qemu (and the guest's results are read) before go test's
// -timeout ends the binary, which would leave qemu running.
func vmTimeout(t *testing.T, max time.Duration) time.Duration {
	t.Helper()
	d, ok := t.Deadline()
	if !ok {
		return max
	}
	// run.sh's own margin: killing qemu, 5 s; reading the output.
	left := time.Until(d) - time.Minute
	if left < time.Minute {
		t.Fatalf("%s left before go test's -timeout: too little for the VM", time.Until(d).Round(time.Second))
	}
	if left < max {
		t.Logf("the VM gets %s (go test's -timeout)", left.Round(time.Second))
		return left
	}
	return max
}

// runVM runs hack/vm/run.sh and returns its output (the guest's console
// and run.sh's own lines) and exit code. The script and qemu run in their
// own process group, killed if the test's deadline comes first.
func runVM(t *testing.T, root string, timeout time.Duration, adds []string, script string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	args := append([]string{"--timeout", fmt.Sprint(int(timeout.Seconds())), "--mem", "2048"}, adds...)
	args = append(args, "--", script)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack/vm/run.sh"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("hack/vm/run.sh took %s", time.Since(start).Round(time.Second))
	if m := bootLine.FindStringSubmatch(out.String()); m != nil {
		t.Logf("guest: init ran at %ss of uptime, ready (modules loaded) at %ss", m[1], m[2])
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return out.String(), exit.ExitCode()
	default:
		t.Fatalf("hack/vm/run.sh: %v\n%s", err, tail(out.String(), 80))
		return "", -1
	}
}

var (
	bootLine    = regexp.MustCompile(`(?s)SVCPLANE-VM-INIT uptime=([0-9.]+).*SVCPLANE-VM-READY uptime=([0-9.]+)`)
	suiteStart  = regexp.MustCompile(`^== suite (\S+)$`)
	suiteEnd    = regexp.MustCompile(`^== end (\S+) exit=(\d+)$`)
	testOutcome = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+)`)
)

// suiteResult is what a suite's binary printed in the guest.
type suiteResult struct {
	exit   string
	output []string
	// outcomes are the top-level tests' results in order.
	outcomes []outcome
}

type outcome struct{ status, name string }

func parseSuites(console string) map[string]*suiteResult {
	results := map[string]*suiteResult{}
	var cur *suiteResult
	for _, line := range strings.Split(console, "\n") {
		line = strings.TrimRight(line, "\r")
		if m := suiteStart.FindStringSubmatch(line); m != nil {
			cur = &suiteResult{}
			results[m[1]] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if m := suiteEnd.FindStringSubmatch(line); m != nil {
			cur.exit = m[2]
			cur = nil
			continue
		}
		cur.output = append(cur.output, line)
		if m := testOutcome.FindStringSubmatch(line); m != nil {
			cur.outcomes = append(cur.outcomes, outcome{m[1], m[2]})
		}
	}
	return results
}

// reportSuite shows each guest test as a subtest: failed ones with the
// suite's output.
func reportSuite(t *testing.T, r *suiteResult) {
	out := strings.Join(r.output, "\n")
	if r.exit == "" {
		t.Fatalf("the suite did not finish in the VM:\n%s", tail(out, 80))
	}
	for _, o := range r.outcomes {
		t.Run(o.name, func(t *testing.T) {
			switch o.status {
			case "FAIL":
				t.Fatalf("failed in the VM:\n%s", testOutput(r.output, o.name))
			case "SKIP":
				t.Skipf("skipped in the VM:\n%s", testOutput(r.output, o.name))
			}
		})
	}
	if len(r.outcomes) == 0 {
		t.Logf("no tests matched in the VM:\n%s", tail(out, 10))
	}
	if r.exit != "0" && !t.Failed() {
		t.Fatalf("the suite exited %s in the VM:\n%s", r.exit, tail(out, 80))
	}
}

// testOutput is the part of a go test -v output that belongs to test
// name: from its === RUN line to its --- line.
func testOutput(lines []string, name string) string {
	var b strings.Builder
	in := false
	for _, l := range lines {
		if l == "=== RUN   "+name {
			in = true
		}
		if in {
			b.WriteString(l + "\n")
		}
		if in && testOutcome.MatchString(l) && strings.Contains(l, " "+name+" ") {
			break
		}
	}
	if b.Len() == 0 {
		return strings.Join(lines, "\n")
	}
	return b.String()
}

func unavailableReason(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "vm: unavailable: ") {
			return strings.TrimPrefix(l, "vm: unavailable: ")
		}
	}
	return tail(out, 5)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
