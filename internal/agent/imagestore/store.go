package imagestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrNotFound is returned (wrapped) when no image answers a reference.
var ErrNotFound = errors.New("no such image")

// Image is one image of the store.
type Image struct {
	// ID is the digest of the image's config, "sha256:<hex>" (the CRI's
	// image ID, a container status's imageID).
	ID string
	// Refs are the image's normalized references
	// (docker.io/library/busybox:1.28), sorted.
	Refs []string
	// RepoDigests are repo@<manifest digest> for each repository of Refs,
	// when the archive carried the manifest (OCI archives).
	RepoDigests []string
	// Size is the bytes of the image's manifest, config and layer blobs
	// as the archive held them (what containerd reports).
	Size int64
	// Config is the image's runtime config: Entrypoint, Cmd, Env,
	// WorkingDir, User and the rest.
	Config v1.Config
	// Layers are the absolute directories of the unpacked layers, lowest
	// first, each usable as an overlayfs lowerdir.
	Layers []string
}

// record is what images/sha256-<hex>.json holds.
type record struct {
	ID             string    `json:"id"`
	ManifestDigest string    `json:"manifestDigest,omitempty"`
	Size           int64     `json:"size"`
	Config         v1.Config `json:"config"`
	DiffIDs        []string  `json:"diffIDs"`
}

// index is what refs.json holds: each committed image ID and its refs.
type index struct {
	Images map[string][]string `json:"images"`
}

// Store is the image store of one node. Its methods may be called from
// several goroutines and processes at once.
type Store struct {
	dir string
}

// Open opens (creating it if need be) the store in dir, normally
// <data dir>/images.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	s := &Store{dir: abs}
	for _, d := range []string{abs, s.path("images"), s.path("layers"), s.path("leases"), s.path("tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

func (s *Store) recordPath(id string) string {
	return s.path("images", strings.Replace(id, ":", "-", 1)+".json")
}

// LayerDir is the directory of the layer with diffID ("sha256:<hex>").
func (s *Store) LayerDir(diffID string) string {
	return s.path("layers", strings.Replace(diffID, ":", "-", 1))
}

func (s *Store) readIndex() (index, error) {
	ix := index{Images: map[string][]string{}}
	data, err := os.ReadFile(s.path("refs.json"))
	if errors.Is(err, os.ErrNotExist) {
		return ix, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &ix)
	}
	if err != nil {
		return ix, fmt.Errorf("read image store index: %w", err)
	}
	if ix.Images == nil {
		ix.Images = map[string][]string{}
	}
	return ix, nil
}

func (s *Store) writeIndex(ix index) error {
	for id, refs := range ix.Images {
		sort.Strings(refs)
		ix.Images[id] = refs
	}
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path("refs.json"), append(data, '\n'))
}

func (s *Store) readRecord(id string) (record, error) {
	var r record
	data, err := os.ReadFile(s.recordPath(id))
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	if err != nil {
		return r, fmt.Errorf("read image %s: %w", id, err)
	}
	return r, nil
}

// image makes the Image of a record and its refs.
func (s *Store) image(r record, refs []string) Image {
	img := Image{ID: r.ID, Refs: append([]string(nil), refs...), Size: r.Size, Config: r.Config}
	sort.Strings(img.Refs)
	for _, d := range r.DiffIDs {
		img.Layers = append(img.Layers, s.LayerDir(d))
	}
	if r.ManifestDigest != "" {
		seen := map[string]bool{}
		for _, ref := range img.Refs {
			repo, _ := splitRef(ref)
			if !seen[repo] {
				seen[repo] = true
				img.RepoDigests = append(img.RepoDigests, repo+"@"+r.ManifestDigest)
			}
		}
	}
	return img
}

// List returns the store's images, sorted by their first reference (then
// ID).
func (s *Store) List() ([]Image, error) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	imgs := make([]Image, 0, len(ix.Images))
	for id, refs := range ix.Images {
		r, err := s.readRecord(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed since refs.json was read
		}
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, s.image(r, refs))
	}
	sort.Slice(imgs, func(i, j int) bool { return imageLess(imgs[i], imgs[j]) })
	return imgs, nil
}

func imageLess(a, b Image) bool {
	ka, kb := "\xff", "\xff"
	if len(a.Refs) > 0 {
		ka = a.Refs[0]
	}
	if len(b.Refs) > 0 {
		kb = b.Refs[0]
	}
	if ka != kb {
		return ka < kb
	}
	return a.ID < b.ID
}

// Get returns the image ref names: a reference (busybox,
// docker.io/library/busybox:1.28), a reference by digest
// (busybox@sha256:<manifest or config digest>), an image ID (sha256:<hex>)
// or an unambiguous prefix of one. ok is false when there is none.
func (s *Store) Get(ref string) (Image, bool, error) {
	ix, err := s.readIndex()
	if err != nil {
		return Image{}, false, err
	}
	id, err := s.resolve(ix, ref)
	if errors.Is(err, ErrNotFound) {
		return Image{}, false, nil
	}
	if err != nil {
		return Image{}, false, err
	}
	r, err := s.readRecord(id)
	if errors.Is(err, os.ErrNotExist) {
		return Image{}, false, nil // removed since refs.json was read
	}
	if err != nil {
		return Image{}, false, err
	}
	return s.image(r, ix.Images[id]), true, nil
}

// resolve returns the ID of the committed image ref names: a full ID
// first, then a reference, then an ID prefix.
func (s *Store) resolve(ix index, ref string) (string, error) {
	hex, full, isID := idQuery(ref)
	if isID && full || strings.HasPrefix(ref, "sha256:") {
		if id, found := matchID(ix, hex, full); isID && found {
			return id, nil
		}
		return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	id, err := s.resolveRef(ix, ref)
	if errors.Is(err, ErrNotFound) && isID {
		if id, found := matchID(ix, hex, false); found {
			return id, nil
		}
	}
	return id, err
}

func (s *Store) resolveRef(ix index, ref string) (string, error) {
	norm, err := Normalize(ref)
	if err != nil {
		return "", err
	}
	repo, tag := splitRef(norm)
	if digest, ok := strings.CutPrefix(tag, "@"); ok {
		return s.resolveDigest(ix, repo, digest, ref)
	}
	for id, refs := range ix.Images {
		if contains(refs, norm) {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
}

// matchID finds the image whose ID is (or, unless full, starts with) hex.
func matchID(ix index, hex string, full bool) (string, bool) {
	var found []string
	for id := range ix.Images {
		h := strings.TrimPrefix(id, "sha256:")
		if h == hex || !full && strings.HasPrefix(h, hex) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

// resolveDigest finds repo@digest: an image of that repository whose
// manifest digest or ID is digest.
func (s *Store) resolveDigest(ix index, repo, digest, ref string) (string, error) {
	for id, refs := range ix.Images {
		if !hasRepo(refs, repo) {
			continue
		}
		if id == digest {
			return id, nil
		}
		r, err := s.readRecord(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed since refs.json was read
		}
		if err != nil {
			return "", err
		}
		if r.ManifestDigest == digest {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
}

func hasRepo(refs []string, repo string) bool {
	for _, r := range refs {
		if rr, _ := splitRef(r); rr == repo {
			return true
		}
	}
	return false
}

// writeFileAtomic writes data to path through a temporary file and
// rename(2), so that a reader sees the old or the new content, whole.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
