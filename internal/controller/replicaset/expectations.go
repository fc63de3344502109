package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
)

// expectationsTTL is how long unobserved expectations hold back a sync,
// as upstream's ExpectationsTimeout.
const expectationsTTL = 5 * time.Minute

// Expectations remember the creations and deletions a controller made and
// has not yet seen come back through its informers, so that it does not
// act twice on a stale cache.
type Expectations struct {
	mu    sync.Mutex
	items map[string]*expectation
	now   func() time.Time
}

type expectation struct {
	adds    int
	deletes sets.Set[string]
	at      time.Time
}

// NewExpectations returns empty expectations; now may be nil.
func NewExpectations(now func() time.Time) *Expectations {
	if now == nil {
		now = time.Now
	}
	return &Expectations{items: map[string]*expectation{}, now: now}
}

// Satisfied says whether the controller of key may act: all it expected
// was observed, or the expectations expired, or there were none.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.items[key]
	if !ok {
		return true
	}
	return (x.adds <= 0 && x.deletes.Len() == 0) || e.now().Sub(x.at) > expectationsTTL
}

// ExpectCreations records that n creations are under way.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items[key] = &expectation{adds: n, deletes: sets.New[string](), at: e.now()}
}

// ExpectDeletions records the pods (by namespace/name) being deleted.
func (e *Expectations) ExpectDeletions(key string, pods []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items[key] = &expectation{deletes: sets.New(pods...), at: e.now()}
}

// CreationObserved lowers the creations expected by one.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok {
		x.adds--
	}
}

// DeletionObserved marks one expected deletion as seen.
func (e *Expectations) DeletionObserved(key, pod string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok {
		x.deletes.Delete(pod)
	}
}

// Forget drops the expectations of key.
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
