package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
)

// sample is what one iteration measured.
type sample struct {
	cgPod, cgContainer, plan time.Duration
	steps                    map[string]time.Duration // internal-container's own
	direct, shim, plain      time.Duration
	// binary is `svcplane internal-container` without arguments, from
	// launch to exit: the start of the svcplane binary alone.
	binary, binaryCPU time.Duration
	// imported is a start of the one-layer imported image: its steps,
	// its process's launch to exec and the shim's start.
	importedSteps                map[string]time.Duration
	importedDirect, importedShim time.Duration
}

// benchSteps starts n containers three ways each (through the shim, the
// container process alone with step timings, a plain fork/exec) and
// prints the table.
func benchSteps(bin, dir string, count int) error {
	n, err := newNode(bin, dir)
	if err != nil {
		return err
	}
	defer n.close()
	imported, err := n.importImage()
	if err != nil {
		return fmt.Errorf("import an image: %w", err)
	}
	// One start first, unmeasured, so that page caches are warm.
	if _, err := n.iteration(-1, imported); err != nil {
		return err
	}
	var all []sample
	for i := range count {
		s, err := n.iteration(i, imported)
		if err != nil {
			return err
		}
		all = append(all, s)
	}
	printSteps(all)
	printImported(all)
	return nil
}

// iteration measures one pod's container starts and removes them.
func (n *node) iteration(i int, imported image) (s sample, err error) {
	pod := benchPod(i)
	dir := filepath.Join(n.dir, "pods", fmt.Sprint(i+1))
	defer os.RemoveAll(dir)
	t0 := time.Now()
	p, err := n.cg.EnsurePod(pod)
	if err != nil {
		return s, err
	}
	defer func() {
		if rerr := n.cg.RemovePod(pod.UID); err == nil {
			err = rerr
		}
	}()
	t1 := time.Now()
	settings := cgroups.Plan(pod, &pod.Spec.Containers[0])
	c, err := p.Container("app", 0, settings)
	if err != nil {
		return s, err
	}
	t2 := time.Now()
	planPath, _, err := n.buildPlan(i, filepath.Join(dir, "shim"), c, n.builtin())
	if err != nil {
		return s, err
	}
	s.cgPod, s.cgContainer, s.plan = t1.Sub(t0), t2.Sub(t1), time.Since(t2)
	if s.shim, err = n.shimStart(planPath, filepath.Join(dir, "shim"), c); err != nil {
		return s, err
	}
	if s.steps, s.direct, err = n.timedStart(i, p, settings, 1, filepath.Join(dir, "timed"), n.builtin()); err != nil {
		return s, err
	}
	if s.importedSteps, s.importedDirect, err = n.timedStart(i, p, settings, 2, filepath.Join(dir, "imported-timed"), imported); err != nil {
		return s, fmt.Errorf("imported image: %w", err)
	}
	c4, err := p.Container("app", 3, settings)
	if err != nil {
		return s, err
	}
	planPath, _, err = n.buildPlan(i, filepath.Join(dir, "imported-shim"), c4, imported)
	if err != nil {
		return s, err
	}
	if s.importedShim, err = n.shimStart(planPath, filepath.Join(dir, "imported-shim"), c4); err != nil {
		return s, fmt.Errorf("imported image: %w", err)
	}
	plain, d, err := n.startPlain()
	plain.stop()
	if err != nil {
		return s, err
	}
	s.plain = d
	t := time.Now()
	cmd := exec.Command(n.initBin, "internal-container")
	_ = cmd.Run() // fails at once: usage
	s.binary = time.Since(t)
	if st := cmd.ProcessState; st != nil {
		s.binaryCPU = st.UserTime() + st.SystemTime()
	}
	return s, nil
}

// shimStart starts the planned container through the shim, then stops
// it and empties its cgroup.
func (n *node) shimStart(planPath, dir string, c cgroups.Container) (time.Duration, error) {
	shim, d, err := n.startShim(planPath, dir)
	if err != nil {
		return 0, err
	}
	shim.stop()
	return d, c.Kill()
}

// timedStart starts a container instance of img with step timings, then
// stops it and empties its cgroup.
func (n *node) timedStart(i int, p cgroups.Pod, settings cgroups.Settings, attempt int, dir string, img image) (map[string]time.Duration, time.Duration, error) {
	c, err := p.Container("app", attempt, settings)
	if err != nil {
		return nil, 0, err
	}
	planPath, plan, err := n.buildPlan(i, dir, c, img)
	if err != nil {
		return nil, 0, err
	}
	proc, steps, d, err := n.startTimed(planPath, dir, plan)
	if err != nil {
		return nil, 0, err
	}
	proc.stop()
	return steps, d, c.Kill()
}

// row is one line of the table: a measure over the samples.
type row struct {
	name  string
	get   func(sample) time.Duration
	limit string
}

func printSteps(all []sample) {
	step := func(names ...string) func(sample) time.Duration {
		return func(s sample) time.Duration {
			var d time.Duration
			for _, n := range names {
				d += s.steps[n]
			}
			return d
		}
	}
	binds := func(s sample) time.Duration {
		var d time.Duration
		for name, v := range s.steps {
			if strings.HasPrefix(name, "mount ") && !isSystemMount(name) {
				d += v
			}
		}
		return d
	}
	fsAndCgroups := func(s sample) time.Duration {
		d := s.cgPod + s.cgContainer + binds(s)
		for _, n := range []string{"enter cgroups", "slave /", "overlay", "devices", "pivot_root", "masked paths", "readonly paths"} {
			d += s.steps[n]
		}
		for _, m := range systemMounts {
			d += s.steps["mount "+m]
		}
		return d
	}
	rows := []row{
		{"cgroup create: pod (EnsurePod)", func(s sample) time.Duration { return s.cgPod }, ""},
		{"cgroup create: container (limits written)", func(s sample) time.Duration { return s.cgContainer }, ""},
		{"plan build + write (container.Build, WritePlan)", func(s sample) time.Duration { return s.plan }, ""},
		{"in the container process: read plan", step("read plan"), ""},
		{"  enter cgroups, oom_score_adj", step("enter cgroups"), ""},
		{"  make / a slave", step("slave /"), ""},
		{"  overlay mount", step("overlay"), ""},
	}
	for _, m := range systemMounts {
		rows = append(rows, row{"  mount " + m, step("mount " + m), ""})
	}
	rows = append(rows,
		row{"  device nodes and links in /dev", step("devices"), ""},
		row{"  binds (/etc files, termination log, svcplane)", binds, ""},
		row{"  pivot_root", step("pivot_root"), ""},
		row{"  masked paths", step("masked paths"), ""},
		row{"  read-only paths", step("readonly paths"), ""},
		row{"  identity (cwd, hostname, user, capabilities)", step("identity"), ""},
		row{"filesystem + cgroups set up (sum of the above but plan, identity)", fsAndCgroups, "< 20 ms"},
		row{"container process: launch to workload exec", func(s sample) time.Duration { return s.direct }, ""},
		row{"  of which launch to its first step (exec of svcplane, Go init)", func(s sample) time.Duration { return s.direct - sumSteps(s) }, ""},
		row{"  peer: `svcplane-init internal-container` (no arguments) launch to exit", func(s sample) time.Duration { return s.binary }, ""},
		row{"  its CPU time (user + system)", func(s sample) time.Duration { return s.binaryCPU }, ""},
		row{"container start: shim launch to workload exec", func(s sample) time.Duration { return s.shim }, ""},
		row{"pod side total: cgroups + plan + shim start", func(s sample) time.Duration { return s.cgPod + s.cgContainer + s.plan + s.shim }, ""},
		row{"peer: plain fork/exec of busybox sleep in the pod's netns", func(s sample) time.Duration { return s.plain }, ""},
	)
	fmt.Printf("\none container start, %d starts (busybox sleep 3600, cpu and memory limits)\n", len(all))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "step\tmedian\tp90\tgoal\t")
	for _, r := range rows {
		var d durations
		for _, s := range all {
			d = append(d, r.get(s))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", r.name, ms(d.median()), ms(d.p90()), r.limit)
	}
	w.Flush()
}

// systemMounts are runc's mounts of every container, one row each.
var systemMounts = []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}

func isSystemMount(step string) bool {
	for _, m := range systemMounts {
		if step == "mount "+m {
			return true
		}
	}
	return false
}

func sumSteps(s sample) time.Duration {
	var d time.Duration
	for _, v := range s.steps {
		d += v
	}
	return d
}

// fsSteps is the container process's filesystem work: overlay to
// read-only paths.
func fsSteps(steps map[string]time.Duration) time.Duration {
	var d time.Duration
	for name, v := range steps {
		switch name {
		case "read plan", "enter cgroups", "identity":
		default:
			d += v
		}
	}
	return d
}

// printImported compares the imported one-layer image with the built-in
// busybox image.
func printImported(all []sample) {
	rows := []struct {
		name              string
		builtin, imported func(sample) time.Duration
	}{
		{"overlay mount", func(s sample) time.Duration { return s.steps["overlay"] },
			func(s sample) time.Duration { return s.importedSteps["overlay"] }},
		{"filesystem (overlay to read-only paths)", func(s sample) time.Duration { return fsSteps(s.steps) },
			func(s sample) time.Duration { return fsSteps(s.importedSteps) }},
		{"container process: launch to workload exec", func(s sample) time.Duration { return s.direct },
			func(s sample) time.Duration { return s.importedDirect }},
		{"container start: shim launch to workload exec", func(s sample) time.Duration { return s.shim },
			func(s sample) time.Duration { return s.importedShim }},
	}
	fmt.Printf("\nimported one-layer image (busybox binary, imagetest) beside the built-in busybox image, %d starts each\n", len(all))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "step\tbuilt-in median\timported median\tbuilt-in p90\timported p90\t")
	for _, r := range rows {
		var b, im durations
		for _, s := range all {
			b, im = append(b, r.builtin(s)), append(im, r.imported(s))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", r.name, ms(b.median()), ms(im.median()), ms(b.p90()), ms(im.p90()))
	}
	w.Flush()
}
