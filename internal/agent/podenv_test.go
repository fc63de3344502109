package agent

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestServiceEnv(t *testing.T) {
	svc := func(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	}
	services := []*corev1.Service{
		svc("default", "kubernetes", "10.96.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}),
		svc("demo", "web-app", "10.96.0.20", corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}),
		svc("demo", "headless", "None", corev1.ServicePort{Port: 80}),
		svc("other", "elsewhere", "10.96.0.30", corev1.ServicePort{Port: 80}),
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "demo"}}
	got := map[string]string{}
	for _, e := range serviceEnv(pod, services) {
		got[e.Name] = e.Value
	}
	want := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp", "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
		"WEB_APP_SERVICE_HOST": "10.96.0.20", "WEB_APP_SERVICE_PORT": "80", "WEB_APP_SERVICE_PORT_HTTP": "80",
		"WEB_APP_PORT": "tcp://10.96.0.20:80", "WEB_APP_PORT_80_TCP": "tcp://10.96.0.20:80",
		"WEB_APP_PORT_80_TCP_PROTO": "tcp", "WEB_APP_PORT_80_TCP_PORT": "80", "WEB_APP_PORT_80_TCP_ADDR": "10.96.0.20",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	off := false
	pod.Spec.EnableServiceLinks = &off
	for _, e := range serviceEnv(pod, services) {
		if strings.HasPrefix(e.Name, "WEB_APP") {
			t.Fatalf("enableServiceLinks=false still gave %s", e.Name)
		}
	}
}

type fakeEnvSource map[string]*corev1.ConfigMap

func (f fakeEnvSource) ConfigMap(_ context.Context, _, name string) (*corev1.ConfigMap, error) {
	if cm, ok := f[name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("configmaps"), name)
}

func (f fakeEnvSource) Secret(_ context.Context, _, name string) (*corev1.Secret, error) {
	if cm, ok := f["secret/"+name]; ok {
		return &corev1.Secret{Data: map[string][]byte{"pw": []byte(cm.Data["pw"])}}, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
}

// TestContainerEnvErrors checks kubelet's CreateContainerConfigError
// messages for missing objects and keys, and optional references.
func TestContainerEnvErrors(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	src := fakeEnvSource{"cm": {Data: map[string]string{"K": "v"}}, "secret/s": {Data: map[string]string{"pw": "hunter2"}}}
	yes := true
	ref := func(name string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: name} }
	for _, tc := range []struct {
		name string
		c    corev1.Container
		want string
		env  []string
	}{
		{"envFrom configmap missing", corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: ref("x")}}}},
			`configmap "x" not found`, nil},
		{"envFrom secret missing", corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: ref("x")}}}},
			`secret "x" not found`, nil},
		{"envFrom optional", corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: ref("x"), Optional: &yes}}}},
			"", []string{}},
		{"key ref configmap missing", corev1.Container{Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: ref("x"), Key: "K"}}}}}, `configmap "x" not found`, nil},
		{"key missing", corev1.Container{Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: ref("cm"), Key: "nope"}}}}}, "couldn't find key nope in ConfigMap ns/cm", nil},
		{"secret key", corev1.Container{Env: []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: ref("s"), Key: "pw"}}}}}, "", []string{"PW=hunter2"}},
		{"secret missing", corev1.Container{Env: []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: ref("gone"), Key: "pw"}}}}}, `secret "gone" not found`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := containerEnv(context.Background(), src, pod, &tc.c, nil)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.env) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.env)
			}
		})
	}
}

func TestContainerEnv(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{PodIP: "10.244.0.9"}}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		Env: []corev1.EnvVar{
			{Name: "A", Value: "a"},
			{Name: "B", Value: "$(A)-$(NOPE)-$$(A)"},
			{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
		},
	}
	src := fakeEnvSource{"cm": {Data: map[string]string{"K": "v"}}}
	got, err := containerEnv(context.Background(), src, pod, c, []corev1.EnvVar{{Name: "S", Value: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"S=s", "CM_K=v", "A=a", "B=a-$(NOPE)-$(A)", "POD=p", "IP=10.244.0.9", "APP=x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	c.EnvFrom[0].ConfigMapRef.Name = "missing"
	if _, err := containerEnv(context.Background(), src, pod, c, nil); err == nil {
		t.Fatal("missing configmap accepted")
	}
}
