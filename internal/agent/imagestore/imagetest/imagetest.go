// Package imagetest builds image archives for tests with
// go-containerregistry: `docker save` tarballs and OCI layout archives of
// images made from lists of files, symlinks and whiteouts, so that a
// program built on the machine can be imported and run as an image.
package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one entry of a layer's tar.
type Entry struct {
	Name     string
	Type     byte // a tar type flag; tar.TypeReg when 0
	Body     []byte
	Mode     int64 // permission bits; 0644 for files, 0755 for directories when 0
	Link     string
	UID, GID int
	Xattrs   map[string]string
	ModTime  time.Time // 2020-01-01 when zero
	// Devmajor and Devminor are a device entry's numbers.
	Devmajor, Devminor int64
}

// Layer is a layer's entries, in tar order.
type Layer []Entry

// File is a regular file.
func File(name, body string, mode int64) Entry {
	return Entry{Name: name, Body: []byte(body), Mode: mode}
}

// Dir is a directory.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }

// Symlink is a symbolic link.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Link: target, Mode: 0o777}
}

// Whiteout deletes name of the layers below.
func Whiteout(name string) Entry {
	return Entry{Name: path.Join(path.Dir(name), ".wh."+path.Base(name))}
}

// Opaque hides what the layers below hold in dir.
func Opaque(dir string) Entry { return Entry{Name: path.Join(dir, ".wh..wh..opq")} }

// HostFile is the file at hostPath of the machine (a program built for
// the test, say), as name.
func HostFile(name, hostPath string) (Entry, error) {
	body, err := os.ReadFile(hostPath)
	if err != nil {
		return Entry{}, err
	}
	st, err := os.Stat(hostPath)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Name: name, Body: body, Mode: int64(st.Mode().Perm())}, nil
}

// Files is a layer of regular files (mode 0644, or 0755 under bin/) and
// symlinks (name -> target), in name order.
func Files(files, symlinks map[string]string) Layer {
	var l Layer
	for n, body := range files {
		mode := int64(0o644)
		if path.Base(path.Dir(n)) == "bin" {
			mode = 0o755
		}
		l = append(l, File(n, body, mode))
	}
	for n, t := range symlinks {
		l = append(l, Symlink(n, t))
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}

// Spec is an image to build.
type Spec struct {
	Refs   []string // e.g. example.com/probe:1; a docker archive needs one
	Layers []Layer  // lowest first
	Config v1.Config
}

// Tar returns the layer as a tar stream.
func (l Layer) Tar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range l {
		if err := tw.WriteHeader(e.header()); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Body); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (e Entry) header() *tar.Header {
	h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Link,
		Uid: e.UID, Gid: e.GID, ModTime: e.ModTime, Devmajor: e.Devmajor, Devminor: e.Devminor, Format: tar.FormatPAX}
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(e.Body))
	}
	if h.Mode == 0 && h.Typeflag == tar.TypeDir {
		h.Mode = 0o755
	} else if h.Mode == 0 && h.Typeflag == tar.TypeReg {
		h.Mode = 0o644
	}
	if h.ModTime.IsZero() {
		h.ModTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for k, v := range e.Xattrs {
		if h.PAXRecords == nil {
			h.PAXRecords = map[string]string{}
		}
		h.PAXRecords["SCHILY.xattr."+k] = v
	}
	return h
}

// Image builds the image of s; oci picks OCI media types over Docker's.
func Image(s Spec, oci bool) (v1.Image, error) {
	base, layerType := empty.Image, types.DockerLayer
	if oci {
		base = mutate.MediaType(mutate.ConfigMediaType(base, types.OCIConfigJSON), types.OCIManifestSchema1)
		layerType = types.OCILayer
	}
	var layers []v1.Layer
	for i, l := range s.Layers {
		data, err := l.Tar()
		if err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, tarball.WithMediaType(layerType))
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		layers = append(layers, layer)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", runtime.GOARCH, s.Config
	return mutate.ConfigFile(img, cf)
}

// WriteDocker writes the images as a `docker save` tarball at p.
func WriteDocker(p string, specs ...Spec) error {
	refs := map[name.Reference]v1.Image{}
	for _, s := range specs {
		img, err := Image(s, false)
		if err != nil {
			return err
		}
		if len(s.Refs) == 0 {
			return fmt.Errorf("a docker archive's image needs a reference")
		}
		for _, r := range s.Refs {
			ref, err := name.ParseReference(r)
			if err != nil {
				return err
			}
			refs[ref] = img
		}
	}
	return tarball.MultiRefWriteToFile(p, refs)
}

// WriteOCI writes the images as a tar of an OCI image layout at p, each
// reference as an index.json entry annotated with its name (as containerd
// exports); an image without references gets an entry without a name.
func WriteOCI(p string, specs ...Spec) error {
	dir, err := os.MkdirTemp("", "imagetest-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for _, s := range specs {
		img, err := Image(s, true)
		if err != nil {
			return err
		}
		if len(s.Refs) == 0 {
			if err := lp.AppendImage(img); err != nil {
				return err
			}
		}
		for _, r := range s.Refs {
			ann := map[string]string{"io.containerd.image.name": r, "org.opencontainers.image.ref.name": r}
			if err := lp.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
				return err
			}
		}
	}
	return TarDir(p, dir)
}

// TarDir writes the files of dir as a tar at p (names relative to dir).
func TarDir(p, dir string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(fp string, fi os.FileInfo, err error) error {
		if err != nil || fp == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, fp)
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil || !fi.Mode().IsRegular() {
			return err
		}
		data, err := os.ReadFile(fp)
		if err == nil {
			_, err = tw.Write(data)
		}
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
