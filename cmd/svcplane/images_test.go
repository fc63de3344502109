package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/agent/imagestore"
	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

func TestImagesCommands(t *testing.T) {
	dir := t.TempDir()
	s, err := imagestore.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "a.tar")
	layer := imagetest.Files(map[string]string{"bin/app": strings.Repeat("x", 2000)}, nil)
	if err := imagetest.WriteOCI(archive, imagetest.Spec{Refs: []string{"app:1", "example.com/app:2"}, Layers: []imagetest.Layer{layer}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	if err := imagesImport(ctx, s, []string{archive}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "imported docker.io/library/app:1, example.com/app:2 (sha256:") {
		t.Errorf("import printed %q", out.String())
	}
	out.Reset()
	if err := imagesList(ctx, s, nil, &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^IMAGE +TAG +IMAGE ID +SIZE
docker.io/library/app +1 +[0-9a-f]{13} +[0-9.]+k?B
example.com/app +2 +[0-9a-f]{13} +[0-9.]+k?B
$`)
	if !want.MatchString(out.String()) {
		t.Errorf("list printed:\n%s", out.String())
	}
	out.Reset()
	err = imagesRemove(ctx, s, []string{"app:1", "nope"}, &out)
	if out.String() != "Deleted: app:1\n" || !errors.Is(err, imagestore.ErrNotFound) || !strings.Contains(err.Error(), "no such image: nope") {
		t.Errorf("remove printed %q, returned %v", out.String(), err)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 999: "999B", 1470000: "1.47MB", 52428800: "52.43MB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
