package process

import (
	"context"
	"os/exec"
	"testing"
)

// TestExitCodes runs real shells: a signal death is 128 + the signal, as
// runc reports it, not Go's -1.
func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		want         int
	}{
		{"success", "exit 0", 0},
		{"exit code", "exit 3", 3},
		{"SIGSEGV", "kill -11 $$", 139},
		{"SIGKILL", "kill -9 $$", 137},
		{"SIGTERM", "kill -15 $$", 143},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := &joined{cmd: exec.Command("sh", "-c", tt.script)} // a plan without namespaces joins none
			if err := j.Start(); err != nil {
				t.Fatal(err)
			}
			code, err := waitCmd(context.Background(), j)
			if err != nil || code != tt.want {
				t.Fatalf("waitCmd: %d, %v; want %d", code, err, tt.want)
			}
			cmd := startSh(t, tt.script)
			werr := cmd.Wait()
			if code, _ := exitCode(cmd, werr); code != tt.want {
				t.Fatalf("init exitCode: %d, want %d", code, tt.want)
			}
		})
	}
}

func startSh(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
