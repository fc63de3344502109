package pki

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// readPair reads a certificate and its key. If either is missing the error
// wraps os.ErrNotExist and the contents of the other (if any) are returned.
func readPair(certPath, keyPath string) (certPEM, keyPEM []byte, err error) {
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	for _, e := range []error{certErr, keyErr} {
		if e != nil && !errors.Is(e, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("read: %w", e)
		}
	}
	if certErr != nil || keyErr != nil {
		return certPEM, keyPEM, errors.Join(certErr, keyErr)
	}
	return certPEM, keyPEM, nil
}

// writePair writes the key (0600) and then the certificate (0644).
func writePair(certPath, keyPath string, lf *leaf) error {
	if err := writeFileAtomic(keyPath, lf.keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, lf.certPEM, 0o644)
}

// writeFileAtomic replaces path with data so that readers never see a
// partly written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
