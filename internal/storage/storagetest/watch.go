package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

func testWatchFromNow(t *testing.T, s storage.Store, p string) {
	ch := s.Watch(t.Context(), p, 0)
	r1 := mustCreate(t, s, p+"a", "v1")
	r2 := mustUpdate(t, s, p+"a", "v2", r1)
	mustCreate(t, s, p[:len(p)-1]+"x/a", "outside the prefix")
	r3 := mustDelete(t, s, p+"a", 0)
	want := fmt.Sprintf("PUT a=v1@%d created\nPUT a=v2@%d prev=v1@%d\nDELETE a@%d prev=v2@%d\n", r1, r2, r1, r3, r2)
	if got := eventsText(p, events(t, ch, 3)); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

// testWatchReplay watches from older revisions. Each case reads only the
// events it expects; the last case writes the event it waits for.
func testWatchReplay(t *testing.T, s storage.Store, p string) {
	r1 := mustCreate(t, s, p+"a", "v1")
	r2 := mustUpdate(t, s, p+"a", "v2", r1)
	r3 := mustCreate(t, s, p+"b", "v1")
	r4 := mustDelete(t, s, p+"a", r2)
	lines := []string{
		fmt.Sprintf("PUT a=v1@%d created\n", r1),
		fmt.Sprintf("PUT a=v2@%d prev=v1@%d\n", r2, r1),
		fmt.Sprintf("PUT b=v1@%d created\n", r3),
		fmt.Sprintf("DELETE a@%d prev=v2@%d\n", r4, r2),
	}
	tests := []struct {
		name string
		from int64
		want []string
	}{
		{"before the first write", r1 - 1, lines},
		{"from the first write", r1, lines[1:]},
		{"from the third write", r3, lines[3:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := s.Watch(t.Context(), p, tt.from)
			if got, want := eventsText(p, events(t, ch, len(tt.want))), strings.Join(tt.want, ""); got != want {
				t.Errorf("events:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	t.Run("from the last write", func(t *testing.T) {
		ch := s.Watch(t.Context(), p, r4)
		r5 := mustCreate(t, s, p+"c", "v1")
		if got, want := eventsText(p, events(t, ch, 1)), fmt.Sprintf("PUT c=v1@%d created\n", r5); got != want {
			t.Errorf("events:\n%s\nwant:\n%s", got, want)
		}
	})
}

// testWatchDelete checks what a delete event carries: the key, the
// revision of the delete, no value, and the value deleted.
func testWatchDelete(t *testing.T, s storage.Store, p string) {
	ra := mustCreate(t, s, p+"a", "a1")
	ra2 := mustUpdate(t, s, p+"a", "a2", ra)
	rb := mustCreate(t, s, p+"b", "b1")
	ch := s.Watch(t.Context(), p, rb)
	da := mustDelete(t, s, p+"a", 0)
	db := mustDelete(t, s, p+"b", rb)
	evs := events(t, ch, 2)
	want := fmt.Sprintf("DELETE a@%d prev=a2@%d\nDELETE b@%d prev=b1@%d\n", da, ra2, db, rb)
	if got := eventsText(p, evs); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	for _, ev := range evs {
		if len(ev.KV.Value) != 0 || ev.Created {
			t.Errorf("delete event %+v has a value or says created", ev)
		}
	}
}

func testWatchFutureRevision(t *testing.T, s storage.Store, p string) {
	now := mustRevision(t, s)
	ch := s.Watch(t.Context(), p, now+2)
	mustCreate(t, s, p+"a", "v1")
	mustCreate(t, s, p+"b", "v1")
	rc := mustCreate(t, s, p+"c", "v1")
	if got, want := eventsText(p, events(t, ch, 1)), fmt.Sprintf("PUT c=v1@%d created\n", rc); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

func testWatchCancel(t *testing.T, s storage.Store, p string) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Watch(ctx, p, 0)
	mustCreate(t, s, p+"a", "v1")
	cancel()
	waitClosed(t, ch)
	waitClosed(t, s.Watch(ctx, p, 0))
}

// events reads responses from ch until they carry n events. It skips
// progress notices and fails on an error or a closed channel.
func events(t *testing.T, ch <-chan storage.WatchResponse, n int) []storage.Event {
	t.Helper()
	var evs []storage.Event
	for len(evs) < n {
		resp, ok := next(t, ch)
		if !ok || resp.Err != nil {
			t.Fatalf("watch ended after %d of %d events: %v", len(evs), n, resp.Err)
		}
		for _, ev := range resp.Events {
			if ev.KV.ModRevision > resp.Revision {
				t.Errorf("event at %d in a response up to %d", ev.KV.ModRevision, resp.Revision)
			}
		}
		evs = append(evs, resp.Events...)
	}
	return evs
}

// next receives one response, or fails the test after hangTimeout.
func next(t *testing.T, ch <-chan storage.WatchResponse) (storage.WatchResponse, bool) {
	t.Helper()
	timer := time.NewTimer(hangTimeout)
	defer timer.Stop()
	select {
	case resp, ok := <-ch:
		return resp, ok
	case <-timer.C:
		t.Fatalf("no watch response in %s", hangTimeout)
		return storage.WatchResponse{}, false
	}
}

// waitClosed drains ch until it closes.
func waitClosed(t *testing.T, ch <-chan storage.WatchResponse) {
	t.Helper()
	for {
		if _, ok := next(t, ch); !ok {
			return
		}
	}
}

// eventsText shows events one a line, keys relative to prefix p:
// "PUT key=value@rev [created] [prev=value@rev]", "DELETE key@rev prev=...".
func eventsText(p string, evs []storage.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s %s", ev.Type, strings.TrimPrefix(ev.KV.Key, p))
		if ev.Type == storage.EventPut {
			fmt.Fprintf(&b, "=%s", ev.KV.Value)
		}
		fmt.Fprintf(&b, "@%d", ev.KV.ModRevision)
		if ev.Created {
			b.WriteString(" created")
		}
		if ev.Prev != nil {
			fmt.Fprintf(&b, " prev=%s@%d", ev.Prev.Value, ev.Prev.ModRevision)
		}
		b.WriteString("\n")
	}
	return b.String()
}
