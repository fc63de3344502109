package secret

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func secret(typ corev1.SecretType, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestDefault(t *testing.T) {
	s := secret("", map[string]string{"a": "1", "b": "2"})
	s.StringData = map[string]string{"b": "two", "c": "3"}
	Default(s)
	want := map[string]string{"a": "1", "b": "two", "c": "3"}
	got := map[string]string{}
	for k, v := range s.Data {
		got[k] = string(v)
	}
	if s.Type != corev1.SecretTypeOpaque || s.StringData != nil || !maps.Equal(got, want) {
		t.Errorf("defaulted: type %q stringData %v data %v", s.Type, s.StringData, got)
	}
}

func TestValidate(t *testing.T) {
	big := strings.Repeat("x", MaxSize+1)
	tests := []struct {
		name   string
		secret *corev1.Secret
		want   []string
	}{
		{"opaque", secret(corev1.SecretTypeOpaque, map[string]string{"k": "v"}), nil},
		{"bad key", secret(corev1.SecretTypeOpaque, map[string]string{"a/b": "v"}),
			[]string{`data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`}},
		{"too big", secret(corev1.SecretTypeOpaque, map[string]string{"k": big}),
			[]string{"data: Too long: may not be more than 1048576 bytes"}},
		{"tls without keys", secret(corev1.SecretTypeTLS, nil),
			[]string{"data[tls.crt]: Required value", "data[tls.key]: Required value"}},
		{"tls", secret(corev1.SecretTypeTLS, map[string]string{"tls.crt": "c", "tls.key": "k"}), nil},
		{"dockerconfigjson missing", secret(corev1.SecretTypeDockerConfigJson, nil),
			[]string{"data[.dockerconfigjson]: Required value"}},
		{"dockerconfigjson not json", secret(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "{"}),
			[]string{"data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": unexpected end of JSON input"}},
		{"dockerconfigjson", secret(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": `{"auths":{}}`}), nil},
		{"dockercfg missing", secret(corev1.SecretTypeDockercfg, nil), []string{"data[.dockercfg]: Required value"}},
		{"service account token without annotation", secret(corev1.SecretTypeServiceAccountToken, nil),
			[]string{"metadata.annotations[kubernetes.io/service-account.name]: Required value"}},
		{"basic auth empty", secret(corev1.SecretTypeBasicAuth, nil),
			[]string{"data[username]: Required value", "data[password]: Required value"}},
		{"basic auth password only", secret(corev1.SecretTypeBasicAuth, map[string]string{"password": "p"}), nil},
		{"ssh without key", secret(corev1.SecretTypeSSHAuth, nil), []string{"data[ssh-privatekey]: Required value"}},
		{"ssh with an empty key", secret(corev1.SecretTypeSSHAuth, map[string]string{"ssh-privatekey": ""}), []string{"data[ssh-privatekey]: Required value"}},
		{"custom type", secret("example.com/thing", nil), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, Validate(context.Background(), tc.secret), tc.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	yes := true
	immutable := secret(corev1.SecretTypeOpaque, map[string]string{"k": "v"})
	immutable.Immutable = &yes
	tests := []struct {
		name   string
		old    *corev1.Secret
		mutate func(*corev1.Secret)
		want   []string
	}{
		{"data change", secret(corev1.SecretTypeOpaque, map[string]string{"k": "v"}), func(s *corev1.Secret) { s.Data["k"] = []byte("w") }, nil},
		{"type change", secret(corev1.SecretTypeOpaque, nil), func(s *corev1.Secret) { s.Type = "example.com/x" },
			[]string{`type: Invalid value: "example.com/x": field is immutable`}},
		{"immutable data", immutable, func(s *corev1.Secret) { s.Data["k"] = []byte("w") },
			[]string{"data: Forbidden: field is immutable when `immutable` is set"}},
		{"immutable unset", immutable, func(s *corev1.Secret) { s.Immutable = nil },
			[]string{"immutable: Forbidden: field is immutable when `immutable` is set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.old.DeepCopy()
			tc.mutate(s)
			checkErrors(t, ValidateUpdate(context.Background(), s, tc.old), tc.want)
		})
	}
}

func TestFieldSet(t *testing.T) {
	want := fields.Set{"metadata.name": "s", "metadata.namespace": "default", "type": "kubernetes.io/tls"}
	if got := FieldSet(secret(corev1.SecretTypeTLS, nil)); !maps.Equal(got, want) {
		t.Errorf("FieldSet %v, want %v", got, want)
	}
}
