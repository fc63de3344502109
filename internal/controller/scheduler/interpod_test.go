package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// placed is node n holding pods labelled app=<each of apps>, in default.
func placed(n NodeInfo, apps ...string) NodeInfo {
	for i, a := range apps {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n.Node.Name + "-" + a + string(rune('a'+i)), Namespace: "default", Labels: map[string]string{"app": a}}}
		n.PodList = append(n.PodList, p)
		n.Pods++
	}
	return n
}

func host(name string) NodeInfo {
	return node(name, map[string]string{corev1.LabelHostname: name, "zone": "z" + name[len(name)-1:]})
}

func TestScheduleSpreadAndInterPod(t *testing.T) {
	web := metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	pod := func(edit func(*corev1.PodSpec)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "default", Labels: map[string]string{"app": "web"}}}
		edit(&p.Spec)
		return p
	}
	spread := pod(func(s *corev1.PodSpec) {
		s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelHostname,
			WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &web}}
	})
	anti := pod(func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &web, TopologyKey: corev1.LabelHostname}}}}
	})
	affine := pod(func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, TopologyKey: "zone"}}}}
	})
	selfAffine := pod(func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &web, TopologyKey: "zone"}}}}
	})
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []NodeInfo
		want  string
		err   string
	}{
		// n1 holds many other pods: the fewest-pods rule alone would pick n2.
		{"spread beats fewest pods", spread, []NodeInfo{placed(host("n1"), "x", "x", "x"), placed(host("n2"), "web"), placed(host("n3"), "web")}, "n1", ""},
		{"spread: a cordoned node still counts as a domain", spread, []NodeInfo{placed(host("n1"), "web", "web"), node("n2", nil), host("n3")}, "",
			"0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."},
		{"anti-affinity", anti, []NodeInfo{placed(host("n1"), "web"), placed(host("n2"), "web", "x"), placed(host("n3"), "x", "x", "x")}, "n3", ""},
		{"anti-affinity: every node taken", anti, []NodeInfo{placed(host("n1"), "web"), placed(host("n2"), "web")}, "",
			"0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."},
		{"affinity to another app's zone", affine, []NodeInfo{placed(host("n1")), placed(host("n2"), "db", "x", "x")}, "n2", ""},
		{"affinity: nothing to join", affine, []NodeInfo{placed(host("n1"))}, "",
			"0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."},
		{"affinity to itself: the first may go anywhere", selfAffine, []NodeInfo{placed(host("n1"), "x"), placed(host("n2"))}, "n2", ""},
	}
	cases[1].nodes[2].Node.Spec.Unschedulable = true
	existing := placed(host("n1"), "db")
	existing.PodList[0].Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
		{LabelSelector: &web, TopologyKey: corev1.LabelHostname}}}}
	cases = append(cases, struct {
		name  string
		pod   *corev1.Pod
		nodes []NodeInfo
		want  string
		err   string
	}{"existing pod's anti-affinity", pod(func(*corev1.PodSpec) {}), []NodeInfo{existing, placed(host("n2"), "x", "x")}, "n2", ""})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Schedule(tc.pod, tc.nodes)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			if got != tc.want || errText != tc.err {
				t.Errorf("got %q, %q\nwant %q, %q", got, errText, tc.want, tc.err)
			}
		})
	}
}
