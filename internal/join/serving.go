package join

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/certificate"
)

// ServingPairPrefix names the serving certificate's files in the node's
// directory, as the kubelet's: kubelet-server-current.pem links to the
// newest kubelet-server-<time>.pem (certificate and key).
const ServingPairPrefix = "kubelet-server"

// ServingConfig configures a node's serving certificate.
type ServingConfig struct {
	// Client reaches the API server with the node's own credentials.
	Client   kubernetes.Interface
	NodeName string
	NodeIP   netip.Addr
	// Dir keeps the certificate and key.
	Dir string
	// Lifetime is asked of the signer (spec.expirationSeconds); 0 asks
	// nothing and the signer's --cluster-signing-duration applies.
	Lifetime time.Duration
}

// StartServingCertificate keeps the node's serving certificate as the
// kubelet's serverTLSBootstrap does (client-go's certificate manager): a
// CertificateSigningRequest to signer kubernetes.io/kubelet-serving for
// CN system:node:<name>, O system:nodes, the node's name and address as
// SANs, made once the Node reports that address, and made again at 70-90 % of
// the certificate's life. The certificate is kept in Dir, so a restart
// serves at once. Current() is nil until one is issued. It stops with
// ctx.
func StartServingCertificate(ctx context.Context, cfg ServingConfig) (certificate.Manager, error) {
	store, err := certificate.NewFileStore(ServingPairPrefix, cfg.Dir, cfg.Dir, "", "")
	if err != nil {
		return nil, fmt.Errorf("serving certificate store: %w", err)
	}
	t := &servingTemplate{cfg: cfg}
	mcfg := &certificate.Config{
		ClientsetFn: func(*tls.Certificate) (kubernetes.Interface, error) { return cfg.Client, nil },
		GetTemplate: t.get, SignerName: certificatesv1.KubeletServingSignerName,
		Usages:           []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
		CertificateStore: store, Name: "kubelet-serving", Ctx: &ctx,
	}
	if cfg.Lifetime > 0 {
		mcfg.RequestedCertificateLifetime = &cfg.Lifetime
	}
	m, err := certificate.NewManager(mcfg)
	if err != nil {
		return nil, fmt.Errorf("serving certificate manager: %w", err)
	}
	m.Start()
	return m, nil
}

// servingTemplate is the request, once the Node exists: its approver
// compares the SANs with the Node's addresses.
type servingTemplate struct {
	cfg        ServingConfig
	registered atomic.Bool
}

func (t *servingTemplate) get() *x509.CertificateRequest {
	if !t.registered.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		node, err := t.cfg.Client.CoreV1().Nodes().Get(ctx, t.cfg.NodeName, metav1.GetOptions{})
		if err != nil || !hasAddress(node, t.cfg.NodeIP) {
			return nil
		}
		t.registered.Store(true)
	}
	return ServingRequest(t.cfg.NodeName, t.cfg.NodeIP)
}

// hasAddress says whether the Node's status reports ip, as it does once
// the agent's first status is written.
func hasAddress(node *corev1.Node, ip netip.Addr) bool {
	for _, a := range node.Status.Addresses {
		if got, err := netip.ParseAddr(a.Address); err == nil && got.Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// ServingRequest is the kubelet serving request of node name at ip.
func ServingRequest(name string, ip netip.Addr) *x509.CertificateRequest {
	return &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: NodeUserPrefix + name, Organization: []string{NodesGroup}},
		DNSNames: []string{name}, IPAddresses: []net.IP{net.IP(ip.AsSlice())},
	}
}
