package imagestore_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/svcplane/svcplane/internal/agent/imagestore"
	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

func TestBadEntries(t *testing.T) {
	file := func(n string) imagetest.Entry { return imagetest.File(n, "x", 0o644) }
	cases := []struct {
		name   string
		layer  imagetest.Layer
		entry  string // the entry the error names
		unsafe bool   // refused as unsafe (else just failing)
	}{
		{"dot-dot", imagetest.Layer{file("../escape")}, "../escape", true},
		{"nested dot-dot", imagetest.Layer{file("a/../../escape")}, "a/../../escape", true},
		{"absolute path", imagetest.Layer{file("/tmp/svcplane-imagestore-escape")}, "/tmp/svcplane-imagestore-escape", true},
		{"hard link out", imagetest.Layer{{Name: "l", Type: tar.TypeLink, Link: "../outside"}}, "l", true},
		{"hard link absolute", imagetest.Layer{{Name: "l", Type: tar.TypeLink, Link: "/etc/passwd"}}, "l", true},
		{"hard link through symlink", imagetest.Layer{imagetest.Symlink("s", "/etc"), {Name: "l", Type: tar.TypeLink, Link: "s/passwd"}}, "l", true},
		{"hard link to nothing", imagetest.Layer{{Name: "l", Type: tar.TypeLink, Link: "nothere"}}, "l", false},
		{"relative symlink out", imagetest.Layer{imagetest.Symlink("a/b", "../../../etc")}, "a/b", true},
		{"symlink to ..", imagetest.Layer{imagetest.Symlink("up", "..")}, "up", true},
		{"through absolute symlink", imagetest.Layer{imagetest.Symlink("etc", "/etc"), file("etc/svcplane-imagestore-escape")}, "etc/svcplane-imagestore-escape", true},
		{"through symlink to root", imagetest.Layer{imagetest.Symlink("root", "/"), file("root/tmp/svcplane-imagestore-escape")}, "root/tmp/svcplane-imagestore-escape", true},
		{"through inner symlink", imagetest.Layer{imagetest.Dir("d"), imagetest.Symlink("s", "d"), file("s/f")}, "s/f", true},
		{"whiteout through symlink", imagetest.Layer{imagetest.Symlink("s", "/etc"), imagetest.Whiteout("s/passwd")}, "s/.wh.passwd", true},
		{"opaque through symlink", imagetest.Layer{imagetest.Symlink("s", "/etc"), imagetest.Opaque("s")}, "s/.wh..wh..opq", true},
		{"char device", imagetest.Layer{{Name: "dev/mem", Type: tar.TypeChar, Devmajor: 1, Devminor: 1}}, "dev/mem", true},
		{"block device", imagetest.Layer{{Name: "dev/sda", Type: tar.TypeBlock, Devmajor: 8}}, "dev/sda", true},
		{"file over a directory", imagetest.Layer{imagetest.Dir("d"), file("d")}, "d", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"bad:1"}, Layers: []imagetest.Layer{c.layer}})
			var ee *imagestore.EntryError
			if !errors.As(err, &ee) || ee.Entry != c.entry {
				t.Fatalf("Import = %v; want an error naming entry %q", err, c.entry)
			}
			if errors.Is(err, imagestore.ErrUnsafeEntry) != c.unsafe {
				t.Errorf("Import = %v; unsafe %v, want %v", err, !c.unsafe, c.unsafe)
			}
			checkEmpty(t, s)
		})
	}
	for _, p := range []string{"/tmp/svcplane-imagestore-escape", "/etc/svcplane-imagestore-escape"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

// checkEmpty checks that the store holds nothing and its directory's
// parent nothing but the store and the archive.
func checkEmpty(t *testing.T, s *imagestore.Store) {
	t.Helper()
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Errorf("store lists %+v, %v", list, err)
	}
	for _, sub := range []string{"layers", "images", "tmp"} {
		if names := dirNames(t, filepath.Join(s.Dir(), sub)); len(names) != 0 {
			t.Errorf("%s/ holds %q", sub, names)
		}
	}
	if names := dirNames(t, filepath.Dir(s.Dir())); len(names) != 2 {
		t.Errorf("the store's parent holds %q, want only the archive and the store", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestBadArchives(t *testing.T) {
	good := func(t *testing.T) []byte {
		p := filepath.Join(t.TempDir(), "good.tar")
		big := imagetest.File("big", string(noise(64<<10)), 0o644)
		if err := imagetest.WriteOCI(p, imagetest.Spec{Refs: []string{"x:1"}, Layers: []imagetest.Layer{{big}}}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cases := []struct {
		name  string
		build func(t *testing.T) []byte
	}{
		{"empty file", func(*testing.T) []byte { return nil }},
		{"not a tar", func(*testing.T) []byte { return noise(10 << 10) }},
		{"tar of other files", func(t *testing.T) []byte {
			return rewrite(t, good(t), func(h *tar.Header, _ []byte) []byte { h.Name = "x/" + h.Name; return nil })
		}},
		{"truncated", func(t *testing.T) []byte { d := good(t); return d[:len(d)*6/10] }},
		{"truncated at a header", func(t *testing.T) []byte { d := good(t); return d[:512*3+100] }},
		{"corrupt layer", func(t *testing.T) []byte { return rewrite(t, good(t), flipBiggest(t, good(t))) }},
		{"missing layer", func(t *testing.T) []byte { return rewrite(t, good(t), dropBiggest(t, good(t))) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := imagestore.Open(filepath.Join(dir, "images"))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "archive.tar")
			if err := os.WriteFile(p, c.build(t), 0o644); err != nil {
				t.Fatal(err)
			}
			imgs, err := s.Import(context.Background(), p)
			if err == nil {
				t.Fatalf("Import = %+v, want an error", imgs)
			}
			t.Log(err)
			checkEmpty(t, s)
		})
	}
}

func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// rewrite passes each entry of a tar through edit: a nil result keeps the
// data, an entry renamed to "" is dropped.
func rewrite(t *testing.T, data []byte, edit func(*tar.Header, []byte) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(data)), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if nb := edit(h, body); nb != nil {
			body = nb
		}
		if h.Name == "" {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	return out.Bytes()
}

func biggest(t *testing.T, data []byte) string {
	var sizes []struct {
		name string
		size int64
	}
	rewrite(t, data, func(h *tar.Header, _ []byte) []byte {
		sizes = append(sizes, struct {
			name string
			size int64
		}{h.Name, h.Size})
		return nil
	})
	sort.Slice(sizes, func(i, j int) bool { return sizes[i].size > sizes[j].size })
	return sizes[0].name
}

func flipBiggest(t *testing.T, data []byte) func(*tar.Header, []byte) []byte {
	name := biggest(t, data)
	return func(h *tar.Header, body []byte) []byte {
		if h.Name != name {
			return nil
		}
		b := append([]byte(nil), body...)
		b[len(b)/2] ^= 0xff
		return b
	}
}

func dropBiggest(t *testing.T, data []byte) func(*tar.Header, []byte) []byte {
	name := biggest(t, data)
	return func(h *tar.Header, _ []byte) []byte {
		if h.Name == name {
			h.Name = ""
		}
		return nil
	}
}

func TestFailedImportKeepsImages(t *testing.T) {
	s, _, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"good:1"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bad.tar")
	bad := imagetest.Spec{Refs: []string{"good:1"}, Layers: []imagetest.Layer{baseLayer(), {imagetest.File("../x", "", 0o644)}}}
	if err := imagetest.WriteDocker(p, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(context.Background(), p); err == nil {
		t.Fatal("bad import succeeded")
	}
	img, ok, err := s.Get("good:1")
	if err != nil || !ok {
		t.Fatalf("good:1 gone after a failed import: %v", err)
	}
	checkBaseLayer(t, img.Layers[0])
	if n := len(dirNames(t, filepath.Join(s.Dir(), "tmp"))); n != 0 {
		t.Errorf("tmp/ holds %d entries", n)
	}
}
