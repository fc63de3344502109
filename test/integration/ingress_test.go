package integration

import (
	"context"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const ingressManifest = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
  - host: web.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
`

// TestIngressAPI applies an IngressClass and an Ingress with kubectl
// (networking.k8s.io/v1 as upstream's Ingress and IngressClass API
// conformance specs use it): the tables read as upstream's, the status
// subresource sets the address and keeps the spec, and validation answers
// with upstream's texts.
func TestIngressAPI(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	c.kubectl("apply", "-f", writeManifest(t, ingressManifest))
	ings := c.Client.NetworkingV1().Ingresses("default")
	ing, err := ings.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "169.1.1.1"}}
	ing.Spec.Rules = nil
	if _, err := ings.UpdateStatus(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"patched":"true"}},"status":{"loadBalancer":{"ingress":[{"ip":"169.1.1.2"}]}}}`)
	if _, err := ings.Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ args, want string }{
		{"get ingress", "NAME   CLASS   HOSTS         ADDRESS     PORTS   AGE\nweb    nginx   web.example   169.1.1.2   80"},
		{"get ingressclass", "NAME    CONTROLLER             PARAMETERS   AGE\nnginx   k8s.io/ingress-nginx   <none>"},
		{"get ing web -o jsonpath={.metadata.annotations.patched}", "true"},
	} {
		if out := c.kubectl(strings.Fields(tc.args)...); !strings.HasPrefix(out, tc.want) {
			t.Errorf("kubectl %s:\n%s\nwant prefix\n%s", tc.args, out, tc.want)
		}
	}
	_, errOut, err := c.KubectlResult(`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"bad"},"spec":{"rules":[{"host":"1.2.3.4"}]}}`, "create", "-f", "-")
	want := `The Ingress "bad" is invalid: spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address`
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("create bad ingress: %v\n%s\nwant %s", err, errOut, want)
	}
	ic, err := c.Client.NetworkingV1().IngressClasses().Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic.Spec.Controller = "example.com/other"
	if _, err := c.Client.NetworkingV1().IngressClasses().Update(ctx, ic, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "spec.controller: Invalid value: \"example.com/other\": field is immutable") {
		t.Errorf("update controller: %v", err)
	}
}
