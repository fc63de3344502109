package ui

import (
	"bytes"
	"sync"
)

// hub keeps the latest model, as JSON, for every page that watches it.
// A watcher waits on the channel it got with the data; the channel is
// closed when newer data arrives, so slow pages skip versions rather
// than queue them.
type hub struct {
	mu      sync.Mutex
	data    []byte
	changed chan struct{}
	// watching counts the pages connected.
	watching int
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

// get returns the latest data and a channel closed when it is replaced.
func (h *hub) get() ([]byte, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.data, h.changed
}

// set replaces the data when it differs; it says whether it did.
func (h *hub) set(data []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(h.data, data) {
		return false
	}
	h.data = data
	close(h.changed)
	h.changed = make(chan struct{})
	return true
}

// watch counts a page in; the func it returns counts it out.
func (h *hub) watch() func() {
	h.mu.Lock()
	h.watching++
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.watching--
		h.mu.Unlock()
	}
}

// watched says whether any page is connected.
func (h *hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.watching > 0
}
