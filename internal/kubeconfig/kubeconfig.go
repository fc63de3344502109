// Package kubeconfig writes the kubeconfig files svcplane hands to kubectl
// and its own components (one cluster, one user with an embedded client
// certificate, one context made current) and loads them back as
// rest.Configs.
package kubeconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Default names used when a Config leaves them empty.
const (
	DefaultClusterName = "svcplane"
	DefaultUser        = "admin"
)

// Config describes one kubeconfig file.
type Config struct {
	// Server is the API server URL, e.g. https://127.0.0.1:6443.
	Server string
	// ClusterName names the cluster; DefaultClusterName if empty.
	ClusterName string
	// User names the credentials; DefaultUser if empty.
	User string
	// Context names the context; ClusterName if empty.
	Context string
	// CAData is the PEM CA certificate that signs the server's certificate.
	CAData []byte
	// CertData and KeyData are the PEM client certificate and key.
	CertData, KeyData []byte
}

func (c Config) withDefaults() Config {
	if c.ClusterName == "" {
		c.ClusterName = DefaultClusterName
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Context == "" {
		c.Context = c.ClusterName
	}
	return c
}

// Build returns the kubeconfig c describes, with its context current.
func Build(c Config) *clientcmdapi.Config {
	c = c.withDefaults()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[c.ClusterName] = &clientcmdapi.Cluster{
		Server:                   c.Server,
		CertificateAuthorityData: c.CAData,
	}
	kc.AuthInfos[c.User] = &clientcmdapi.AuthInfo{
		ClientCertificateData: c.CertData,
		ClientKeyData:         c.KeyData,
	}
	kc.Contexts[c.Context] = &clientcmdapi.Context{Cluster: c.ClusterName, AuthInfo: c.User}
	kc.CurrentContext = c.Context
	return kc
}

// Write writes the kubeconfig c describes to path, replacing any file there,
// readable by its owner only. The directory is created if needed.
func Write(path string, c Config) error {
	if c.Server == "" {
		return errors.New("write kubeconfig: no server")
	}
	data, err := clientcmd.Write(*Build(c))
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// RESTConfig loads the kubeconfig at path and returns the client
// configuration of its current context.
func RESTConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// writeFileAtomic replaces path with data so that readers never see a
// partly written file, and sets perm even if the file existed.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
