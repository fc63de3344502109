package dnsserver

import (
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestLameduck(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		name     string
		period   time.Duration
		failing  bool
		stopping bool
		min, max time.Duration
	}{
		{"none", 0, false, false, 0, 100 * time.Millisecond},
		{"the whole period", 300 * time.Millisecond, false, true, 300 * time.Millisecond, 2 * time.Second},
		{"a part stops meanwhile", 10 * time.Second, true, true, 0, 2 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stopping atomic.Bool
			errc := make(chan error, 1)
			if c.failing {
				errc <- errors.New("listener closed")
			}
			start := time.Now()
			lameduck(Config{Lameduck: c.period, Logger: quiet}, &stopping, errc)
			took := time.Since(start)
			if took < c.min || took > c.max {
				t.Errorf("lameduck of %s took %s, want %s to %s", c.period, took, c.min, c.max)
			}
			if stopping.Load() != c.stopping {
				t.Errorf("/ready's stopping: %v, want %v", stopping.Load(), c.stopping)
			}
		})
	}
}
