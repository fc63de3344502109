package diskguard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/storage/diskguard"
	"github.com/svcplane/svcplane/internal/storage/etcd"
)

// TestCommitRacingAFullDiskKeepsEtcdUp: writes that passed the guard's
// check just before the disk filled to its last byte still commit, and
// embedded etcd stays up (without the preallocated database blocks, bolt
// writes them into holes of its sparse file, fails and ends the process).
func TestCommitRacingAFullDiskKeepsEtcdUp(t *testing.T) {
	dir := smallTmpfs(t, "300m")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, UnsafeNoFsync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	store, err := etcd.New(etcd.Config{Client: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	g, err := diskguard.New(diskguard.Config{Store: store, Dir: dir, Preallocate: []string{etcd.DatabasePath(dir)}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Create(ctx, "/registry/a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	free, err := diskguard.FreeBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("fallocate", "-l", fmt.Sprint(free), filepath.Join(dir, "filler")).CombinedOutput(); err != nil {
		t.Fatalf("fill the tmpfs: %v %s", err, out)
	}
	if free, _ := diskguard.FreeBytes(dir); free != 0 {
		t.Fatalf("%d bytes still free", free)
	}
	value := []byte(strings.Repeat("v", 100<<10))
	for i := range 40 { // 4 MB, past the guard (as if checked before the fill)
		if _, err := store.Create(ctx, fmt.Sprintf("/registry/b/%d", i), value); err != nil {
			t.Fatalf("write %d racing the fill: %v", i, err)
		}
	}
	if _, err := store.Get(ctx, "/registry/b/39"); err != nil {
		t.Fatal(err)
	}
}

// smallTmpfs mounts a tmpfs of size, unmounted when the test ends.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
