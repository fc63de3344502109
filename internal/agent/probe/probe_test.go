package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	target := Target{IP: host, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
		Exec: func(_ context.Context, cmd []string) (string, int, error) {
			if cmd[0] == "fail" {
				return "nope", 1, nil
			}
			if cmd[0] == "broken" {
				return "", -1, errors.New("not running")
			}
			return "", 0, nil
		}}
	tests := []struct {
		name  string
		probe corev1.Probe
		want  Result
	}{
		{"http ok by name", corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}}, Success},
		{"http 503", corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/bad", Port: intstr.FromInt32(int32(port))}}}, Failure},
		{"http unknown port name", corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("nope")}}}, Failure},
		{"tcp ok", corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}}, Success},
		{"tcp closed", corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(1)}}}, Failure},
		{"exec ok", corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}, Success},
		{"exec fails", corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"fail"}}}}, Failure},
		{"exec error", corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"broken"}}}}, Failure},
		{"grpc unsupported", corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 1}}}, Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.probe.TimeoutSeconds = 1
			if got, msg := Run(context.Background(), &tt.probe, target); got != tt.want {
				t.Fatalf("got %s (%s), want %s", got, msg, tt.want)
			}
		})
	}
}

func TestWorkerThresholds(t *testing.T) {
	var mu sync.Mutex
	var changes []Result
	w := &worker{kind: Readiness, probe: &corev1.Probe{SuccessThreshold: 2, FailureThreshold: 3}, state: initial(Readiness),
		onChange: func(_ Kind, r Result, _ string) {
			if r != Unknown {
				mu.Lock()
				changes = append(changes, r)
				mu.Unlock()
			}
		}}
	for _, r := range []Result{Success, Success, Failure, Failure, Success, Failure, Failure, Failure} {
		w.record(r, "")
	}
	if len(changes) != 2 || changes[0] != Success || changes[1] != Failure {
		t.Fatalf("state changes %v, want [success failure]", changes)
	}
}

func TestManagerStartupGatesReadiness(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	pass := false
	target := func(*corev1.Container) Target {
		return Target{Exec: func(context.Context, []string) (string, int, error) {
			mu.Lock()
			defer mu.Unlock()
			if pass {
				return "", 0, nil
			}
			return "", 1, nil
		}}
	}
	m := NewManager(ctx, target, func(Event) {})
	exec := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}
	c := &corev1.Container{Name: "c", StartupProbe: &corev1.Probe{ProbeHandler: exec, PeriodSeconds: 1, FailureThreshold: 100},
		ReadinessProbe: &corev1.Probe{ProbeHandler: exec, PeriodSeconds: 1}}
	m.Sync([]Container{{Spec: c, StartedAt: time.Now()}})
	time.Sleep(300 * time.Millisecond)
	if m.Started(c, 0) || m.Ready(c, 0) {
		t.Fatal("started or ready before the startup probe passed")
	}
	mu.Lock()
	pass = true
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for !m.Ready(c, 0) {
		if time.Now().After(deadline) {
			t.Fatal("not ready after the probes passed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.Stop()
}

// TestManagerReadyPerInstance: a readiness probe counts only for the
// instance its worker probes. With no worker yet, or only the previous
// instance's (the container restarted, the workers not synced), the
// container is not ready; a container without probes always is.
func TestManagerReadyPerInstance(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := func(*corev1.Container) Target {
		return Target{Exec: func(context.Context, []string) (string, int, error) { return "", 0, nil }}
	}
	m := NewManager(ctx, target, func(Event) {})
	defer m.Stop()
	exec := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}
	c := &corev1.Container{Name: "c", ReadinessProbe: &corev1.Probe{ProbeHandler: exec, PeriodSeconds: 1}}
	plain := &corev1.Container{Name: "plain"}
	if m.Ready(c, 0) {
		t.Fatal("ready with no probe worker")
	}
	if !m.Ready(plain, 0) || !m.Started(plain, 3) {
		t.Fatal("a container without probes is not ready")
	}
	m.Sync([]Container{{Spec: c, StartedAt: time.Now()}})
	deadline := time.Now().Add(5 * time.Second)
	for !m.Ready(c, 0) {
		if time.Now().After(deadline) {
			t.Fatal("not ready after its probe passed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m.Ready(c, 1) {
		t.Fatal("the restarted instance is ready by the previous instance's probe")
	}
}
