package diskguard_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/diskguard"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

func TestGuardRefusesWritesUntilSpaceReturns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var free atomic.Int64
	free.Store(1 << 30)
	recovered := make(chan struct{}, 1)
	g, err := diskguard.New(diskguard.Config{
		Store: memory.New(memory.Config{}), Dir: dir, MinFree: 100, Reserve: 4096,
		FreeBytes: func(string) (int64, error) { return free.Load(), nil },
		OnRecover: func(context.Context) { recovered <- struct{}{} },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ballast := filepath.Join(dir, diskguard.BallastName)
	if st, err := os.Stat(ballast); err != nil || st.Size() != 4096 {
		t.Fatalf("ballast: %v %v", st, err)
	}
	if _, err := g.Create(ctx, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}

	free.Store(50)
	if _, err := g.Create(ctx, "/b", []byte("1")); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("create on a full disk: %v", err)
	}
	if _, err := g.Update(ctx, "/a", []byte("2"), 0); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("update on a full disk: %v", err)
	}
	if _, err := os.Stat(ballast); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ballast kept on a full disk: %v", err)
	}
	if kv, err := g.Get(ctx, "/a"); err != nil || string(kv.Value) != "1" {
		t.Fatalf("read on a full disk: %v %v", kv, err)
	}

	free.Store(150) // above MinFree, but not MinFree+Reserve: still refused
	if _, err := g.Delete(ctx, "/a", 0); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("delete without the reserve back: %v", err)
	}
	free.Store(1 << 30)
	if _, err := g.Create(ctx, "/b", []byte("1")); err != nil {
		t.Fatalf("create once space returned: %v", err)
	}
	<-recovered
	if _, err := os.Stat(ballast); err != nil {
		t.Fatalf("ballast not made again: %v", err)
	}
	if g.Low() {
		t.Fatal("still low")
	}
}

func TestFreeBytes(t *testing.T) {
	n, err := diskguard.FreeBytes(t.TempDir())
	if err != nil || n <= 0 {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := diskguard.FreeBytes(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
