package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Sysctl is one kernel setting of a network namespace, named as sysctl(8)
// names it. Module is the kernel module that brings the key, if any.
type Sysctl struct {
	Key, Value, Module string
}

// NodeSysctls are what kubeadm's preflight checks on a node: forwarding on
// for both families, and bridged traffic through iptables (br_netfilter;
// its keys are per network namespace on kernels since 5.3).
// net.ipv4.conf.all.route_localnet is not among them: it lets packets to
// 127.0.0.0/8 arrive from other hosts (pods included), which kube-proxy
// only allows together with a rule dropping such packets that were not
// NATed (CVE-2020-8558); kube-proxy sets it itself when it serves
// NodePorts on localhost. ReportSysctls shows its value.
func NodeSysctls() []Sysctl {
	return []Sysctl{
		{Key: "net.ipv4.ip_forward", Value: "1"},
		{Key: "net.ipv6.conf.all.forwarding", Value: "1"},
		{Key: "net.bridge.bridge-nf-call-iptables", Value: "1", Module: "br_netfilter"},
		{Key: "net.bridge.bridge-nf-call-ip6tables", Value: "1", Module: "br_netfilter"},
	}
}

// ReportSysctls are read and reported but left to whoever needs them.
func ReportSysctls() []string { return []string{"net.ipv4.conf.all.route_localnet"} }

// SysctlFile is where key is under the /proc/sys at root.
func SysctlFile(root, key string) string {
	return filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(key, ".", "/")))
}

// SysctlResult is what EnsureSysctls found and did for one key.
type SysctlResult struct {
	Key, Was, Now string
	Err           error
}

// String is "key=now", with "(was x)" when it changed, or the error.
func (r SysctlResult) String() string {
	switch {
	case r.Err != nil:
		return r.Key + ": " + r.Err.Error()
	case r.Was != r.Now:
		return fmt.Sprintf("%s=%s (was %s)", r.Key, r.Now, r.Was)
	}
	return r.Key + "=" + r.Now
}

// EnsureSysctls sets each of want under the /proc/sys at root, loading
// its module first when the key is missing (loadModule may be nil). It
// acts on the network namespace of the calling thread: callers make sure
// that is never the machine's own (see SetupSandboxNode).
func EnsureSysctls(root string, want []Sysctl, loadModule func(string) error) []SysctlResult {
	out := make([]SysctlResult, 0, len(want))
	for _, s := range want {
		out = append(out, ensureSysctl(root, s, loadModule))
	}
	return out
}

func ensureSysctl(root string, s Sysctl, loadModule func(string) error) SysctlResult {
	path := SysctlFile(root, s.Key)
	r := SysctlResult{Key: s.Key}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && s.Module != "" && loadModule != nil {
		if err := loadModule(s.Module); err != nil {
			r.Err = fmt.Errorf("missing, and module %s did not load: %w", s.Module, err)
			return r
		}
	}
	was, err := readSysctl(path)
	if err != nil {
		r.Err = err
		return r
	}
	r.Was, r.Now = was, was
	if was == s.Value {
		return r
	}
	if err := os.WriteFile(path, []byte(s.Value+"\n"), 0o644); err != nil {
		r.Err = fmt.Errorf("set to %s: %w", s.Value, err)
		return r
	}
	r.Now, r.Err = readSysctl(path)
	return r
}

func readSysctl(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadSysctl reads key under the /proc/sys at root.
func ReadSysctl(root, key string) (string, error) { return readSysctl(SysctlFile(root, key)) }

// Modprobe loads a kernel module with modprobe(8). Loading is machine
// wide, unlike the keys it brings.
func Modprobe(module string) error {
	out, err := exec.Command("modprobe", module).CombinedOutput()
	if err != nil {
		return fmt.Errorf("modprobe %s: %w: %s", module, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// InNetns fails unless the calling thread runs in the network namespace
// mounted at path, and that is not the one of the machine's first
// process (where /proc/1 can be read): the guard before changing a
// namespace's settings.
func InNetns(path string) error {
	want, err := nsID(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	self, err := nsID("/proc/thread-self/ns/net")
	if err != nil {
		return fmt.Errorf("own network namespace: %w", err)
	}
	if self != want {
		return fmt.Errorf("not running in the network namespace %s", path)
	}
	if init, err := nsID("/proc/1/ns/net"); err == nil && init == self {
		return errors.New("refusing to change the machine's own network namespace")
	}
	return nil
}

// nsID is a namespace file's device and inode.
func nsID(path string) ([2]uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}

// ProcSys is where the kernel's settings are.
const ProcSys = "/proc/sys"

// SetupNodeSysctls gives the network namespace the calling process runs
// in NodeSysctls, and reads ReportSysctls besides. That namespace must be
// the one mounted at nodeNetns (a sandboxed node's), never the machine's.
func SetupNodeSysctls(nodeNetns string) ([]SysctlResult, error) {
	if err := InNetns(nodeNetns); err != nil {
		return nil, err
	}
	out := EnsureSysctls(ProcSys, NodeSysctls(), Modprobe)
	for _, key := range ReportSysctls() {
		v, err := ReadSysctl(ProcSys, key)
		out = append(out, SysctlResult{Key: key, Was: v, Now: v, Err: err})
	}
	return out, nil
}
