package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	gsb "github.com/elastic/go-seccomp-bpf"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

func runtimeDefaultPlan(t *testing.T) Plan {
	t.Helper()
	p, err := seccompPlan(t, "", withProfile(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeccompPolicyAssemblesTheDefaultProfile(t *testing.T) {
	policy, err := seccompPolicy(runtimeDefaultPlan(t).Seccomp)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := policy.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 100 || policy.DefaultAction != gsb.ActionErrno {
		t.Errorf("%d instructions, default %v", len(prog), policy.DefaultAction)
	}
}

func TestSeccompConditions(t *testing.T) {
	for _, c := range []struct {
		arg  specs.LinuxSeccompArg
		want gsb.Operation
		err  bool
	}{
		{specs.LinuxSeccompArg{Op: specs.OpEqualTo, Value: 8}, gsb.Equal, false},
		{specs.LinuxSeccompArg{Op: specs.OpNotEqual, Value: 40}, gsb.NotEqual, false},
		{specs.LinuxSeccompArg{Op: specs.OpMaskedEqual, Value: 0x7e020000}, gsb.BitsNotSet, false},
		{specs.LinuxSeccompArg{Op: specs.OpMaskedEqual, Value: 4, ValueTwo: 4}, gsb.BitsSet, false},
		{specs.LinuxSeccompArg{Op: specs.OpMaskedEqual, Value: 6, ValueTwo: 2}, "", true},
	} {
		got, err := seccompCondition(c.arg)
		if (err != nil) != c.err || (err == nil && got.Operation != c.want) {
			t.Errorf("%+v: got %v %v, want %v (error %v)", c.arg, got.Operation, err, c.want, c.err)
		}
	}
}

// TestSeccompEnforced loads the default profile in a child process (a
// filter cannot be taken off again) and checks keyctl(2), which the
// profile denies, fails with EPERM while getpid works.
func TestSeccompEnforced(t *testing.T) {
	if os.Getenv("SVCPLANE_SECCOMP_CHILD") == "1" {
		seccompChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSeccompEnforced$", "-test.v")
	cmd.Env = append(os.Environ(), "SVCPLANE_SECCOMP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "keyctl: operation not permitted") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func seccompChild(t *testing.T) {
	runtime.LockOSThread()
	p := runtimeDefaultPlan(t)
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := loadSeccomp(p.Seccomp); err != nil {
		t.Fatal(err)
	}
	_, _, errno := unix.Syscall(unix.SYS_KEYCTL, 0 /* KEYCTL_GET_KEYRING_ID */, ^uintptr(0), 0)
	if !errors.Is(errno, unix.EPERM) {
		t.Fatalf("keyctl under the default profile: %v", errno)
	}
	fmt.Println("keyctl:", errno, "; getpid:", os.Getpid())
}
