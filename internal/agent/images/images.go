// Package images holds the images svcplane runs without a registry, and
// resolves a container to what it runs: an imported image (see package
// imagestore) or a built-in one. Each built-in image is a root filesystem
// laid out once per node (PrepareTrees) whose programs are Go code inside
// the svcplane binary, bound into the container at container.SelfPath
// and run as `svcplane image <name> [args]` or through links to it in the
// tree, which svcplane's main dispatches on their name (see Applet):
// nginx (a web server answering like nginx's default page), pause, and
// the Kubernetes e2e test images: agnhost (/agnhost with upstream's
// subcommands and netcat-openbsd's nc), httpd (Apache's "It works!") and
// jessie-dnsutils (the host's dig, host, nslookup and getent); the system
// components kube-proxy (`svcplane proxy`, with the host's iptables, nft
// and ipset) and coredns (`svcplane dns -conf Corefile`). busybox
// runs the applets of a static busybox 1.37 (Debian trixie's busybox-static, see
// hack/deps.sh); busybox:1.28 and older tags run svcplane's copy of 1.28's
// libc nslookup instead of busybox's (package libcnslookup).
package images

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// ErrNotBuiltIn is returned for an image that is not built in when the
// container names no command.
var ErrNotBuiltIn = errors.New("not built in")

// Config configures a Resolver.
type Config struct {
	// Trees are the built-in images' root filesystems (PrepareTrees).
	Trees Trees
	// Store holds imported images; nil for none.
	Store Store
}

// Store finds imported images by reference.
type Store interface {
	Lookup(ref string) (StoredImage, bool, error)
}

// StoredImage is an imported image: its layers and its config.
type StoredImage struct {
	// ID is the image's config digest ("sha256:...").
	ID string
	// Size is the image's bytes as imported.
	Size int64
	// Layers are unpacked layer directories, lowest first.
	Layers               []string
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
}

// ErrNotPresent is returned for an image that is neither built in nor
// imported on the node.
var ErrNotPresent = errors.New("image not present on the node")

// Resolver turns a container into the argv and environment to run.
type Resolver struct {
	cfg Config
}

// NewResolver returns a resolver.
func NewResolver(cfg Config) *Resolver { return &Resolver{cfg: cfg} }

// Resolved is what to run for a container.
type Resolved struct {
	// Image is the built-in image's short name ("" for imported images).
	Image string
	// ID is the image's ID (a digest for imported images).
	ID   string
	Argv []string
	// Env is the image's environment, which the container's own
	// variables override.
	Env []string
	// Layers are the root filesystem's layers, lowest first; User and
	// WorkingDir are the image's.
	Layers     []string
	User       string
	WorkingDir string
	// Self is set when the container needs the svcplane binary bound at
	// container.SelfPath (built-in images).
	Self bool
	// RepoDigest is a built-in image's imageID (<repo>@sha256:<id>), as
	// the node lists it; Size the image's bytes.
	RepoDigest string
	Size       int64
}

const standardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Resolve returns what to run for container c: an imported image of that
// reference first, else a built-in one.
func (r *Resolver) Resolve(c *corev1.Container) (Resolved, error) {
	if r.cfg.Store != nil {
		img, ok, err := r.cfg.Store.Lookup(c.Image)
		if err != nil {
			return Resolved{}, err
		}
		if ok {
			return imported(c, img), nil
		}
	}
	name := ShortName(c.Image)
	self := container.SelfPath
	res := Resolved{Image: name, ID: builtinID(name), Env: []string{"PATH=" + standardPath}, Self: true}
	switch name {
	case "nginx":
		res.Layers = []string{r.cfg.Trees.Nginx}
		res.Argv = r.entrypoint(c, "nginx", []string{self, "image", "nginx", "--ports", portList(c)}, nil)
		if len(c.Command) == 0 && len(c.Args) > 0 && path.Base(c.Args[0]) != "nginx" {
			res.Argv = append([]string(nil), c.Args...) // the entrypoint script runs its arguments
		}
	case "agnhost":
		res.Layers = []string{r.cfg.Trees.Agnhost}
		res.Argv = imageArgv(c, []string{"/agnhost"}, []string{"pause"})
	case "pause":
		res.Layers = []string{r.cfg.Trees.Pause}
		res.Argv = r.entrypoint(c, "pause", []string{self, "image", "pause"}, nil)
	case "busybox":
		res.Layers = []string{r.cfg.Trees.Busybox}
		if libcBusybox(imageTag(c.Image)) {
			res.Layers = []string{r.cfg.Trees.BusyboxLibc}
		}
		res.Argv = imageArgv(c, nil, []string{"sh"})
	case "httpd":
		res.Layers = []string{r.cfg.Trees.Httpd}
		res.Argv = imageArgv(c, nil, []string{"httpd-foreground"})
		res.Env = []string{"PATH=" + httpdPrefix + "/bin:" + standardPath, "HTTPD_PREFIX=" + httpdPrefix,
			"HTTPD_VERSION=" + tagVersion(imageTag(c.Image), "2.4.38")}
		res.WorkingDir = httpdPrefix
	case "jessie-dnsutils":
		res.Layers = []string{r.cfg.Trees.Dnsutils}
		res.Argv = imageArgv(c, nil, []string{"bash"})
	case "kube-proxy":
		res.Layers = []string{r.cfg.Trees.KubeProxy}
		res.Argv = programArgv(c, "kube-proxy", []string{self, "proxy"})
	case "coredns":
		res.Layers = []string{r.cfg.Trees.CoreDNS}
		res.Argv = programArgv(c, "coredns", []string{self, "dns"})
	default:
		return Resolved{}, fmt.Errorf("%w: %q; svcplane pulls from no registry: import it with "+
			"`svcplane images import FILE` (built in: %s)", ErrNotPresent, c.Image, strings.Join(builtinNames, ", "))
	}
	if err := r.cfg.Trees.Missing[name]; err != nil || (res.Layers[0] == "" && len(r.cfg.Trees.Missing) > 0) {
		if err == nil {
			err = errors.New("its tree could not be laid out")
		}
		return Resolved{}, fmt.Errorf("%w: built-in image %q is not available on this node: %v", ErrNotPresent, c.Image, err)
	}
	res.RepoDigest, res.Size = r.cfg.Trees.repoDigest(res.Layers[0], c.Image), r.cfg.Trees.size(res.Layers[0])
	return res, nil
}

// builtinNames are the built-in images' short names.
var builtinNames = []string{"agnhost", "busybox", "coredns", "httpd", "jessie-dnsutils", "kube-proxy", "nginx", "pause"}

// programArgv runs an image whose entrypoint is one of svcplane's
// commands (kube-proxy's /usr/local/bin/kube-proxy, coredns' /coredns):
// the command when the container names no other program, with the
// container's args.
func programArgv(c *corev1.Container, program string, builtin []string) []string {
	switch {
	case len(c.Command) == 0:
		return append(append([]string(nil), builtin...), c.Args...)
	case path.Base(c.Command[0]) == program:
		return append(append(append([]string(nil), builtin...), c.Command[1:]...), c.Args...)
	}
	return append(append([]string(nil), c.Command...), c.Args...)
}

// tagVersion is the version a tag names ("2.4.39" for "2.4.39-4" or
// "2.4.39-alpine"), def when the tag names none.
func tagVersion(tag, def string) string {
	v, _, _ := strings.Cut(tag, "-")
	if v == "" || v[0] < '0' || v[0] > '9' {
		return def
	}
	return v
}

// imageArgv runs a container as a runtime runs an image's config:
// command replaces the entrypoint (and drops the image's cmd), args
// replace cmd.
func imageArgv(c *corev1.Container, entrypoint, cmd []string) []string {
	switch {
	case len(c.Command) > 0:
		return append(append([]string(nil), c.Command...), c.Args...)
	case len(c.Args) > 0:
		return append(append([]string(nil), entrypoint...), c.Args...)
	}
	return append(append([]string(nil), entrypoint...), cmd...)
}

// imported runs an imported image's config as a runtime does: command
// replaces the entrypoint (and drops the image's cmd), args replace cmd.
func imported(c *corev1.Container, img StoredImage) Resolved {
	argv := imageArgv(c, img.Entrypoint, img.Cmd)
	env := img.Env
	if len(env) == 0 {
		env = []string{"PATH=" + standardPath}
	}
	return Resolved{ID: img.ID, Argv: argv, Env: env, Layers: img.Layers, User: img.User, WorkingDir: img.WorkingDir, Size: img.Size}
}

// builtinID is the image ID a built-in image reports.
func builtinID(name string) string {
	if name == "" {
		return ""
	}
	return "svcplane.io/builtin/" + name
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
		"registry.k8s.io/coredns", "k8s.gcr.io/coredns", "coredns", "docker.io/coredns",
		"registry.k8s.io/e2e-test-images", "k8s.gcr.io/e2e-test-images", "gcr.io/kubernetes-e2e-test-images":
	default:
		return ""
	}
	for _, b := range builtinNames {
		if name == b {
			return name
		}
	}
	return ""
}
