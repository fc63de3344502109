package imagestore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Import loads the images of the archive at p, a `docker save` tarball or
// a tar of an OCI image layout, and returns them as stored. Layers already
// in the store are not unpacked again. A reference already naming another
// image moves to the imported one. Nothing of a failed import is visible.
func (s *Store) Import(ctx context.Context, p string) ([]Image, error) {
	a, err := openArchive(p)
	if err != nil {
		return nil, err
	}
	defer a.close()
	srcs, err := readImages(a)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", p, err)
	}
	l, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.unlock()
	ix, err := s.readIndex()
	if err == nil {
		err = s.gc(ix) // what a crashed writer left
	}
	for i := 0; err == nil && i < len(srcs); i++ {
		err = s.store(ctx, a, srcs[i])
	}
	if err == nil {
		err = s.commit(ix, srcs)
	}
	if err != nil {
		if ix, rerr := s.readIndex(); rerr == nil {
			s.gc(ix) // the layers and records of this import
		}
		return nil, fmt.Errorf("import %s: %w", p, err)
	}
	return s.imported(ix, srcs)
}

// store unpacks an image's layers and writes its record, all still
// invisible until commit.
func (s *Store) store(ctx context.Context, a *archive, src srcImage) error {
	r := record{ID: src.id, ManifestDigest: src.manifestDigest, Size: src.size, Config: src.config.Config}
	for _, l := range src.layers {
		if err := s.unpack(ctx, a, l); err != nil {
			return err
		}
		r.DiffIDs = append(r.DiffIDs, l.diffID)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.recordPath(r.ID), append(data, '\n'))
}

// commit names the images in refs.json, moving each reference from the
// image that held it; an image losing its last reference so goes.
func (s *Store) commit(ix index, srcs []srcImage) error {
	for _, src := range srcs {
		for _, ref := range src.refs {
			for id, refs := range ix.Images {
				if id != src.id && contains(refs, ref) {
					dropRef(ix, id, ref)
				}
			}
		}
		ix.Images[src.id] = dedupe(append(ix.Images[src.id], src.refs...))
	}
	if err := syncStore(s.dir); err != nil {
		return err
	}
	if err := s.writeIndex(ix); err != nil {
		return err
	}
	return s.gc(ix)
}

// syncStore flushes the unpacked layers to disk before refs.json names
// them, so that a power cut cannot leave a named image with empty files.
func syncStore(dir string) error {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync image store: %w", err)
	}
	return nil
}

func (s *Store) imported(ix index, srcs []srcImage) ([]Image, error) {
	var imgs []Image
	for _, src := range srcs {
		r, err := s.readRecord(src.id)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, s.image(r, ix.Images[src.id]))
	}
	return imgs, nil
}

// unpack unpacks a layer into layers/ unless it is there: into tmp/ first,
// checked against its diffID, then renamed.
func (s *Store) unpack(ctx context.Context, a *archive, l srcLayer) error {
	dst := s.LayerDir(l.diffID)
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(s.path("tmp"), "layer-")
	if err != nil {
		return err
	}
	if err := unpackVerified(ctx, a, l, tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("layer %s: %w", l.diffID, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func unpackVerified(ctx context.Context, a *archive, l srcLayer, dir string) error {
	sr, err := a.open(l.file)
	if err != nil {
		return err
	}
	r, err := decompress(sr)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	tee := io.TeeReader(ctxReader{ctx, r}, h)
	if err := unpackLayer(tee, dir); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("corrupt layer: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.diffID {
		return fmt.Errorf("corrupt archive: the layer's content has digest %s, not its diffID", got)
	}
	return nil
}

// decompress returns the layer tar of a blob: gzip, zstd or plain.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("corrupt layer: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt layer: %w", err)
		}
		return zr, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt layer: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// ctxReader stops a read once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
