package app

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/apiserver/servicealloc"
)

// ensureKubernetesService creates the `kubernetes` Service in default: the
// first service address, port 443 named https, targeting the API's port.
func ensureKubernetesService(ctx context.Context, s *APIServer, cfg APIServerConfig, hooks *servicealloc.Hooks) error {
	client, err := ComponentClient(s, "system:apiserver")
	if err != nil {
		return err
	}
	_, err = client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err == nil {
		return nil
	}
	ip, err := hooks.FirstAddress()
	if err != nil {
		return err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(u.Port())
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: ip.String(),
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(int32(port))}},
		},
	}
	_, err = client.CoreV1().Services(metav1.NamespaceDefault).Create(ctx, svc, metav1.CreateOptions{})
	if err == nil || apierrors.IsAlreadyExists(err) {
		return nil
	}
	// Another API server starting at the same moment may have created it
	// first, taking the address: then it exists now.
	if _, getErr := client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{}); getErr == nil {
		return nil
	}
	return fmt.Errorf("create the kubernetes service: %w", err)
}
