package clusterdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Read(dir); ok || err != nil {
		t.Fatalf("empty dir: ok=%v err=%v", ok, err)
	}
	want := Record{Name: "blue", Sandbox: true, NetnsDir: "/run/netns"}
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := Read(dir); !ok || err != nil || got != want {
		t.Fatalf("read %+v ok=%v err=%v", got, ok, err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	var held *HeldError
	if _, err := Acquire(dir); !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second acquire: %v", err)
	}
	if pid, err := Holder(dir); err != nil || pid != os.Getpid() {
		t.Fatalf("holder %d %v", pid, err)
	}
	l.Release()
	if pid, err := Holder(dir); err != nil || pid != 0 {
		t.Fatalf("holder after release %d %v", pid, err)
	}
}

// TestClaim: two data directories cannot run one cluster name at once;
// once the first up is gone, its name may be taken again.
func TestClaim(t *testing.T) {
	reg := Registry{Root: filepath.Join(t.TempDir(), "clusters")}
	a, b := t.TempDir(), t.TempDir()
	cases := []struct {
		name    string
		dir     string
		rec     Record
		wantErr string // "", "cluster" or "dir"
	}{
		{"first up of blue", a, Record{Name: "blue", Sandbox: true}, ""},
		{"blue again from another dir", b, Record{Name: "blue", Sandbox: true}, "cluster"},
		{"the same dir again", a, Record{Name: "blue", Sandbox: true}, "dir"},
		{"another name from b", b, Record{Name: "green", Sandbox: true}, ""},
		{"nameless up", t.TempDir(), Record{}, ""},
	}
	var held []*Lock
	defer func() {
		for _, l := range held {
			l.Release()
		}
	}()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Claim(tc.dir, tc.rec, reg)
			var ch *ClusterHeldError
			var dh *HeldError
			switch {
			case tc.wantErr == "" && err != nil, tc.wantErr == "cluster" && !errors.As(err, &ch), tc.wantErr == "dir" && !errors.As(err, &dh):
				t.Fatalf("claim: %v, want %s error", err, tc.wantErr)
			}
			if err == nil {
				held = append(held, l) // held until the whole test ends
				if tc.rec.Name != "" {
					if err := reg.Register(tc.rec.Name, tc.dir); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
	if got := reg.Lookup("blue"); got != a {
		t.Errorf("blue registered to %q, want %q", got, a)
	}
	if names, _ := reg.List(); len(names) != 2 || names[0] != "blue" || names[1] != "green" {
		t.Errorf("registry: %v", names)
	}
}
