package process

import (
	"context"
	"testing"

	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// TestRecordedInits finds every instance's init from the files alone.
func TestRecordedInits(t *testing.T) {
	root, fk, l := t.TempDir(), netns.NewFake(), NewFakeLauncher()
	r := newTestRuntime(t, root, fk, l)
	ctx := context.Background()
	if _, err := r.EnsureSandbox(ctx, testPod()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := r.Start(ctx, runtime.ContainerSpec{Pod: testPod(), Name: name, Argv: []string{"sleep", "1"}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := RecordedInits(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] == got[1] || got[0].PID == 0 || got[0].HostNetwork {
		t.Fatalf("recorded inits: %v", got)
	}
	for _, ref := range got {
		if !l.Alive(procRecord{PID: ref.PID, StartTicks: ref.StartTicks}) {
			t.Errorf("%v is not a launched process", ref)
		}
	}
	if none, err := RecordedInits(t.TempDir() + "/missing"); err != nil || len(none) != 0 {
		t.Fatalf("missing root: %v %v", none, err)
	}
	// The pod's network namespace, what down deletes for a joined node.
	if ns, err := RecordedNetns(root); err != nil || len(ns) != 1 || ns[0] == "" {
		t.Fatalf("recorded network namespaces: %v %v", ns, err)
	}
}
