package container

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostDeviceSkips are the /dev entries containerd leaves out when it gives a
// privileged container the host's devices: the per-container file systems
// runc mounts itself, and the console.
var hostDeviceSkips = map[string]bool{
	"pts": true, "shm": true, "fd": true, "mqueue": true,
	".lxc": true, ".lxd-mounts": true, ".udev": true, "console": true,
}

// HostDevices lists the character and block devices under dir (the host's
// /dev), as containerd's WithHostDevices does for a privileged container.
// Paths are given as under /dev whatever dir is.
func HostDevices(dir string) ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // a node that vanished while we walked
		}
		if path != dir && hostDeviceSkips[d.Name()] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || d.Type()&fs.ModeDevice == 0 {
			return nil
		}
		dev, err := deviceFromPath(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		dev.Path = filepath.Join("/dev", rel)
		out = append(out, dev)
		return nil
	})
	return out, err
}

func deviceFromPath(path string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return specs.LinuxDevice{}, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	typ := "c"
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		typ = "b"
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, nil
}
