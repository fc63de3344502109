// Package controllers runs the Endpoints, EndpointSlice and mirroring
// controllers in-process against a real API server (embedded etcd on
// loopback) and checks what client-go and kubectl see. Pods are driven as
// kwok does: created with spec.nodeName set, their status (IP, Ready
// condition) written directly.
package controllers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller/endpoints"
	"github.com/svcplane/svcplane/internal/controller/endpointslice"
	"github.com/svcplane/svcplane/internal/controller/mirroring"
	"github.com/svcplane/svcplane/internal/testcluster"
)

// waitFor bounds every wait; the time things actually take is logged.
const waitFor = 20 * time.Second

type env struct {
	*testcluster.Cluster
	t   *testing.T
	ctx context.Context
	ns  string
}

// start runs an API server and the three controllers, and creates a
// namespace and a Node n1 in zone z1.
func start(t *testing.T) *env {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	runs, stop := buildControllers(t, ctx, c.Client)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait(); stop() })
	for _, run := range runs {
		wg.Go(func() { run(ctx) })
	}
	e := &env{Cluster: c, t: t, ctx: ctx, ns: "test"}
	e.must(c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}, metav1.CreateOptions{}))
	e.node("n1", "z1")
	return e
}

// buildControllers builds the controllers over one informer factory and
// starts it; stop, called once ctx is done, waits for the informers and
// the event broadcaster.
func buildControllers(t *testing.T, ctx context.Context, client kubernetes.Interface) (runs []func(context.Context), stop func()) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := informers.NewSharedInformerFactory(client, 0)
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	rec := func(name string) record.EventRecorder {
		return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: name})
	}
	ep, err := endpoints.New(endpoints.Config{Client: client, Informers: f, Recorder: rec(endpoints.Name), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	es, err := endpointslice.New(endpointslice.Config{Client: client, Informers: f, Recorder: rec(endpointslice.Name), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mir, err := mirroring.New(mirroring.Config{Client: client, Informers: f, Recorder: rec(mirroring.Name), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	return []func(context.Context){ep.Run, es.Run, mir.Run}, func() { f.Shutdown(); b.Shutdown() }
}

func (e *env) must(_ any, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) node(name, zone string) {
	e.t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone}}}
	e.must(e.Client.CoreV1().Nodes().Create(e.ctx, n, metav1.CreateOptions{}))
}

// service creates Service name selecting app=<name> with one port 80 ->
// targetPort; mod may change it first.
func (e *env) service(name string, target intstr.IntOrString, mod ...func(*corev1.Service)) *corev1.Service {
	e.t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: target}},
		},
	}
	for _, m := range mod {
		m(svc)
	}
	out, err := e.Client.CoreV1().Services(e.ns).Create(e.ctx, svc, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// pod creates a pod labelled app=<app> on node n1 and writes its status:
// Running with ip, Ready as given. ports name container ports
// ("http=8080").
func (e *env) pod(app, name, ip string, ready bool, ports ...string) *corev1.Pod {
	e.t.Helper()
	c := corev1.Container{Name: "c", Image: "busybox"}
	for _, p := range ports {
		var pname string
		var num int32
		fmt.Sscanf(strings.Replace(p, "=", " ", 1), "%s %d", &pname, &num)
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: pname, ContainerPort: num, Protocol: corev1.ProtocolTCP})
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns, Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{c}},
	}
	created, err := e.Client.CoreV1().Pods(e.ns).Create(e.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	created.Status.PodIP = ip
	created.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	created.Status.Phase = corev1.PodRunning
	return e.setReady(created, ready)
}

// setReady writes the pod's Ready condition (and ContainersReady).
func (e *env) setReady(pod *corev1.Pod, ready bool) *corev1.Pod {
	e.t.Helper()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	now := metav1.Now()
	pod = pod.DeepCopy()
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: st, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: st, LastTransitionTime: now},
	}
	out, err := e.Client.CoreV1().Pods(e.ns).UpdateStatus(e.ctx, pod, metav1.UpdateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// eventually polls check until it returns "" and logs how long that took;
// it fails the test with the last answer after waitFor.
func (e *env) eventually(what string, check func() string) time.Duration {
	e.t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < waitFor {
		if last = check(); last == "" {
			took := time.Since(start)
			e.t.Logf("%s: %v", what, took.Round(time.Millisecond))
			return took
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s: not after %v: %s", what, waitFor, last)
	return 0
}

// endpointsText is the Endpoints as "ready: ...; notready: ..." with
// ip:port entries sorted as stored, or "absent".
func (e *env) endpointsText(name string) string {
	ep, err := e.Client.CoreV1().Endpoints(e.ns).Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		return "absent"
	}
	var ready, notReady []string
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				ready = append(ready, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
			for _, a := range ss.NotReadyAddresses {
				notReady = append(notReady, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	return fmt.Sprintf("ready: %s; notready: %s", strings.Join(ready, " "), strings.Join(notReady, " "))
}

// slices lists the EndpointSlices of a Service.
func (e *env) slices(service string) []discoveryv1.EndpointSlice {
	e.t.Helper()
	list, err := e.Client.DiscoveryV1().EndpointSlices(e.ns).List(e.ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
	if err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// slicesText summarises a Service's slices: per slice, its endpoints as
// ip(r|n) sorted by slice then listing order, with ports.
func (e *env) slicesText(service string) string {
	var parts []string
	for _, s := range e.slices(service) {
		var eps []string
		for _, ep := range s.Endpoints {
			flag := "n"
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				flag = "r"
			}
			eps = append(eps, ep.Addresses[0]+"("+flag+")")
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprint(*p.Port))
		}
		parts = append(parts, fmt.Sprintf("[%s] %s", strings.Join(ports, ","), strings.Join(eps, " ")))
	}
	return strings.Join(parts, " | ")
}
