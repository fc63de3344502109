package imagestore

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrUnsafeEntry is wrapped by the errors of entries that are refused:
// they would write outside the layer, through a symlink, or make a device.
var ErrUnsafeEntry = errors.New("unsafe layer entry")

// EntryError is a layer entry that could not be unpacked.
type EntryError struct {
	Entry string // the entry's name in the layer tar
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("layer entry %q: %v", e.Entry, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

func unsafeEntry(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsafeEntry}, args...)...)
}

// Whiteout names of the OCI layer format and what overlayfs makes of them.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// resolveFlags open a path under the layer root without ever following a
// symlink or leaving the root.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// unpacker extracts one layer's tar into a directory.
type unpacker struct {
	root    int    // the layer directory
	cached  string // the directory cachedFd is open on, "" for none
	cacheFd int
	dirs    []dirTimes // set once every entry is written
	buf     []byte
}

type dirTimes struct {
	name         string
	atime, mtime time.Time
}

// unpackLayer extracts the layer tar read from r into dir, an empty
// directory, as an overlayfs lower directory.
func unpackLayer(r io.Reader, dir string) error {
	root, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open layer directory: %w", err)
	}
	u := &unpacker{root: root, cacheFd: -1, buf: make([]byte, 256<<10)}
	defer u.close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("corrupt layer: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return &EntryError{Entry: hdr.Name, Err: err}
		}
	}
	return u.setDirTimes()
}

func (u *unpacker) close() {
	u.uncache()
	unix.Close(u.root)
}

func (u *unpacker) uncache() {
	if u.cacheFd >= 0 {
		unix.Close(u.cacheFd)
	}
	u.cached, u.cacheFd = "", -1
}

// cleanName checks an entry's name and returns it relative to the layer
// root ("." for the root itself).
func cleanName(n string) (string, error) {
	if n == "" {
		return "", unsafeEntry("empty name")
	}
	if strings.HasPrefix(n, "/") {
		return "", unsafeEntry("absolute path")
	}
	for _, c := range strings.Split(n, "/") {
		if c == ".." {
			return "", unsafeEntry("path climbs out of the layer (..)")
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", unsafeEntry("NUL in name")
	}
	return path.Clean(n), nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	if name == "." {
		return nil // the root: the container's root gets its upper layer's
	}
	dir, base := path.Split(name)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(dir, base)
	}
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	return u.make(parent, name, base, hdr, r)
}

func (u *unpacker) make(parent int, name, base string, hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.dir(parent, name, base, hdr)
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		return u.file(parent, base, hdr, r)
	case tar.TypeSymlink:
		return u.symlink(parent, name, base, hdr)
	case tar.TypeLink:
		return u.hardlink(parent, base, hdr)
	case tar.TypeFifo:
		return u.node(parent, base, hdr, unix.S_IFIFO)
	case tar.TypeChar, tar.TypeBlock:
		return unsafeEntry("device file (%d:%d): images may not carry devices", hdr.Devmajor, hdr.Devminor)
	}
	return unsafeEntry("unsupported entry type %q", hdr.Typeflag)
}

// openDir returns an fd on the layer's directory dir (relative, "" or
// ending in "/"), making missing directories; a symlink on the way is
// refused.
func (u *unpacker) openDir(dir string) (int, error) {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return u.root, nil
	}
	if dir == u.cached {
		return u.cacheFd, nil
	}
	fd, err := openBeneath(u.root, dir)
	if errors.Is(err, unix.ENOENT) {
		fd, err = u.mkdirAll(dir)
	}
	if err != nil {
		return -1, u.pathError(dir, err)
	}
	u.uncache()
	u.cached, u.cacheFd = dir, fd
	return fd, nil
}

func openBeneath(dirfd int, p string) (int, error) {
	return unix.Openat2(dirfd, p, &unix.OpenHow{
		Flags:   unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: resolveFlags,
	})
}

func (u *unpacker) pathError(dir string, err error) error {
	dir = strings.TrimSuffix(dir, "/")
	var st unix.Stat_t
	switch {
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV),
		// O_DIRECTORY fails first on a final symlink; the stat only
		// words the error (a symlink before it would have been ELOOP).
		errors.Is(err, unix.ENOTDIR) && unix.Fstatat(u.root, dir, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return unsafeEntry("%s is a symlink: the entry would be written through it", dir)
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("parent %s is not a directory", dir)
	}
	return fmt.Errorf("open parent %s: %w", dir, err)
}

// mkdirAll makes the missing directories of dir (mode 0755, root's) and
// returns an fd on it.
func (u *unpacker) mkdirAll(dir string) (int, error) {
	fd, err := unix.Dup(u.root)
	if err != nil {
		return -1, err
	}
	for _, c := range strings.Split(dir, "/") {
		if err := unix.Mkdirat(fd, c, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(fd)
			return -1, err
		}
		next, err := openBeneath(fd, c)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		if err := unix.Fchmod(next, 0o755); err != nil {
			unix.Close(next)
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// replace removes what base names in parent before another entry takes
// its place, as a later entry of a tar does; a directory stays when a
// directory replaces it.
func (u *unpacker) replace(parent int, base string, isDir bool) (exists bool, err error) {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if isDir {
			return true, nil
		}
		return true, errors.New("would replace a directory")
	}
	return false, unix.Unlinkat(parent, base, 0)
}
