package userspace

import (
	"io"
	"sync"
)

// registry holds every open connection and UDP session, so that Cleanup
// can close them.
type registry struct {
	mu     sync.Mutex
	m      map[io.Closer]struct{}
	closed bool
}

// add registers c; false means the backend was cleaned up meanwhile and c
// must be closed.
func (r *registry) add(c io.Closer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if r.m == nil {
		r.m = map[io.Closer]struct{}{}
	}
	r.m[c] = struct{}{}
	return true
}

func (r *registry) del(c io.Closer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, c)
}

// len is the number of open connections and sessions.
func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// closeAll closes everything and refuses new entries until open.
func (r *registry) closeAll() {
	r.mu.Lock()
	m := r.m
	r.m, r.closed = nil, true
	r.mu.Unlock()
	for c := range m {
		c.Close()
	}
}

// open accepts entries again (a Sync after Cleanup).
func (r *registry) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = false
}
