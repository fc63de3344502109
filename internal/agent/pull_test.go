package agent

import (
	"context"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

// TestAgentPullEvents: pull policy Always gives the kubelet's Pulling and
// Pulled events for an image the node holds, IfNotPresent "already
// present", and Never for an image the node lacks ErrImageNeverPull.
func TestAgentPullEvents(t *testing.T) {
	client := fake.NewSimpleClientset()
	rec := record.NewFakeRecorder(1000)
	startAgentWith(t, client, func(c *Config) { c.Recorder = rec })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: "default", UID: "u-pull"},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{
			{Name: "always", Image: "nginx", ImagePullPolicy: corev1.PullAlways},
			{Name: "present", Image: "busybox:1.28", ImagePullPolicy: corev1.PullIfNotPresent},
			{Name: "never", Image: "example.com/absent:1", ImagePullPolicy: corev1.PullNever},
		}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]*regexp.Regexp{
		"pulling":    regexp.MustCompile(`^Normal Pulling Pulling image "nginx"$`),
		"pulled":     regexp.MustCompile(`^Normal Pulled Successfully pulled image "nginx" in \S+ \(\S+ including waiting\)\. Image size: \d+ bytes\.$`),
		"present":    regexp.MustCompile(`^Normal Pulled Container image "busybox:1.28" already present on machine$`),
		"never":      regexp.MustCompile(`^Warning ErrImageNeverPull Container image "example.com/absent:1" is not present with pull policy of Never$`),
		"neverError": regexp.MustCompile(`^Warning Failed Error: ErrImageNeverPull$`),
		"created":    regexp.MustCompile(`^Normal Created Created container: always$`),
	}
	unwanted := regexp.MustCompile(`Pulling image "(busybox:1.28|example.com/absent:1)"|ErrImagePull\b`)
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case e := <-rec.Events:
			if unwanted.MatchString(e) {
				t.Errorf("unexpected event %q", e)
			}
			for k, re := range want {
				if re.MatchString(e) {
					delete(want, k)
				}
			}
		case <-deadline:
			t.Fatalf("events not seen: %v", want)
		}
	}
	got := waitPod(t, client, "pull", func(p *corev1.Pod, err error) bool {
		return err == nil && len(p.Status.ContainerStatuses) == 3 && p.Status.ContainerStatuses[2].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Running != nil
	})
	if w := got.Status.ContainerStatuses[2]; w.State.Waiting.Reason != reasonNeverPull || w.ImageID != "" {
		t.Errorf("never: %+v", w)
	}
	// A built-in image's imageID is its repository digest, as the node lists it.
	if id := got.Status.ContainerStatuses[0].ImageID; !regexp.MustCompile(`^docker.io/library/nginx@sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("imageID %q", id)
	}
}
