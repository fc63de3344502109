package app

import (
	"context"
	"errors"
	"sync"
)

// bootstrapWorkers is how many of up's own objects (bootstrap policy,
// addons) are written at once.
const bootstrapWorkers = 16

// forEach runs fn for 0..n-1, bootstrapWorkers at a time, and returns
// the errors joined (then ctx's, if it ended): up's own objects that do
// not depend on each other are written at once, so that they share
// etcd's commits instead of waiting for one each.
func forEach(ctx context.Context, n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, bootstrapWorkers)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errors.Join(errs...), ctx.Err())
}

// all runs the steps at once (see forEach).
func all(ctx context.Context, steps ...func() error) error {
	return forEach(ctx, len(steps), func(i int) error { return steps[i]() })
}
