package imagestore_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

func whiteoutImage() imagetest.Spec {
	lower := imagetest.Files(map[string]string{"a": "a", "d/b": "b", "o/c": "c", "keep": "k"}, nil)
	upper := imagetest.Layer{imagetest.Whiteout("a"), imagetest.Dir("o"), imagetest.Opaque("o"), imagetest.File("o/new", "n", 0o644)}
	return imagetest.Spec{Refs: []string{"wh:1"}, Layers: []imagetest.Layer{lower, upper}}
}

// TestWhiteoutsUnpacked checks the overlayfs form of the OCI whiteouts.
func TestWhiteoutsUnpacked(t *testing.T) {
	_, imgs, err := importOne(t, imagetest.WriteOCI, whiteoutImage())
	if err != nil {
		t.Fatal(err)
	}
	upper := imgs[0].Layers[1]
	st := stat(t, filepath.Join(upper, "a"))
	if st.Mode&syscall.S_IFMT != syscall.S_IFCHR || st.Rdev != 0 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("whiteout a: mode %o rdev %d owner %d:%d, want a 0:0 character device owned by root", st.Mode, st.Rdev, st.Uid, st.Gid)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(upper, "o"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("o: trusted.overlay.opaque = %q, %v", buf[:max(n, 0)], err)
	}
	if _, err := os.Lstat(filepath.Join(upper, ".wh.a")); !os.IsNotExist(err) {
		t.Errorf(".wh.a stayed a file: %v", err)
	}
}

// TestWhiteoutsOverlay mounts overlayfs over the two layers and checks
// that it honours the whiteouts.
func TestWhiteoutsOverlay(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	_, imgs, err := importOne(t, imagetest.WriteDocker, whiteoutImage())
	if err != nil {
		t.Fatal(err)
	}
	l := imgs[0].Layers
	dir := t.TempDir()
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + l[1] + ":" + l[0] + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Skipf("mount overlay: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
	var got []string
	filepath.Walk(merged, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			got = append(got, strings.TrimPrefix(p, merged+"/"))
		}
		return err
	})
	sort.Strings(got)
	if want := "d/b keep o/new"; strings.Join(got, " ") != want {
		t.Errorf("merged tree has %q, want %q", got, want)
	}
}
