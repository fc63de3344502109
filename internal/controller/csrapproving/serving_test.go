package csrapproving

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

// servingCSR is a kubelet-serving request for cn with the SANs given,
// made by requestor in groups.
func servingCSR(t *testing.T, cn, requestor string, groups, dns []string, ips ...string) (*certificatesv1.CertificateSigningRequest, *x509.CertificateRequest) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}, DNSNames: dns}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := x509.ParseCertificateRequest(der)
	c := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
		Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		SignerName: certificatesv1.KubeletServingSignerName, Username: requestor, Groups: groups,
		Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}}}
	c.Name = "csr-x"
	return c, req
}

func TestServingNode(t *testing.T) {
	nodes := []string{"system:nodes", "system:authenticated"}
	tests := []struct {
		name      string
		requestor string
		groups    []string
		signer    string
		usages    []certificatesv1.KeyUsage
		want      string
	}{
		{name: "the node itself", requestor: "system:node:n1", groups: nodes, want: "n1"},
		{name: "another node", requestor: "system:node:n2", groups: nodes},
		{name: "not in system:nodes", requestor: "system:node:n1", groups: []string{"system:authenticated"}},
		{name: "a bootstrap token", requestor: "system:bootstrap:abcdef", groups: []string{"system:bootstrappers"}},
		{name: "client signer", requestor: "system:node:n1", groups: nodes, signer: certificatesv1.KubeAPIServerClientKubeletSignerName},
		{name: "client usage", requestor: "system:node:n1", groups: nodes,
			usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, req := servingCSR(t, "system:node:n1", tt.requestor, tt.groups, []string{"n1"}, "10.0.0.5")
			if tt.signer != "" {
				csr.Spec.SignerName = tt.signer
			}
			if tt.usages != nil {
				csr.Spec.Usages = tt.usages
			}
			if got := ServingNode(csr, req); got != tt.want {
				t.Errorf("ServingNode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecideServing(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeExternalIP, Address: "2001:db8::0005"},
		{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalDNS, Address: "n1.internal"},
	}}}
	tests := []struct {
		name    string
		dns     []string
		ips     []string
		wantErr string
	}{
		{name: "name and address", dns: []string{"n1"}, ips: []string{"10.0.0.5"}},
		{name: "every kind of address", dns: []string{"n1", "n1.internal"}, ips: []string{"10.0.0.5", "2001:db8::5"}},
		{name: "an address of another machine", dns: []string{"n1"}, ips: []string{"10.0.0.5", "10.0.0.6"},
			wantErr: "IP SAN 10.0.0.6 is not an address of node n1"},
		{name: "a name that is not the node's", dns: []string{"kubernetes.default"}, ips: []string{"10.0.0.5"},
			wantErr: "DNS SAN kubernetes.default is not a name of node n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, req := servingCSR(t, "system:node:n1", "system:node:n1", []string{"system:nodes"}, tt.dns, tt.ips...)
			out, err := DecideServing(csr, req, node)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || out != nil {
					t.Fatalf("got %v, %v; want error %q", out, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := out.Status.Conditions[0]
			if c.Type != certificatesv1.CertificateApproved || c.Reason != "AutoApproved" || c.Message != ServingMessage {
				t.Errorf("condition %+v", c)
			}
			if len(csr.Status.Conditions) != 0 {
				t.Error("the input was changed")
			}
		})
	}
}

// TestSyncServing: the controller approves a node's serving request once
// its Node is known, and retries while it is not.
func TestSyncServing(t *testing.T) {
	csr, _ := servingCSR(t, "system:node:n1", "system:node:n1", []string{"system:nodes"}, []string{"n1"}, "10.0.0.5")
	client := fake.NewClientset(csr)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, CSRs: f.Certificates().V1().CertificateSigningRequests(), Nodes: f.Core().V1().Nodes()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, csr.Name); !errors.Is(err, ErrNodeUnknown) {
		t.Fatalf("sync without the Node: %v, want ErrNodeUnknown", err)
	}
	store := f.Core().V1().Nodes().Informer().GetStore()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	if err := store.Add(node); err != nil {
		t.Fatal(err)
	}
	if err := c.sync(ctx, csr.Name); !errors.Is(err, ErrNodeUnknown) {
		t.Fatalf("sync with a Node without addresses yet: %v, want ErrNodeUnknown", err)
	}
	node = node.DeepCopy()
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeHostName, Address: "n1"}}
	if err := store.Update(node); err != nil {
		t.Fatal(err)
	}
	if err := c.sync(ctx, csr.Name); err != nil {
		t.Fatal(err)
	}
	got, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, csr.Name, metav1.GetOptions{})
	if err != nil || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Message != ServingMessage {
		t.Fatalf("after sync: %v %+v", err, got.Status)
	}
}
