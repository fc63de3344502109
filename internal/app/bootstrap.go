package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/pki"
)

// systemNamespaces exist in every cluster from the start.
func systemNamespaces() []string {
	return []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}
}

// bootstrap waits for the API, writes the admin kubeconfig and creates the
// system namespaces, through client-go like any other client.
func bootstrap(ctx context.Context, s *APIServer, cfg APIServerConfig) error {
	s.AdminKubeconfig = filepath.Join(cfg.DataDir, "admin.kubeconfig")
	err := kubeconfig.Write(s.AdminKubeconfig, kubeconfig.Config{
		Server: s.URL, CAData: s.PKI.CAPEM, CertData: s.PKI.AdminCertPEM, KeyData: s.PKI.AdminKeyPEM,
	})
	if err != nil {
		return err
	}
	client, err := ComponentClient(s, "system:apiserver")
	if err != nil {
		return err
	}
	if err := waitReady(ctx, client); err != nil {
		return err
	}
	namespaces := systemNamespaces()
	if err := forEach(ctx, len(namespaces), func(i int) error { return ensureNamespace(ctx, client, namespaces[i]) }); err != nil {
		return err
	}
	// The three are independent: they run at once.
	return all(ctx,
		func() error { return ensureRBACPolicy(ctx, client) },
		func() error { return ensureKubeadmPolicy(ctx, client) },
		func() error { return ensureClusterInfo(ctx, client, clusterInfoServer(s, cfg), s.PKI.CAPEM) })
}

// ComponentClient returns a client-go clientset with a certificate of its
// own for a component (user name, group system:masters).
func ComponentClient(s *APIServer, user string) (kubernetes.Interface, error) {
	cfg, err := ComponentRESTConfig(s, user)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// ComponentRESTConfig returns the rest.Config of a component.
func ComponentRESTConfig(s *APIServer, user string) (*rest.Config, error) {
	cert, key, err := s.PKI.ClientCert(user, []string{pki.MastersGroup})
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:            s.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.PKI.CAPEM, CertData: cert, KeyData: key},
		UserAgent:       user,
		QPS:             200,
		Burst:           400,
	}, nil
}

func waitReady(ctx context.Context, client kubernetes.Interface) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}
