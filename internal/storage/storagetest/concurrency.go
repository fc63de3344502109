package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/svcplane/svcplane/internal/storage"
)

func testConcurrentCreates(t *testing.T, s storage.Store, p string) {
	const writers, each = 8, 8
	revs, err := createConcurrently(s, p, writers, each)
	if err != nil {
		t.Fatalf("concurrent Create: %v", err)
	}
	seen := map[int64]bool{}
	for _, rev := range revs {
		if seen[rev] {
			t.Errorf("revision %d given twice", rev)
		}
		seen[rev] = true
	}
	if res := mustList(t, s, p, storage.ListOptions{}); len(res.KVs) != writers*each {
		t.Errorf("List has %d keys, want %d", len(res.KVs), writers*each)
	}
}

// createConcurrently creates each keys from each of writers goroutines and
// returns the revisions of all the creates.
func createConcurrently(s storage.Store, p string, writers, each int) ([]int64, error) {
	revs := make([][]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rev, err := s.Create(context.Background(), fmt.Sprintf("%s%d-%d", p, w, i), []byte("v"))
				if err != nil {
					errs[w] = err
					return
				}
				revs[w] = append(revs[w], rev)
			}
		})
	}
	wg.Wait()
	return slices.Concat(revs...), errors.Join(errs...)
}

// testConcurrentUpdates races guarded updates of one key from one read:
// in each round exactly one wins and the others conflict.
func testConcurrentUpdates(t *testing.T, s storage.Store, p string) {
	const rounds, writers = 5, 6
	rev := mustCreate(t, s, p+"a", "start")
	for round := range rounds {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				_, errs[w] = s.Update(context.Background(), p+"a", fmt.Appendf(nil, "%d-%d", round, w), rev)
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want ErrConflict", round, w, err)
			}
		}
		kv, err := s.Get(context.Background(), p+"a")
		if winner < 0 || err != nil || string(kv.Value) != fmt.Sprintf("%d-%d", round, winner) {
			t.Fatalf("round %d: winner %d, stored %+v, %v", round, winner, kv, err)
		}
		rev = kv.ModRevision
	}
}
