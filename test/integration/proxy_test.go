package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// echoBackend answers every request with "<name> <method> <path>?<query>"
// and echoes the bytes of an upgraded connection.
func echoBackend(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			fmt.Fprintf(w, "%s %s %s?%s", name, r.Method, r.URL.Path, r.URL.RawQuery)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// loopbackDial sends the API server's proxy connections for the pod and
// endpoint addresses in routes to loopback backends, and refuses all
// others: no packet leaves the machine.
func loopbackDial(routes map[string]string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := routes[addr]
		if !ok {
			return nil, fmt.Errorf("test dialer: no route to %s", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, to)
	}
}

// TestProxySubresources routes pods/proxy by port name and number and
// services/proxy to a ready endpoint, passes methods and queries on, and
// passes an upgraded connection through.
func TestProxySubresources(t *testing.T) {
	podA, podB, ready := echoBackend(t, "pod-8080"), echoBackend(t, "pod-9376"), echoBackend(t, "endpoint")
	c := testcluster.Start(t, testcluster.Options{ProxyDial: loopbackDial(map[string]string{
		"10.244.0.5:8080": podA, "10.244.0.5:9376": podB, "10.244.0.6:8080": ready,
	})})
	ctx := context.Background()
	setupProxyObjects(t, c, ctx)
	cases := []struct{ name, method, path, want string }{
		{"pod port by name", "GET", "/api/v1/namespaces/default/pods/web:http/proxy/a/b?x=1", "pod-8080 GET /a/b?x=1"},
		{"pod port by number", "POST", "/api/v1/namespaces/default/pods/web:9376/proxy/hostname", "pod-9376 POST /hostname?"},
		{"pod http scheme", "PUT", "/api/v1/namespaces/default/pods/http:web:8080/proxy/", "pod-8080 PUT /?"},
		{"service by port number", "GET", "/api/v1/namespaces/default/services/web:80/proxy/", "endpoint GET /?"},
		{"service by port name", "DELETE", "/api/v1/namespaces/default/services/web:http/proxy/x?y=2", "endpoint DELETE /x?y=2"},
		{"service without endpoints", "GET", "/api/v1/namespaces/default/services/empty:80/proxy/", `503: no endpoints available for service "empty"`},
	}
	client := restHTTPClient(t, c.RESTConfig)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, c.RESTConfig.Host+tc.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			got := string(body)
			if resp.StatusCode != http.StatusOK {
				got = fmt.Sprintf("%d: %s", resp.StatusCode, statusMessage(body))
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("upgrade passthrough", func(t *testing.T) { testProxyUpgrade(t, c.RESTConfig) })
}

func setupProxyObjects(t *testing.T, c *testcluster.Cluster, ctx context.Context) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	pod, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.PodIP, pod.Status.PodIPs = "10.244.0.5", []corev1.PodIP{{IP: "10.244.0.5"}}
	if _, err := c.Client.CoreV1().Pods("default").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web", "empty"} {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := c.Client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "10.244.0.6"}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.0.7"}},
		Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080}},
	}}}
	if _, err := c.Client.CoreV1().Endpoints("default").Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func restHTTPClient(t *testing.T, rc *rest.Config) *http.Client {
	t.Helper()
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

func statusMessage(body []byte) string {
	s := string(body)
	const key = `"message":"`
	if i := strings.Index(s, key); i >= 0 {
		s = s[i+len(key):]
		if j := strings.Index(s, `","`); j >= 0 {
			return strings.ReplaceAll(s[:j], `\"`, `"`)
		}
	}
	return s
}

// testProxyUpgrade sends an Upgrade request through pods/proxy over a raw
// TLS connection and checks that bytes flow both ways after the 101.
func testProxyUpgrade(t *testing.T, rc *rest.Config) {
	tlsCfg, err := rest.TLSConfigFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(rc.Host, "https://"), tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/namespaces/default/pods/web:8080/proxy/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	fmt.Fprint(conn, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Errorf("echo through the upgrade: %q, %v", line, err)
	}
}
