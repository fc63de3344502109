package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

func seccompPlan(t *testing.T, dir string, pod func(*corev1.Pod)) (Plan, error) {
	t.Helper()
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	pod(p)
	return Build(Input{Pod: p, Container: &p.Spec.Containers[0], Layers: []string{"/img"}, Instance: "/i",
		Args: []string{"sh"}, SeccompDir: dir})
}

func withProfile(sp *corev1.SeccompProfile) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: sp} }
}

func TestSeccompProfileChoice(t *testing.T) {
	dir := t.TempDir()
	custom := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(filepath.Join(dir, "deny-keyctl.json"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	runtimeDefault := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	tests := []struct {
		name    string
		pod     func(*corev1.Pod)
		want    specs.LinuxSeccompAction // "" for no filter
		wantErr string
	}{
		{"unset is unconfined, as kubelet's default", func(*corev1.Pod) {}, "", ""},
		{"Unconfined", withProfile(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}), "", ""},
		{"RuntimeDefault from the pod", withProfile(runtimeDefault), specs.ActErrno, ""},
		{"the container's profile wins", func(p *corev1.Pod) {
			withProfile(runtimeDefault)(p)
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
		}, "", ""},
		{"privileged is unconfined", func(p *corev1.Pod) {
			withProfile(runtimeDefault)(p)
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
		}, "", ""},
		{"Localhost", withProfile(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("deny-keyctl.json")}), specs.ActAllow, ""},
		{"Localhost missing", withProfile(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("none.json")}), "", "cannot load seccomp profile"},
		{"Localhost outside the directory", withProfile(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("../../etc/x.json")}), "", "must be a path inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := seccompPlan(t, dir, tt.pod)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := specs.LinuxSeccompAction("")
			if p.Seccomp != nil {
				got = p.Seccomp.DefaultAction
			}
			if got != tt.want {
				t.Errorf("filter's default action %q, want %q", got, tt.want)
			}
		})
	}
}
