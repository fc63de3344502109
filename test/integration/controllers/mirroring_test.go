package controllers

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/controller/mirroring"
)

func TestHandWrittenEndpointsMirrored(t *testing.T) {
	e := start(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: e.ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "db", Port: 5432}}},
	}
	e.must(e.Client.CoreV1().Services(e.ns).Create(e.ctx, svc, metav1.CreateOptions{}))
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: e.ns},
		Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "192.0.2.10"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.0.2.11"}},
			Ports:             []corev1.EndpointPort{{Name: "db", Port: 5432}},
		}},
	}
	ep, err := e.Client.CoreV1().Endpoints(e.ns).Create(e.ctx, ep, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("mirrored", func() string {
		s := e.slices("ext")
		if len(s) != 1 || s[0].Labels[discoveryv1.LabelManagedBy] != mirroring.ManagedBy {
			return fmt.Sprintf("slices %+v", s)
		}
		return expect(e.slicesText("ext"), "[5432] 192.0.2.10(r) 192.0.2.11(n)")
	})

	ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, corev1.EndpointAddress{IP: "192.0.2.12"})
	ep, err = e.Client.CoreV1().Endpoints(e.ns).Update(e.ctx, ep, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("update mirrored", func() string {
		return expect(e.slicesText("ext"), "[5432] 192.0.2.10(r) 192.0.2.12(r) 192.0.2.11(n)")
	})

	ep.Labels = map[string]string{discoveryv1.LabelSkipMirror: "true"}
	ep, err = e.Client.CoreV1().Endpoints(e.ns).Update(e.ctx, ep, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("skip-mirror removes the mirror", func() string { return expect(e.slicesText("ext"), "") })

	ep.Labels = nil
	if _, err := e.Client.CoreV1().Endpoints(e.ns).Update(e.ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("mirrored again", func() string { return expect(fmt.Sprint(strings.Count(e.slicesText("ext"), "192.0.2.")), "3") })

	e.must(nil, e.Client.CoreV1().Services(e.ns).Delete(e.ctx, "ext", metav1.DeleteOptions{}))
	e.eventually("Endpoints and mirror removed with the Service", func() string {
		return expect(e.endpointsText("ext"), "absent") + expect(e.slicesText("ext"), "")
	})
}

func TestTooManyAddressesToMirrorEvent(t *testing.T) {
	e := start(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "wide", Namespace: e.ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	e.must(e.Client.CoreV1().Services(e.ns).Create(e.ctx, svc, metav1.CreateOptions{}))
	ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 80}}}
	for i := range 1003 {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: fmt.Sprintf("192.0.%d.%d", 2+i/250, i%250+1)})
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "wide", Namespace: e.ns}, Subsets: []corev1.EndpointSubset{ss}}
	e.must(e.Client.CoreV1().Endpoints(e.ns).Create(e.ctx, ep, metav1.CreateOptions{}))
	e.eventually("1000 addresses mirrored and a warning event", func() string {
		if got := sliceSizes(e.slices("wide")); got != "1000" {
			return "slice sizes " + got
		}
		return e.event("wide", "TooManyAddressesToMirror",
			"A max of 1000 addresses can be mirrored to EndpointSlices per Endpoints subset. 3 addresses were skipped")
	})
}

// event checks that a Warning event with reason and message names the
// object.
func (e *env) event(name, reason, message string) string {
	list, err := e.Client.CoreV1().Events(e.ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var seen []string
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == name && ev.Reason == reason && ev.Type == corev1.EventTypeWarning && ev.Message == message {
			return ""
		}
		seen = append(seen, ev.Reason+": "+ev.Message)
	}
	return fmt.Sprintf("no %s event; seen %q", reason, seen)
}
