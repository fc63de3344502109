package process

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// RunNsexec is `svcplane internal-nsexec --pid P --netns PATH --dir D --
// cmd...`: it enters the mount and UTS namespaces of process P and the
// network namespace at PATH, then executes cmd there with its own
// environment. It returns only on failure, with the exit code to use.
func RunNsexec(args []string) int {
	fs := flag.NewFlagSet("internal-nsexec", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "process whose mount and UTS namespaces to enter")
	netnsPath := fs.String("netns", "", "network namespace file (empty: stay)")
	dir := fs.String("dir", "", "working directory")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: internal-nsexec --pid P [--netns PATH] [--dir D] -- cmd...")
		return 126
	}
	argv := fs.Args()
	runtime.LockOSThread()
	if err := enter(*pid, *netnsPath); err != nil {
		fmt.Fprintln(os.Stderr, "exec:", err)
		return 126
	}
	if *dir != "" {
		_ = os.Chdir(*dir)
	}
	path, err := lookPath(argv[0], os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "exec: %q: %v\n", argv[0], err)
		return 127
	}
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "exec: %q: %v\n", argv[0], err)
	return 126
}

// enter switches the calling (locked) thread into the namespaces, all
// opened before the first switch. Joining a mount namespace needs a thread
// that shares no filesystem state, so it unshares that first.
func enter(pid int, netnsPath string) error {
	targets := []struct {
		path string
		kind int
	}{{fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.CLONE_NEWNS}, {fmt.Sprintf("/proc/%d/ns/uts", pid), unix.CLONE_NEWUTS}}
	if netnsPath != "" {
		targets = append(targets, struct {
			path string
			kind int
		}{netnsPath, unix.CLONE_NEWNET})
	}
	handles := make([]vnetns.NsHandle, 0, len(targets))
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	for _, t := range targets {
		h, err := vnetns.GetFromPath(t.path)
		if err != nil {
			return fmt.Errorf("open %s: %w", t.path, err)
		}
		handles = append(handles, h)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	for i, t := range targets {
		if err := unix.Setns(int(handles[i]), t.kind); err != nil {
			return fmt.Errorf("enter %s: %w", t.path, err)
		}
	}
	return nil
}
