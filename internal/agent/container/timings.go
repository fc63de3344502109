package container

import (
	"fmt"
	"io"
	"time"
)

// TimingsEnv, set (to anything) in the environment of `svcplane
// internal-container PLAN`, makes it write how long each setup step took
// to its standard error before it executes the workload, one line
// "step NAME NANOSECONDS" per step, for bench/pods. The workload never
// sees it (it gets the plan's environment). Off by default.
const TimingsEnv = "SVCPLANE_CONTAINER_TIMINGS"

// steps times the setup steps; a nil *steps records nothing.
type steps struct {
	w    io.Writer
	last time.Time
}

func newSteps(w io.Writer) *steps { return &steps{w: w, last: time.Now()} }

// mark records the time since the previous mark as step name.
func (s *steps) mark(name string) {
	if s == nil {
		return
	}
	now := time.Now()
	fmt.Fprintf(s.w, "step %s %d\n", name, now.Sub(s.last).Nanoseconds())
	s.last = now
}
