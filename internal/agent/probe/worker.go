package probe

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind is which of a container's probes a worker runs.
type Kind int

// Kinds.
const (
	Liveness Kind = iota
	Readiness
	Startup
)

func (k Kind) String() string {
	return [...]string{"Liveness", "Readiness", "Startup"}[k]
}

// worker repeats one probe of one container instance, turning single
// results into a state with the success and failure thresholds.
type worker struct {
	kind    Kind
	probe   *corev1.Probe
	target  Target
	started time.Time
	// gate says whether the probe may run yet (after the startup probe).
	gate     func() bool
	onChange func(Kind, Result, string)

	mu        sync.Mutex
	state     Result
	exhausted bool // a startup probe that used up its failures
	successes int
	failures  int
}

// initial is a probe's state before its first result: readiness and
// startup start failed, liveness starts passing.
func initial(k Kind) Result {
	if k == Liveness {
		return Success
	}
	return Failure
}

func (w *worker) run(ctx context.Context) {
	delay := time.Until(w.started.Add(time.Duration(w.probe.InitialDelaySeconds) * time.Second))
	if !sleep(ctx, delay) {
		return
	}
	period := time.Duration(w.probe.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if w.gate == nil || w.gate() {
			res, msg := Run(ctx, w.probe, w.target)
			if ctx.Err() != nil {
				return
			}
			w.record(res, msg)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// record counts a result and reports a change of state.
func (w *worker) record(res Result, msg string) {
	w.mu.Lock()
	if res == Success {
		w.successes, w.failures = w.successes+1, 0
	} else {
		w.successes, w.failures = 0, w.failures+1
	}
	old := w.state
	if res == Success && w.successes >= threshold(w.probe.SuccessThreshold) {
		w.state = Success
	}
	if res == Failure && w.failures >= threshold(w.probe.FailureThreshold) {
		w.state = Failure
		w.exhausted = w.kind == Startup && old != Success
	}
	changed := old != w.state
	state := w.state
	w.mu.Unlock()
	if res == Failure && w.onChange != nil {
		w.onChange(w.kind, Unknown, msg) // every failure is reported (events)
	}
	if changed && w.onChange != nil {
		w.onChange(w.kind, state, msg)
	}
}

func (w *worker) failedStartup() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.exhausted
}

func (w *worker) result() Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

func threshold(n int32) int {
	if n <= 0 {
		return 1
	}
	return int(n)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
