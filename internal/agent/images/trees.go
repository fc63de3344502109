package images

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// Trees are the root filesystems of the built-in images, laid out once
// per node (see PrepareTrees) and used read-only as the lowest layer of
// each container's overlay.
type Trees struct {
	// Busybox is busybox 1.29 and newer; BusyboxLibc is 1.28 and older,
	// whose nslookup resolved through the C library.
	Busybox, BusyboxLibc  string
	Nginx, Agnhost, Pause string
	// Httpd is the e2e httpd image (Apache on Alpine); Dnsutils is
	// jessie-dnsutils (Debian with dig, host, nslookup and getent).
	Httpd, Dnsutils string
	// Sizes are the trees' bytes by directory, for the node's
	// status.images and the Pulled events.
	Sizes map[string]int64
	// KubeProxy and CoreDNS are the system components' images.
	KubeProxy, CoreDNS string
	// Missing are the images (by short name) whose tree could not be
	// laid out on this node, and why; the others still run.
	Missing map[string]error
}

// TreeLayout says what PrepareTrees lays out.
type TreeLayout struct {
	// Dir holds one directory per image.
	Dir string
	// Self is the svcplane binary: the trees get the libraries it needs
	// (the binary itself is bound in when a container starts).
	Self string
	// Busybox is the (static) busybox binary; Shell the busybox whose
	// shell busybox:1.28 runs (see BusyboxLayout). Either may be empty.
	Busybox, Shell string
	// HostTools are the host's programs that the agnhost and
	// jessie-dnsutils trees copy, with their libraries, to the same
	// paths; nil means DefaultHostTools (those that exist).
	HostTools []string
	// libs are the libraries of each binary read so far (see
	// libraryCache); PrepareTrees sets it.
	libs libraryCache
}

// PrepareTrees lays out (or brings up to date) every built-in image's
// root filesystem under l.Dir.
func PrepareTrees(l TreeLayout) (Trees, error) {
	t := Trees{
		Busybox: filepath.Join(l.Dir, "busybox"), BusyboxLibc: filepath.Join(l.Dir, "busybox-1.28"),
		Nginx: filepath.Join(l.Dir, "nginx"), Agnhost: filepath.Join(l.Dir, "agnhost"), Pause: filepath.Join(l.Dir, "pause"),
		Httpd: filepath.Join(l.Dir, "httpd"), Dnsutils: filepath.Join(l.Dir, "jessie-dnsutils"),
		KubeProxy: filepath.Join(l.Dir, "kube-proxy"), CoreDNS: filepath.Join(l.Dir, "coredns"),
	}
	if l.HostTools == nil {
		l.HostTools = DefaultHostTools()
	}
	l.libs = libraryCache{}
	applets, err := appletNames(l.Busybox)
	if err != nil {
		return t, err
	}
	steps := []struct {
		name  string
		dir   *string
		build func(dir string) error
	}{
		{"busybox", &t.Busybox, func(d string) error { return busyboxTree(d, l, applets, false) }},
		{"busybox:1.28", &t.BusyboxLibc, func(d string) error { return busyboxTree(d, l, applets, true) }},
		{"nginx", &t.Nginx, func(d string) error { return nginxTree(d, l, applets) }},
		{"agnhost", &t.Agnhost, func(d string) error { return agnhostTree(d, l, applets) }},
		{"pause", &t.Pause, func(d string) error { return baseTree(d, l) }},
		{"httpd", &t.Httpd, func(d string) error { return httpdTree(d, l, applets) }},
		{"jessie-dnsutils", &t.Dnsutils, func(d string) error { return dnsutilsTree(d, l, applets) }},
		{"kube-proxy", &t.KubeProxy, func(d string) error { return kubeProxyTree(d, l, applets) }},
		{"coredns", &t.CoreDNS, func(d string) error { return corednsTree(d, l) }},
	}
	// An image whose tree cannot be laid out (a host tool's library
	// missing) is left out; the node runs the others.
	for _, s := range steps {
		if err := s.build(*s.dir); err != nil {
			if t.Missing == nil {
				t.Missing = map[string]error{}
			}
			t.Missing[s.name] = fmt.Errorf("lay out image %s: %w", filepath.Base(*s.dir), err)
			*s.dir = ""
		}
	}
	t.Sizes = treeSizes(t.Busybox, t.BusyboxLibc, t.Nginx, t.Agnhost, t.Pause, t.Httpd, t.Dnsutils, t.KubeProxy, t.CoreDNS)
	return t, nil
}

// appletNames lists the applets of a busybox binary.
func appletNames(bin string) ([]string, error) {
	if bin == "" {
		return nil, nil
	}
	out, err := exec.Command(bin, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", bin, err)
	}
	return strings.Fields(string(out)), nil
}

// baseTree is what every built-in image has: the directories of a root,
// a mount point for the svcplane binary and the libraries it needs.
func baseTree(dir string, l TreeLayout) error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{"", 0o755}, {"bin", 0o755}, {"etc", 0o755}, {"dev", 0o755}, {"proc", 0o555}, {"sys", 0o555},
		{"root", 0o700}, {"tmp", 0o1777}, {"home", 0o755}, {"var", 0o755}, {"usr/bin", 0o755},
		{"usr/sbin", 0o755}, {"usr/local/bin", 0o755}, {".svcplane", 0o755}} {
		p := filepath.Join(dir, d.path)
		if err := os.MkdirAll(p, d.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, container.SelfPath), "", 0o755); err != nil {
		return err
	}
	return copyLibraries(dir, l.Self, l.libs)
}

// busyboxTree is a busybox image: the binary with its applet links, and
// busybox's /etc/passwd and /etc/group.
func busyboxTree(dir string, l TreeLayout, applets []string, libc bool) error {
	return busyboxTreeWith(dir, l, applets, busyboxOptions{libcNslookup: libc, pathShell: libc})
}

// busyboxOptions vary a busybox tree.
type busyboxOptions struct {
	// libcNslookup links nslookup to svcplane's copy of 1.28's.
	libcNslookup bool
	// pathShell makes sh and the applets that start programs the host's
	// busybox (l.Shell), which looks commands up in PATH as the shells
	// of busybox 1.28, Alpine and Debian images do, where the static
	// busybox runs its own applets (nc, nslookup) first.
	pathShell bool
	// skip are applets the image has other programs for.
	skip map[string]bool
}

// busyboxTreeWith is a busybox tree laid out as o says.
func busyboxTreeWith(dir string, l TreeLayout, applets []string, o busyboxOptions) error {
	if err := baseTree(dir, l); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "etc/passwd"), busyboxPasswd, 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "etc/group"), busyboxGroup, 0o644); err != nil {
		return err
	}
	if l.Busybox == "" {
		return nil
	}
	if err := copyFile(l.Busybox, filepath.Join(dir, "bin/busybox")); err != nil {
		return err
	}
	shell := "busybox"
	if o.pathShell && l.Shell != "" {
		shell = ".busybox-shell"
		if err := copyFile(l.Shell, filepath.Join(dir, "bin", shell)); err != nil {
			return err
		}
		if err := copyLibraries(dir, l.Shell, l.libs); err != nil {
			return err
		}
	}
	for _, a := range applets {
		if a == "busybox" || o.skip[a] {
			continue
		}
		target := "busybox"
		switch {
		case o.libcNslookup && libcApplet(a):
			target = container.SelfPath
		case o.pathShell && runsCommands(a):
			target = shell
		}
		if err := link(target, filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	return nil
}

// nginxTree is the nginx image: the files its image shows, and a busybox
// for shells that users exec into it.
func nginxTree(dir string, l TreeLayout, applets []string) error {
	if err := busyboxTree(dir, l, applets, false); err != nil {
		return err
	}
	files := map[string]string{
		"etc/passwd":                      busyboxPasswd + "nginx:x:101:101:nginx user:/nonexistent:/bin/false\n",
		"etc/group":                       busyboxGroup + "nginx:x:101:\n",
		"usr/share/nginx/html/index.html": welcomePage,
		"usr/share/nginx/html/50x.html":   errorPage,
		"etc/nginx/nginx.conf":            nginxConf,
		"etc/nginx/conf.d/default.conf":   nginxDefaultConf,
	}
	for name, content := range files {
		if err := writeFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyLibraries copies the ELF interpreter and the shared libraries a
// dynamically linked binary needs into the tree, at the paths the loader
// looks for them; a static binary needs none.
func copyLibraries(dir, bin string, cache libraryCache) error {
	libs, err := cache.of(bin)
	if err != nil {
		return err
	}
	for _, lib := range libs {
		if err := linkOrCopyFile(lib, filepath.Join(dir, lib)); err != nil {
			return err
		}
	}
	return nil
}

// libraryCache keeps the libraries of each binary PrepareTrees has read
// (by path), so that one layout reads each ELF file once: every tree asks
// for the svcplane binary's, several for the shell's and the host
// tools'. A nil cache reads every time.
type libraryCache map[string][]string

// of returns bin's libraries (see sharedLibraries).
func (c libraryCache) of(bin string) ([]string, error) {
	if libs, ok := c[bin]; ok {
		return libs, nil
	}
	libs, err := sharedLibraries(bin)
	if err == nil && c != nil {
		c[bin] = libs
	}
	return libs, err
}

// libDirs are where the loader finds libraries on Debian.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib"}

// sharedLibraries lists the interpreter and, transitively, the libraries
// of an ELF binary, as paths on this machine.
func sharedLibraries(bin string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	queue := []string{bin}
	for len(queue) > 0 {
		if queue[0] == bin && !isELF(bin) {
			return nil, nil // a script: its interpreter is the tree's business
		}
		f, err := elf.Open(queue[0])
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", queue[0], err)
		}
		queue = queue[1:]
		needed, _ := f.ImportedLibraries()
		interp := interpreter(f)
		f.Close()
		if interp != "" && !seen[interp] {
			seen[interp] = true
			out = append(out, interp)
		}
		for _, name := range needed {
			path := findLibrary(name)
			if path == "" {
				return nil, fmt.Errorf("%s needs %s, which is not installed", bin, name)
			}
			if !seen[path] {
				seen[path] = true
				out = append(out, path)
				queue = append(queue, path)
			}
		}
	}
	return out, nil
}

// isELF reports whether the file starts with ELF's magic number.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // elf.Open reports the error
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == elf.ELFMAG
}

func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err == nil {
				return strings.TrimRight(string(b), "\x00")
			}
		}
	}
	return ""
}

func findLibrary(name string) string {
	for _, d := range libDirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// copyFile copies src to dst (following links) unless dst has the same
// size and modification time already; it replaces dst atomically.
func copyFile(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if d, err := os.Lstat(dst); err == nil && d.Mode().IsRegular() && d.Size() == st.Size() && d.ModTime().Equal(st.ModTime()) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".new"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, st.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, st.ModTime(), st.ModTime())
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// linkOrCopyFile makes dst a hard link to src (following links) when
// both are on one filesystem, else a copy: the host's programs and
// libraries take no space in the trees, which are read-only layers.
func linkOrCopyFile(src, dst string) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if d, err := os.Lstat(dst); err == nil && os.SameFile(st, d) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".new"
	_ = os.Remove(tmp)
	if err := os.Link(real, tmp); err != nil {
		return copyFile(real, dst)
	}
	return os.Rename(tmp, dst)
}

// writeFile writes content to path unless it holds it already.
func writeFile(path, content string, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == content {
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// The official busybox image's /etc/passwd and /etc/group.
const (
	busyboxPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	busyboxGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`
)
