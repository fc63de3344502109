package images

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/agent/images/libcnslookup"
)

// DefaultBusybox is where hack/deps.sh installs Debian trixie's
// busybox-static (1.37, built with wget -T).
const DefaultBusybox = "/var/cache/svcplane/busybox"

// FindBusybox returns the busybox binary busybox images run: want when it
// is there, else the host's busybox (fallback true), else "".
func FindBusybox(want string) (bin string, fallback bool) {
	if st, err := os.Stat(want); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return want, false
	}
	bin, _ = exec.LookPath("busybox")
	return bin, true
}

// BusyboxDirs are the applet directories PrepareBusybox lays out; a PATH
// starting with one gives containers sh, wget, nslookup and friends.
type BusyboxDirs struct {
	// Current links every applet to the busybox binary: busybox:1.29 and
	// newer, latest, and the other built-in images.
	Current string
	// Libc is Current but for nslookup, which runs svcplane's copy of
	// busybox 1.28's libc nslookup: busybox:1.28 and older.
	Libc string
}

// BusyboxLayout says what PrepareBusybox links.
type BusyboxLayout struct {
	// Binary is the busybox binary (see FindBusybox).
	Binary string
	// Self is the svcplane binary, which runs the applets of Applet.
	Self string
	// Shell is the busybox whose shell and command runners (sh, env,
	// xargs...) the libc directory links: one that looks commands up in
	// PATH, as busybox 1.28's images do, so that `sh -c nslookup` finds
	// the libc nslookup. Debian's dynamic busybox does; the static one,
	// built with FEATURE_SH_STANDALONE and PREFER_APPLETS, runs its own
	// applets first. Empty means Binary.
	Shell string
	// Dir holds the applet directories.
	Dir string
}

// PrepareBusybox fills the applet directories under l.Dir, replacing
// links that point elsewhere (a new binary after an upgrade).
func PrepareBusybox(l BusyboxLayout) (BusyboxDirs, error) {
	out, err := exec.Command(l.Binary, "--list").Output()
	if err != nil {
		return BusyboxDirs{}, fmt.Errorf("%s --list: %w", l.Binary, err)
	}
	dirs := BusyboxDirs{Current: filepath.Join(l.Dir, "current"), Libc: filepath.Join(l.Dir, "libc")}
	for _, applet := range strings.Fields(string(out)) {
		libcTarget := l.Binary
		if _, ok := Applet(applet); ok {
			libcTarget = l.Self
		} else if runsCommands(applet) && l.Shell != "" {
			libcTarget = l.Shell
		}
		if err := link(l.Binary, filepath.Join(dirs.Current, applet)); err != nil {
			return BusyboxDirs{}, err
		}
		if err := link(libcTarget, filepath.Join(dirs.Libc, applet)); err != nil {
			return BusyboxDirs{}, err
		}
	}
	return dirs, nil
}

// runsCommands reports whether an applet starts other programs by name,
// which a busybox built with PREFER_APPLETS runs as its own applets.
func runsCommands(applet string) bool {
	switch applet {
	case "sh", "ash", "hush", "env", "xargs", "time", "timeout", "nohup", "nice", "chroot", "setsid", "watch":
		return true
	}
	return false
}

// link makes path a symbolic link to target, atomically replacing
// another link.
func link(target, path string) error {
	if got, err := os.Readlink(path); err == nil && got == target {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("busybox applets: %w", err)
	}
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("busybox applet: %w", err)
	}
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("busybox applet: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("busybox applet: %w", err)
	}
	return nil
}

// Applet returns the program of a busybox applet svcplane runs itself
// (when its binary is started under that name), taking the arguments
// and returning the exit code.
func Applet(name string) (func(args []string) int, bool) {
	switch name {
	case "nslookup":
		return func(args []string) int {
			return libcnslookup.Main(libcnslookup.Config{Stdout: os.Stdout, Stderr: os.Stderr}, args)
		}, true
	}
	return nil, false
}

// libcBusybox reports whether a busybox image tag names 1.28 or older,
// whose nslookup resolved through the C library. Tags without a version
// (latest, musl, glibc, "1") are current.
func libcBusybox(tag string) bool {
	major, rest, ok := strings.Cut(tag, ".")
	if !ok {
		return false
	}
	minor := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < 1 || ma == 1 && mi <= 28
}
