package images

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PrepareBusybox fills dir with a link per applet of the host's busybox
// (Debian's busybox package), so that a PATH starting with dir gives
// containers sh, wget, nslookup and friends. It returns false, and no
// error, when busybox is not installed.
func PrepareBusybox(dir string) (bool, error) {
	bin, err := exec.LookPath("busybox")
	if err != nil {
		return false, nil
	}
	out, err := exec.Command(bin, "--list").Output()
	if err != nil {
		return false, fmt.Errorf("busybox --list: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("busybox dir: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		link := filepath.Join(dir, applet)
		if err := os.Symlink(bin, link); err != nil && !errors.Is(err, os.ErrExist) {
			return false, fmt.Errorf("busybox applet %s: %w", applet, err)
		}
	}
	return true, nil
}
