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
	got, err := os.Readlink(path)
	if err == nil && got == target {
		return nil
	}
	// Nothing there yet (a fresh tree: most links): one symlink call.
	if errors.Is(err, fs.ErrNotExist) && os.Symlink(target, path) == nil {
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
