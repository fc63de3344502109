package quota

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	podsGR = schema.GroupResource{Resource: "pods"}
	svcGR  = schema.GroupResource{Resource: "services"}
)

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func quotaOf(name string, hard, used corev1.ResourceList) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.ResourceQuotaSpec{Hard: hard}, Status: corev1.ResourceQuotaStatus{Hard: hard, Used: used}}
}

func pod(name string, req corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}}}}}
}

func TestAdmit(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		quotas  []*corev1.ResourceQuota
		gr      schema.GroupResource
		obj     runtime.Object
		wantErr string
		want    map[string]string // quota -> used after, as prettyPrint
	}{
		{"pod under quota", []*corev1.ResourceQuota{quotaOf("q", list("pods", "2"), list("pods", "1"))},
			podsGR, pod("p", nil), "", map[string]string{"q": "pods=2"}},
		{"pod over quota", []*corev1.ResourceQuota{quotaOf("condition-test", list("pods", "2"), list("pods", "2"))},
			podsGR, pod("p", nil), "exceeded quota: condition-test, requested: pods=1, used: pods=2, limited: pods=2", nil},
		{"status not computed yet", []*corev1.ResourceQuota{quotaOf("q", list("pods", "2"), nil)},
			podsGR, pod("p", nil), "status unknown for quota: q, resources: pods", nil},
		{"cpu quota needs requests", []*corev1.ResourceQuota{quotaOf("q", list("requests.cpu", "1"), list("requests.cpu", "0"))},
			podsGR, pod("p", nil), "failed quota: q: must specify requests.cpu for: c", nil},
		{"cpu adds up", []*corev1.ResourceQuota{quotaOf("q", list("requests.cpu", "1", "pods", "5"), list("requests.cpu", "500m", "pods", "1"))},
			podsGR, pod("p", list("cpu", "250m")), "", map[string]string{"q": "pods=2,requests.cpu=750m"}},
		{"cpu over", []*corev1.ResourceQuota{quotaOf("q", list("requests.cpu", "1"), list("requests.cpu", "900m"))},
			podsGR, pod("p", list("cpu", "250m")), "exceeded quota: q, requested: requests.cpu=250m, used: requests.cpu=900m, limited: requests.cpu=1", nil},
		{"other resources untouched", []*corev1.ResourceQuota{quotaOf("q", list("services", "1"), list("services", "1"))},
			podsGR, pod("p", nil), "", map[string]string{}},
		{"service node ports", []*corev1.ResourceQuota{quotaOf("q", list("services.nodeports", "1"), list("services.nodeports", "0"))},
			svcGR, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 81}}}},
			"exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1", nil},
		{"configmaps count", []*corev1.ResourceQuota{quotaOf("q", list("configmaps", "3", "count/configmaps", "3"), list("configmaps", "1", "count/configmaps", "1"))},
			schema.GroupResource{Resource: "configmaps"}, &corev1.ConfigMap{}, "", map[string]string{"q": "configmaps=2,count/configmaps=2"}},
		{"scoped quota skips other pods", []*corev1.ResourceQuota{{ObjectMeta: metav1.ObjectMeta{Name: "q"},
			Spec:   corev1.ResourceQuotaSpec{Hard: list("pods", "0"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort}},
			Status: corev1.ResourceQuotaStatus{Hard: list("pods", "0"), Used: list("pods", "0")}}},
			podsGR, pod("p", nil), "", map[string]string{}},
		{"scoped quota counts its pods", []*corev1.ResourceQuota{{ObjectMeta: metav1.ObjectMeta{Name: "q"},
			Spec:   corev1.ResourceQuotaSpec{Hard: list("pods", "0"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}},
			Status: corev1.ResourceQuotaStatus{Hard: list("pods", "0"), Used: list("pods", "0")}}},
			podsGR, pod("p", nil), "exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Admit(tt.quotas, tt.gr, tt.obj, now)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d quotas to update, want %d", len(got), len(tt.want))
			}
			for _, q := range got {
				if s := prettyPrint(q.Status.Used); s != tt.want[q.Name] {
					t.Errorf("quota %s used %s, want %s", q.Name, s, tt.want[q.Name])
				}
			}
		})
	}
}

func TestUsed(t *testing.T) {
	now := time.Now()
	q := quotaOf("q", list("pods", "10", "count/pods", "10", "requests.memory", "1Gi", "services", "1"), nil)
	done := pod("done", list("memory", "100Mi"))
	done.Status.Phase = corev1.PodSucceeded
	objs := []runtime.Object{pod("a", list("memory", "100Mi")), pod("b", list("memory", "28Mi")), done}
	got := prettyPrint(Used(q, podsGR, objs, now))
	if want := "count/pods=3,pods=2,requests.memory=128Mi"; got != want {
		t.Errorf("used %s, want %s", got, want)
	}
	if got := prettyPrint(Used(q, svcGR, nil, now)); got != "services=0" {
		t.Errorf("services used %s, want services=0", got)
	}
}

func TestConstraintsListsContainers(t *testing.T) {
	p := pod("p", nil)
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b"})
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Limits: list("memory", "1Mi")}}}
	err := Constraints([]corev1.ResourceName{"limits.memory", "requests.cpu", "pods"}, p)
	if err == nil || !strings.Contains(err.Error(), "must specify limits.memory for: b,c; requests.cpu for: b,c,init") {
		t.Fatalf("error %v", err)
	}
}
