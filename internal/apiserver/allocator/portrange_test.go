package allocator

import (
	"errors"
	"sync"
	"testing"
)

func mustPortRange(t testing.TB, s string) *PortRange {
	t.Helper()
	r, err := ParsePortRange(s)
	if err != nil {
		t.Fatalf("ParsePortRange(%q): %v", s, err)
	}
	return r
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in         string
		want       string // String() or the error
		size, band int
	}{
		{"30000-32767", "30000-32767", 2768, 86},
		{" 30000-32767 ", "30000-32767", 2768, 86},
		{"30000+2767", "30000-32767", 2768, 86},
		{"20000-40000", "20000-40000", 20001, 128},
		{"30000-30511", "30000-30511", 512, 16},
		{"30000-30015", "30000-30015", 16, 0},
		{"8080", "8080-8080", 1, 0},
		{"", `invalid port range "": empty`, 0, 0},
		{"abc", `invalid port range "abc": strconv.Atoi: parsing "abc": invalid syntax`, 0, 0},
		{"30000-", `invalid port range "30000-": strconv.Atoi: parsing "": invalid syntax`, 0, 0},
		{"32767-30000", `invalid port range "32767-30000": end port cannot be less than start port: 32767-30000`, 0, 0},
		{"30000-70000", `invalid port range "30000-70000": the port range cannot be greater than 65535: 30000-70000`, 0, 0},
		{"0-100", "invalid port range 0-100: ports must be between 1 and 65535", 0, 0},
		{"1-2+3", `invalid port range "1-2+3": unable to parse port range: 1-2+3`, 0, 0},
	}
	for _, tt := range tests {
		r, err := ParsePortRange(tt.in)
		if err != nil {
			if err.Error() != tt.want {
				t.Errorf("ParsePortRange(%q) error = %q, want %q", tt.in, err, tt.want)
			}
			continue
		}
		if r.String() != tt.want || r.Size() != tt.size || r.bits.band != tt.band {
			t.Errorf("ParsePortRange(%q) = %s size %d band %d; want %s %d %d",
				tt.in, r, r.Size(), r.bits.band, tt.want, tt.size, tt.band)
		}
	}
}

func TestNewPortRangeErrors(t *testing.T) {
	for _, tt := range []struct {
		base, size int
		want       string
	}{
		{30000, 0, "invalid port range: size 0 is not positive"},
		{65000, 1000, "invalid port range 65000-65999: ports must be between 1 and 65535"},
	} {
		if _, err := NewPortRange(tt.base, tt.size); errText(err) != tt.want {
			t.Errorf("NewPortRange(%d, %d) = %v, want %q", tt.base, tt.size, err, tt.want)
		}
	}
}

func TestPortRangeAllocate(t *testing.T) {
	r := mustPortRange(t, DefaultNodePortRange)
	if err := r.Allocate(30080); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		port int
		want string
	}{
		{30080, "provided port is already allocated"},
		{29999, "provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{32768, "provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{80, "provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{30000, ""},
		{32767, ""},
	}
	for _, tt := range tests {
		if got := errText(r.Allocate(tt.port)); got != tt.want {
			t.Errorf("Allocate(%d) = %q, want %q", tt.port, got, tt.want)
		}
	}
	if !IsAllocated(r.Allocate(30080)) || !IsNotInRange(r.Allocate(1)) {
		t.Error("predicates do not match")
	}
	if !r.Has(30080) || r.Has(30081) || r.Has(1) || r.Used() != 3 || r.Free() != 2765 {
		t.Errorf("Has/Used/Free wrong: Used %d Free %d", r.Used(), r.Free())
	}
}

// The default range's static band is 30000-30085 (86 ports): the other 2682
// ports are handed out first.
func TestPortRangeDynamicBandFirst(t *testing.T) {
	r := mustPortRange(t, DefaultNodePortRange)
	for i := range 2768 {
		p, err := r.AllocateNext()
		if err != nil {
			t.Fatalf("AllocateNext %d: %v", i, err)
		}
		if static := p < 30086; static != (i >= 2682) {
			t.Fatalf("allocation %d = %d: static = %v", i, p, static)
		}
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) || err.Error() != "range is full" {
		t.Fatalf("want range is full, got %v", err)
	}
	if err := r.Release(30042); err != nil {
		t.Fatal(err)
	}
	if p, err := r.AllocateNext(); p != 30042 || err != nil {
		t.Fatalf("after release AllocateNext = %d, %v", p, err)
	}
}

func TestPortRangeSnapshotRestore(t *testing.T) {
	r := mustPortRange(t, DefaultNodePortRange)
	_ = r.Allocate(30000)
	_ = r.Allocate(32767)
	spec, data := r.Snapshot()
	other := mustPortRange(t, DefaultNodePortRange)
	if err := other.Restore(spec, data); err != nil || !other.Has(32767) || other.Used() != 2 {
		t.Fatalf("Restore: %v, Used %d", err, other.Used())
	}
	if err := mustPortRange(t, "30000-32000").Restore(spec, data); !errors.Is(err, ErrMismatchedPortRange) {
		t.Errorf("Restore into another range = %v", err)
	}
	var got []int
	other.ForEach(func(p int) { got = append(got, p) })
	if len(got) != 2 || got[0] != 30000 || got[1] != 32767 {
		t.Errorf("ForEach = %v", got)
	}
}

func TestPortRangeConcurrentAllocateNext(t *testing.T) {
	r := mustPortRange(t, "30000-30299")
	const workers, each = 20, 15 // all 300
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				p, err := r.AllocateNext()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Errorf("port %d handed out twice", p)
				}
				seen[p] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 300 || r.Free() != 0 {
		t.Errorf("distinct %d, Free %d", len(seen), r.Free())
	}
}
