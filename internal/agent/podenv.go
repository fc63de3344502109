package agent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serviceEnv returns the docker-links style variables of the Services a
// pod sees: those of its namespace (with enableServiceLinks, the default)
// and the kubernetes Service of the default namespace.
func serviceEnv(pod *corev1.Pod, services []*corev1.Service) []corev1.EnvVar {
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	byName := map[string]*corev1.Service{}
	for _, s := range services {
		switch {
		case s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone:
		case s.Namespace == metav1.NamespaceDefault && s.Name == "kubernetes":
			byName[s.Name] = s
		case links && s.Namespace == pod.Namespace:
			if _, taken := byName[s.Name]; !taken || s.Name != "kubernetes" {
				byName[s.Name] = s
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []corev1.EnvVar
	for _, n := range names {
		out = append(out, varsOfService(byName[n])...)
	}
	return out
}

func varsOfService(s *corev1.Service) []corev1.EnvVar {
	name := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
	ip := s.Spec.ClusterIP
	if len(s.Spec.Ports) == 0 {
		return []corev1.EnvVar{{Name: name + "_SERVICE_HOST", Value: ip}}
	}
	first := s.Spec.Ports[0]
	out := []corev1.EnvVar{
		{Name: name + "_SERVICE_HOST", Value: ip},
		{Name: name + "_SERVICE_PORT", Value: strconv.Itoa(int(first.Port))},
	}
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			pn := strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_"))
			out = append(out, corev1.EnvVar{Name: name + "_SERVICE_PORT_" + pn, Value: strconv.Itoa(int(p.Port))})
		}
	}
	out = append(out, corev1.EnvVar{Name: name + "_PORT", Value: portURL(first, ip)})
	for _, p := range s.Spec.Ports {
		proto := strings.ToUpper(string(p.Protocol))
		if proto == "" {
			proto = "TCP"
		}
		prefix := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, proto)
		out = append(out,
			corev1.EnvVar{Name: prefix, Value: portURL(p, ip)},
			corev1.EnvVar{Name: prefix + "_PROTO", Value: strings.ToLower(proto)},
			corev1.EnvVar{Name: prefix + "_PORT", Value: strconv.Itoa(int(p.Port))},
			corev1.EnvVar{Name: prefix + "_ADDR", Value: ip})
	}
	return out
}

func portURL(p corev1.ServicePort, ip string) string {
	proto := strings.ToLower(string(p.Protocol))
	if proto == "" {
		proto = "tcp"
	}
	return fmt.Sprintf("%s://%s:%d", proto, ip, p.Port)
}

// envSource reads the objects env vars refer to.
type envSource interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
}

// containerEnv is the container's environment: service variables first,
// then envFrom and env in order, with $(VAR) references expanded.
func containerEnv(ctx context.Context, src envSource, pod *corev1.Pod, c *corev1.Container, services []corev1.EnvVar) ([]string, error) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, e := range services {
		set(e.Name, e.Value)
	}
	if err := addEnvFrom(ctx, src, pod.Namespace, c.EnvFrom, set); err != nil {
		return nil, err
	}
	for _, e := range c.Env {
		v, err := envValue(ctx, src, pod, c, e, vals)
		if err != nil {
			return nil, err
		}
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, nil
}

func addEnvFrom(ctx context.Context, src envSource, ns string, from []corev1.EnvFromSource, set func(k, v string)) error {
	for _, f := range from {
		if f.ConfigMapRef == nil {
			continue
		}
		cm, err := src.ConfigMap(ctx, ns, f.ConfigMapRef.Name)
		if err != nil {
			if f.ConfigMapRef.Optional != nil && *f.ConfigMapRef.Optional {
				continue
			}
			return fmt.Errorf("configmap %q not found", f.ConfigMapRef.Name)
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(f.Prefix+k, cm.Data[k])
		}
	}
	return nil
}

func envValue(ctx context.Context, src envSource, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar, vals map[string]string) (string, error) {
	switch {
	case e.ValueFrom == nil:
		return Expand(e.Value, vals), nil
	case e.ValueFrom.FieldRef != nil:
		return fieldValue(pod, e.ValueFrom.FieldRef.FieldPath)
	case e.ValueFrom.ResourceFieldRef != nil:
		return resourceValue(c, e.ValueFrom.ResourceFieldRef), nil
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		cm, err := src.ConfigMap(ctx, pod.Namespace, ref.Name)
		optional := ref.Optional != nil && *ref.Optional
		if err != nil || cm.Data[ref.Key] == "" && !hasKey(cm.Data, ref.Key) {
			if optional {
				return "", nil
			}
			return "", fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return cm.Data[ref.Key], nil
	}
	return "", fmt.Errorf("env %s: secrets are not supported", e.Name)
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// fieldValue is the downward API's value of a pod field.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIPs":
		var ips []string
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok {
			return m[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// resourceValue is a container's limit or request, in the unit the
// reference asks for (cores by default, rounded up, as upstream).
func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) string {
	kind, res, _ := strings.Cut(ref.Resource, ".")
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(res)]
	if !ok {
		if res == "cpu" {
			return "2"
		}
		return "0"
	}
	div := ref.Divisor
	if div.IsZero() {
		return strconv.FormatInt(q.Value(), 10)
	}
	return strconv.FormatInt((q.MilliValue()+div.MilliValue()-1)/div.MilliValue(), 10)
}

// Expand replaces $(VAR) with the value of VAR where it is defined and
// $$ with $, as Kubernetes expands env values, command and args.
func Expand(s string, vals map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := vals[name]; ok {
					b.WriteString(v)
					i += 2 + end
					continue
				}
			}
		}
		b.WriteByte('$')
	}
	return b.String()
}
