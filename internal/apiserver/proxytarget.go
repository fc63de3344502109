package apiserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// proxyName is the name part of a proxy URL: [scheme:]name[:port].
type proxyName struct {
	Scheme, Name, Port string
}

// parseProxyName splits "name", "name:port", "scheme:name:port" and
// "scheme:name:" as upstream's net.SplitSchemeNamePort does; only http and
// https are schemes.
func parseProxyName(s string) (proxyName, bool) {
	parts := strings.Split(s, ":")
	var p proxyName
	switch len(parts) {
	case 1:
		p.Name = parts[0]
	case 2:
		p.Name, p.Port = parts[0], parts[1]
	case 3:
		p.Scheme, p.Name, p.Port = parts[0], parts[1], parts[2]
	default:
		return p, false
	}
	if p.Name == "" || (p.Scheme != "" && p.Scheme != "http" && p.Scheme != "https") {
		return p, false
	}
	return p, true
}

// podHost is the pod's IP with the asked port: a number, or a container
// port's name (which upstream does not resolve). None is the first
// declared container port, as upstream, else the scheme's default port.
func podHost(pod *corev1.Pod, port string) (string, error) {
	ip := pod.Status.PodIP
	if err := proxyable(ip); err != nil {
		return "", err
	}
	if port == "" {
		for _, c := range pod.Spec.Containers {
			if len(c.Ports) > 0 {
				return net.JoinHostPort(ip, strconv.Itoa(int(c.Ports[0].ContainerPort))), nil
			}
		}
		if strings.Contains(ip, ":") {
			return "[" + ip + "]", nil
		}
		return ip, nil
	}
	if _, err := strconv.ParseUint(port, 10, 16); err == nil {
		return net.JoinHostPort(ip, port), nil
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == port {
				return net.JoinHostPort(ip, strconv.Itoa(int(cp.ContainerPort))), nil
			}
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("no container port named %q in pod %s", port, pod.Name))
}

// proxyable refuses what upstream's IsProxyableIP refuses: anything but
// a global unicast address (no loopback, link-local or unspecified).
func proxyable(ip string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil || !net.IP(a.AsSlice()).IsGlobalUnicast() {
		return apierrors.NewBadRequest("address not allowed")
	}
	return nil
}

// servicePortName is the name of the Service's port asked for by name or
// number; an empty ask takes the only (or first) port.
func servicePortName(svc *corev1.Service, port string) (string, error) {
	for _, sp := range svc.Spec.Ports {
		if port == "" || sp.Name == port || strconv.Itoa(int(sp.Port)) == port {
			return sp.Name, nil
		}
	}
	return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %q found for service %q", port, svc.Name))
}

// endpointHost picks one ready address of the Endpoints with the target
// port of the Service port named portName; pick chooses among n.
func endpointHost(ep *corev1.Endpoints, portName string, pick func(n int) int) (string, error) {
	var hosts []string
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			if p.Name != portName {
				continue
			}
			for _, a := range ss.Addresses {
				if proxyable(a.IP) != nil {
					continue
				}
				hosts = append(hosts, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	if len(hosts) == 0 {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", ep.Name))
	}
	if pick == nil {
		pick = rand.IntN
	}
	return hosts[pick(len(hosts))], nil
}
