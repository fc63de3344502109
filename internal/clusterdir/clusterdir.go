// Package clusterdir keeps what ties a data directory to the cluster it
// runs and to the `svcplane up` running it:
//
//	<data dir>/cluster.json            Record: the cluster's name (its sp-<name>- prefix)
//	<data dir>/up.lock                 flock(2)ed by the running up; holds its pid
//	/run/svcplane/clusters/<name>      the data directory of each cluster on the machine
//
// so that `svcplane down` removes the cluster a data directory made, and
// never one that another running up holds.
package clusterdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// DefaultRegistry is where the machine's clusters are listed; /run is
// emptied at boot, as the namespaces are.
const DefaultRegistry = "/run/svcplane/clusters"

// Record is what a data directory says about its cluster.
type Record struct {
	// Name is the cluster's: everything it makes on the machine starts
	// with sp-<name>-. Empty for an up that makes nothing (no agent, no
	// sandbox).
	Name string `json:"name"`
	// Sandbox says the node ran in a namespace of its own.
	Sandbox bool `json:"sandbox,omitempty"`
	// NetnsDir is where its namespaces are mounted.
	NetnsDir string `json:"netnsDir,omitempty"`
	// Node is set when the data directory is a node's that joined the
	// cluster (`svcplane join`): down removes that node's things only,
	// never the cluster's other namespaces that share the prefix.
	Node string `json:"node,omitempty"`
}

func recordPath(dir string) string { return filepath.Join(dir, "cluster.json") }

// Write records r in the data directory dir.
func Write(dir string, r Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("record cluster: %w", err)
	}
	tmp := recordPath(dir) + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("record cluster: %w", err)
	}
	if err := os.Rename(tmp, recordPath(dir)); err != nil {
		return fmt.Errorf("record cluster: %w", err)
	}
	return nil
}

// Read returns the record of data directory dir; ok is false when there is
// none.
func Read(dir string) (r Record, ok bool, err error) {
	data, err := os.ReadFile(recordPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return Record{}, false, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read cluster record of %s: %w", dir, err)
	}
	return r, true, nil
}

// Lock is a data directory held by a running up.
type Lock struct{ f *os.File }

// HeldError says a data directory is held by the process PID.
type HeldError struct {
	Dir string
	PID int
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("data directory %s is in use by svcplane up (pid %d)", e.Dir, e.PID)
}

func lockPath(dir string) string { return filepath.Join(dir, "up.lock") }

// Acquire takes the lock of data directory dir without waiting, and
// writes this process's pid in it. A lock another process holds is a
// *HeldError. The lock ends with Release or with the process.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	f, err := os.OpenFile(lockPath(dir), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Dir: dir, PID: holderPID(dir)}
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// Holder returns the pid of the up holding data directory dir, or 0 when
// none does.
func Holder(dir string) (int, error) {
	l, err := Acquire(dir)
	var held *HeldError
	if errors.As(err, &held) {
		return held.PID, nil
	}
	if err != nil {
		return 0, err
	}
	l.Release()
	return 0, nil
}

func holderPID(dir string) int {
	data, _ := os.ReadFile(lockPath(dir))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// Registry lists the machine's clusters and their data directories, one
// file per cluster.
type Registry struct {
	// Root is the directory; DefaultRegistry if empty.
	Root string
}

func (r Registry) root() string {
	if r.Root == "" {
		return DefaultRegistry
	}
	return r.Root
}

// Register notes that cluster name runs from data directory dataDir.
func (r Registry) Register(name, dataDir string) error {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("register cluster %s: %w", name, err)
	}
	if err := os.MkdirAll(r.root(), 0o755); err != nil {
		return fmt.Errorf("register cluster %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(r.root(), name), []byte(abs+"\n"), 0o644); err != nil {
		return fmt.Errorf("register cluster %s: %w", name, err)
	}
	return nil
}

// Lookup returns the data directory of cluster name, or "".
func (r Registry) Lookup(name string) string {
	data, _ := os.ReadFile(filepath.Join(r.root(), name))
	return strings.TrimSpace(string(data))
}

// List returns the registered clusters' names, sorted.
func (r Registry) List() ([]string, error) {
	entries, err := os.ReadDir(r.root())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Remove forgets cluster name.
func (r Registry) Remove(name string) error {
	if err := os.Remove(filepath.Join(r.root(), name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unregister cluster %s: %w", name, err)
	}
	return nil
}

// ClusterHeldError says cluster Name is run from another data directory
// by a running up.
type ClusterHeldError struct {
	Name, Dir string
	PID       int
}

func (e *ClusterHeldError) Error() string {
	return fmt.Sprintf("cluster %s is run by svcplane up (pid %d) from data directory %s", e.Name, e.PID, e.Dir)
}

// HeldElsewhere returns who holds cluster name when a running up holds it
// from a data directory other than dataDir (which may be empty), or nil.
func (r Registry) HeldElsewhere(name, dataDir string) *ClusterHeldError {
	owner := r.Lookup(name)
	if owner == "" || sameDir(owner, dataDir) {
		return nil
	}
	if pid, _ := Holder(owner); pid != 0 {
		return &ClusterHeldError{Name: name, Dir: owner, PID: pid}
	}
	return nil
}

func sameDir(a, b string) bool {
	if b == "" {
		return false
	}
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	return a == b
}

// Claim is what up does first: it locks data directory dir, refuses a
// cluster name that a running up of another data directory holds, then
// records the cluster in dir. The lock is held until Release. Registering
// the cluster is left to the caller (a failure there need not stop up).
func Claim(dir string, rec Record, reg Registry) (*Lock, error) {
	l, err := Acquire(dir)
	if err != nil {
		return nil, err
	}
	if rec.Name != "" {
		if held := reg.HeldElsewhere(rec.Name, dir); held != nil {
			l.Release()
			return nil, held
		}
	}
	if err := Write(dir, rec); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}
