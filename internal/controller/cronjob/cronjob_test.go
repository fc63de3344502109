package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMostRecent(t *testing.T) {
	created := time.Date(2025, 1, 1, 10, 0, 30, 0, time.UTC)
	now := time.Date(2025, 1, 1, 10, 5, 10, 0, time.UTC)
	cases := []struct {
		name     string
		schedule string
		tz       *string
		last     *time.Time
		deadline *int64
		want     string // "" for none
		missed   int
		next     string
	}{
		{"every minute, 5 missed since creation", "* * * * *", nil, nil, nil, "10:05", 5, "10:06"},
		{"since the last schedule", "*/2 * * * *", nil, ptr(time.Date(2025, 1, 1, 10, 2, 0, 0, time.UTC)), nil, "10:04", 1, "10:06"},
		{"starting deadline narrows the window", "* * * * *", nil, nil, ptr(int64(30)), "10:05", 1, "10:06"},
		{"not yet due", "0 12 * * *", nil, nil, nil, "", 0, "12:00"},
		{"time zone", "0 11 * * *", ptr("Europe/Paris"), nil, nil, "10:00", 0, "10:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "hello", CreationTimestamp: metav1.NewTime(created)},
				Spec: batchv1.CronJobSpec{Schedule: tc.schedule, TimeZone: tc.tz, StartingDeadlineSeconds: tc.deadline}}
			if tc.last != nil {
				cj.Status.LastScheduleTime = &metav1.Time{Time: *tc.last}
			}
			s, loc, err := Schedule(cj, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			recent, missed, next := MostRecent(cj, s, loc, now)
			got := ""
			if recent != nil {
				got = recent.UTC().Format("15:04")
			}
			if tc.name == "time zone" {
				// 11:00 in Paris is 10:00 UTC, before creation: not due; next is tomorrow's.
				if recent != nil || next.UTC().Format("15:04") != "10:00" || next.Day() != 2 {
					t.Errorf("recent %v next %v", recent, next)
				}
				return
			}
			if got != tc.want || missed != tc.missed || next.UTC().Format("15:04") != tc.next {
				t.Errorf("recent %q missed %d next %s; want %q %d %s", got, missed, next.UTC().Format("15:04"), tc.want, tc.missed, tc.next)
			}
		})
	}
}

func TestNewJob(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "ns", UID: "cj"}}
	cj.Spec.JobTemplate.Labels = map[string]string{"app": "hello"}
	at := time.Date(2025, 1, 1, 10, 5, 0, 0, time.UTC)
	j := NewJob(cj, at, time.UTC)
	if j.Name != "hello-28928765" || j.Labels["app"] != "hello" || j.Annotations[ScheduledTimestampAnnotation] != "2025-01-01T10:05:00Z" {
		t.Errorf("job %s labels %v annotations %v", j.Name, j.Labels, j.Annotations)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != "cj" {
		t.Errorf("owner %+v", ref)
	}
}

func ptr[T any](v T) *T { return &v }
