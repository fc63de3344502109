package workloads

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/controller/deployment"
	"github.com/svcplane/svcplane/internal/testcluster"
)

func webDeployment(ns string, replicas int32) *appsv1.Deployment {
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.25"}}},
			},
		},
	}
}

// pods lists the pods of a namespace that are not being deleted.
func (e *env) pods(ns string) []corev1.Pod {
	e.t.Helper()
	list, err := e.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// waitPods waits until the namespace has n live pods, all bound and ready.
func (e *env) waitPods(ns string, n int) []corev1.Pod {
	e.t.Helper()
	var pods []corev1.Pod
	e.eventually(20*time.Second, fmt.Sprintf("%d ready pods in %s", n, ns), func() (bool, string) {
		pods = e.pods(ns)
		ready := 0
		for _, p := range pods {
			if p.Spec.NodeName != "" && isReady(&p) {
				ready++
			}
		}
		return len(pods) == n && ready == n, fmt.Sprintf("%d pods, %d bound and ready", len(pods), ready)
	})
	return pods
}

func TestDeployment(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("deploy")
	e.addNode("node-a", nil, true)
	e.addNode("node-b", nil, true)
	// A node is tainted not-ready until its Ready status is seen: pods
	// created before both are free of taints would all go to one.
	e.eventually(20*time.Second, "both nodes without taints", func() (bool, string) {
		nodes, err := e.Client.CoreV1().Nodes().List(e.ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		free := 0
		for _, n := range nodes.Items {
			if len(n.Spec.Taints) == 0 {
				free++
			}
		}
		return free == 2, fmt.Sprintf("%d of %d nodes without taints", free, len(nodes.Items))
	})
	d, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, webDeployment(ns, 3), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := e.waitPods(ns, 3)
	checkPodNames(t, d, pods)
	checkSpread(t, pods)
	out := e.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=20s")
	if !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status: %s", out)
	}
	t.Run("scale", func(t *testing.T) { testScale(e.with(t), ns) })
	t.Run("rolling update", func(t *testing.T) { testRollingUpdate(e.with(t), ns) })
	t.Run("delete", func(t *testing.T) { testDelete(e.with(t), ns) })
}

// checkPodNames checks the <deployment>-<hash>-<5 chars> names.
func checkPodNames(t *testing.T, d *appsv1.Deployment, pods []corev1.Pod) {
	t.Helper()
	hash := deployment.ComputeHash(&d.Spec.Template, nil)
	re := regexp.MustCompile(`^web-` + hash + `-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	for _, p := range pods {
		if !re.MatchString(p.Name) || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
			t.Errorf("pod %s (hash label %q) does not match %s", p.Name, p.Labels[appsv1.DefaultDeploymentUniqueLabelKey], re)
		}
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.Kind != "ReplicaSet" || ref.Name != "web-"+hash || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s owner %+v", p.Name, ref)
		}
	}
}

// checkSpread checks fewest-pods-first placement: 3 pods on 2 nodes.
func checkSpread(t *testing.T, pods []corev1.Pod) {
	t.Helper()
	perNode := map[string]int{}
	for _, p := range pods {
		perNode[p.Spec.NodeName]++
	}
	if len(perNode) != 2 || perNode["node-a"]+perNode["node-b"] != 3 {
		t.Errorf("pods per node %v", perNode)
	}
}

func testScale(e *env, ns string) {
	out := e.kubectl("scale", "deploy/web", "-n", ns, "--replicas=5")
	if !strings.Contains(out, "deployment.apps/web scaled") {
		e.t.Errorf("kubectl scale: %s", out)
	}
	e.waitPods(ns, 5)
	e.waitDeployment(ns, "5/5")
	if _, err := e.Client.AppsV1().Deployments(ns).Patch(e.ctx, "web", "application/merge-patch+json",
		[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitPods(ns, 3)
	e.waitDeployment(ns, "3/3")
	e.eventually(10*time.Second, "scaling events", func() (bool, string) {
		got := e.events(ns, "web", "ScalingReplicaSet")
		want := []string{"Scaled down replica set web-%s from 5 to 3", "Scaled up replica set web-%s from 0 to 3", "Scaled up replica set web-%s from 3 to 5"}
		return len(got) == 3 && matchEvents(got, want), strings.Join(got, "; ")
	})
}

// waitDeployment waits until kubectl get deploy shows ready ("3/3") with
// all replicas updated and available.
func (e *env) waitDeployment(ns, ready string) {
	e.t.Helper()
	n := strings.Split(ready, "/")[1]
	e.eventually(20*time.Second, "deployment "+ready, func() (bool, string) {
		out := e.kubectl("get", "deploy", "web", "-n", ns, "--no-headers")
		f := strings.Fields(out)
		return len(f) >= 4 && f[1] == ready && f[2] == n && f[3] == n, out
	})
}

// events lists the messages of events of one reason about one object.
func (e *env) events(ns, name, reason string) []string {
	list, err := e.Client.CoreV1().Events(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == name && ev.Reason == reason {
			out = append(out, ev.Message)
		}
	}
	sort.Strings(out)
	return out
}

// matchEvents compares messages with patterns where %s stands for a hash.
func matchEvents(got, want []string) bool {
	for i, w := range want {
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(w), "%s", "[a-z0-9]+") + "$")
		if i >= len(got) || !re.MatchString(got[i]) {
			return false
		}
	}
	return true
}

// testRollingUpdate changes the image and checks, from the ReplicaSet
// watch, that there are never more than replicas+maxSurge pods wanted and
// never fewer than replicas-maxUnavailable available.
func testRollingUpdate(e *env, ns string) {
	w, err := e.Client.AppsV1().ReplicaSets(ns).Watch(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Stop()
	check := watchRollout(w, 3, 1, 0)
	_, err = e.Client.AppsV1().Deployments(ns).Patch(e.ctx, "web", "application/strategic-merge-patch+json",
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := e.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=30s")
	if !strings.Contains(out, "successfully rolled out") {
		e.t.Errorf("rollout status: %s", out)
	}
	pods := e.waitPods(ns, 3)
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "nginx:1.26" {
			e.t.Errorf("pod %s runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	w.Stop()
	if msg := check(); msg != "" {
		e.t.Error(msg)
	}
	checkRevisions(e, ns)
}

// watchRollout follows ReplicaSet events and returns a function that
// reports the first violation of the rollout bounds: never more than
// replicas+surge pods wanted, and, whenever a ReplicaSet is scaled down,
// at least replicas-unavailable available pods that stay (a ReplicaSet
// sheds unavailable pods first). The watch stream is ordered, so every
// status the controller acted on was seen before its scale-down.
func watchRollout(w watch.Interface, replicas, surge, unavailable int32) func() string {
	var violation string
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := map[string]*appsv1.ReplicaSet{}
		for ev := range w.ResultChan() {
			rs, ok := ev.Object.(*appsv1.ReplicaSet)
			if !ok || violation != "" {
				continue
			}
			prev := seen[rs.Name]
			seen[rs.Name] = rs
			var wanted, staying int32
			for _, r := range seen {
				wanted += *r.Spec.Replicas
				staying += min(*r.Spec.Replicas, r.Status.AvailableReplicas)
			}
			switch {
			case wanted > replicas+surge:
				violation = fmt.Sprintf("%d replicas wanted, more than %d+%d", wanted, replicas, surge)
			case prev != nil && *rs.Spec.Replicas < *prev.Spec.Replicas && staying < replicas-unavailable:
				violation = fmt.Sprintf("scaled %s down to %d leaving %d available", rs.Name, *rs.Spec.Replicas, staying)
			}
		}
	}()
	return func() string {
		<-done
		return violation
	}
}

// checkRevisions checks the revision annotations after one update.
func checkRevisions(e *env, ns string) {
	d, err := e.Client.AppsV1().Deployments(ns).Get(e.ctx, "web", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if rev := d.Annotations[deployment.RevisionAnnotation]; rev != "2" {
		e.t.Errorf("deployment revision %q", rev)
	}
	if d.Generation != d.Status.ObservedGeneration || d.Generation != 4 {
		e.t.Errorf("generation %d observed %d", d.Generation, d.Status.ObservedGeneration)
	}
	list, err := e.Client.AppsV1().ReplicaSets(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	revs := map[string]int32{}
	for _, rs := range list.Items {
		revs[rs.Annotations[deployment.RevisionAnnotation]] = *rs.Spec.Replicas
	}
	if len(revs) != 2 || revs["1"] != 0 || revs["2"] != 3 {
		e.t.Errorf("replica sets by revision: %v", revs)
	}
}

// testDelete deletes the Deployment with kubectl (background cascade):
// its ReplicaSets and pods go.
func testDelete(e *env, ns string) {
	e.kubectl("delete", "deploy/web", "-n", ns)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"}).String()
	e.eventually(20*time.Second, "replica sets and pods gone", func() (bool, string) {
		rs, err1 := e.Client.AppsV1().ReplicaSets(ns).List(e.ctx, metav1.ListOptions{LabelSelector: sel})
		pods, err2 := e.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{LabelSelector: sel})
		if err1 != nil || err2 != nil {
			return false, fmt.Sprint(err1, err2)
		}
		return len(rs.Items) == 0 && len(pods.Items) == 0, fmt.Sprintf("%d replica sets, %d pods", len(rs.Items), len(pods.Items))
	})
}

// TestRolloutStatus: kubectl rollout status waits while the pods are not
// ready and succeeds once the kubelet (here the test) marks them Ready;
// then a Recreate rollout replaces every pod.
func TestRolloutStatus(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("rollout")
	e.addNode("node-a", nil, false)
	e.kwok.setReady("node-a", false)
	d := webDeployment(ns, 2)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if _, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, _, err := e.KubectlResult("", "rollout", "status", "deploy/web", "-n", ns, "--timeout=2s")
	if err == nil || !strings.Contains(out, `Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...`) {
		t.Errorf("rollout status before ready: %v\n%s", err, out)
	}
	e.kwok.setReady("node-a", true)
	out = e.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=20s")
	if !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status: %s", out)
	}
	old := e.waitPods(ns, 2)
	e.kubectl("set", "image", "deploy/web", "nginx=nginx:1.26", "-n", ns)
	e.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=20s")
	for _, p := range e.waitPods(ns, 2) {
		if p.Spec.Containers[0].Image != "nginx:1.26" || p.Name == old[0].Name || p.Name == old[1].Name {
			t.Errorf("pod %s runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	got := e.events(ns, "web", "ScalingReplicaSet")
	want := []string{"Scaled down replica set web-%s from 2 to 0", "Scaled up replica set web-%s from 0 to 2", "Scaled up replica set web-%s from 0 to 2"}
	if !matchEvents(got, want) {
		t.Errorf("events %q", got)
	}
}
