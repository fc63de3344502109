package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// statefulManifest is the StatefulSet tutorial's `web`: three nginx pods
// behind the headless Service `nginx`, each with a claim from the
// volumeClaimTemplate `www` in the default local-path class, a busybox
// pod to look names up from, and a Job of 5 completions, 2 at a time.
func statefulManifest() string {
	return `apiVersion: v1
kind: Service
metadata: {name: nginx, labels: {app: nginx}}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80, name: web}]
        # The claim starts empty, so nginx has no index.html to serve yet
        # (a real one answers 403): ready once it listens.
        readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
        volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: bb}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: bb, image: "busybox:1.28", command: [sleep, "3600"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: five}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, "sleep 1"]}]
`
}

// TestStatefulStorage is issue 14's StatefulSet and Job e2e: web-0..2
// are made in order, each on its own local-path claim; web-0.nginx
// resolves from another pod; a file written under web-0's claim is there
// after web-0 is deleted and made again; scaling to 2 removes web-2; the
// Job completes 5 pods, 2 at a time.
func TestStatefulStorage(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	s.waitFor(t, 30*time.Second, "the local-path class", func() (bool, string) {
		out, _ := s.kubectl("get", "sc")
		return strings.Contains(out, "local-path (default)   rancher.io/local-path   Delete          WaitForFirstConsumer"), out
	})
	s.apply(t, statefulManifest())
	var order []string
	s.waitFor(t, 150*time.Second, "web-0, web-1, web-2 Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-l", "app=nginx", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].ready}{"\n"}{end}`)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if name, _, _ := strings.Cut(line, " "); name != "" && !slices.Contains(order, name) {
				order = append(order, name)
			}
		}
		return strings.Count(out, " true") == 3, out
	})
	t.Run("pods made in order", func(t *testing.T) {
		if !slices.Equal(order, []string{"web-0", "web-1", "web-2"}) {
			t.Errorf("pods appeared in the order %v", order)
		}
	})
	t.Run("claims bound", func(t *testing.T) { s.checkClaims(t) })
	t.Run("web-0.nginx resolves", func(t *testing.T) {
		s.waitRunningReady(t, "bb")
		ip := s.podField("web-0", "{.status.podIP}")
		s.waitFor(t, 30*time.Second, "nslookup web-0.nginx", func() (bool, string) {
			out, _ := s.kubectl("exec", "bb", "--", "nslookup", "web-0.nginx")
			return strings.Contains(out, "Address 1: "+ip+" web-0.nginx.default.svc.cluster.local"), out
		})
	})
	t.Run("web-0 comes back to its data", func(t *testing.T) { s.checkStatefulData(t) })
	t.Run("scale down removes web-2 first", func(t *testing.T) {
		s.must(t, "scale", "sts", "web", "--replicas=2")
		s.waitFor(t, 60*time.Second, "web-2 gone", func() (bool, string) {
			out, _ := s.kubectl("get", "pods", "-l", "app=nginx", "-o", "jsonpath={.items[*].metadata.name}")
			return out == "web-0 web-1", out
		})
	})
	t.Run("a Job of 5 completions, 2 at a time", func(t *testing.T) {
		s.waitFor(t, 120*time.Second, "job five Complete", func() (bool, string) {
			out, _ := s.kubectl("get", "job", "five", "-o", `jsonpath={.status.succeeded} {.status.conditions[?(@.type=="Complete")].status}`)
			return out == "5 True", out
		})
	})
}

// checkClaims: www-web-0..2 Bound to local-path volumes, each a
// directory under the data directory's storage/.
func (s *sandbox) checkClaims(t *testing.T) {
	out := s.must(t, "get", "pvc", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.spec.storageClassName}{"\n"}{end}`)
	if want := "www-web-0 Bound local-path\nwww-web-1 Bound local-path\nwww-web-2 Bound local-path\n"; out != want {
		t.Errorf("claims:\n%s\nwant\n%s", out, want)
	}
	pv := s.must(t, "get", "pvc", "www-web-0", "-o", "jsonpath={.spec.volumeName}")
	path := s.must(t, "get", "pv", pv, "-o", "jsonpath={.spec.hostPath.path}")
	if want := filepath.Join(s.dataDir, "storage", pv+"_default_www-web-0"); path != want {
		t.Errorf("volume path %s, want %s", path, want)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("volume directory: %v", err)
	}
}

// checkStatefulData writes index.html under web-0's claim, deletes web-0
// and reads the file again in the new pod.
func (s *sandbox) checkStatefulData(t *testing.T) {
	s.must(t, "exec", "web-0", "--", "sh", "-c", "echo web-0-data > /usr/share/nginx/html/index.html")
	uid := s.podField("web-0", "{.metadata.uid}")
	s.must(t, "delete", "pod", "web-0", "--wait=true")
	s.waitFor(t, 90*time.Second, "web-0 made again and Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pod", "web-0", "-o", `jsonpath={.metadata.uid} {.status.containerStatuses[0].ready}`)
		return !strings.HasPrefix(out, uid) && strings.HasSuffix(out, " true"), out
	})
	if out := s.must(t, "exec", "web-0", "--", "cat", "/usr/share/nginx/html/index.html"); out != "web-0-data\n" {
		t.Errorf("web-0's file after it came back: %q", out)
	}
	// As the tutorial shows it: nginx serves the page from the claim.
	s.waitFor(t, 30*time.Second, "web-0's page through its DNS name", func() (bool, string) {
		out, err := s.kubectl("exec", "bb", "--", "wget", "-qO-", "-T", "2", "http://web-0.nginx")
		return err == nil && out == "web-0-data\n", out
	})
}
