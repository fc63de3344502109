package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readLink(t *testing.T, path string) string {
	t.Helper()
	target, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// TestWriteAtomicLayout checks kubelet's layout: files in a timestamped
// directory, ..data pointing at it, visible links through ..data, modes.
func TestWriteAtomicLayout(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 14, 5, 6, 0, time.UTC)
	changed, err := WriteAtomic(dir, map[string]File{
		"a":       {Data: []byte("one"), Mode: 0o644},
		"sub/b/c": {Data: []byte("two"), Mode: 0o400},
	}, now)
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	ts := readLink(t, filepath.Join(dir, "..data"))
	if !strings.HasPrefix(ts, "..2026_12_07_14_05_06.") {
		t.Fatalf("..data -> %q", ts)
	}
	if got := readLink(t, filepath.Join(dir, "a")); got != "..data/a" {
		t.Fatalf("a -> %q", got)
	}
	if got := readLink(t, filepath.Join(dir, "sub")); got != "..data/sub" {
		t.Fatalf("sub -> %q", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sub/b/c"))
	if err != nil || string(b) != "two" {
		t.Fatalf("sub/b/c = %q, %v", b, err)
	}
	st, _ := os.Stat(filepath.Join(dir, "sub/b/c"))
	if st.Mode().Perm() != 0o400 {
		t.Fatalf("mode %v", st.Mode())
	}
	if changed, err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("one"), Mode: 0o644}, "sub/b/c": {Data: []byte("two"), Mode: 0o400}}, now); changed || err != nil {
		t.Fatalf("same payload rewritten: %v %v", changed, err)
	}
}

// TestWriteAtomicUpdate checks that an update swaps ..data to a new
// directory, removes the old one and the links of keys gone.
func TestWriteAtomicUpdate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if _, err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "gone": {Data: []byte("x"), Mode: 0o644}}, now); err != nil {
		t.Fatal(err)
	}
	first := readLink(t, filepath.Join(dir, "..data"))
	changed, err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("2"), Mode: 0o644}, "new": {Data: []byte("n"), Mode: 0o600}}, now.Add(time.Second))
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	second := readLink(t, filepath.Join(dir, "..data"))
	if second == first {
		t.Fatal("..data not swapped")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "2" {
		t.Fatalf("a = %q after update", b)
	}
	for _, name := range []string{first, "gone", "..data_tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s still there after update (%v)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	// A mode change alone is an update too.
	if changed, _ := WriteAtomic(dir, map[string]File{"a": {Data: []byte("2"), Mode: 0o600}, "new": {Data: []byte("n"), Mode: 0o600}}, now); !changed {
		t.Fatal("mode change not written")
	}
}

func TestWriteAtomicRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"/abs", "../up", "a/../../b", "..data", ""} {
		if _, err := WriteAtomic(t.TempDir(), map[string]File{p: {Data: []byte("x"), Mode: 0o644}}, time.Now()); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}
