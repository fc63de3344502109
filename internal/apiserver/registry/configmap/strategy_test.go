package configmap

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const keyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

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

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		data   map[string]string
		binary map[string][]byte
		want   []string
	}{
		{"valid", map[string]string{"app.conf": "x", "KEY_1": "y"}, map[string][]byte{"logo.png": {1}}, nil},
		{"bad key", map[string]string{"a b": "x"}, nil, []string{`data[a b]: Invalid value: "a b": ` + keyMsg}},
		{"dot key", map[string]string{"..": "x"}, nil, []string{`data[..]: Invalid value: "..": must not be '..'`}},
		{"key in both", map[string]string{"k": "x"}, map[string][]byte{"k": {1}},
			[]string{`data[k]: Invalid value: "k": duplicate of key present in binaryData`}},
		{"bad binary key", nil, map[string][]byte{"a/b": {1}}, []string{`binaryData[a/b]: Invalid value: "a/b": ` + keyMsg}},
		{"too large", map[string]string{"a": strings.Repeat("x", MaxSize)}, map[string][]byte{"b": {1}},
			[]string{"[]: Too long: may not be more than 1048576 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{Data: tc.data, BinaryData: tc.binary}
			checkErrors(t, Validate(context.Background(), cm), tc.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	yes := true
	old := &corev1.ConfigMap{Data: map[string]string{"a": "1"}, Immutable: &yes}
	changed := &corev1.ConfigMap{Data: map[string]string{"a": "2"}}
	checkErrors(t, ValidateUpdate(context.Background(), changed, old), []string{
		"immutable: Forbidden: field is immutable when `immutable` is set",
		"data: Forbidden: field is immutable when `immutable` is set",
	})
	mutable := &corev1.ConfigMap{Data: map[string]string{"a": "1"}}
	checkErrors(t, ValidateUpdate(context.Background(), changed, mutable), nil)
}

func TestDefault(t *testing.T) {
	cm := &corev1.ConfigMap{}
	Strategy().Default(cm)
	if cm.Data == nil {
		t.Error("data left nil")
	}
}
