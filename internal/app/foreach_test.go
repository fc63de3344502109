package app

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestForEach: every index runs once, at most bootstrapWorkers at a
// time but more than one at once, and the errors come back joined.
func TestForEach(t *testing.T) {
	const n = 3 * bootstrapWorkers
	var ran [n]atomic.Int32
	var running, most atomic.Int32
	errA, errB := errors.New("a"), errors.New("b")
	err := forEach(context.Background(), n, func(i int) error {
		now := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		ran[i].Add(1)
		switch i {
		case 3:
			return errA
		case n - 1:
			return errB
		}
		return nil
	})
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("err = %v, want a and b", err)
	}
	for i := range ran {
		if got := ran[i].Load(); got != 1 {
			t.Errorf("index %d ran %d times", i, got)
		}
	}
	if m := most.Load(); m < 2 || m > bootstrapWorkers {
		t.Errorf("%d ran at once, want 2..%d", m, bootstrapWorkers)
	}
}

// TestForEachEndedContext: nothing starts once ctx has ended, and its
// error is returned.
func TestForEachEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := all(ctx, func() error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("err %v, %d calls; want context.Canceled and none", err, calls)
	}
}
