package allocator

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectlText renders err the way kubectl prints a Status it receives
// (k8s.io/kubectl/pkg/cmd/util.CheckErr): Invalid errors as
// `The <Kind> "<name>" is invalid: <field>: <message>` built from the
// causes, others as `Error from server (<Reason>): <message>`.
func kubectlText(err error) string {
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		return "error: " + errText(err)
	}
	st := se.Status()
	if st.Reason == metav1.StatusReasonInvalid && st.Details != nil && len(st.Details.Causes) > 0 {
		var causes []string
		for _, c := range st.Details.Causes {
			causes = append(causes, fmt.Sprintf("%s: %s", c.Field, c.Message))
		}
		prefix := fmt.Sprintf("The %s %q is invalid: ", st.Details.Kind, st.Details.Name)
		if len(causes) == 1 {
			return prefix + causes[0]
		}
		return prefix + "\n* " + strings.Join(causes, "\n* ")
	}
	return fmt.Sprintf("Error from server (%s): %s", st.Reason, st.Message)
}

func TestStatusTexts(t *testing.T) {
	notInRange := &ErrNotInRange{IP: netip.MustParseAddr("1.1.1.1"), ValidRange: "10.96.0.0/12"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ip taken", InvalidService("web", ClusterIPFieldError([]string{"10.96.0.50"}, "10.96.0.50", ErrAllocated)),
			`The Service "web" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated`},
		{"ip out of range", InvalidService("web", ClusterIPFieldError([]string{"1.1.1.1"}, "1.1.1.1", notInRange)),
			`The Service "web" is invalid: spec.clusterIPs: Invalid value: ["1.1.1.1"]: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{"node port taken", InvalidService("web", NodePortFieldError(0, 30080, ErrPortAllocated)),
			`The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`},
		{"node port out of range", InvalidService("web", NodePortFieldError(1, 80, &ErrPortNotInRange{ValidPorts: "30000-32767"})),
			`The Service "web" is invalid: spec.ports[1].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767`},
		{"family", InvalidService("web", FamilyFieldError(1, "IPv6")),
			`The Service "web" is invalid: spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster`},
		{"ips full", ClusterIPInternalError(ErrFull),
			`Error from server (InternalError): Internal error occurred: failed to allocate a serviceIP: range is full`},
		{"ports full", NodePortInternalError(ErrFull),
			`Error from server (InternalError): Internal error occurred: failed to allocate a nodePort: range is full`},
		{"hc requested", HealthCheckNodePortError(30080, ErrPortAllocated),
			`Error from server (InternalError): Internal error occurred: failed to allocate requested HealthCheck NodePort 30080: provided port is already allocated`},
		{"hc full", HealthCheckNodePortError(0, ErrFull),
			`Error from server (InternalError): Internal error occurred: failed to allocate a HealthCheck NodePort 0: range is full`},
	}
	for _, tt := range tests {
		if got := kubectlText(tt.err); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestStatusCodes(t *testing.T) {
	if err := InvalidService("x", NodePortFieldError(0, 1, ErrPortAllocated)); !apierrors.IsInvalid(err) || err.Status().Code != 422 {
		t.Errorf("field errors must be 422 Invalid: %v", err)
	}
	if err := ClusterIPInternalError(ErrFull); !apierrors.IsInternalError(err) || err.Status().Code != 500 {
		t.Errorf("exhaustion must be 500 InternalError: %v", err)
	}
}
