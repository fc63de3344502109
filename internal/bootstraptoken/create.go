package bootstraptoken

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Create stores a new token's Secret, expiring after ttl (never if 0),
// and returns the token.
func Create(ctx context.Context, client kubernetes.Interface, ttl time.Duration) (string, error) {
	tok, err := Generate()
	if err != nil {
		return "", err
	}
	s, err := NewSecret(tok, ttl, time.Now())
	if err != nil {
		return "", err
	}
	if _, err := client.CoreV1().Secrets(Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("storing the token: %w", err)
	}
	return tok, nil
}

// JoinCommand is the line a new node runs: the server URL, the token and
// one --discovery-token-ca-cert-hash per CA certificate in caPEM, as
// kubeadm prints them.
func JoinCommand(server, token string, caPEM []byte) (string, error) {
	parts := []string{"svcplane join", server, "--token", token}
	for block, rest := pem.Decode(caPEM); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("parsing the CA: %w", err)
		}
		parts = append(parts, "--discovery-token-ca-cert-hash", CACertHash(ca))
	}
	if len(parts) == 4 {
		return "", errors.New("no CA certificate to pin")
	}
	return strings.Join(parts, " "), nil
}
