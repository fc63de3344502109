package config

import (
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/kube-proxy/config/v1alpha1"
	"sigs.k8s.io/yaml"
)

// Load reads, decodes, defaults and validates the configuration file at
// path.
func Load(path string) (*v1alpha1.KubeProxyConfiguration, error) {
	c, err := readFile(path)
	if err != nil {
		return nil, err
	}
	SetDefaults(c)
	if err := validateErr(c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// readFile reads and strictly decodes path, without defaults.
func readFile(path string) (*v1alpha1.KubeProxyConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kube-proxy configuration: %w", err)
	}
	c, err := decodeStrict(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Decode decodes a KubeProxyConfiguration from YAML or JSON strictly (an
// unknown or duplicate field is an error naming it), defaults it and
// validates it.
func Decode(data []byte) (*v1alpha1.KubeProxyConfiguration, error) {
	c, err := decodeStrict(data)
	if err != nil {
		return nil, err
	}
	SetDefaults(c)
	if err := validateErr(c); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeStrict decodes without defaulting.
func decodeStrict(data []byte) (*v1alpha1.KubeProxyConfiguration, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return nil, fmt.Errorf("decode kube-proxy configuration: %w", err)
	}
	want := v1alpha1.SchemeGroupVersion.String()
	if tm.APIVersion != want || tm.Kind != Kind {
		return nil, fmt.Errorf("decode kube-proxy configuration: apiVersion %q kind %q is not %s %s",
			tm.APIVersion, tm.Kind, want, Kind)
	}
	obj, _, err := codecs().UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decode kube-proxy configuration: %w", err)
	}
	c, ok := obj.(*v1alpha1.KubeProxyConfiguration)
	if !ok {
		return nil, fmt.Errorf("decode kube-proxy configuration: unexpected type %T", obj)
	}
	return c, nil
}

// codecs builds a strict codec factory for the one type; it is cheap and
// keeps the package free of mutable globals.
func codecs() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		panic(err) // only fails for conflicting registrations
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}

// Marshal writes c as YAML with apiVersion and kind, every field present,
// as kubeadm writes config.conf in the kube-system/kube-proxy ConfigMap.
func Marshal(c *v1alpha1.KubeProxyConfiguration) ([]byte, error) {
	out := c.DeepCopy()
	out.APIVersion = v1alpha1.SchemeGroupVersion.String()
	out.Kind = Kind
	data, err := yaml.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("marshal kube-proxy configuration: %w", err)
	}
	return data, nil
}
