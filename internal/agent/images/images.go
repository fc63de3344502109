// Package images holds the images svcplane runs without a registry. Each
// built-in image is Go code inside the svcplane binary, run as
// `svcplane image <name> [args]` in the container's namespaces: nginx (a
// web server answering like nginx's default page), agnhost (the Kubernetes
// e2e helper: pause, serve-hostname, netexec) and pause. busybox runs the
// applets of a static busybox 1.37 (Debian trixie's busybox-static, see
// hack/deps.sh); busybox:1.28 and older tags run svcplane's copy of 1.28's
// libc nslookup instead of busybox's (package libcnslookup). Any other
// image runs only when the container's command names a host executable.
package images

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrNotBuiltIn is returned for an image that is not built in when the
// container names no command.
var ErrNotBuiltIn = errors.New("not built in")

// Config configures a Resolver.
type Config struct {
	// Self is the path of the svcplane binary.
	Self string
	// Busybox holds the busybox applet directories (see PrepareBusybox);
	// empty when busybox is not available.
	Busybox BusyboxDirs
}

// Resolver turns a container into the argv and environment to run.
type Resolver struct {
	cfg Config
}

// NewResolver returns a resolver.
func NewResolver(cfg Config) *Resolver { return &Resolver{cfg: cfg} }

// Resolved is what to run for a container.
type Resolved struct {
	// Image is the built-in image's short name ("" for other images).
	Image string
	Argv  []string
	// Env is the image's environment (PATH), which the container's own
	// variables override.
	Env []string
}

const standardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Resolve returns what to run for container c.
func (r *Resolver) Resolve(c *corev1.Container) (Resolved, error) {
	name := ShortName(c.Image)
	res := Resolved{Image: name, Env: []string{"PATH=" + r.path(r.cfg.Busybox.Current)}}
	switch name {
	case "nginx":
		res.Argv = r.entrypoint(c, "nginx", []string{r.cfg.Self, "image", "nginx", "--ports", portList(c)}, nil)
		if len(c.Command) == 0 && len(c.Args) > 0 && path.Base(c.Args[0]) != "nginx" {
			res.Argv = append([]string(nil), c.Args...) // the entrypoint script runs its arguments
		}
	case "agnhost":
		res.Argv = r.entrypoint(c, "agnhost", []string{r.cfg.Self, "image", "agnhost"}, c.Args)
	case "pause":
		res.Argv = r.entrypoint(c, "pause", []string{r.cfg.Self, "image", "pause"}, nil)
	case "busybox":
		res.Argv = noEntrypoint(c, []string{"sh"})
		if libcBusybox(imageTag(c.Image)) {
			res.Env = []string{"PATH=" + r.path(r.cfg.Busybox.Libc)}
		}
	default:
		if len(c.Command) == 0 {
			return Resolved{}, fmt.Errorf("image %s is %w; set command to a host executable", c.Image, ErrNotBuiltIn)
		}
		res.Image = ""
		res.Argv = append(append([]string(nil), c.Command...), c.Args...)
	}
	return res, nil
}

// entrypoint runs the built-in program when the container names no
// command or names the image's own program, else the command.
func (r *Resolver) entrypoint(c *corev1.Container, program string, builtin, defaultArgs []string) []string {
	if len(c.Command) == 0 {
		if defaultArgs != nil {
			return append(builtin, defaultArgs...)
		}
		return builtin
	}
	if path.Base(c.Command[0]) == program {
		return append(append(builtin, c.Command[1:]...), c.Args...)
	}
	return append(append([]string(nil), c.Command...), c.Args...)
}

// path is the standard PATH after the busybox applet directory dir.
func (r *Resolver) path(dir string) string {
	if dir == "" {
		return standardPath
	}
	return dir + ":" + standardPath
}

// noEntrypoint is the argv of an image without an entrypoint: command
// and args, else args alone (they replace the image's command), else the
// image's command.
func noEntrypoint(c *corev1.Container, cmd []string) []string {
	switch {
	case len(c.Command) > 0:
		return append(append([]string(nil), c.Command...), c.Args...)
	case len(c.Args) > 0:
		return append([]string(nil), c.Args...)
	}
	return cmd
}

// portList is the container's TCP ports, "80" when it declares none.
func portList(c *corev1.Container) string {
	var ports []string
	for _, p := range c.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			ports = append(ports, strconv.Itoa(int(p.ContainerPort)))
		}
	}
	if len(ports) == 0 {
		return "80"
	}
	return strings.Join(ports, ",")
}

// imageTag is an image reference's tag, "latest" when it has none.
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return "latest"
}

// ShortName returns the built-in name an image reference means: the last
// path element without tag or digest, for references in the registries
// that host the real images; "" otherwise.
func ShortName(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	dir, name := path.Split(ref)
	switch strings.TrimSuffix(dir, "/") {
	case "", "library", "docker.io", "docker.io/library", "registry.k8s.io", "k8s.gcr.io",
		"registry.k8s.io/e2e-test-images", "k8s.gcr.io/e2e-test-images", "gcr.io/kubernetes-e2e-test-images":
	default:
		return ""
	}
	switch name {
	case "nginx", "busybox", "agnhost", "pause":
		return name
	}
	return ""
}
