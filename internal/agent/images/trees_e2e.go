package images

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// DefaultHostTools are the host programs (Debian's dnsutils, curl,
// getent, bash) that the agnhost and jessie-dnsutils images have: those
// of them installed here (hack/deps.sh installs dnsutils and curl).
func DefaultHostTools() []string {
	var out []string
	for _, p := range []string{"/usr/bin/dig", "/usr/bin/host", "/usr/bin/nslookup", "/usr/bin/getent", "/usr/bin/curl", "/bin/bash"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}

// imageFile is a file of an image's tree.
type imageFile struct {
	path, content string
	mode          os.FileMode
}

// agnhostTree is the agnhost image (Alpine with bind-tools, curl,
// netcat-openbsd, bash): /agnhost and /agnhost-2 and /usr/bin/nc run
// svcplane's agnhost and netcat, /uploads for netexec, porter's
// /localhost.crt and /localhost.key.
func agnhostTree(dir string, l TreeLayout, applets []string) error {
	if err := busyboxTreeWith(dir, l, applets, busyboxOptions{pathShell: true, skip: map[string]bool{"nc": true, "netcat": true}}); err != nil {
		return err
	}
	if err := copyHostTools(dir, l.HostTools, l.libs); err != nil {
		return err
	}
	for _, p := range []string{"agnhost", "agnhost-2", "usr/bin/nc"} {
		if err := link(container.SelfPath, filepath.Join(dir, p)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "uploads"), 0o755); err != nil {
		return err
	}
	if err := writeFiles(dir, []imageFile{{"etc/nsswitch.conf", nsswitchConf, 0o644}, {"etc/alpine-release", "3.21.0\n", 0o644}}); err != nil {
		return err
	}
	if err := copyServices(dir); err != nil {
		return err
	}
	return localhostCert(dir)
}

// httpdTree is the httpd image (httpd:2.4.38-alpine): Apache's files
// under /usr/local/apache2, its bin/httpd and /usr/local/bin/httpd-foreground
// running svcplane's httpd.
func httpdTree(dir string, l TreeLayout, applets []string) error {
	if err := busyboxTreeWith(dir, l, applets, busyboxOptions{pathShell: true, skip: map[string]bool{"httpd": true}}); err != nil {
		return err
	}
	for _, p := range []string{"usr/local/apache2/bin/httpd", "usr/local/bin/httpd-foreground"} {
		if err := link(container.SelfPath, filepath.Join(dir, p)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "usr/local/apache2/logs"), 0o755); err != nil {
		return err
	}
	return writeFiles(dir, []imageFile{
		{"usr/local/apache2/htdocs/index.html", itWorks, 0o644},
		{"usr/local/apache2/conf/httpd.conf", httpdConf, 0o644},
		{"etc/alpine-release", "3.9.2\n", 0o644},
	})
}

// dnsutilsTree is jessie-dnsutils (Debian with dnsutils): the host's
// dig, host, nslookup, getent and bash, busybox for the rest.
func dnsutilsTree(dir string, l TreeLayout, applets []string) error {
	if err := busyboxTreeWith(dir, l, applets, busyboxOptions{pathShell: true, skip: map[string]bool{"bash": true}}); err != nil {
		return err
	}
	if err := copyHostTools(dir, l.HostTools, l.libs); err != nil {
		return err
	}
	if err := writeFiles(dir, []imageFile{{"etc/nsswitch.conf", nsswitchConf, 0o644}, {"etc/debian_version", "8.11\n", 0o644}}); err != nil {
		return err
	}
	return copyServices(dir)
}

// copyHostTools copies each tool and its libraries into the tree.
func copyHostTools(dir string, tools []string, libs libraryCache) error {
	for _, t := range tools {
		if err := linkOrCopyFile(t, filepath.Join(dir, t)); err != nil {
			return err
		}
		if err := copyLibraries(dir, t, libs); err != nil {
			return err
		}
	}
	return nil
}

// copyServices copies the host's /etc/services (port names for nc -v).
func copyServices(dir string) error {
	err := copyFile("/etc/services", filepath.Join(dir, "etc/services"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func writeFiles(dir string, files []imageFile) error {
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.path), f.content, f.mode); err != nil {
			return err
		}
	}
	return nil
}

const nsswitchConf = "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"

// localhostCert writes porter's and netexec's default certificate and
// key (for 127.0.0.1, ::1 and localhost) once.
func localhostCert(dir string) error {
	crt, key := filepath.Join(dir, "localhost.crt"), filepath.Join(dir, "localhost.key")
	if _, err := os.Stat(key); err == nil {
		return nil
	}
	certPEM, keyPEM, err := selfSignedLocalhost()
	if err != nil {
		return err
	}
	if err := writeFile(crt, string(certPEM), 0o644); err != nil {
		return err
	}
	return writeFile(key, string(keyPEM), 0o644)
}

func selfSignedLocalhost() (certPEM, keyPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"Acme Co"}},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2084, 1, 29, 16, 0, 0, 0, time.UTC),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}
