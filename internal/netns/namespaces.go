package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Namespaces creates and removes named network namespaces.
type Namespaces interface {
	// Create makes the namespace name unless it exists, and returns its
	// path; a new namespace has only a loopback interface, set up.
	Create(name string) (string, error)
	// Delete removes the namespace name; a missing one is not an error.
	Delete(name string) error
	// List returns the names of the namespaces that start with prefix.
	List(prefix string) ([]string, error)
	// Path returns where the namespace name is (or would be) mounted.
	Path(name string) string
}

// DefaultDir is where `ip netns` keeps its namespaces; using it lets
// `ip netns exec` reach ours.
const DefaultDir = "/run/netns"

// Dir keeps namespaces as files bind-mounted in a directory.
type Dir struct {
	// Root is the directory; DefaultDir if empty.
	Root string
}

var _ Namespaces = (*Dir)(nil)

// NewDir returns the namespaces kept in dir (DefaultDir if empty).
func NewDir(dir string) *Dir {
	if dir == "" {
		dir = DefaultDir
	}
	return &Dir{Root: dir}
}

// Path returns the file of namespace name.
func (d *Dir) Path(name string) string { return filepath.Join(d.Root, name) }

// Create makes namespace name unless it exists.
func (d *Dir) Create(name string) (string, error) {
	p := d.Path(name)
	if isNetns(p) {
		return p, nil
	}
	if err := d.ensureSharedDir(); err != nil {
		return "", fmt.Errorf("create netns %s: %w", name, err)
	}
	if err := createAt(p); err != nil {
		_ = os.Remove(p)
		return "", fmt.Errorf("create netns %s: %w", name, err)
	}
	return p, nil
}

// ensureSharedDir makes the directory a shared mount point, as ip netns
// does, so that unmounting a namespace also drops the copies other mount
// namespaces (our pods') made of it.
func (d *Dir) ensureSharedDir() error {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return err
	}
	err := unix.Mount("", d.Root, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("make %s shared: %w", d.Root, err)
	}
	if err := unix.Mount(d.Root, d.Root, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", d.Root, err)
	}
	if err := unix.Mount("", d.Root, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make %s shared: %w", d.Root, err)
	}
	return nil
}

// createAt unshares a new network namespace on a locked thread, brings
// its loopback up, bind-mounts it at p and returns the thread to the
// namespace it came from. A thread that cannot go back is left locked, so
// that the runtime ends it with its goroutine.
func createAt(p string) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		errc <- unshareAndMount(p)
		if vnetns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

func unshareAndMount(p string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	if err := unix.Mount(self, p, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	return loopbackUp()
}

// Delete unmounts and removes namespace name.
func (d *Dir) Delete(name string) error {
	p := d.Path(name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

// List returns the namespaces whose names start with prefix.
func (d *Dir) List(prefix string) ([]string, error) {
	entries, err := os.ReadDir(d.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list netns: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// isNetns says whether p is a mounted network namespace.
func isNetns(p string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}
