package savefmt

import (
	"slices"
	"testing"
)

func TestSplitJoin(t *testing.T) {
	line := `-A KUBE-SERVICES -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X`
	w, err := Split(line)
	if err != nil || !slices.Equal(w, []string{"-A", "KUBE-SERVICES", "-m", "comment", "--comment", "ns/svc:http cluster IP",
		"-m", "tcp", "--dport", "80", "-j", "KUBE-SVC-X"}) {
		t.Fatalf("Split: %q %v", w, err)
	}
	if got := Join(w); got != line {
		t.Errorf("Join: %s", got)
	}
	if w, _ := Split(`a "b \"c\"" d`); !slices.Equal(w, []string{"a", `b "c"`, "d"}) {
		t.Errorf("escaped quote: %q", w)
	}
	if _, err := Split(`-A X "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
