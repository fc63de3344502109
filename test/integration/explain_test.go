package integration

import (
	"strings"
	"testing"
)

// flat folds runs of white space to one space, so that expectations do not
// depend on kubectl's column widths and line wrapping.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestKubectlExplain runs kubectl explain, which reads the OpenAPI v3
// documents (v2 for plaintext-openapiv2), and checks the fields and
// upstream descriptions it prints.
func TestKubectlExplain(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "service.spec.ports"}, []string{
			"KIND: Service VERSION: v1",
			"FIELD: ports <[]ServicePort>",
			"The list of ports that are exposed by this service.",
			"ServicePort contains information on service's port.",
			"port <integer> -required- The port that will be exposed by this service.",
			"protocol <string> enum: SCTP, TCP, UDP The IP protocol for this port.",
			"targetPort <IntOrString> Number or name of the port to access on the pods targeted by the service.",
		}},
		{[]string{"explain", "--recursive", "deployment.spec.strategy"}, []string{
			"GROUP: apps KIND: Deployment VERSION: v1",
			"FIELD: strategy <DeploymentStrategy>",
			"FIELDS: rollingUpdate <RollingUpdateDeployment> maxSurge <IntOrString> maxUnavailable <IntOrString> type <string> enum: Recreate, RollingUpdate",
		}},
		{[]string{"explain", "deployment", "--recursive"}, []string{
			"template <PodTemplateSpec> -required-",
			"containers <[]Container> -required-",
		}},
		{[]string{"explain", "pods.spec.containers.ports", "--api-version=v1"}, []string{
			"FIELD: ports <[]ContainerPort>",
			"containerPort <integer> -required- Number of port to expose on the pod's IP address.",
		}},
		{[]string{"explain", "--output=plaintext-openapiv2", "svc"}, []string{
			"KIND: Service VERSION: v1",
			"Service is a named abstraction of software service",
			"spec <Object> Spec defines the behavior of a service.",
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := flat(c.kubectl(tt.args...))
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestKubectlValidateStrict checks kubectl's default --validate=strict:
// it finds the fieldValidation parameter in the OpenAPI documents and
// leaves unknown fields to the server, which refuses them with upstream's
// message.
func TestKubectlValidateStrict(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	bad := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  foo: 1\n  ports:\n  - port: 80\n")
	_, errOut, err := c.KubectlResult("", "apply", "--validate=strict", "-f", bad)
	want := `Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.foo"`
	if err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("apply of an unknown field: err %v, stderr %q, want %q", err, errOut, want)
	}
	out, errOut, err := c.KubectlResult("", "apply", "--validate=false", "-f", bad)
	if err != nil || !strings.Contains(out, "service/bad created") {
		t.Fatalf("apply --validate=false: %v %s %s", err, out, errOut)
	}
}
