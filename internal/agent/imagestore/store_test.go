package imagestore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/svcplane/svcplane/internal/agent/imagestore"
	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

// writer writes an archive of specs at p.
type writer func(p string, specs ...imagetest.Spec) error

var formats = []struct {
	name  string
	write writer
}{
	{"docker", imagetest.WriteDocker},
	{"oci", imagetest.WriteOCI},
}

var probeConfig = v1.Config{
	Entrypoint: []string{"/bin/probe"},
	Cmd:        []string{"--port", "8080"},
	Env:        []string{"PATH=/bin", "GREETING=hello"},
	WorkingDir: "/srv",
	User:       "1000:3000",
}

func baseLayer() imagetest.Layer {
	return imagetest.Layer{
		imagetest.Dir("bin"),
		{Name: "bin/probe", Body: []byte("#!probe\n"), Mode: 0o4755, UID: 0, GID: 0},
		imagetest.Symlink("bin/sh", "/bin/busybox"),
		imagetest.Symlink("bin/ls", "busybox"),
		{Name: "etc/passwd", Body: []byte("root:x:0:0::/root:/bin/sh\n"), Mode: 0o644},
		imagetest.Dir("srv"),
		{Name: "srv/data", Body: []byte("data"), Mode: 0o600, UID: 1000, GID: 3000,
			ModTime: time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC), Xattrs: map[string]string{"user.note": "kept"}},
		{Name: "srv/link", Type: '1', Link: "srv/data"},
	}
}

// importOne writes specs with w and imports them into a new store.
func importOne(t *testing.T, w writer, specs ...imagetest.Spec) (*imagestore.Store, []imagestore.Image, error) {
	t.Helper()
	dir := t.TempDir()
	s, err := imagestore.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "archive.tar")
	if err := w(p, specs...); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Import(context.Background(), p)
	return s, imgs, err
}

func TestImport(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			s, imgs, err := importOne(t, f.write, imagetest.Spec{
				Refs: []string{"probe:1", "example.com/team/probe:1"}, Layers: []imagetest.Layer{baseLayer()}, Config: probeConfig})
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) != 1 {
				t.Fatalf("imported %d images, want 1", len(imgs))
			}
			img := imgs[0]
			wantRefs := []string{"docker.io/library/probe:1", "example.com/team/probe:1"}
			if !reflect.DeepEqual(img.Refs, wantRefs) {
				t.Errorf("refs %q, want %q", img.Refs, wantRefs)
			}
			if !strings.HasPrefix(img.ID, "sha256:") || len(img.ID) != 71 {
				t.Errorf("ID %q", img.ID)
			}
			if f.name == "oci" && len(img.RepoDigests) != 2 {
				t.Errorf("repo digests %q, want one per repository", img.RepoDigests)
			}
			c := img.Config
			if !reflect.DeepEqual([]any{c.Entrypoint, c.Cmd, c.Env, c.WorkingDir, c.User},
				[]any{probeConfig.Entrypoint, probeConfig.Cmd, probeConfig.Env, probeConfig.WorkingDir, probeConfig.User}) {
				t.Errorf("config %+v", c)
			}
			if img.Size <= 0 || len(img.Layers) != 1 || !filepath.IsAbs(img.Layers[0]) {
				t.Errorf("size %d layers %q", img.Size, img.Layers)
			}
			checkBaseLayer(t, img.Layers[0])
			got, ok, err := s.Get("probe:1")
			if err != nil || !ok || !reflect.DeepEqual(got, img) {
				t.Errorf("Get = %+v, %v, %v; want %+v", got, ok, err, img)
			}
		})
	}
}

func checkBaseLayer(t *testing.T, dir string) {
	t.Helper()
	st := stat(t, filepath.Join(dir, "bin/probe"))
	if st.Mode&0o7777 != 0o4755 {
		t.Errorf("bin/probe mode %o, want 4755", st.Mode&0o7777)
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin/sh")); err != nil || l != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, %v", l, err)
	}
	st = stat(t, filepath.Join(dir, "srv/data"))
	if st.Uid != 1000 || st.Gid != 3000 || st.Mode&0o777 != 0o600 {
		t.Errorf("srv/data %d:%d %o", st.Uid, st.Gid, st.Mode&0o777)
	}
	if mt := time.Unix(st.Mtim.Unix()); !mt.Equal(time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)) {
		t.Errorf("srv/data mtime %v", mt)
	}
	if link := stat(t, filepath.Join(dir, "srv/link")); link.Ino != st.Ino {
		t.Errorf("srv/link is not a hard link of srv/data")
	}
	buf := make([]byte, 64)
	if n, err := syscall.Getxattr(filepath.Join(dir, "srv/data"), "user.note", buf); err != nil || string(buf[:n]) != "kept" {
		t.Errorf("xattr user.note = %q, %v", buf[:max(n, 0)], err)
	}
	if mt := stat(t, filepath.Join(dir, "srv")).Mtim; mt.Sec != time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("srv's mtime %v was not kept (set before its files were written?)", time.Unix(mt.Unix()))
	}
}

func stat(t *testing.T, p string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestGetForms(t *testing.T) {
	s, imgs, err := importOne(t, imagetest.WriteOCI, imagetest.Spec{
		Refs: []string{"busybox"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	img := imgs[0]
	digest := strings.TrimPrefix(img.RepoDigests[0], "docker.io/library/busybox@")
	for _, ref := range []string{"busybox", "busybox:latest", "docker.io/busybox", "index.docker.io/library/busybox:latest",
		img.ID, strings.TrimPrefix(img.ID, "sha256:"), img.ID[7:19], "busybox@" + digest, "docker.io/library/busybox@" + img.ID} {
		got, ok, err := s.Get(ref)
		if err != nil || !ok || got.ID != img.ID {
			t.Errorf("Get(%q) = %s, %v, %v; want %s", ref, got.ID, ok, err, img.ID)
		}
	}
	for _, ref := range []string{"busybox:1.28", "nginx", "other@" + digest, "sha256:" + strings.Repeat("0", 64), "0000000"} {
		if got, ok, err := s.Get(ref); ok || err != nil {
			t.Errorf("Get(%q) = %s, %v, %v; want not found", ref, got.ID, ok, err)
		}
	}
}

func twoImages() []imagetest.Spec {
	top := imagetest.Files(map[string]string{"app/a": "a"}, nil)
	other := imagetest.Files(map[string]string{"app/b": "b"}, nil)
	return []imagetest.Spec{
		{Refs: []string{"app:a"}, Layers: []imagetest.Layer{baseLayer(), top}},
		{Refs: []string{"app:b", "app:latest"}, Layers: []imagetest.Layer{baseLayer(), other}},
	}
}

func layerDirs(t *testing.T, s *imagestore.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), "layers"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSharedLayersAndRemove(t *testing.T) {
	s, imgs, err := importOne(t, imagetest.WriteDocker, twoImages()...)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || imgs[0].Layers[0] != imgs[1].Layers[0] {
		t.Fatalf("the base layer is not shared: %+v", imgs)
	}
	if n := len(layerDirs(t, s)); n != 3 {
		t.Fatalf("%d layers stored, want 3", n)
	}
	if err := s.Remove("app:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(imgs[0].Layers[0]); err != nil {
		t.Errorf("shared layer gone with app:a: %v", err)
	}
	if _, err := os.Stat(imgs[0].Layers[1]); !os.IsNotExist(err) {
		t.Errorf("app:a's own layer kept: %v", err)
	}
	if err := s.Remove("app:b"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("app:latest"); !ok {
		t.Errorf("app:latest gone with app:b (same image)")
	}
	if err := s.Remove(imgs[1].ID[7:19]); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 0 || len(layerDirs(t, s)) != 0 {
		t.Errorf("after removing all: images %+v (%v), layers %q", list, err, layerDirs(t, s))
	}
	if err := s.Remove("app:a"); !errors.Is(err, imagestore.ErrNotFound) {
		t.Errorf("Remove of a removed image = %v, want ErrNotFound", err)
	}
}

func TestRetag(t *testing.T) {
	s, imgs, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"app:1"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "new.tar")
	next := imagetest.Spec{Refs: []string{"app:1"}, Layers: []imagetest.Layer{imagetest.Files(map[string]string{"v2": "2"}, nil)}}
	if err := imagetest.WriteDocker(p, next); err != nil {
		t.Fatal(err)
	}
	newImgs, err := s.Import(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].ID != newImgs[0].ID {
		t.Fatalf("after retag: %+v, %v", list, err)
	}
	if _, err := os.Stat(imgs[0].Layers[0]); !os.IsNotExist(err) {
		t.Errorf("the untagged old image's layer stayed: %v", err)
	}
}

func TestLease(t *testing.T) {
	s, imgs, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"app:1"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lease("ctr-1", "app:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("app:1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("app:1"); ok {
		t.Errorf("a removed image is still listed")
	}
	if _, err := os.Stat(imgs[0].Layers[0]); err != nil {
		t.Errorf("a leased image's layer went: %v", err)
	}
	if _, err := s.Lease("ctr-2", "app:1"); !errors.Is(err, imagestore.ErrNotFound) {
		t.Errorf("lease of a removed image = %v, want ErrNotFound", err)
	}
	if err := s.Release("ctr-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(imgs[0].Layers[0]); !os.IsNotExist(err) {
		t.Errorf("layer kept after release: %v", err)
	}
}

func TestNodeImages(t *testing.T) {
	imgs := []imagestore.Image{
		{ID: "sha256:1", Refs: []string{"docker.io/library/small:1"}, Size: 10},
		{ID: "sha256:2", Refs: []string{"docker.io/library/big:1"}, RepoDigests: []string{"docker.io/library/big@sha256:d"}, Size: 20},
	}
	got := imagestore.NodeImages(imgs)
	if len(got) != 2 || got[0].SizeBytes != 20 || !reflect.DeepEqual(got[0].Names, []string{"docker.io/library/big@sha256:d", "docker.io/library/big:1"}) {
		t.Errorf("NodeImages = %+v", got)
	}
}

// TestReadersSeeWholeImages lists the store while imports and removes go
// on: every listed image has all its layers.
func TestReadersSeeWholeImages(t *testing.T) {
	s, _, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"base:1"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var archives []string
	for i := range 4 {
		p := filepath.Join(dir, fmt.Sprintf("%d.tar", i))
		l := imagetest.Files(map[string]string{"f": strings.Repeat("x", 100<<10), fmt.Sprint("n", i): "n"}, nil)
		if err := imagetest.WriteOCI(p, imagetest.Spec{Refs: []string{fmt.Sprintf("app:%d", i)}, Layers: []imagetest.Layer{baseLayer(), l}}); err != nil {
			t.Fatal(err)
		}
		archives = append(archives, p)
	}
	done := make(chan error)
	go func() {
		defer close(done)
		for round := range 3 {
			for i, p := range archives {
				if _, err := s.Import(context.Background(), p); err != nil {
					done <- err
					return
				}
				if round > 0 {
					s.Remove(fmt.Sprintf("app:%d", (i+1)%len(archives)))
				}
			}
		}
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
		list, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range list {
			for _, l := range img.Layers {
				if _, err := os.Stat(l); err != nil {
					if _, ok, _ := s.Get(img.ID); ok {
						t.Fatalf("image %v listed without its layer: %v", img.Refs, err)
					}
				}
			}
		}
	}
}

// TestCrashLeftovers: what a writer killed mid-import leaves is not
// listed, and the next writer removes it.
func TestCrashLeftovers(t *testing.T) {
	s, _, err := importOne(t, imagetest.WriteDocker, imagetest.Spec{Refs: []string{"base:1"}, Layers: []imagetest.Layer{baseLayer()}})
	if err != nil {
		t.Fatal(err)
	}
	leftovers := []string{"tmp/layer-123/half", "layers/sha256-" + strings.Repeat("a", 64) + "/f"}
	for _, p := range leftovers {
		os.MkdirAll(filepath.Join(s.Dir(), filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(s.Dir(), p), nil, 0o644)
	}
	rec := filepath.Join(s.Dir(), "images", "sha256-"+strings.Repeat("b", 64)+".json")
	os.WriteFile(rec, []byte(`{"id":"sha256:`+strings.Repeat("b", 64)+`"}`), 0o644)
	if list, err := s.List(); err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v; want base:1 only", list, err)
	}
	if err := s.Remove("base:1"); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, s)
}
