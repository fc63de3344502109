package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

// scriptedStore answers Revision and Compact from a script, one entry per
// tick, and records the compactions asked for.
type scriptedStore struct {
	Store     // nil: the compactor calls nothing else
	revisions []int64
	errs      map[int64]error // Compact(rev) answers errs[rev]
	asked     []int64
}

func (s *scriptedStore) Revision(context.Context) (int64, error) {
	rev := s.revisions[0]
	s.revisions = s.revisions[1:]
	if rev < 0 {
		return 0, errors.New("unavailable")
	}
	return rev, nil
}

func (s *scriptedStore) Compact(_ context.Context, rev int64) error {
	s.asked = append(s.asked, rev)
	return s.errs[rev]
}

func TestCompactorTicks(t *testing.T) {
	tests := []struct {
		name      string
		revisions []int64 // read at each tick; -1 fails
		errs      map[int64]error
		want      string // Compact calls, in order
	}{
		{"compacts to the previous tick", []int64{5, 9, 12}, nil, "[5 9]"},
		{"skips an unchanged revision", []int64{5, 9, 9, 12}, nil, "[5 9]"},
		{"already compacted elsewhere", []int64{5, 9, 12}, map[int64]error{5: fmt.Errorf("x: %w", ErrCompacted)}, "[5 9]"},
		{"retries a failed compaction", []int64{5, 9, 9, 12}, map[int64]error{9: errors.New("timeout")}, "[5 9 9]"},
		{"goes on after a failed read", []int64{5, -1, 12, 14}, nil, "[5 12]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scriptedStore{revisions: tt.revisions, errs: tt.errs}
			c := &compactor{store: s, logger: slog.New(slog.DiscardHandler)}
			for range tt.revisions {
				c.tick(context.Background())
			}
			if got := fmt.Sprint(s.asked); got != tt.want {
				t.Errorf("Compact calls %s, want %s", got, tt.want)
			}
		})
	}
}
