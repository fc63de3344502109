package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is one file of a projected volume (configMap, secret, downwardAPI,
// projected): its content and permission bits.
type File struct {
	Data []byte
	Mode os.FileMode
}

// Names of the atomic writer's layout, as kubelet's.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// WriteAtomic makes dir hold exactly payload (relative path -> file) in
// kubelet's atomic-writer layout: the files live in a timestamped
// directory `..2006_01_02_15_04_05.<random>`, `..data` is a symbolic link
// to it, and each top-level name is a link `name -> ..data/name`. A new
// payload is written to a new timestamped directory and `..data` is
// swapped to it by a rename, so a reader sees the old or the new files,
// never a mix. It reports whether anything changed.
func WriteAtomic(dir string, payload map[string]File, now time.Time) (bool, error) {
	tops, err := validatePayload(payload)
	if err != nil {
		return false, err
	}
	old, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if old != "" && sameFiles(filepath.Join(dir, old), payload) && linksPresent(dir, tops) {
		return false, nil
	}
	ts, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, err
	}
	if err := writeFiles(ts, payload); err != nil {
		_ = os.RemoveAll(ts)
		return false, err
	}
	tmp := filepath.Join(dir, newDataDirName)
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		_ = os.RemoveAll(ts)
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataDirName)); err != nil {
		_ = os.RemoveAll(ts)
		return false, err
	}
	if err := syncLinks(dir, tops); err != nil {
		return true, err
	}
	return true, removeStale(dir, filepath.Base(ts))
}

// removeStale removes the timestamped directories other than the current
// one (the previous payload, and any a crash left behind).
func removeStale(dir, current string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, "..") || name == current {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// validatePayload refuses paths that are absolute, climb out, or start
// with "..", and returns the top-level names.
func validatePayload(payload map[string]File) (map[string]bool, error) {
	tops := map[string]bool{}
	for p := range payload {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		top, _, _ := strings.Cut(p, "/")
		tops[top] = true
	}
	return tops, nil
}

func validatePath(p string) error {
	switch {
	case p == "":
		return errors.New("invalid path: must not be empty")
	case len(p) > 4096:
		return fmt.Errorf("invalid path: must be less than or equal to 4096 characters")
	case filepath.IsAbs(p):
		return fmt.Errorf("invalid path: must be relative path: %s", p)
	case strings.HasPrefix(p, ".."):
		return fmt.Errorf("invalid path: must not start with '..': %s", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Errorf("invalid path: must not contain '..': %s", p)
		}
	}
	return nil
}

// sameFiles says whether the timestamped directory holds exactly payload.
func sameFiles(ts string, payload map[string]File) bool {
	seen := 0
	err := filepath.WalkDir(ts, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(ts, path)
		want, ok := payload[rel]
		if !ok {
			return errDiffers
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != want.Mode.Perm() {
			return errDiffers
		}
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, want.Data) {
			return errDiffers
		}
		seen++
		return nil
	})
	return err == nil && seen == len(payload)
}

var errDiffers = errors.New("differs")

func linksPresent(dir string, tops map[string]bool) bool {
	for top := range tops {
		if _, err := os.Lstat(filepath.Join(dir, top)); err != nil {
			return false
		}
	}
	return true
}

// writeFiles writes the payload under the new timestamped directory.
func writeFiles(ts string, payload map[string]File) error {
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	for p, f := range payload {
		path := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, f.Mode.Perm()); err != nil {
			return err
		}
		if err := os.Chmod(path, f.Mode.Perm()); err != nil { // WriteFile honours the umask
			return err
		}
	}
	return nil
}

// syncLinks makes the user-visible links of the top-level names and
// removes those of names no longer in the payload.
func syncLinks(dir string, tops map[string]bool) error {
	for top := range tops {
		link := filepath.Join(dir, top)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join(dataDirName, top), link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if tops[name] || strings.HasPrefix(name, "..") || e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if target, _ := os.Readlink(filepath.Join(dir, name)); strings.HasPrefix(target, dataDirName+"/") {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}
