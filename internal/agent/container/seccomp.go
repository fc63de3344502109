package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// seccompProfile is the filter of a container, as kubelet and containerd
// choose it: none for a privileged container or an Unconfined (or unset)
// profile; containerd's default profile (moby's, with its rules for the
// container's capabilities) for RuntimeDefault; a docker-format JSON file
// under dir for Localhost.
func seccompProfile(sc security, caps *specs.LinuxCapabilities, dir string) (*specs.LinuxSeccomp, error) {
	p := sc.SeccompProfile
	if boolValue(sc.Privileged) || p == nil || p.Type == corev1.SeccompProfileTypeUnconfined {
		return nil, nil
	}
	spec := &specs.Spec{Process: &specs.Process{Capabilities: caps}}
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return mobyseccomp.GetDefaultProfile(spec)
	case corev1.SeccompProfileTypeLocalhost:
		return localhostProfile(p, dir, spec)
	}
	return nil, fmt.Errorf("seccomp profile type %q: want RuntimeDefault, Localhost or Unconfined", p.Type)
}

func localhostProfile(p *corev1.SeccompProfile, dir string, spec *specs.Spec) (*specs.LinuxSeccomp, error) {
	if p.LocalhostProfile == nil || *p.LocalhostProfile == "" {
		return nil, errors.New("seccomp profile type Localhost needs localhostProfile")
	}
	if dir == "" {
		return nil, errors.New("this node has no seccomp profile directory")
	}
	rel := filepath.Clean(*p.LocalhostProfile)
	if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("seccomp profile %q: must be a path inside %s", *p.LocalhostProfile, dir)
	}
	path := filepath.Join(dir, rel)
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load seccomp profile %q: %w", path, err)
	}
	s, err := mobyseccomp.LoadProfile(string(body), spec)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %q: %w", path, err)
	}
	return s, nil
}
