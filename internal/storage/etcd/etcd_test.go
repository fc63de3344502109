package etcd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/etcd"
	"github.com/svcplane/svcplane/internal/storage/storagetest"
)

// startEmbedded starts etcd in dir (a new temporary one when empty) and
// stops it when the test ends.
func startEmbedded(t *testing.T, dir string) *etcd.Embedded {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e, err := etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{DataDir: dir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newStore(t *testing.T, e *etcd.Embedded) *etcd.Store {
	t.Helper()
	s, err := etcd.New(etcd.Config{Client: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite on one embedded member, a new Store over
// it for each case.
func TestConformance(t *testing.T) {
	e := startEmbedded(t, "")
	storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t, e) })
}

func TestRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := startEmbedded(t, dir)
	rev, err := newStore(t, e).Create(ctx, "/registry/pods/default/a", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, startEmbedded(t, dir))
	kv, err := s.Get(ctx, "/registry/pods/default/a")
	if err != nil || string(kv.Value) != "a" || kv.ModRevision != rev {
		t.Fatalf("Get after restart = %+v, %v; want a@%d", kv, err, rev)
	}
	if now, err := s.Revision(ctx); err != nil || now != rev {
		t.Errorf("Revision after restart = %d, %v; want %d", now, err, rev)
	}
}

// Other processes reach the member on its unix socket, through Dial.
func TestDialSocket(t *testing.T) {
	e := startEmbedded(t, "")
	if !strings.HasPrefix(e.Endpoint(), "unix:///") {
		t.Fatalf("endpoint %s, want a unix socket", e.Endpoint())
	}
	client, err := etcd.Dial(t.Context(), []string{e.Endpoint()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s, err := etcd.New(etcd.Config{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Create(t.Context(), "/registry/services/default/a", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := newStore(t, e).Get(t.Context(), "/registry/services/default/a")
	if err != nil || kv.ModRevision != rev {
		t.Errorf("Get in process = %+v, %v; want the write at %d", kv, err, rev)
	}
}

func TestDialUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	sock := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	if client, err := etcd.Dial(ctx, []string{sock}, nil); err == nil {
		client.Close()
		t.Fatal("Dial of a socket nobody listens on succeeded")
	}
}

func TestEmbeddedConfigErrors(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  etcd.EmbeddedConfig
		want string
	}{
		{"no data dir", etcd.EmbeddedConfig{}, "no data directory"},
		{"socket path too long", etcd.EmbeddedConfig{DataDir: long}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := etcd.StartEmbedded(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("StartEmbedded: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	startEmbedded(t, dir)
	_, err := etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second StartEmbedded on one directory: %v, want an error saying it is in use", err)
	}
}

func TestNewWithoutClient(t *testing.T) {
	if _, err := etcd.New(etcd.Config{}); err == nil {
		t.Error("New without a client succeeded")
	}
}

// Close of the Store ends its watches, and only them.
func TestCloseEndsWatches(t *testing.T) {
	e := startEmbedded(t, "")
	s := newStore(t, e)
	ch := s.Watch(t.Context(), "/registry/pods/", 0)
	s.Close()
	for resp := range ch {
		if resp.Err != nil && !errors.Is(resp.Err, context.Canceled) {
			t.Logf("response after Close: %v", resp.Err)
		}
	}
	if _, err := newStore(t, e).Revision(t.Context()); err != nil {
		t.Errorf("client unusable after Store.Close: %v", err)
	}
}
