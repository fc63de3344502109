package imagestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lock is the store's writer lock, held by one Import or Remove at a time
// across processes.
type lock struct{ f *os.File }

func (s *Store) lock(ctx context.Context) (*lock, error) {
	f, err := os.OpenFile(s.path("lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &lock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock image store: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock image store: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *lock) unlock() { l.f.Close() }

// Remove drops the image reference ref. An image named by its ID (or a
// digest) loses all its references. An image left with no reference is
// deleted, and so are the layers no other image uses, unless a lease
// holds the image: then they stay until it is released.
func (s *Store) Remove(ref string) error {
	l, err := s.lock(context.Background())
	if err != nil {
		return err
	}
	defer l.unlock()
	ix, err := s.readIndex()
	if err != nil {
		return err
	}
	id, err := s.resolve(ix, ref)
	if err != nil {
		return err
	}
	dropRef(ix, id, ref)
	if err := s.writeIndex(ix); err != nil {
		return fmt.Errorf("remove %s: %w", ref, err)
	}
	return s.gc(ix)
}

// dropRef removes ref from image id's refs in ix, and the image when ref
// named it by ID or digest or was its last reference.
func dropRef(ix index, id, ref string) {
	norm, err := Normalize(ref)
	if err != nil || !contains(ix.Images[id], norm) { // by ID or digest
		delete(ix.Images, id)
		return
	}
	var kept []string
	for _, r := range ix.Images[id] {
		if r != norm {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		delete(ix.Images, id)
		return
	}
	ix.Images[id] = kept
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// gc deletes, under the writer lock, what no committed or leased image
// uses: image records, layers and everything under tmp/.
func (s *Store) gc(ix index) error {
	keep, err := s.leasedIDs()
	if err != nil {
		return err
	}
	for id := range ix.Images {
		keep[id] = true
	}
	layers := map[string]bool{}
	if err := s.gcRecords(keep, layers); err != nil {
		return err
	}
	if err := s.gcDir("layers", func(n string) bool { return layers[n] }); err != nil {
		return err
	}
	return s.gcDir("tmp", func(string) bool { return false })
}

// gcRecords deletes the records not in keep and notes the layers of the
// others.
func (s *Store) gcRecords(keep, layers map[string]bool) error {
	entries, err := os.ReadDir(s.path("images"))
	if err != nil {
		return fmt.Errorf("image store gc: %w", err)
	}
	for _, e := range entries {
		id := strings.Replace(strings.TrimSuffix(e.Name(), ".json"), "-", ":", 1)
		if !keep[id] || !strings.HasSuffix(e.Name(), ".json") {
			if err := os.Remove(s.path("images", e.Name())); err != nil {
				return fmt.Errorf("image store gc: %w", err)
			}
			continue
		}
		r, err := s.readRecord(id)
		if err != nil {
			return err
		}
		for _, d := range r.DiffIDs {
			layers[filepath.Base(s.LayerDir(d))] = true
		}
	}
	return nil
}

// gcDir deletes the entries of the store's subdirectory sub that keep
// refuses, renaming each under tmp/ first so that no half-deleted layer
// is ever visible under its name.
func (s *Store) gcDir(sub string, keep func(string) bool) error {
	entries, err := os.ReadDir(s.path(sub))
	if err != nil {
		return fmt.Errorf("image store gc: %w", err)
	}
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		p := s.path(sub, e.Name())
		if sub != "tmp" {
			dead, err := os.MkdirTemp(s.path("tmp"), "deleted-")
			if err != nil {
				return fmt.Errorf("image store gc: %w", err)
			}
			np := filepath.Join(dead, e.Name())
			if err := os.Rename(p, np); err != nil {
				return fmt.Errorf("image store gc: %w", err)
			}
			p = dead
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("image store gc: %w", err)
		}
	}
	return nil
}
