package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// bareMachine has nothing: not root, no files, no programs, a full disk.
type bareMachine struct{}

func (bareMachine) Euid() int                        { return 1000 }
func (bareMachine) ReadFile(string) ([]byte, error)  { return nil, errors.New("absent") }
func (bareMachine) Exists(string) bool               { return false }
func (bareMachine) LookPath(string) error            { return errors.New("absent") }
func (bareMachine) Listen(string) error              { return errors.New("address already in use") }
func (bareMachine) FreeBytes(string) (uint64, error) { return 1 << 20, nil }
func (bareMachine) NFTables() error                  { return errors.New("invalid argument") }

func TestPreflightUp(t *testing.T) {
	cfg := UpConfig{Sandbox: "pf", Preflight: bareMachine{}}
	cfg.APIServer.Port = 7443
	var out bytes.Buffer
	err := preflightUp(cfg, &out)
	if err == nil {
		t.Fatal("preflightUp on a bare machine: no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"this machine lacks what up needs (nothing was created",
		"\n  not root: ",
		"\n  port 127.0.0.1:7443 for the API cannot be opened",
		"\n  only 1 MiB free under /var/lib/svcplane",
		"\n  no nsenter in PATH",
		"\n  no iptables backend for the iptables proxy mode",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(out.String(), "svcplane: warning: no br_netfilter") {
		t.Errorf("warnings printed:\n%s", out.String())
	}

	cfg.IgnorePreflight = true
	out.Reset()
	if err := preflightUp(cfg, &out); err != nil {
		t.Fatalf("with IgnorePreflight: %v", err)
	}
	if !strings.Contains(out.String(), "svcplane: ignored (--ignore-preflight): not root") {
		t.Errorf("ignored problems printed:\n%s", out.String())
	}
}
