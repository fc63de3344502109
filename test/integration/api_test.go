package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// rawRequest sends one request with the admin credentials (or none).
func (c *cluster) rawRequest(method, path, contentType string, body []byte, anonymous bool) (int, string) {
	c.t.Helper()
	cfg := rest.CopyConfig(c.RESTConfig)
	if anonymous {
		cfg.TLSClientConfig.CertData, cfg.TLSClientConfig.KeyData = nil, nil
	}
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(method, c.Server.URL+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAnonymousIsUnauthorized(t *testing.T) {
	c := startCluster(t)
	code, body := c.rawRequest("GET", "/api/v1/namespaces", "", nil, true)
	if code != http.StatusUnauthorized || !strings.Contains(body, `"reason":"Unauthorized"`) {
		t.Fatalf("anonymous list: %d %s", code, body)
	}
	if code, _ := c.rawRequest("GET", "/api/v1/namespaces", "", nil, false); code != http.StatusOK {
		t.Fatalf("admin list: %d", code)
	}
	// Plain HTTP is not served at all.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	resp, err := (&http.Client{Transport: tr}).Get(strings.Replace(c.Server.URL, "https://", "http://", 1) + "/api")
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP answered 200")
	}
}

func TestStrictFieldValidation(t *testing.T) {
	c := startCluster(t)
	body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{},"foo":1}`)
	code, out := c.rawRequest("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json", body, false)
	if code != http.StatusBadRequest || !strings.Contains(out, `strict decoding error: unknown field \"foo\"`) {
		t.Fatalf("strict: %d %s", code, out)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(context.Background(), "x", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("object stored after a refused create: %v", err)
	}
}

func TestOversizedBody(t *testing.T) {
	c := startCluster(t)
	big := strings.Repeat("a", 4<<20)
	body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"` + big + `"}}`)
	code, out := c.rawRequest("POST", "/api/v1/namespaces/default/configmaps", "application/json", body, false)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("4 MiB body: %d %s", code, out[:min(len(out), 300)])
	}
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(context.Background(), "big", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("object stored after 413: %v", err)
	}
}

func TestMalformedBodies(t *testing.T) {
	c := startCluster(t)
	cases := []struct {
		name, path, body string
		code             int
	}{
		{"broken json", "/api/v1/namespaces/default/configmaps", `{"apiVersion":`, 400},
		{"wrong kind", "/api/v1/namespaces/default/configmaps", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}`, 400},
		{"unknown resource", "/api/v1/namespaces/default/widgets", `{}`, 404},
		{"bad name", "/api/v1/namespaces/default/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}`, 422},
		{"missing namespace", "/api/v1/namespaces/nope/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := c.rawRequest("POST", tc.path, "application/json", []byte(tc.body), false)
			if code != tc.code || !strings.Contains(out, `"kind":"Status"`) {
				t.Fatalf("got %d %s, want %d", code, out, tc.code)
			}
		})
	}
	l, err := c.Client.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(l.Items) != 0 {
		t.Fatalf("bad requests stored something: %v %d", err, len(l.Items))
	}
}

func TestInvalidNameMessage(t *testing.T) {
	c := startCluster(t)
	_, err := c.Client.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name"}}, metav1.CreateOptions{})
	want := `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}
