package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names of the service account signing key pair, as kubeadm names
// them.
const (
	saKeyFile = "sa.key"
	saPubFile = "sa.pub"
	saKeyBits = 2048
)

// ensureServiceAccountKey loads the service account signing key, creating
// it (and sa.pub) once. API servers sharing the directory may start at the
// same moment: the key file is linked into place only if none exists, so
// all of them end up signing with the same key.
func (b *Bundle) ensureServiceAccountKey() error {
	key, err := readRSAKey(b.Paths.SAKey)
	if errors.Is(err, os.ErrNotExist) {
		key, err = createRSAKey(b.Paths.SAKey)
	}
	if err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	if err := writeRSAPublic(b.Paths.SAPub, key); err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	b.ServiceAccountKey = key
	return nil
}

func readRSAKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return rk, nil
}

// createRSAKey generates a key and links it to path unless a key is there
// already; it returns the key at path.
func createRSAKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, saKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return readRSAKey(path)
}

// writeRSAPublic keeps sa.pub in step with the key, for readers that
// only verify tokens.
func writeRSAPublic(path string, key *rsa.PrivateKey) error {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if have, err := os.ReadFile(path); err == nil && string(have) == string(want) {
		return nil
	}
	return writeFileAtomic(path, want, 0o644)
}
