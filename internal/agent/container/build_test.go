package container

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

func ptr[T any](v T) *T { return &v }

// summary is a plan in a line per concern, for the table below.
func summary(p Plan) []string {
	var ns []string
	for _, n := range p.Namespaces {
		s := string(n.Type)
		if n.Path != "" {
			s += "=" + n.Path
		}
		ns = append(ns, s)
	}
	var mounts []string
	for _, m := range p.Mounts {
		opts := ""
		if slices.Contains(m.Options, "ro") {
			opts = ":ro"
		}
		mounts = append(mounts, m.Destination+opts)
	}
	caps := "none"
	if c := p.Process.Capabilities; c != nil && len(c.Bounding) > 0 {
		caps = fmt.Sprint(len(c.Bounding))
		if !slices.Contains(c.Bounding, "CAP_NET_RAW") {
			caps += " -NET_RAW"
		}
		if slices.Contains(c.Bounding, "CAP_SYS_ADMIN") {
			caps += " +SYS_ADMIN"
		}
	}
	return []string{
		"ns: " + strings.Join(ns, " "),
		"mounts: " + strings.Join(mounts, " "),
		fmt.Sprintf("root ro=%v masked=%d readonly=%d hostname=%q", p.Rootfs.Readonly, len(p.MaskedPaths), len(p.ReadonlyPaths), p.Hostname),
		fmt.Sprintf("caps: %s nnp=%v", caps, p.Process.NoNewPrivileges),
	}
}

func TestBuild(t *testing.T) {
	defaultMounts := "mounts: /proc /dev /dev/pts /dev/shm /dev/mqueue /sys:ro /etc/hosts /.svcplane/svcplane:ro"
	podNS := "ns: mount uts network=/run/netns/p ipc=/pods/u/ipc pid"
	tests := []struct {
		name string
		pod  func(*corev1.Pod)
		want []string
	}{
		{"plain", func(*corev1.Pod) {}, []string{podNS, defaultMounts,
			`root ro=false masked=11 readonly=5 hostname="web"`, "caps: 14 nnp=false"}},
		{"privileged", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true), AllowPrivilegeEscalation: ptr(false)}
		}, []string{podNS, strings.Replace(defaultMounts, "/sys:ro", "/sys", 1),
			`root ro=false masked=0 readonly=0 hostname="web"`, fmt.Sprintf("caps: %d +SYS_ADMIN nnp=false", len(currentCapabilities()))}},
		{"read-only root, no privilege escalation", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false)}
		}, []string{podNS, defaultMounts, `root ro=true masked=11 readonly=5 hostname="web"`, "caps: 14 nnp=true"}},
		{"dropped and added capabilities", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
				Drop: []corev1.Capability{"NET_RAW"}, Add: []corev1.Capability{"CAP_SYS_ADMIN"}}}
		}, []string{podNS, defaultMounts, `root ro=false masked=11 readonly=5 hostname="web"`, "caps: 14 -NET_RAW +SYS_ADMIN nnp=false"}},
		{"drop ALL", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		}, []string{podNS, defaultMounts, `root ro=false masked=11 readonly=5 hostname="web"`, "caps: none nnp=false"}},
		{"hostNetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = true },
			[]string{"ns: mount ipc=/pods/u/ipc pid", defaultMounts, `root ro=false masked=11 readonly=5 hostname=""`, "caps: 14 nnp=false"}},
		{"hostPID and hostIPC", func(p *corev1.Pod) { p.Spec.HostPID, p.Spec.HostIPC = true, true },
			[]string{"ns: mount uts network=/run/netns/p", "mounts: /proc /dev /dev/pts /dev/shm /sys:ro /etc/hosts /.svcplane/svcplane:ro",
				`root ro=false masked=11 readonly=5 hostname="web"`, "caps: 14 nnp=false"}},
		{"shareProcessNamespace", func(p *corev1.Pod) { p.Spec.ShareProcessNamespace = ptr(true) },
			[]string{"ns: mount uts network=/run/netns/p ipc=/pods/u/ipc pid=/proc/42/ns/pid", defaultMounts,
				`root ro=false masked=11 readonly=5 hostname="web"`, "caps: 14 nnp=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
			tt.pod(pod)
			p, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0], Layers: []string{"/img"}, Instance: "/i",
				Args: []string{"sh"}, Hostname: "web", Files: map[string]string{"/etc/hosts": "/pods/u/hosts"}, Self: "/bin/svcplane",
				NetnsPath: "/run/netns/p", IPCPath: "/pods/u/ipc", PIDPath: "/proc/42/ns/pid"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summary(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildUserAndErrors(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(3000)),
			SupplementalGroups: []int64{4000}, FSGroup: ptr(int64(2000))},
		Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(1001))}}}}}
	p, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0], ImageUser: "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	u := p.Process.User
	if *u.UID != 1001 || *u.GID != 3000 || !slices.Equal(u.Supplemental, []int64{4000, 2000}) || u.Image != "nginx" {
		t.Errorf("user %+v", u)
	}
	pod.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NOT_A_CAP"}}
	if _, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0]}); err == nil || !strings.Contains(err.Error(), `unknown capability "NOT_A_CAP"`) {
		t.Errorf("bad capability: %v", err)
	}
	if _, ok := p.Namespace(specs.CgroupNamespace); ok {
		t.Error("a cgroup namespace")
	}
}

// TestBuildVolumes: volumes come with the pod's files, parents first; a
// volume at a file's path replaces the file; read-only ones are bound ro.
func TestBuildVolumes(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	p, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0], Layers: []string{"/img"},
		Files: map[string]string{"/etc/hosts": "/pods/u/hosts", "/etc/resolv.conf": "/pods/u/resolv.conf", "/dev/termination-log": "/i/t"},
		Volumes: []specs.Mount{
			BindMount("/v/token", "/var/run/secrets/kubernetes.io/serviceaccount", true),
			BindMount("/v/etc", "/etc", false),
			BindMount("/v/resolv", "/etc/resolv.conf", true),
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := "mounts: /proc /dev /dev/pts /dev/shm /dev/mqueue /sys:ro /etc /dev/termination-log /etc/hosts /etc/resolv.conf:ro /var/run/secrets/kubernetes.io/serviceaccount:ro"
	if got := summary(p)[1]; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestBuildDevices: a privileged container gets the host's devices besides
// runc's defaults (the host's node replacing a default at the same path);
// an unprivileged one only the defaults.
func TestBuildDevices(t *testing.T) {
	host := []specs.LinuxDevice{
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, UID: ptr(uint32(0))},
		{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
		{Path: "/dev/loop0", Type: "b", Major: 7, Minor: 0},
	}
	paths := func(p Plan) []string {
		var out []string
		for _, d := range p.Devices {
			out = append(out, d.Type+" "+d.Path)
		}
		return out
	}
	defaults := []string{"c /dev/null", "c /dev/zero", "c /dev/full", "c /dev/random", "c /dev/urandom", "c /dev/tty"}
	for _, privileged := range []bool{false, true} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(privileged)}}}}}
		p, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0], HostDevices: host})
		if err != nil {
			t.Fatal(err)
		}
		want := defaults
		if privileged {
			want = append(slices.Clone(defaults), "c /dev/net/tun", "b /dev/loop0")
			if p.Devices[0].UID == nil {
				t.Error("the host's /dev/null did not replace the default")
			}
		}
		if diff := cmp.Diff(want, paths(p)); diff != "" {
			t.Errorf("privileged=%v devices (-want +got):\n%s", privileged, diff)
		}
	}
}

// TestPrivilegedCapabilitiesAreTheAgents: a privileged container gets what
// the agent holds, not every capability the kernel knows (this machine's
// root lacks CAP_SYS_RESOURCE, and asking for it failed every start).
func TestPrivilegedCapabilitiesAreTheAgents(t *testing.T) {
	caps, err := capability.NewPid2(0)
	if err == nil {
		err = caps.Load()
	}
	if err != nil {
		t.Skip(err)
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
		SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}}
	p, err := Build(Input{Pod: pod, Container: &pod.Spec.Containers[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range p.Process.Capabilities.Bounding {
		c, ok := capabilityByName(name)
		if !ok || !caps.Get(capability.EFFECTIVE, c) {
			t.Errorf("%s is not held by this process", name)
		}
	}
	if len(p.Process.Capabilities.Bounding) == 0 {
		t.Error("no capabilities")
	}
}
