package controllers

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// expect returns "" when got equals want, else both.
func expect(got, want string) string {
	if got == want {
		return ""
	}
	return "got " + got + ", want " + want
}

func TestPodsBecomingReadyAndUnready(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	e.service("web", intstr.FromInt32(8080))
	a := e.pod("web", "a", "10.244.0.11", false)
	b := e.pod("web", "b", "10.244.0.12", false)
	e.eventually("unready pods listed as not ready", func() string {
		return expect(e.endpointsText("web"), "ready: ; notready: 10.244.0.11:8080 10.244.0.12:8080") +
			expect(e.slicesText("web"), "[8080] 10.244.0.11(n) 10.244.0.12(n)")
	})

	a, b = e.setReady(a, true), e.setReady(b, true)
	e.eventually("pods turning ready", func() string {
		return expect(e.endpointsText("web"), "ready: 10.244.0.11:8080 10.244.0.12:8080; notready: ") +
			expect(e.slicesText("web"), "[8080] 10.244.0.11(r) 10.244.0.12(r)")
	})
	out := e.Kubectl("get", "ep", "web", "-n", e.ns)
	if f := fields(out); len(f) != 2 || f[0] != "NAME ENDPOINTS AGE" || !strings.HasPrefix(f[1], "web 10.244.0.11:8080,10.244.0.12:8080 ") {
		t.Errorf("kubectl get ep:\n%s", out)
	}
	out = e.Kubectl("get", "endpointslices", "-n", e.ns, "-l", "kubernetes.io/service-name=web")
	if f := fields(out); len(f) != 2 || f[0] != "NAME ADDRESSTYPE PORTS ENDPOINTS AGE" ||
		!strings.HasPrefix(f[1], "web-") || !strings.Contains(f[1], " IPv4 8080 10.244.0.11,10.244.0.12 ") {
		t.Errorf("kubectl get endpointslices:\n%s", out)
	}

	e.setReady(b, false)
	e.eventually("a pod turning unready", func() string {
		return expect(e.endpointsText("web"), "ready: 10.244.0.11:8080; notready: 10.244.0.12:8080") +
			expect(e.slicesText("web"), "[8080] 10.244.0.11(r) 10.244.0.12(n)")
	})
	e.must(nil, e.Client.CoreV1().Pods(e.ns).Delete(e.ctx, a.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	e.eventually("a deleted pod going away", func() string {
		return expect(e.endpointsText("web"), "ready: ; notready: 10.244.0.12:8080") +
			expect(e.slicesText("web"), "[8080] 10.244.0.12(n)")
	})
}

func TestNamedTargetPortAndPublishNotReady(t *testing.T) {
	e := start(t)
	e.service("named", intstr.FromString("web"))
	e.pod("named", "n1", "10.244.0.21", true, "web=8080")
	e.pod("named", "n2", "10.244.0.22", true, "web=9090")
	e.pod("named", "n3", "10.244.0.23", true, "other=7070")
	e.eventually("named targetPort resolved per pod", func() string {
		return expect(e.endpointsText("named"), "ready: 10.244.0.21:8080 10.244.0.22:9090; notready: ") +
			expect(sortedParts(e.slicesText("named")), "[8080] 10.244.0.21(r) | [9090] 10.244.0.22(r) | [] 10.244.0.23(r)")
	})

	e.service("pub", intstr.FromInt32(8080), func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true })
	e.pod("pub", "p1", "10.244.0.31", false)
	e.eventually("publishNotReadyAddresses lists unready pods as ready", func() string {
		return expect(e.endpointsText("pub"), "ready: 10.244.0.31:8080; notready: ") +
			expect(e.slicesText("pub"), "[8080] 10.244.0.31(r)")
	})
}

func TestServiceDeletedTakesItsEndpoints(t *testing.T) {
	e := start(t)
	e.service("gone", intstr.FromInt32(80))
	e.pod("gone", "g1", "10.244.0.41", true)
	e.eventually("endpoints and slices appear", func() string {
		return expect(e.endpointsText("gone"), "ready: 10.244.0.41:80; notready: ") + expect(e.slicesText("gone"), "[80] 10.244.0.41(r)")
	})
	e.must(nil, e.Client.CoreV1().Services(e.ns).Delete(e.ctx, "gone", metav1.DeleteOptions{}))
	e.eventually("endpoints and slices deleted with the Service", func() string {
		return expect(e.endpointsText("gone"), "absent") + expect(e.slicesText("gone"), "")
	})
}

// fields returns kubectl's table lines with runs of blanks collapsed.
func fields(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return lines
}

func sortedParts(s string) string {
	parts := strings.Split(s, " | ")
	// slices come back in name order (random suffixes): order by content
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, " | ")
}
