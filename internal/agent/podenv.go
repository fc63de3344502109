package agent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/agent/downward"
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
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
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
		var data map[string]string
		var err error
		var optional *bool
		switch {
		case f.ConfigMapRef != nil:
			data, err = configMapData(ctx, src, ns, f.ConfigMapRef.Name)
			optional = f.ConfigMapRef.Optional
		case f.SecretRef != nil:
			data, err = secretData(ctx, src, ns, f.SecretRef.Name)
			optional = f.SecretRef.Optional
		default:
			continue
		}
		if err != nil {
			if apierrors.IsNotFound(err) && optional != nil && *optional {
				continue
			}
			return err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(f.Prefix+k, data[k])
		}
	}
	return nil
}

func envValue(ctx context.Context, src envSource, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar, vals map[string]string) (string, error) {
	switch {
	case e.ValueFrom == nil:
		return Expand(e.Value, vals), nil
	case e.ValueFrom.FieldRef != nil:
		return downward.FieldValue(pod, e.ValueFrom.FieldRef.FieldPath)
	case e.ValueFrom.ResourceFieldRef != nil:
		return downward.ResourceValue(c, e.ValueFrom.ResourceFieldRef, nodeCPUs), nil
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		data, err := configMapData(ctx, src, pod.Namespace, ref.Name)
		return keyValue(data, err, ref.Key, ref.Optional, "ConfigMap", pod.Namespace, ref.Name)
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		data, err := secretData(ctx, src, pod.Namespace, ref.Name)
		return keyValue(data, err, ref.Key, ref.Optional, "Secret", pod.Namespace, ref.Name)
	}
	return "", fmt.Errorf("env %s: no value source", e.Name)
}

// nodeCPUs is what a cpu limit that is not set reads as.
const nodeCPUs = 2

// keyValue is one key of a ConfigMap's or Secret's data, with kubelet's
// errors: the object missing (unless optional) as the API says, the key
// missing as "couldn't find key".
func keyValue(data map[string]string, err error, key string, optional *bool, kind, ns, name string) (string, error) {
	opt := optional != nil && *optional
	if err != nil {
		if apierrors.IsNotFound(err) && opt {
			return "", nil
		}
		return "", err
	}
	v, ok := data[key]
	if !ok && !opt {
		return "", fmt.Errorf("couldn't find key %s in %s %s/%s", key, kind, ns, name)
	}
	return v, nil
}

// configMapData reads a ConfigMap's data (binary data included), with
// kubelet's `configmap "x" not found` when it is missing.
func configMapData(ctx context.Context, src envSource, ns, name string) (map[string]string, error) {
	cm, err := src.ConfigMap(ctx, ns, name)
	if err != nil {
		return nil, notFoundAs(err, "configmap", name)
	}
	data := make(map[string]string, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.BinaryData {
		data[k] = string(v)
	}
	for k, v := range cm.Data {
		data[k] = v
	}
	return data, nil
}

// secretData reads a Secret's data, with `secret "x" not found`.
func secretData(ctx context.Context, src envSource, ns, name string) (map[string]string, error) {
	s, err := src.Secret(ctx, ns, name)
	if err != nil {
		return nil, notFoundAs(err, "secret", name)
	}
	data := make(map[string]string, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		data[k] = string(v)
	}
	return data, nil
}

// notFoundAs words a NotFound error as the kubelet's object managers do
// (`configmap "x" not found`: the singular resource).
func notFoundAs(err error, resource, name string) error {
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	return err
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
