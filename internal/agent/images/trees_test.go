package images

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLink covers a fresh link (one symlink call), one already right,
// one to replace and one whose directory is missing.
func TestLink(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, target string }{
		{"bin/sh", "busybox"},         // fresh, bin missing
		{"bin/ls", "busybox"},         // fresh
		{"bin/ls", "busybox"},         // already right
		{"bin/ls", ".busybox-shell"},  // replaced
		{"usr/local/bin/x", "/x/y/z"}, // deep directory missing
	} {
		path := filepath.Join(dir, c.name)
		if err := link(c.target, path); err != nil {
			t.Fatalf("link %s -> %s: %v", c.name, c.target, err)
		}
		if got, err := os.Readlink(path); err != nil || got != c.target {
			t.Errorf("%s -> %q (%v), want %q", c.name, got, err, c.target)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "bin/ls.new")); !os.IsNotExist(err) {
		t.Errorf("temporary link left behind: %v", err)
	}
}

// TestLibraryCache: a binary's libraries are read once per layout (the
// second answer comes from the cache, even once the file is gone); a
// nil cache reads each time.
func TestLibraryCache(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "tool")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := libraryCache{}
	if libs, err := c.of(script); err != nil || len(libs) != 0 {
		t.Fatalf("script: %v %v", libs, err)
	}
	c[script] = []string{"/lib/cached.so"}
	if libs, err := c.of(script); err != nil || len(libs) != 1 || libs[0] != "/lib/cached.so" {
		t.Errorf("cached: %v %v", libs, err)
	}
	os.Remove(script)
	if _, err := libraryCache(nil).of(script); err == nil {
		t.Error("nil cache: want the read's error for a missing file")
	}
}
