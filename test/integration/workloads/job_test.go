package workloads

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/svcplane/svcplane/internal/testcluster"
)

const cronManifest = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    spec:
      completions: 3
      parallelism: 2
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: hello
            image: busybox
`

// TestJobFromCronJob makes a Job with `kubectl create job --from=cronjob`
// and plays its pods to success: at most parallelism run at once, the
// tracking finalizer is released, the Job completes with the 1.32
// conditions and the Table shows it.
func TestJobFromCronJob(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("jobs")
	e.addNode("node-a", nil, false)
	if _, _, err := e.KubectlResult(cronManifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err)
	}
	out := e.kubectl("get", "cronjob", "hello", "-n", ns)
	if !strings.Contains(out, "NAME    SCHEDULE    TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE") ||
		!strings.Contains(out, "hello   0 0 1 1 *   <none>     False     0        <none>") {
		t.Errorf("get cronjob:\n%s", out)
	}
	e.kubectl("create", "job", "manual", "--from=cronjob/hello", "-n", ns)
	for done := 0; done < 3; {
		pods := e.waitJobPods(ns, min(2, 3-done))
		e.succeed(pods[0])
		done++
	}
	e.eventually(20*time.Second, "job complete", func() (bool, string) {
		j, err := e.Client.BatchV1().Jobs(ns).Get(e.ctx, "manual", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		var conds []string
		for _, c := range j.Status.Conditions {
			conds = append(conds, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
		}
		got := strings.Join(conds, ",")
		return j.Status.Succeeded == 3 && got == "SuccessCriteriaMet=True(CompletionsReached),Complete=True(CompletionsReached)" &&
			j.Status.CompletionTime != nil, fmt.Sprintf("succeeded %d conditions %s", j.Status.Succeeded, got)
	})
	out = e.kubectl("get", "job", "manual", "-n", ns)
	if !strings.Contains(out, "NAME     STATUS     COMPLETIONS   DURATION   AGE") || !strings.Contains(out, "manual   Complete   3/3") {
		t.Errorf("get job:\n%s", out)
	}
	for _, p := range e.pods(ns) {
		if len(p.Finalizers) != 0 || p.Labels["batch.kubernetes.io/job-name"] != "manual" {
			t.Errorf("pod %s finalizers %v labels %v", p.Name, p.Finalizers, p.Labels)
		}
	}
}

// waitJobPods waits for n running (not finished) pods and returns them.
func (e *env) waitJobPods(ns string, n int) []corev1.Pod {
	e.t.Helper()
	var live []corev1.Pod
	e.eventually(20*time.Second, fmt.Sprintf("%d job pods", n), func() (bool, string) {
		live = nil
		for _, p := range e.pods(ns) {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				live = append(live, p)
			}
		}
		return len(live) == n, fmt.Sprintf("%d live pods", len(live))
	})
	return live
}

// succeed plays the kubelet finishing a pod's only container with 0.
func (e *env) succeed(p corev1.Pod) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := e.Client.CoreV1().Pods(p.Namespace).Get(e.ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Phase = corev1.PodSucceeded
		_, err = e.Client.CoreV1().Pods(p.Namespace).UpdateStatus(e.ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}
