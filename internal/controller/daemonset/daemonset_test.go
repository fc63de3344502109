package daemonset

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	dsregistry "github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func testDS(mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "ns", UID: "ds-uid", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "proxy"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "proxy"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
	dsregistry.Default(ds)
	dsregistry.PrepareForCreate(context.Background(), ds)
	ds.UID, ds.Namespace = "ds-uid", "ns"
	if mutate != nil {
		mutate(ds)
	}
	return ds
}

func node(name string, mutate func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/os": "linux"}}}
	if mutate != nil {
		mutate(n)
	}
	return n
}

func TestNodeShouldRun(t *testing.T) {
	taint := func(key string, effect corev1.TaintEffect) func(*corev1.Node) {
		return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
	}
	cases := []struct {
		name      string
		ds        func(*appsv1.DaemonSet)
		node      func(*corev1.Node)
		run, keep bool
	}{
		{"plain node", nil, nil, true, true},
		{"nodeSelector matches", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
		}, nil, true, true},
		{"nodeSelector misses", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"} }, nil, false, false},
		{"required affinity misses", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
		}, nil, false, false},
		{"other nodeName", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeName = "n2" }, nil, false, false},
		{"NoSchedule taint: no new pod, old stays", nil, taint("dedicated", corev1.TaintEffectNoSchedule), false, true},
		{"NoExecute taint: none", nil, taint("dedicated", corev1.TaintEffectNoExecute), false, false},
		{"tolerated taint", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}, taint("dedicated", corev1.TaintEffectNoExecute), true, true},
		{"default toleration: unschedulable", nil, taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule), true, true},
		{"default toleration: not-ready NoExecute", nil, taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute), true, true},
		{"network-unavailable only with hostNetwork", nil, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule), false, true},
		{"network-unavailable, hostNetwork", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.HostNetwork = true },
			taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, keep := NodeShouldRun(testDS(tc.ds), node("n1", tc.node))
			if run != tc.run || keep != tc.keep {
				t.Errorf("run, keep = %v, %v; want %v, %v", run, keep, tc.run, tc.keep)
			}
		})
	}
}

func TestNewPod(t *testing.T) {
	ds := testDS(func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.HostNetwork = true })
	p := NewPod(ds, "n1", "abc")
	if p.GenerateName != "proxy-" || p.Labels[RevisionHashLabel] != "abc" || p.Labels[TemplateGenerationLabel] != "1" || p.Labels["app"] != "proxy" {
		t.Errorf("meta: %+v", p.ObjectMeta)
	}
	if PodNode(p) != "n1" || p.Spec.NodeName != "" {
		t.Errorf("node: affinity %+v nodeName %q", p.Spec.Affinity, p.Spec.NodeName)
	}
	if len(p.Spec.Tolerations) != 7 {
		t.Errorf("tolerations: %+v", p.Spec.Tolerations)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "DaemonSet" || ref.UID != "ds-uid" {
		t.Errorf("owner: %+v", ref)
	}
}

// pod is a DaemonSet pod on node at revision hash; ready says since when
// it is ready (0: not ready).
func pod(name, node, hash string, ready time.Duration) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
			Labels:            map[string]string{"app": "proxy", RevisionHashLabel: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "proxy", UID: "ds-uid",
				Controller: ptr(true)}}},
		Spec:   corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if ready > 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now.Add(-ready))}}
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func describe(a Actions) string {
	var out []string
	for _, n := range a.Create {
		out = append(out, "create@"+n)
	}
	for _, p := range a.Delete {
		out = append(out, "delete "+p.Name)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestPlan(t *testing.T) {
	surge := func(d *appsv1.DaemonSet) {
		one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
		d.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: &one, MaxUnavailable: &zero}
	}
	onDelete := func(d *appsv1.DaemonSet) {
		d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	}
	failed := pod("f", "n1", "new", 0)
	failed.Status.Phase = corev1.PodFailed
	cases := []struct {
		name  string
		ds    func(*appsv1.DaemonSet)
		nodes []NodeState
		want  string
	}{
		{"one pod per eligible node", nil, []NodeState{{Name: "n1", Run: true, Keep: true}, {Name: "n2", Run: true, Keep: true},
			{Name: "n3"}}, "create@n1 create@n2"},
		{"pods on ineligible nodes go", nil, []NodeState{{Name: "n1", Pods: []*corev1.Pod{pod("a", "n1", "new", time.Hour)}}}, "delete a"},
		{"NoSchedule taint keeps the pod", nil, []NodeState{{Name: "n1", Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "new", time.Hour)}}}, ""},
		{"extra pod: the newer goes", nil, []NodeState{{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{
			pod("a", "n1", "new", time.Hour), func() *corev1.Pod {
				p := pod("b", "n1", "new", time.Hour)
				p.CreationTimestamp = metav1.NewTime(now)
				return p
			}()}}}, "delete b"},
		{"failed pod is deleted, then replaced", nil, []NodeState{{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{failed}}}, "delete f"},
		{"rolling: one old available pod at a time", nil, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "old", time.Hour)}},
			{Name: "n2", Run: true, Keep: true, Pods: []*corev1.Pod{pod("b", "n2", "old", time.Hour)}}}, "delete a"},
		{"rolling: waits while a new pod is not available", nil, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "new", 0)}},
			{Name: "n2", Run: true, Keep: true, Pods: []*corev1.Pod{pod("b", "n2", "old", time.Hour)}}}, ""},
		{"rolling: unavailable old pods go at once", nil, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "old", 0)}},
			{Name: "n2", Run: true, Keep: true, Pods: []*corev1.Pod{pod("b", "n2", "old", 0)}}}, "delete a delete b"},
		{"surge: new pod beside the old", surge, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "old", time.Hour)}},
			{Name: "n2", Run: true, Keep: true, Pods: []*corev1.Pod{pod("b", "n2", "old", time.Hour)}}}, "create@n1"},
		{"surge: old goes once the new is available", surge, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "old", time.Hour), pod("a2", "n1", "new", time.Hour)}},
			{Name: "n2", Run: true, Keep: true, Pods: []*corev1.Pod{pod("b", "n2", "old", time.Hour)}}}, "create@n2 delete a"},
		{"OnDelete leaves old pods", onDelete, []NodeState{
			{Name: "n1", Run: true, Keep: true, Pods: []*corev1.Pod{pod("a", "n1", "old", time.Hour)}}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(Plan(testDS(tc.ds), tc.nodes, "new", now)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCalculateStatus(t *testing.T) {
	ds := testDS(func(d *appsv1.DaemonSet) { d.Generation = 3 })
	nodes := []NodeState{
		{Name: "n1", Run: true, Pods: []*corev1.Pod{pod("a", "n1", "new", time.Hour)}},
		{Name: "n2", Run: true, Pods: []*corev1.Pod{pod("b", "n2", "old", 0)}},
		{Name: "n3", Run: true},
		{Name: "n4", Pods: []*corev1.Pod{pod("c", "n4", "new", time.Hour)}},
	}
	s := CalculateStatus(ds, nodes, "new", now)
	got := []int32{s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberMisscheduled, s.NumberReady,
		s.NumberAvailable, s.UpdatedNumberScheduled, s.NumberUnavailable}
	if want := []int32{3, 2, 1, 1, 1, 1, 2}; !slices.Equal(got, want) || s.ObservedGeneration != 3 {
		t.Errorf("status %v (generation %d), want %v", got, s.ObservedGeneration, want)
	}
}

// TestSync runs one sync over a fake clientset: two eligible nodes and
// one that the nodeSelector excludes get one revision and two pods.
func TestSync(t *testing.T) {
	ds := testDS(func(d *appsv1.DaemonSet) {
		d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	})
	objs := []runtime.Object{ds, node("n1", nil), node("n2", nil), node("win", func(n *corev1.Node) { n.Labels = map[string]string{"kubernetes.io/os": "windows"} })}
	client := fake.NewClientset(objs...)
	generateNames(client)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, DaemonSets: f.Apps().V1().DaemonSets(), Revisions: f.Apps().V1().ControllerRevisions(),
		Pods: f.Core().V1().Pods(), Nodes: f.Core().V1().Nodes(), Recorder: record.NewFakeRecorder(10), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.DaemonSet:
			_ = f.Apps().V1().DaemonSets().Informer().GetIndexer().Add(o)
		case *corev1.Node:
			_ = f.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		}
	}
	if err := c.sync(context.Background(), "ns/proxy"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		if ca, ok := a.(k8stesting.CreateAction); ok && a.GetVerb() == "create" {
			switch o := ca.GetObject().(type) {
			case *corev1.Pod:
				got = append(got, "pod@"+PodNode(o))
			case *appsv1.ControllerRevision:
				if o.Name != "proxy-"+o.Labels[RevisionHashLabel] || o.Revision != 1 {
					t.Errorf("revision %s: labels %v, revision %d", o.Name, o.Labels, o.Revision)
				}
				got = append(got, "revision")
			}
		}
	}
	sort.Strings(got)
	if want := []string{"pod@n1", "pod@n2", "revision"}; !slices.Equal(got, want) {
		t.Errorf("created %v", got)
	}
}

// generateNames makes the fake clientset complete generateName.
func generateNames(client *fake.Clientset) {
	n := 0
	client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		o := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		if o.GetName() == "" && o.GetGenerateName() != "" {
			n++
			o.SetName(fmt.Sprintf("%s%05d", o.GetGenerateName(), n))
		}
		return false, nil, nil
	})
}
