package container

import (
	"strings"
	"testing"
)

func TestStepsMark(t *testing.T) {
	var off *steps
	off.mark("nothing") // a nil recorder records nothing and does not crash

	var b strings.Builder
	s := newSteps(&b)
	s.mark("overlay")
	s.mark("mount /proc")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), b.String())
	}
	for i, want := range []string{"step overlay ", "step mount /proc "} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want)
		}
	}
}
