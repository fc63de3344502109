package container

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHostDevices walks a /dev made by the test: device nodes at any depth
// are listed under /dev with their numbers, type and mode; the skipped
// directories, the console, links and plain files are not.
func TestHostDevices(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string, mode uint32, major, minor uint32) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(p, mode, int(unix.Mkdev(major, minor))); err != nil {
			t.Skipf("mknod (needs root): %v", err)
		}
		_ = unix.Chmod(p, mode&0o777)
	}
	mk("null", unix.S_IFCHR|0o666, 1, 3)
	mk("net/tun", unix.S_IFCHR|0o600, 10, 200)
	mk("loop0", unix.S_IFBLK|0o660, 7, 0)
	mk("pts/0", unix.S_IFCHR|0o620, 136, 0)
	mk("console", unix.S_IFCHR|0o600, 5, 1)
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("null", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	devs, err := HostDevices(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range devs {
		got[d.Path] = fmt.Sprintf("%s %d/%d %s", d.Type, d.Major, d.Minor, d.FileMode)
	}
	want := map[string]string{
		"/dev/null":    "c 1/3 -rw-rw-rw-",
		"/dev/net/tun": "c 10/200 -rw-------",
		"/dev/loop0":   "b 7/0 -rw-rw----",
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: got %q, want %q", p, got[p], w)
		}
	}
	if _, err := HostDevices(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory gave no error")
	}
}
