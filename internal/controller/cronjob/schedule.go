package cronjob

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// tooManyMissed is how many missed start times make the controller warn
// (TooManyMissedTimes) and start only the latest, as upstream.
const tooManyMissed = 100

// Schedule parses the CronJob's schedule in its time zone (the
// controller's own when unset).
func Schedule(cj *batchv1.CronJob, local *time.Location) (cron.Schedule, *time.Location, error) {
	loc := local
	if tz := cj.Spec.TimeZone; tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			return nil, nil, fmt.Errorf("unknown time zone %s: %w", *tz, err)
		}
		loc = l
	}
	s, err := cron.ParseStandard(cj.Spec.Schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("unparseable schedule %q: %w", cj.Spec.Schedule, err)
	}
	return s, loc, nil
}

// MostRecent is the latest start time in (earliest, now], where
// earliest is the last schedule time (else the creation time), no older
// than startingDeadlineSeconds; missed counts the start times in that
// window. next is the first start time after now.
func MostRecent(cj *batchv1.CronJob, s cron.Schedule, loc *time.Location, now time.Time) (recent *time.Time, missed int, next time.Time) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if w := now.Add(-time.Duration(*d) * time.Second); w.After(earliest) {
			earliest = w
		}
	}
	now = now.In(loc)
	for t := s.Next(earliest.In(loc)); !t.After(now); t = s.Next(t) {
		tt := t
		recent = &tt
		missed++
		if missed > tooManyMissed*10 {
			break
		}
	}
	return recent, missed, s.Next(now)
}

// JobName is "<cronjob>-<minutes since the epoch>" of the start time, so
// a retry of the same start meets AlreadyExists.
func JobName(cj *batchv1.CronJob, t time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
}
