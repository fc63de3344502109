// Package config is the node proxy's configuration as kube-proxy's: the
// published KubeProxyConfiguration type (kubeproxy.config.k8s.io/v1alpha1,
// from k8s.io/kube-proxy), read from a file with strict decoding, defaulted
// as upstream defaults it, validated with field paths of the file, and
// overridden by kube-proxy's command-line flags.
//
// A typical caller:
//
//	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
//	flags := config.NewFlags(fs)
//	_ = fs.Parse(args)
//	cfg, err := flags.Config() // file (or defaults) + flags, defaulted, validated
//	opts, err := config.Options(cfg, corev1.IPv4Protocol, nodeIPs)
//
// Marshal writes the configuration as kubeadm writes config.conf in the
// kube-system/kube-proxy ConfigMap.
package config
