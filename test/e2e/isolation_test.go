package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

// TestPodIsolation is issue 18's e2e: a pod has its own root filesystem
// and processes, runs with its security context and limits, and an image
// imported from an archive runs with its config.
func TestPodIsolation(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	marker := filepath.Join("/tmp", "svcplane-host-marker-"+s.name)
	if err := os.WriteFile(marker, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(marker) })
	s.apply(t, isolationPods(s.name))
	for _, p := range []string{"fs", "other", "user", "rofs", "noraw", "hostnet", "shared", "privileged"} {
		s.waitRunningReady(t, p)
	}
	t.Run("root filesystem", func(t *testing.T) {
		s.must(t, "exec", "fs", "--", "touch", "/root/written-by-pod")
		if _, err := os.Stat("/root/written-by-pod"); !os.IsNotExist(err) {
			t.Errorf("a file the pod wrote to /root is on the machine: %v", err)
		}
		if out, err := s.kubectl("exec", "fs", "--", "cat", marker); err == nil {
			t.Errorf("the pod sees the machine's %s: %q", marker, out)
		}
	})
	t.Run("processes", func(t *testing.T) {
		out := s.must(t, "exec", "fs", "--", "ps", "-o", "pid,args")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], "1 sleep 3600") || !strings.Contains(lines[2], "ps") {
			t.Fatalf("ps in the pod:\n%s", out)
		}
		// Only once the pod is seen in a PID namespace of its own.
		out, _ = s.kubectl("exec", "fs", "--", "kill", "-9", "-1")
		time.Sleep(2 * time.Second)
		if got := s.podField("other", "{.status.phase}"); got != "Running" {
			t.Errorf("another pod after kill -9 -1: %s", got)
		}
		if out, err := s.kubectl("get", "node", s.name); err != nil {
			t.Errorf("the API after kill -9 -1: %v %s", err, out)
		}
		s.must(t, "exec", "other", "--", "true")
	})
	t.Run("shareProcessNamespace", func(t *testing.T) {
		out := s.must(t, "exec", "shared", "-c", "c", "--", "ps", "-o", "pid,args")
		if !strings.Contains(out, "    1 /.svcplane/svcplane image pause") || !strings.Contains(out, "sleep 3601") {
			t.Errorf("ps in a pod sharing its PID namespace:\n%s", out)
		}
	})
	t.Run("runAsUser and runAsGroup", func(t *testing.T) {
		if out := s.must(t, "exec", "user", "--", "sh", "-c", "id -u; id -g"); out != "1000\n3000\n" {
			t.Errorf("id: %q", out)
		}
	})
	t.Run("seccomp RuntimeDefault filters the workload and exec", func(t *testing.T) {
		// Seccomp: 2 is filter mode; the fs pod is unconfined (kubelet's default).
		for pod, want := range map[string]string{"user": "2", "fs": "0"} {
			out := s.must(t, "exec", pod, "--", "sh", "-c", "grep Seccomp: /proc/1/status /proc/self/status")
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if f := strings.Fields(line); len(f) != 2 || f[1] != want {
					t.Errorf("pod %s: %q, want Seccomp %s", pod, line, want)
				}
			}
		}
	})
	t.Run("readOnlyRootFilesystem", func(t *testing.T) {
		out, err := s.kubectl("exec", "rofs", "--", "touch", "/x")
		if err == nil || !strings.Contains(out, "Read-only file system") {
			t.Errorf("touch /x: %v %q", err, out)
		}
	})
	t.Run("dropping NET_RAW stops ping", func(t *testing.T) {
		out, err := s.kubectl("exec", "noraw", "--", "ping", "-c", "1", "-W", "1", "127.0.0.1")
		if err == nil {
			t.Errorf("ping without NET_RAW worked: %q", out)
		}
		if out, err := s.kubectl("exec", "fs", "--", "ping", "-c", "1", "-W", "1", "127.0.0.1"); err != nil {
			t.Errorf("ping with the default capabilities: %v %q", err, out)
		}
	})
	t.Run("hostNetwork sees the node's interfaces", func(t *testing.T) {
		out := s.must(t, "exec", "hostnet", "--", "ip", "link")
		if !strings.Contains(out, "spbr0") {
			t.Errorf("ip link in a hostNetwork pod:\n%s", out)
		}
		if out := s.must(t, "exec", "fs", "--", "ip", "link"); strings.Contains(out, "spbr0") {
			t.Errorf("a pod sees the node's bridge:\n%s", out)
		}
	})
	t.Run("privileged gets the node's devices", func(t *testing.T) { s.checkPrivilegedDevices(t) })
	t.Run("memory limit ends in OOMKilled", func(t *testing.T) { s.checkOOMKilled(t) })
	t.Run("runAsNonRoot refuses root", func(t *testing.T) { s.checkRunAsNonRoot(t) })
	t.Run("built-in image pulled and listed", func(t *testing.T) { s.checkBuiltinImage(t) })
	t.Run("imported image", func(t *testing.T) { s.checkImportedImage(t) })
	t.Run("volumes", func(t *testing.T) { s.checkVolumes(t) })
}

func isolationPods(node string) string {
	pod := func(name, extra string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 1
%s`, name, node, extra)
	}
	sleeper := "  containers:\n  - name: c\n    image: busybox\n    command: [sleep, \"3600\"]\n"
	return strings.Join([]string{
		pod("fs", sleeper),
		pod("other", sleeper),
		pod("user", "  securityContext: {runAsUser: 1000, runAsGroup: 3000, seccompProfile: {type: RuntimeDefault}}\n"+sleeper),
		pod("rofs", sleeper+"    securityContext: {readOnlyRootFilesystem: true}\n"),
		pod("noraw", sleeper+"    securityContext: {capabilities: {drop: [NET_RAW]}}\n"),
		pod("hostnet", "  hostNetwork: true\n"+sleeper),
		pod("shared", "  shareProcessNamespace: true\n"+sleeper+"  - name: d\n    image: busybox\n    command: [sleep, \"3601\"]\n"),
		pod("privileged", sleeper+"    securityContext: {privileged: true}\n"),
	}, "---\n")
}

// checkPrivilegedDevices: a privileged container has the node's device
// nodes (here the first of a few that machines usually have), an
// unprivileged one only runc's defaults; /dev/ptmx stays the link into the
// container's own devpts in both.
func (s *sandbox) checkPrivilegedDevices(t *testing.T) {
	dev := ""
	for _, d := range []string{"/dev/loop-control", "/dev/net/tun", "/dev/fuse", "/dev/kmsg"} {
		if fi, err := os.Stat(d); err == nil && fi.Mode()&os.ModeDevice != 0 {
			dev = d
			break
		}
	}
	if dev == "" {
		t.Skip("the machine has none of the devices this check looks for")
	}
	if out, err := s.kubectl("exec", "privileged", "--", "test", "-e", dev); err != nil {
		t.Errorf("a privileged container lacks the node's %s: %v %s", dev, err, out)
	}
	if out, err := s.kubectl("exec", "fs", "--", "test", "-e", dev); err == nil {
		t.Errorf("an unprivileged container has the node's %s: %s", dev, out)
	}
	for _, pod := range []string{"privileged", "fs"} {
		if out := s.must(t, "exec", pod, "--", "readlink", "/dev/ptmx"); strings.TrimSpace(out) != "pts/ptmx" {
			t.Errorf("pod %s: /dev/ptmx links to %q", pod, out)
		}
	}
}

// checkOOMKilled runs a container past its 32Mi limit: it ends
// OOMKilled, exit code 137, and restarts.
func (s *sandbox) checkOOMKilled(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  nodeName: %s
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "head -c 300000000 /dev/zero | tail"]
    resources: {limits: {memory: 32Mi}}
`, s.name))
	s.waitFor(t, 60*time.Second, "oom OOMKilled", func() (bool, string) {
		out := s.podField("oom", "{.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}")
		return strings.Contains(out, "OOMKilled"), out
	})
	if got := s.podField("oom", "{.status.qosClass}"); got != "Burstable" {
		t.Errorf("qosClass %q", got)
	}
}

// checkRunAsNonRoot: busybox runs as root, so runAsNonRoot keeps the
// container waiting with kubelet's message.
func (s *sandbox) checkRunAsNonRoot(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  nodeName: %s
  securityContext: {runAsNonRoot: true}
  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
`, s.name))
	s.waitFor(t, 30*time.Second, "nonroot CreateContainerConfigError", func() (bool, string) {
		out := s.podField("nonroot", "{.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}")
		return strings.HasPrefix(out, "CreateContainerConfigError: container has runAsNonRoot and image will run as root (pod: "), out
	})
}

// checkBuiltinImage: busybox without a tag is pulled (policy Always) with
// kubelet's events, its imageID is the digest the Node lists, and the
// Node's status.images holds the built-in images with their tags.
func (s *sandbox) checkBuiltinImage(t *testing.T) {
	out := s.must(t, "get", "events", "--field-selector", "involvedObject.name=fs", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
	if !strings.Contains(out, "Pulling: Pulling image \"busybox\"") || !strings.Contains(out, "Pulled: Successfully pulled image \"busybox\" in ") {
		t.Errorf("fs's events:\n%s", out)
	}
	id := s.podField("fs", "{.status.containerStatuses[0].imageID}")
	if !strings.HasPrefix(id, "docker.io/library/busybox@sha256:") {
		t.Errorf("imageID %q", id)
	}
	s.waitFor(t, 30*time.Second, "the node lists the built-in images", func() (bool, string) {
		out := s.must(t, "get", "node", s.name, "-o", "jsonpath={.status.images[*].names}")
		return strings.Contains(out, id) && strings.Contains(out, "docker.io/library/busybox:latest") &&
			strings.Contains(out, "registry.k8s.io/pause:3.10"), out
	})
}

// checkImportedImage builds a one-layer image of a program made on the
// machine, imports it, and runs it with its Entrypoint, Cmd and Env.
func (s *sandbox) checkImportedImage(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "imgprobe")
	build := exec.Command("go", "build", "-o", bin, "./testdata/imgprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build imgprobe: %v\n%s", err, out)
	}
	entry, err := imagetest.HostFile("usr/bin/imgprobe", bin)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "probe.tar")
	err = imagetest.WriteDocker(archive, imagetest.Spec{Refs: []string{"example.com/probe:1.0"},
		Layers: []imagetest.Layer{{entry, imagetest.Dir("work")}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/imgprobe"}, Cmd: []string{"--from-cmd"},
			Env: []string{"PATH=/usr/bin", "PROBE_MODE=imported"}, WorkingDir: "/work", User: "1234"}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "images", "import", "--data-dir", s.dataDir, archive).CombinedOutput(); err != nil {
		t.Fatalf("images import: %v\n%s", err, out)
	}
	s.apply(t, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: probe}\nspec:\n  nodeName: %s\n  containers: [{name: c, image: example.com/probe:1.0}]\n", s.name))
	s.waitRunningReady(t, "probe")
	s.waitFor(t, 10*time.Second, "probe's log", func() (bool, string) {
		out, _ := s.kubectl("logs", "probe")
		return out == "args=/usr/bin/imgprobe --from-cmd\ncwd=/work uid=1234 mode=imported\n", out
	})
	if id := s.podField("probe", "{.status.containerStatuses[0].imageID}"); !strings.HasPrefix(id, "example.com/probe@sha256:") {
		t.Errorf("imageID %q", id)
	}
	s.waitFor(t, 30*time.Second, "the node lists the image", func() (bool, string) {
		out := s.must(t, "get", "node", s.name, "-o", "jsonpath={.status.images[*].names}")
		return strings.Contains(out, "example.com/probe:1.0"), out
	})
	// Removing the image while the pod runs keeps its layers until the
	// pod is gone.
	layers, _ := filepath.Glob(filepath.Join(s.dataDir, "images", "layers", "sha256-*"))
	if out, err := exec.Command(binary, "images", "remove", "--data-dir", s.dataDir, "example.com/probe:1.0").CombinedOutput(); err != nil || len(layers) != 1 {
		t.Fatalf("images remove: %v %v\n%s", err, layers, out)
	}
	if _, err := os.Stat(layers[0]); err != nil {
		t.Errorf("the running pod's layer went with its image: %v", err)
	}
	s.must(t, "delete", "pod", "probe", "--grace-period=1")
	s.waitFor(t, 30*time.Second, "the layer removed after the pod", func() (bool, string) {
		_, err := os.Stat(layers[0])
		return os.IsNotExist(err), fmt.Sprint(err)
	})
	s.apply(t, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: missing}\nspec:\n  nodeName: %s\n  containers: [{name: c, image: example.com/missing:1.0}]\n", s.name))
	s.waitFor(t, 60*time.Second, "missing in ImagePullBackOff", func() (bool, string) {
		out := s.podField("missing", "{.status.containerStatuses[0].state.waiting.reason}")
		return out == "ImagePullBackOff", out
	})
}
