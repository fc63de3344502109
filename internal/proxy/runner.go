package proxy

import (
	"context"
	"time"
)

// runner calls sync when kicked, at most once per minInterval, at least
// once per maxInterval, and again after a failure with a back-off that
// starts at minInterval and doubles up to maxInterval (kube-proxy's
// BoundedFrequencyRunner, with its retry sooner than a whole syncPeriod).
type runner struct {
	sync        func(ctx context.Context) error
	minInterval time.Duration
	maxInterval time.Duration
	kick        chan struct{}
	now         func() time.Time
}

func newRunner(sync func(context.Context) error, minInterval, maxInterval time.Duration) *runner {
	if maxInterval < minInterval {
		maxInterval = minInterval
	}
	return &runner{sync: sync, minInterval: minInterval, maxInterval: maxInterval, kick: make(chan struct{}, 1), now: time.Now}
}

// Kick asks for a sync soon. It never blocks.
func (r *runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run syncs until ctx ends.
func (r *runner) Run(ctx context.Context) {
	var last time.Time
	backoff := time.Duration(0)
	timer := time.NewTimer(0) // first sync at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			// Wait out minInterval since the last sync, then sync.
			if wait := r.minInterval - r.now().Sub(last); wait > 0 && backoff == 0 {
				resetTimer(timer, wait)
				continue
			}
			if backoff > 0 {
				continue // a retry is already scheduled
			}
		case <-timer.C:
		}
		last = r.now()
		if err := r.sync(ctx); err != nil {
			backoff = nextBackoff(backoff, r.minInterval, r.maxInterval)
			resetTimer(timer, backoff)
			continue
		}
		backoff = 0
		// Drain a kick that arrived during the sync into the next run.
		resetTimer(timer, r.maxInterval)
		select {
		case <-r.kick:
			resetTimer(timer, r.minInterval)
		default:
		}
	}
}

func nextBackoff(cur, min, max time.Duration) time.Duration {
	if cur == 0 {
		return min
	}
	if cur*2 > max {
		return max
	}
	return cur * 2
}

func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
