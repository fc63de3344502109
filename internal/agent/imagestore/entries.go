package imagestore

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

func (u *unpacker) dir(parent int, name, base string, hdr *tar.Header) error {
	exists, err := u.replace(parent, base, true)
	if err != nil {
		return err
	}
	if !exists {
		if err := unix.Mkdirat(parent, base, 0o700); err != nil {
			return err
		}
	}
	fd, err := openBeneath(parent, base)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := setMeta(fd, hdr); err != nil {
		return err
	}
	u.dirs = append(u.dirs, dirTimes{name: name, atime: hdr.AccessTime, mtime: hdr.ModTime})
	return nil
}

func (u *unpacker) file(parent int, base string, hdr *tar.Header, r io.Reader) error {
	if _, err := u.replace(parent, base, false); err != nil {
		return err
	}
	fd, err := unix.Openat(parent, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	if _, err := io.CopyBuffer(struct{ io.Writer }{f}, r, u.buf); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := setMeta(fd, hdr); err != nil {
		return err
	}
	return setTimes(parent, base, hdr)
}

// symlink makes a symlink. An absolute target resolves in the container's
// root and is kept; a relative one must stay inside the layer.
func (u *unpacker) symlink(parent int, name, base string, hdr *tar.Header) error {
	t := hdr.Linkname
	if t == "" || strings.ContainsRune(t, 0) {
		return unsafeEntry("symlink with an empty or invalid target")
	}
	if !path.IsAbs(t) {
		if j := path.Join(path.Dir(name), t); j == ".." || strings.HasPrefix(j, "../") {
			return unsafeEntry("symlink target %q points out of the layer", t)
		}
	}
	if _, err := u.replace(parent, base, false); err != nil {
		return err
	}
	if err := unix.Symlinkat(t, parent, base); err != nil {
		return err
	}
	if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	return setTimes(parent, base, hdr)
}

// hardlink links base to an earlier entry of the same layer.
func (u *unpacker) hardlink(parent int, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	tdir, tbase := path.Split(target)
	tfd := u.root
	if tdir != "" {
		if tfd, err = openBeneath(u.root, strings.TrimSuffix(tdir, "/")); err != nil {
			return fmt.Errorf("hard link target %q: %w", hdr.Linkname, u.pathError(tdir, err))
		}
		defer unix.Close(tfd)
	}
	if _, err := u.replace(parent, base, false); err != nil {
		return err
	}
	if err := unix.Linkat(tfd, tbase, parent, base, 0); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("hard link target %q is not an earlier entry of the layer", hdr.Linkname)
		}
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// node makes a FIFO (the only special file an image may carry, whiteouts
// aside).
func (u *unpacker) node(parent int, base string, hdr *tar.Header, kind uint32) error {
	if _, err := u.replace(parent, base, false); err != nil {
		return err
	}
	if err := unix.Mknodat(parent, base, kind|0o600, 0); err != nil {
		return err
	}
	if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if err := unix.Fchmodat(parent, base, uint32(hdr.Mode&0o7777), 0); err != nil {
		return err
	}
	return setTimes(parent, base, hdr)
}

// whiteout turns an OCI whiteout into overlayfs's: .wh.name becomes a 0:0
// character device name, .wh..wh..opq marks its directory opaque; other
// .wh..wh. names (aufs's bookkeeping) are dropped.
func (u *unpacker) whiteout(dir, base string) error {
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	if base == whiteoutOpaque {
		return unix.Fsetxattr(parent, opaqueXattr, []byte("y"), 0)
	}
	if strings.HasPrefix(base, whiteoutPrefix+whiteoutPrefix) {
		return nil
	}
	target := strings.TrimPrefix(base, whiteoutPrefix)
	if target == "" || target == "." {
		return unsafeEntry("whiteout of nothing")
	}
	if _, err := u.replace(parent, target, false); err != nil {
		return err
	}
	if err := unix.Mknodat(parent, target, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("make whiteout %s: %w", target, err)
	}
	return nil
}

// setMeta gives an open file or directory the entry's owner, mode and
// xattrs; the mode comes after chown, which clears setuid bits.
func setMeta(fd int, hdr *tar.Header) error {
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	return setXattrs(fd, hdr)
}

// setXattrs applies the entry's PAX xattrs but those of the trusted.
// namespace (overlayfs reads its own there).
func setXattrs(fd int, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(attr, "trusted.") {
			continue
		}
		if err := unix.Fsetxattr(fd, attr, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("set xattr %s: %w", attr, err)
		}
	}
	return nil
}

// setTimes sets the times of the entry name in directory fd (of the
// entry itself, were it a symlink).
func setTimes(fd int, name string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(fd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// setDirTimes sets the directories' times once nothing more is written in
// them.
func (u *unpacker) setDirTimes() error {
	for _, d := range u.dirs {
		if err := u.setDirTime(d); err != nil {
			return &EntryError{Entry: d.name, Err: err}
		}
	}
	return nil
}

func (u *unpacker) setDirTime(d dirTimes) error {
	dir, base := path.Split(d.name)
	fd := u.root
	if dir != "" {
		var err error
		if fd, err = openBeneath(u.root, strings.TrimSuffix(dir, "/")); err != nil {
			return u.pathError(dir, err)
		}
		defer unix.Close(fd)
	}
	return setTimes(fd, base, &tar.Header{AccessTime: d.atime, ModTime: d.mtime})
}
