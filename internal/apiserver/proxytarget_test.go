package apiserver

import (
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseProxyName(t *testing.T) {
	cases := []struct {
		in   string
		want proxyName
		ok   bool
	}{
		{"web", proxyName{Name: "web"}, true},
		{"web:80", proxyName{Name: "web", Port: "80"}, true},
		{"web:http", proxyName{Name: "web", Port: "http"}, true},
		{"https:web:443", proxyName{Scheme: "https", Name: "web", Port: "443"}, true},
		{"https:web:", proxyName{Scheme: "https", Name: "web"}, true},
		{"ftp:web:21", proxyName{}, false},
		{":80", proxyName{}, false},
		{"a:b:c:d", proxyName{}, false},
	}
	for _, tc := range cases {
		got, ok := parseProxyName(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%q: got %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProxyPath(t *testing.T) {
	cases := []struct{ url, sub, name, path string }{
		{"/api/v1/namespaces/default/pods/web:8080/proxy/a/b", "proxy", "web:8080", "/a/b"},
		{"/api/v1/namespaces/default/services/web:80/proxy/", "proxy", "web:80", "/"},
		{"/api/v1/namespaces/default/services/web/proxy", "proxy", "web", "/"},
		{"/api/v1/namespaces/default/services/web/proxy/dir/", "proxy", "web", "/dir/"},
		{"/api/v1/nodes/n1/proxy/healthz", "proxy", "n1", "/healthz"},
	}
	for _, tc := range cases {
		info, ok := parseRequest(httptest.NewRequest("GET", tc.url, nil))
		if !ok || info.Subresource != tc.sub || info.Name != tc.name || info.ProxyPath != tc.path {
			t.Errorf("%s: %+v ok=%v", tc.url, info, ok)
		}
	}
	if _, ok := parseRequest(httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web/log/extra", nil)); ok {
		t.Error("extra path after a non-proxy subresource accepted")
	}
}

func TestPodHost(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{PodIP: "10.244.0.5"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	cases := []struct{ port, want, err string }{
		{"", "10.244.0.5:8080", ""},
		{"9376", "10.244.0.5:9376", ""},
		{"http", "10.244.0.5:8080", ""},
		{"metrics", "", `no container port named "metrics" in pod p`},
	}
	for _, tc := range cases {
		got, err := podHost(pod, tc.port)
		if got != tc.want || errText(err) != tc.err {
			t.Errorf("port %q: got %q, %v", tc.port, got, err)
		}
	}
	for _, ip := range []string{"", "127.0.0.1", "169.254.1.1", "::1"} {
		if _, err := podHost(&corev1.Pod{Status: corev1.PodStatus{PodIP: ip}}, ""); errText(err) != "address not allowed" {
			t.Errorf("pod IP %q: %v", ip, err)
		}
	}
	if got, _ := podHost(&corev1.Pod{Status: corev1.PodStatus{PodIP: "fd00::5"}}, ""); got != "[fd00::5]" {
		t.Errorf("no ports declared: %q", got)
	}
}

func TestServiceEndpointHost(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "http", Port: 80}, {Name: "admin", Port: 9000},
	}}}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "10.244.0.5"}, {IP: "10.244.0.6"}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.0.7"}},
		Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "admin", Port: 9090}},
	}}}
	cases := []struct {
		port, want, err string
		pick            int
	}{
		{"80", "10.244.0.5:8080", "", 0},
		{"http", "10.244.0.6:8080", "", 1},
		{"9000", "10.244.0.5:9090", "", 0},
		{"", "10.244.0.5:8080", "", 0},
		{"81", "", `no service port "81" found for service "web"`, 0},
	}
	for _, tc := range cases {
		name, err := servicePortName(svc, tc.port)
		got := ""
		if err == nil {
			got, err = endpointHost(ep, name, func(int) int { return tc.pick })
		}
		if got != tc.want || errText(err) != tc.err {
			t.Errorf("port %q: got %q, %v", tc.port, got, err)
		}
	}
	notReady := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Subsets: []corev1.EndpointSubset{{
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.0.7"}}, Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}
	if _, err := endpointHost(notReady, "http", nil); errText(err) != `no endpoints available for service "web"` {
		t.Errorf("no ready endpoint: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
