package main

import (
	"fmt"
	"slices"
	"time"
)

// durations are samples of one measure.
type durations []time.Duration

// quantile is the q-quantile (nearest rank) of the samples.
func (d durations) quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d durations) median() time.Duration { return d.quantile(0.5) }
func (d durations) p90() time.Duration    { return d.quantile(0.9) }

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// secs formats a duration in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
