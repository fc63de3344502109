// Package benchutil holds what the benchmark programs under bench/ share:
// a CPU profile of the whole run, a quiet logger, and a parallel runner.
package benchutil

import (
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// StartCPUProfile profiles the process into path until stop is called.
func StartCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Quiet returns a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Parallel runs fn(0..n-1) on workers goroutines, stops a worker at its
// first error, and returns calls per second and the first error.
func Parallel(n, workers int, fn func(i int) error) (float64, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), firstErr
}

// ParallelErr is Parallel for callers that need only the error.
func ParallelErr(n, workers int, fn func(i int) error) error {
	_, err := Parallel(n, workers, fn)
	return err
}
