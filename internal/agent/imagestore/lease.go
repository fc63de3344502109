package imagestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Lease records that holder (a container's ID, say) uses the image ref
// names, and returns that image. Until Release(holder), Remove keeps the
// image's record and layers (it still drops the references). A holder
// holds one image; leasing again replaces its lease.
func (s *Store) Lease(holder, ref string) (Image, error) {
	if err := checkHolder(holder); err != nil {
		return Image{}, err
	}
	ix, err := s.readIndex()
	if err != nil {
		return Image{}, err
	}
	id, err := s.resolve(ix, ref)
	if err != nil {
		return Image{}, err
	}
	if err := writeFileAtomic(s.path("leases", holder), []byte(id+"\n")); err != nil {
		return Image{}, fmt.Errorf("lease image %s: %w", ref, err)
	}
	// A Remove that committed before the lease was written may not have
	// seen it: look again now that it is there.
	if ix, err = s.readIndex(); err != nil || ix.Images[id] == nil {
		s.Release(holder)
		if err == nil {
			err = fmt.Errorf("%w: %s (removed)", ErrNotFound, ref)
		}
		return Image{}, err
	}
	r, err := s.readRecord(id)
	if err != nil {
		return Image{}, err
	}
	return s.image(r, ix.Images[id]), nil
}

// Release drops holder's lease. When the image was removed meanwhile and
// no writer is busy, its record and layers are deleted now; else the next
// Import or Remove deletes them.
func (s *Store) Release(holder string) error {
	if err := checkHolder(holder); err != nil {
		return err
	}
	data, err := os.ReadFile(s.path("leases", holder))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = os.Remove(s.path("leases", holder))
	}
	if err != nil {
		return fmt.Errorf("release image lease: %w", err)
	}
	if ix, err := s.readIndex(); err != nil || ix.Images[strings.TrimSpace(string(data))] != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one try: never wait for a writer
	l, err := s.lock(ctx)
	if err != nil {
		return nil
	}
	defer l.unlock()
	ix, err := s.readIndex()
	if err != nil {
		return err
	}
	return s.gc(ix)
}

// Leases returns each holder's leased image ID.
func (s *Store) Leases() (map[string]string, error) {
	entries, err := os.ReadDir(s.path("leases"))
	if err != nil {
		return nil, fmt.Errorf("read image leases: %w", err)
	}
	leases := map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a lease being written
		}
		data, err := os.ReadFile(s.path("leases", e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read image leases: %w", err)
		}
		leases[e.Name()] = strings.TrimSpace(string(data))
	}
	return leases, nil
}

func (s *Store) leasedIDs() (map[string]bool, error) {
	leases, err := s.Leases()
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, id := range leases {
		ids[id] = true
	}
	return ids, nil
}

func checkHolder(h string) error {
	if h == "" || strings.ContainsAny(h, "/\x00") || strings.HasPrefix(h, ".") {
		return fmt.Errorf("invalid image lease holder %q", h)
	}
	return nil
}
