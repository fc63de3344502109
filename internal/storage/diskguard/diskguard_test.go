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

	"golang.org/x/sys/unix"

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

// TestGuardKeepsDatabaseBlocksAllocated: the database file's holes and
// Headroom bytes past its end are allocated (so that a commit racing a
// fill of the disk to its last byte needs no free space), again once the
// file has grown into them, and not while space is low.
func TestGuardKeepsDatabaseBlocksAllocated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(db, 1<<20); err != nil { // sparse, as bolt grows it
		t.Fatal(err)
	}
	var free atomic.Int64
	free.Store(1 << 30)
	g, err := diskguard.New(diskguard.Config{
		Store: memory.New(memory.Config{}), Dir: dir, MinFree: 100, Reserve: 4096,
		Preallocate: []string{db, filepath.Join(dir, "absent")}, Headroom: 1 << 20,
		FreeBytes: func(string) (int64, error) { return free.Load(), nil },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, db); got == 0 {
		t.Skip("the filesystem of the test directory does not preallocate")
	} else if got < 2<<20 {
		t.Fatalf("allocated %d bytes of the database file, want its 1 MiB and 1 MiB ahead", got)
	}
	if st, err := os.Stat(db); err != nil || st.Size() != 1<<20 {
		t.Fatalf("the file's size changed: %v %v", st, err)
	}
	if err := os.Truncate(db, 3<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Create(ctx, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, db); got < 4<<20 {
		t.Fatalf("allocated %d bytes after growth, want 4 MiB", got)
	}
	free.Store(50)
	if err := os.Truncate(db, 8<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Create(ctx, "/b", []byte("1")); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("create on a full disk: %v", err)
	}
	if got := allocated(t, db); got >= 8<<20 {
		t.Fatalf("allocated %d bytes while space is low", got)
	}
}

func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}
