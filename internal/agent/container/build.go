package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// SelfPath is where the svcplane binary is bound, read-only, in the
// containers of built-in images, whose programs it runs.
const SelfPath = "/.svcplane/svcplane"

// Input is what the agent knows of one container instance.
type Input struct {
	Pod       *corev1.Pod
	Container *corev1.Container
	// Layers are the image's layer directories, lowest first; ImageUser
	// its configured user.
	Layers    []string
	ImageUser string
	// Instance is the instance's directory: it gets the overlay's upper,
	// work and mount point.
	Instance string
	Args     []string
	Env      []string
	Cwd      string
	Hostname string
	// Files are bound into the container: /etc/hosts and friends and the
	// termination message file (target -> host file).
	Files map[string]string
	// Self is the svcplane binary bound at SelfPath ("" for none).
	Self string
	// Volumes are bound in after the runtime's mounts, with the Files,
	// parents before what they hold.
	Volumes []specs.Mount
	// NetnsPath, IPCPath and PIDPath are the pod's namespaces to join:
	// network (empty for hostNetwork), IPC (empty for hostIPC) and the
	// shared PID namespace of shareProcessNamespace pods.
	NetnsPath, IPCPath, PIDPath string
	CgroupProcs                 []string
	OOMScoreAdj                 *int
	// SeccompDir holds the node's Localhost seccomp profiles.
	SeccompDir string
	// HostDevices are the node's devices (HostDevices("/dev")), given to
	// a privileged container as containerd gives them.
	HostDevices []specs.LinuxDevice
}

// DefaultCapabilities is containerd's default set for a container.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Masked and read-only /proc and /sys paths, as containerd sets them.
var (
	defaultMaskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// Build makes the plan of one container instance.
func Build(in Input) (Plan, error) {
	sc := effectiveSecurity(in.Pod, in.Container)
	caps, err := capabilities(sc)
	if err != nil {
		return Plan{}, err
	}
	filter, err := seccompProfile(sc, caps, in.SeccompDir)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{
		Rootfs: Rootfs{
			Layers: in.Layers, Upper: filepath.Join(in.Instance, "upper"), Work: filepath.Join(in.Instance, "work"),
			Target: filepath.Join(in.Instance, "rootfs"), Readonly: boolValue(sc.ReadOnlyRootFilesystem),
		},
		Mounts:     mounts(in, sc),
		Namespaces: namespaces(in),
		Devices:    devices(sc, in.HostDevices),
		Process: Process{
			Args: in.Args, Env: in.Env, Cwd: orRoot(in.Cwd), User: planUser(in, sc),
			Capabilities: caps, NoNewPrivileges: noNewPrivileges(sc, caps), OOMScoreAdj: in.OOMScoreAdj,
		},
		CgroupProcs: in.CgroupProcs,
		Seccomp:     filter,
	}
	if _, ok := p.Namespace(specs.UTSNamespace); ok {
		p.Hostname = in.Hostname
	}
	if !boolValue(sc.Privileged) {
		p.MaskedPaths, p.ReadonlyPaths = defaultMaskedPaths, defaultReadonlyPaths
	}
	return p, nil
}

// security is a container's security settings after the pod's defaults.
type security struct {
	corev1.SecurityContext
	Supplemental []int64
}

// effectiveSecurity merges the pod's security context under the
// container's, as kubelet does.
func effectiveSecurity(pod *corev1.Pod, c *corev1.Container) security {
	var s security
	if c.SecurityContext != nil {
		s.SecurityContext = *c.SecurityContext
	}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if s.RunAsUser == nil {
			s.RunAsUser = psc.RunAsUser
		}
		if s.RunAsGroup == nil {
			s.RunAsGroup = psc.RunAsGroup
		}
		if s.RunAsNonRoot == nil {
			s.RunAsNonRoot = psc.RunAsNonRoot
		}
		if s.SeccompProfile == nil {
			s.SeccompProfile = psc.SeccompProfile
		}
		s.Supplemental = append(s.Supplemental, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			s.Supplemental = append(s.Supplemental, *psc.FSGroup)
		}
	}
	return s
}

func planUser(in Input, sc security) User {
	return User{UID: sc.RunAsUser, GID: sc.RunAsGroup, Image: in.ImageUser, Supplemental: sc.Supplemental}
}

// capabilities is containerd's default set, or for a privileged container
// every capability the agent itself holds (containerd's
// WithAllCurrentCapabilities: a node confined to fewer than all cannot
// hand out more), less the dropped and plus the added ones.
func capabilities(sc security) (*specs.LinuxCapabilities, error) {
	set := map[string]bool{}
	base := DefaultCapabilities
	if boolValue(sc.Privileged) {
		base = currentCapabilities()
	}
	for _, c := range base {
		set[c] = true
	}
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Drop {
			name, err := capName(string(c))
			if err != nil {
				return nil, err
			}
			if name == "ALL" {
				clear(set)
				continue
			}
			delete(set, name)
		}
		for _, c := range sc.Capabilities.Add {
			name, err := capName(string(c))
			if err != nil {
				return nil, err
			}
			if name == "ALL" {
				for _, a := range allCapabilities() {
					set[a] = true
				}
				continue
			}
			set[name] = true
		}
	}
	var list []string
	for _, c := range allCapabilities() {
		if set[c] {
			list = append(list, c)
		}
	}
	return &specs.LinuxCapabilities{Bounding: list, Effective: list, Permitted: list}, nil
}

// capName turns a Kubernetes capability name (NET_RAW, or CAP_NET_RAW)
// into the OCI form, checking that the kernel knows it.
func capName(c string) (string, error) {
	name := strings.ToUpper(c)
	if name == "ALL" {
		return name, nil
	}
	if !strings.HasPrefix(name, "CAP_") {
		name = "CAP_" + name
	}
	for _, known := range allCapabilities() {
		if known == name {
			return name, nil
		}
	}
	return "", fmt.Errorf("unknown capability %q", c)
}

// allCapabilities lists every capability the running kernel has.
func allCapabilities() []string {
	last, err := capability.LastCap()
	if err != nil {
		last = capability.CAP_CHECKPOINT_RESTORE
	}
	var out []string
	for _, c := range capability.ListKnown() {
		if c <= last {
			out = append(out, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return out
}

// currentCapabilities lists the capabilities in this process's effective
// set; where it cannot be read, every capability of the kernel.
func currentCapabilities() []string {
	caps, err := capability.NewPid2(0)
	if err == nil {
		err = caps.Load()
	}
	if err != nil {
		return allCapabilities()
	}
	var out []string
	for _, name := range allCapabilities() {
		c, _ := capabilityByName(name)
		if caps.Get(capability.EFFECTIVE, c) {
			out = append(out, name)
		}
	}
	return out
}

// capabilityByName finds a capability by its CAP_ name.
func capabilityByName(name string) (capability.Cap, bool) {
	for _, c := range capability.ListKnown() {
		if "CAP_"+strings.ToUpper(c.String()) == name {
			return c, true
		}
	}
	return 0, false
}

// noNewPrivileges is set when allowPrivilegeEscalation is false, which a
// privileged container or one with CAP_SYS_ADMIN cannot ask for.
func noNewPrivileges(sc security, caps *specs.LinuxCapabilities) bool {
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || boolValue(sc.Privileged) {
		return false
	}
	for _, c := range caps.Bounding {
		if c == "CAP_SYS_ADMIN" {
			return false
		}
	}
	return true
}

// namespaces: a mount namespace of its own; UTS with the pod's network;
// the pod's network, IPC and (shared) PID namespaces unless the pod uses
// the host's.
func namespaces(in Input) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	spec := in.Pod.Spec
	if !spec.HostNetwork {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace}, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.NetnsPath})
	}
	if !spec.HostIPC {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: in.IPCPath})
	}
	switch {
	case spec.HostPID:
	case boolValue(spec.ShareProcessNamespace):
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: in.PIDPath})
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	return ns
}

// mounts are runc's defaults under containerd, then the pod's files.
func mounts(in Input, sc security) []specs.Mount {
	sysOpts := []string{"nosuid", "noexec", "nodev", "ro"}
	if boolValue(sc.Privileged) {
		sysOpts = sysOpts[:3]
	}
	m := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	}
	if in.Pod.Spec.HostIPC {
		m = append(m, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rw"}})
	} else {
		m = append(m,
			specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})
	}
	m = append(m, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOpts})
	m = append(m, podMounts(in)...)
	if in.Self != "" {
		m = append(m, specs.Mount{Destination: SelfPath, Type: "bind", Source: in.Self, Options: []string{"bind", "ro"}})
	}
	return m
}

// podMounts are the pod's files and volumes, sorted by the depth of their
// destination (stable) as containerd sorts a container's mounts, so a
// volume at /etc comes before the /etc/hosts bound over it.
func podMounts(in Input) []specs.Mount {
	var m []specs.Mount
	for _, target := range sortedKeys(in.Files) {
		if slices.ContainsFunc(in.Volumes, func(v specs.Mount) bool { return filepath.Clean(v.Destination) == target }) {
			continue // a volume at the same path wins, as kubelet's
		}
		m = append(m, specs.Mount{Destination: target, Type: "bind", Source: in.Files[target], Options: []string{"rbind", "rw"}})
	}
	m = append(m, in.Volumes...)
	slices.SortStableFunc(m, func(a, b specs.Mount) int { return depth(a.Destination) - depth(b.Destination) })
	return m
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// BindMount is the mount of a node path at dest, read-only or not.
func BindMount(source, dest string, readOnly bool) specs.Mount {
	opt := "rw"
	if readOnly {
		opt = "ro"
	}
	return specs.Mount{Destination: dest, Type: "bind", Source: source, Options: []string{"rbind", opt}}
}

// devices are runc's default device nodes, and for a privileged container
// every device of the host as well (the host's node wins at the same path).
func devices(sc security, host []specs.LinuxDevice) []specs.LinuxDevice {
	out := defaultDevices()
	if !boolValue(sc.Privileged) {
		return out
	}
	for _, d := range host {
		i := slices.IndexFunc(out, func(o specs.LinuxDevice) bool { return o.Path == d.Path })
		if i >= 0 {
			out[i] = d
			continue
		}
		out = append(out, d)
	}
	return out
}

func defaultDevices() []specs.LinuxDevice {
	mode := func() *os.FileMode { m := os.FileMode(0o666); return &m }
	dev := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: mode()}
	}
	return []specs.LinuxDevice{
		dev("/dev/null", 1, 3), dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0),
	}
}

func boolValue(b *bool) bool { return b != nil && *b }

func orRoot(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
