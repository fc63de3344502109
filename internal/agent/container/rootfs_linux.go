package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupRootfs builds the container's root in the mount namespace the
// process was started in and pivots into it.
func setupRootfs(p *Plan, st *steps) error {
	// Slave: nothing mounted here reaches the host; the host's unmounts
	// (of deleted network namespaces) still reach us.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	st.mark("slave /")
	if err := mountOverlay(p.Rootfs); err != nil {
		return err
	}
	st.mark("overlay")
	for _, m := range p.Mounts {
		if err := mountInto(p.Rootfs.Target, m); err != nil {
			return err
		}
		st.mark("mount " + m.Destination)
	}
	if err := makeDevices(p.Rootfs.Target, p.Devices); err != nil {
		return err
	}
	st.mark("devices")
	if err := pivotRoot(p.Rootfs.Target); err != nil {
		return err
	}
	st.mark("pivot_root")
	for _, path := range p.MaskedPaths {
		if err := maskPath(path); err != nil {
			return err
		}
	}
	st.mark("masked paths")
	for _, path := range p.ReadonlyPaths {
		if err := readonlyPath(path); err != nil {
			return err
		}
	}
	st.mark("readonly paths")
	if p.Rootfs.Readonly {
		if err := unix.Mount("/", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("make the root read-only: %w", err)
		}
	}
	if p.Hostname != "" {
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	return nil
}

// mountOverlay mounts the image layers under the container's own upper
// directory at the target.
func mountOverlay(r Rootfs) error {
	if len(r.Layers) == 0 {
		return errors.New("the image has no layers")
	}
	for _, d := range []string{r.Upper, r.Work, r.Target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	lower := slices.Clone(r.Layers)
	slices.Reverse(lower) // overlay lists the top layer first
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), r.Upper, r.Work)
	if err := unix.Mount("overlay", r.Target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount the root filesystem (overlay of %d layers): %w", len(r.Layers), err)
	}
	return nil
}

// mountInto makes one mount at its destination inside root, resolving
// the destination's symbolic links inside root, never out of it.
func mountInto(root string, m specs.Mount) error {
	dest, err := securejoin.SecureJoin(root, m.Destination)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	flags, data := parseOptions(m.Options)
	bind := flags&unix.MS_BIND != 0
	if err := makeMountpoint(dest, bind, m.Source); err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	if bind {
		if err := unix.Mount(m.Source, dest, "", flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", m.Source, m.Destination, err)
		}
		if extra := flags &^ (unix.MS_BIND | unix.MS_REC); extra != 0 {
			if err := unix.Mount("", dest, "", unix.MS_BIND|unix.MS_REMOUNT|extra, ""); err != nil {
				return fmt.Errorf("remount %s: %w", m.Destination, err)
			}
		}
		return nil
	}
	if err := unix.Mount(m.Source, dest, m.Type, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
	}
	return nil
}

// makeMountpoint creates a directory, or for a bind of a file an empty
// file, at dest.
func makeMountpoint(dest string, bind bool, source string) error {
	if bind {
		if st, err := os.Stat(source); err == nil && !st.IsDir() {
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
	}
	return os.MkdirAll(dest, 0o755)
}

// mountFlags are the options that are flags; the others are data.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "nodev": {false, unix.MS_NODEV}, "noexec": {false, unix.MS_NOEXEC},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"strictatime": {false, unix.MS_STRICTATIME}, "relatime": {false, unix.MS_RELATIME},
}

// parseOptions splits OCI mount options into flags and data.
func parseOptions(opts []string) (uintptr, string) {
	var flags uintptr
	var data []string
	for _, o := range opts {
		f, ok := mountFlags[o]
		switch {
		case !ok:
			data = append(data, o)
		case f.clear:
			flags &^= f.flag
		default:
			flags |= f.flag
		}
	}
	return flags, strings.Join(data, ",")
}

// makeDevices creates the device nodes and the usual links in /dev; where
// mknod is not allowed, it binds the host's node instead, as runc does.
func makeDevices(root string, devs []specs.LinuxDevice) error {
	for _, d := range devs {
		if err := makeDevice(root, d); err != nil {
			return fmt.Errorf("create %s: %w", d.Path, err)
		}
	}
	links := [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
	}
	// runc's ptmx is the link into the container's own devpts, even where
	// the host's ptmx node came in with a privileged container's devices.
	if err := os.Remove(filepath.Join(root, "dev", "ptmx")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace /dev/ptmx: %w", err)
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(root, "dev", l[1])); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// makeDevice creates one device node under root (its parents too, as
// /dev/net/tun needs), owned and moded as the plan says.
func makeDevice(root string, d specs.LinuxDevice) error {
	path := filepath.Join(root, d.Path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	kind := uint32(unix.S_IFCHR)
	if d.Type == "b" {
		kind = unix.S_IFBLK
	}
	err := unix.Mknod(path, kind|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EPERM) {
		err = bindDevice(d.Path, path)
	}
	if err != nil {
		return err
	}
	_ = unix.Chmod(path, mode) // mknod honours the umask
	if d.UID != nil && d.GID != nil {
		return unix.Chown(path, int(*d.UID), int(*d.GID))
	}
	return nil
}

func bindDevice(host, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o666)
	if err != nil {
		return err
	}
	f.Close()
	return unix.Mount(host, path, "", unix.MS_BIND, "")
}

// pivotRoot makes root the process's root and detaches the old one, the
// way runc does: pivot_root(".", ".") and unmount what lies beneath.
func pivotRoot(root string) error {
	old, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(old)
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir to the root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(old); err != nil {
		return err
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make the old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return unix.Chdir("/")
}

// maskPath hides a path: /dev/null over a file, an empty read-only tmpfs
// over a directory. Missing paths need no mask.
func maskPath(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "")
	} else {
		err = unix.Mount("/dev/null", path, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", path, err)
	}
	return nil
}

// readonlyPath binds a path over itself read-only.
func readonlyPath(path string) error {
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("bind %s: %w", path, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount(path, path, "", flags, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", path, err)
	}
	return nil
}
