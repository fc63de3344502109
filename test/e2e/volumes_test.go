package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// volumesManifest is a ConfigMap, a Secret and a pod of two busybox
// containers with configMap, secret, emptyDir (in memory), downwardAPI and
// the automatic service account volumes.
func volumesManifest(node string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {greeting: hello, other: x}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
stringData: {pw: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {app: vols}}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: [sh, -c, "echo shared > /scratch/note; sleep 3600"]
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: config, mountPath: /greeting, subPath: greeting}
    - {name: secret, mountPath: /etc/secret}
    - {name: scratch, mountPath: /scratch}
    - {name: podinfo, mountPath: /etc/podinfo}
  - name: b
    image: busybox
    command: [sleep, "3601"]
    volumeMounts:
    - {name: scratch, mountPath: /data, readOnly: true}
  volumes:
  - {name: config, configMap: {name: app-config}}
  - {name: secret, secret: {secretName: app-secret, defaultMode: 0400}}
  - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
  - name: podinfo
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
`, node)
}

// checkVolumes is issue 13's volumes e2e: a pod reads its volumes' files
// and its service account files, follows a ConfigMap update, and pods
// naming a ConfigMap not made yet wait with kubelet's reasons and start
// once it exists; the pod's volumes are gone with it.
func (s *sandbox) checkVolumes(t *testing.T) {
	s.apply(t, volumesManifest(s.name))
	s.waitRunningReady(t, "vols")
	exec := func(container, script string) string {
		return s.must(t, "exec", "vols", "-c", container, "--", "sh", "-c", script)
	}
	for script, want := range map[string]string{
		"cat /etc/app/greeting /greeting":                                 "hellohello",
		"cat /etc/secret/pw; stat -L -c %a /etc/secret/pw":                "s3cret400\n",
		"cat /etc/podinfo/name; echo; cat /etc/podinfo/labels":            "vols\napp=\"vols\"",
		"cat /var/run/secrets/kubernetes.io/serviceaccount/namespace":     "default",
		"head -c 27 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt": "-----BEGIN CERTIFICATE-----",
		"readlink /etc/app/greeting; ls -a /etc/app | grep -c '^..20'":    "..data/greeting\n1\n",
		"mount | grep -c ' /scratch type tmpfs'":                          "1\n",
	} {
		if got := exec("a", script); got != want {
			t.Errorf("%s: %q, want %q", script, got, want)
		}
	}
	if got := exec("a", "awk -F. '{print NF}' /var/run/secrets/kubernetes.io/serviceaccount/token"); strings.TrimSpace(got) != "3" {
		t.Errorf("the token is not a JWT: %q", got)
	}
	if got := exec("b", "cat /data/note"); got != "shared\n" {
		t.Errorf("emptyDir not shared: %q", got)
	}
	if out, err := s.kubectl("exec", "vols", "-c", "a", "--", "touch", "/etc/app/x"); err == nil || !strings.Contains(out, "Read-only file system") {
		t.Errorf("configMap volume writable: %v %q", err, out)
	}
	s.apply(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {greeting: bonjour}\n")
	s.waitFor(t, 60*time.Second, "the ConfigMap update in the pod", func() (bool, string) {
		out, _ := s.kubectl("exec", "vols", "-c", "a", "--", "sh", "-c", "cat /etc/app/greeting; ls /etc/app")
		return out == "bonjourgreeting\n", out
	})
	s.checkMissingConfigMap(t)
	uid := s.podField("vols", "{.metadata.uid}")
	dir := filepath.Join(s.dataDir, "agents", s.name, "pods", uid)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the pod's volumes are not at %s: %v", dir, err)
	}
	s.must(t, "delete", "pod", "vols", "--wait=true")
	s.waitFor(t, 30*time.Second, "the pod's volumes removed", func() (bool, string) {
		_, err := os.Stat(dir)
		return os.IsNotExist(err), fmt.Sprint(err)
	})
}

// checkMissingConfigMap: a ConfigMap used by env waits in
// CreateContainerConfigError, one used as a volume in ContainerCreating
// with a FailedMount event; both start once it is made.
func (s *sandbox) checkMissingConfigMap(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: late-env}
spec:
  nodeName: %[1]s
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: false
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: late, key: x}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: late-vol}
spec:
  nodeName: %[1]s
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: v, mountPath: /v}]}
  volumes: [{name: v, configMap: {name: late}}]
`, s.name))
	s.waitFor(t, 30*time.Second, "late-env CreateContainerConfigError", func() (bool, string) {
		out := s.podField("late-env", "{.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}")
		return out == `CreateContainerConfigError: configmap "late" not found`, out
	})
	s.waitFor(t, 30*time.Second, "late-vol FailedMount", func() (bool, string) {
		out, _ := s.kubectl("get", "events", "--field-selector", "involvedObject.name=late-vol,reason=FailedMount", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, `MountVolume.SetUp failed for volume "v" : configmap "late" not found`), out
	})
	if got := s.podField("late-vol", "{.status.containerStatuses[0].state.waiting.reason}"); got != "ContainerCreating" {
		t.Errorf("late-vol waits with %q", got)
	}
	s.apply(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {x: here}\n")
	s.waitRunningReady(t, "late-env")
	s.waitRunningReady(t, "late-vol")
	if got := s.must(t, "exec", "late-env", "--", "sh", "-c", "echo $X; ls /var/run/secrets 2>&1 | head -c 0"); got != "here\n" {
		t.Errorf("late-env X=%q", got)
	}
	if got := s.must(t, "exec", "late-vol", "--", "cat", "/v/x"); got != "here" {
		t.Errorf("late-vol /v/x = %q", got)
	}
}
