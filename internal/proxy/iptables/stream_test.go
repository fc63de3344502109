package iptables

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// streamFake streams restores into the fake; failAfter > 0 makes the
// stream's writes fail past that many bytes, as a tool that stops reading.
type streamFake struct {
	*iptablestest.Fake
	failAfter int
	streamed  int
}

var errGone = errors.New("broken pipe")

type limitWriter struct {
	w    io.Writer
	left int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		n, _ := l.w.Write(p[:l.left])
		l.left = 0
		return n, errGone
	}
	l.left -= len(p)
	return l.w.Write(p)
}

func (s *streamFake) RunStream(ctx context.Context, name string, args []string, write func(io.Writer) error) ([]byte, error) {
	s.streamed++
	var b bytes.Buffer
	var w io.Writer = &b
	if s.failAfter > 0 {
		w = &limitWriter{w: &b, left: s.failAfter}
	}
	if err := write(w); err != nil {
		return nil, err
	}
	return s.Fake.Run(ctx, name, args, b.Bytes())
}

func TestStreamedRestore(t *testing.T) {
	ctx := context.Background()
	plain := iptablestest.NewFake()
	if err := newTestBackend(t, plain).Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	f := &streamFake{Fake: iptablestest.NewFake()}
	b := newTestBackend(t, f.Fake)
	b.ex = f
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	if f.streamed != 1 {
		t.Errorf("%d restores streamed, want 1", f.streamed)
	}
	if got, want := f.LastRestore(), plain.LastRestore(); got != want {
		t.Errorf("streamed restore differs from the text:\n%s\nwant:\n%s", got, want)
	}
	if got := string(b.LastRestore()); !strings.HasSuffix(plain.LastRestore(), got) || !strings.HasPrefix(got, "*filter\n") {
		t.Errorf("LastRestore is not the rules part of what was streamed:\n%s", got)
	}
}

func TestStreamFailure(t *testing.T) {
	ctx := context.Background()
	plain := iptablestest.NewFake()
	if err := newTestBackend(t, plain).Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	// The write fails in the nat rules, the second pass.
	f := &streamFake{Fake: iptablestest.NewFake(), failAfter: len(plain.LastRestore()) - 10}
	b := newTestBackend(t, f.Fake)
	b.ex = f
	st := proxytest.OverallState()
	if err := b.Sync(ctx, st); !errors.Is(err, errGone) {
		t.Fatalf("sync: %v, want the write's error", err)
	}
	if !b.needFull {
		t.Error("a failed streamed restore must make the next sync full")
	}
	f.failAfter = 0
	st.Full = false
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Save("legacy/4"), "-A KUBE-SERVICES") {
		t.Error("rules missing after the repaired sync")
	}
}

// TestOSExecStream: a tool that fails without reading its input is
// reported with its exit status and standard error, not a broken pipe.
func TestOSExecStream(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx := context.Background()
	big := bytes.Repeat([]byte("-A X -j Y\n"), 400000)
	out, err := OSExec{}.RunStream(ctx, "sh", []string{"-c", "wc -c"}, func(w io.Writer) error {
		_, err := w.Write(big)
		return err
	})
	if err != nil || strings.TrimSpace(string(out)) != "4000000" {
		t.Errorf("wc -c: %q, %v", out, err)
	}
	_, err = OSExec{}.RunStream(ctx, "sh", []string{"-c", "echo refused >&2; exit 2"}, func(w io.Writer) error {
		_, err := w.Write(big)
		return err
	})
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "refused") {
		t.Errorf("failing tool: %v", err)
	}
}
