// Command images measures `svcplane images import`: a 50 MiB archive of a
// few layers of files of realistic sizes, imported cold (empty store) as
// a `docker save` (uncompressed layers) and as an OCI archive (gzip
// layers), beside the limit measured in the same run: the bare `tar -x`
// (`tar -xzf`) of the same layers, and a plain copy of the archive.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/agent/imagestore"
	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

func main() {
	sizeMiB := flag.Int("size", 50, "MiB of layer content")
	layers := flag.Int("layers", 4, "number of layers")
	runs := flag.Int("runs", 3, "runs of each measure (the median is shown)")
	dir := flag.String("dir", os.TempDir(), "directory for archives and stores (the data directory's filesystem)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the imports")
	flag.Parse()
	if err := run(*sizeMiB, *layers, *runs, *dir, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "bench/images:", err)
		os.Exit(1)
	}
}

func run(sizeMiB, nLayers, runs int, base, cpuprofile string) error {
	work, err := os.MkdirTemp(base, "bench-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ls := makeLayers(int64(sizeMiB)<<20, nLayers)
	a, err := writeArchives(work, ls)
	if err != nil {
		return err
	}
	if cpuprofile != "" {
		stop, err := benchutil.StartCPUProfile(cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var rows []row
	for _, m := range measures(a, work) {
		r, err := measure(m, runs, work)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		rows = append(rows, r)
	}
	printTable(a, rows, runs)
	return nil
}

// layerSet is the layers' tars, lowest first.
type layerSet [][]byte

// makeLayers makes n layers of about total bytes: per layer, many small
// config and text files (1-16 KiB, compressible), libraries (64-512 KiB,
// half compressible) and a couple of binaries (2-6 MiB, incompressible).
func makeLayers(total int64, n int) layerSet {
	rng := rand.New(rand.NewPCG(1, 2))
	var set layerSet
	for i := range n {
		set = append(set, makeLayer(rng, i, total/int64(n)))
	}
	return set
}

func makeLayer(rng *rand.Rand, idx int, size int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var written int64
	for f := 0; written < size; f++ {
		var n int
		var kind string
		switch r := rng.IntN(100); {
		case r < 80:
			n, kind = 1<<10+rng.IntN(15<<10), "etc"
		case r < 97:
			n, kind = 64<<10+rng.IntN(448<<10), "lib"
		default:
			n, kind = 2<<20+rng.IntN(4<<20), "bin"
		}
		n = int(min(int64(n), size-written))
		dir := fmt.Sprintf("layer%d/%s/d%d", idx, kind, f/64)
		if f%64 == 0 {
			tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(1e9, 0)})
		}
		body := content(rng, kind, n)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%s/f%d", dir, f), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(n), ModTime: time.Unix(1e9, 0)})
		tw.Write(body)
		written += int64(n)
	}
	tw.Close()
	return buf.Bytes()
}

// content is n bytes: text for etc, half text half noise for lib, noise
// for bin.
func content(rng *rand.Rand, kind string, n int) []byte {
	b := make([]byte, n)
	noiseFrom := map[string]int{"etc": n, "lib": n / 2, "bin": 0}[kind]
	words := []string{"server ", "listen ", "80;\n", "root ", "/usr/share ", "include ", "# comment\n", "value=", "true\n"}
	for i := 0; i < noiseFrom; {
		i += copy(b[i:noiseFrom], words[rng.IntN(len(words))])
	}
	for i := noiseFrom; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// archives are the files the measures read.
type archives struct {
	docker, oci string
	layerTars   []string // the layers as plain tar files
	layerGz     []string // as gzip files (the OCI blobs)
	dockerSize  int64
	ociSize     int64
}

func writeArchives(work string, ls layerSet) (archives, error) {
	a := archives{docker: filepath.Join(work, "docker.tar"), oci: filepath.Join(work, "oci.tar")}
	if err := writeDockerSave(a.docker, ls); err != nil {
		return a, err
	}
	spec := imagetest.Spec{Refs: []string{"bench/app:1"}}
	for i, l := range ls {
		p := filepath.Join(work, fmt.Sprintf("layer%d.tar", i))
		if err := os.WriteFile(p, l, 0o644); err != nil {
			return a, err
		}
		a.layerTars = append(a.layerTars, p)
		spec.Layers = append(spec.Layers, tarLayer(l))
	}
	if err := imagetest.WriteOCI(a.oci, spec); err != nil {
		return a, err
	}
	gz, err := extractBlobs(a.oci, work)
	if err != nil {
		return a, err
	}
	a.layerGz = gz
	a.dockerSize, a.ociSize = fileSize(a.docker), fileSize(a.oci)
	return a, nil
}

// tarLayer turns a layer tar back into imagetest entries.
func tarLayer(data []byte) imagetest.Layer {
	var l imagetest.Layer
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			return l
		}
		body, _ := io.ReadAll(tr)
		l = append(l, imagetest.Entry{Name: h.Name, Type: h.Typeflag, Body: body, Mode: h.Mode, ModTime: h.ModTime})
	}
}

// writeDockerSave writes what `docker save` writes: manifest.json, the
// config and each layer as an uncompressed layer.tar.
func writeDockerSave(p string, ls layerSet) error {
	var diffIDs, layerFiles []string
	for i, l := range ls {
		sum := sha256.Sum256(l)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
		layerFiles = append(layerFiles, fmt.Sprintf("%d/layer.tar", i))
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/app"}}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"bench/app:1"}, "Layers": layerFiles}})
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	files := map[string][]byte{"manifest.json": manifest, cfgName: cfg}
	for i, l := range ls {
		files[layerFiles[i]] = l
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write(files[n])
	}
	return tw.Close()
}

// extractBlobs copies the OCI archive's layer blobs (the large ones) out
// as files, for the bare tar -xzf.
func extractBlobs(p, work string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Size < 1<<20 {
			continue
		}
		gp := filepath.Join(work, fmt.Sprintf("blob%d.tar.gz", len(out)))
		data, _ := io.ReadAll(tr)
		if err := os.WriteFile(gp, data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, gp)
	}
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// measureFn does one timed run in a fresh directory.
type measureFn struct {
	name string
	fn   func(dir string) error
}

func measures(a archives, work string) []measureFn {
	imp := func(p string) func(string) error {
		return func(dir string) error {
			s, err := imagestore.Open(filepath.Join(dir, "images"))
			if err == nil {
				_, err = s.Import(context.Background(), p)
			}
			return err
		}
	}
	return []measureFn{
		{"import docker save (uncompressed layers), cold", imp(a.docker)},
		{"limit: tar -x of the same layers", tarX(a.layerTars, "-xf", false)},
		{"limit: tar -x of the same layers + syncfs", tarX(a.layerTars, "-xf", true)},
		{"limit: copy of the archive (io.Copy)", copyFile(a.docker)},
		{"import OCI archive (gzip layers), cold", imp(a.oci)},
		{"limit: tar -xzf of the same blobs", tarX(a.layerGz, "-xzf", false)},
		{"limit: tar -xzf of the same blobs + syncfs", tarX(a.layerGz, "-xzf", true)},
	}
}

func tarX(files []string, mode string, sync bool) func(string) error {
	return func(dir string) error {
		for i, f := range files {
			d := filepath.Join(dir, fmt.Sprint(i))
			if err := os.Mkdir(d, 0o755); err != nil {
				return err
			}
			if out, err := exec.Command("tar", mode, f, "-C", d).CombinedOutput(); err != nil {
				return fmt.Errorf("tar: %v: %s", err, out)
			}
		}
		if sync {
			return syncfs(dir)
		}
		return nil
	}
}

func syncfs(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

func copyFile(src string) func(string) error {
	return func(dir string) error {
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dir, "copy"))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(struct{ io.Writer }{out}, in)
		return err
	}
}

type row struct {
	name        string
	median, min time.Duration
}

// measure runs m runs times, each in a fresh directory removed after, and
// flushes the filesystem before each so that runs do not pay for the
// previous one's writeback.
func measure(m measureFn, runs int, work string) (row, error) {
	var ds []time.Duration
	for range runs {
		dir, err := os.MkdirTemp(work, "run-")
		if err != nil {
			return row{}, err
		}
		syncfs(dir)
		start := time.Now()
		err = m.fn(dir)
		d := time.Since(start)
		os.RemoveAll(dir)
		if err != nil {
			return row{}, err
		}
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return row{name: m.name, median: ds[len(ds)/2], min: ds[0]}, nil
}

func printTable(a archives, rows []row, runs int) {
	fmt.Printf("docker save archive: %.1f MiB; OCI archive (gzip): %.1f MiB; %d layers; %d runs each\n\n",
		float64(a.dockerSize)/(1<<20), float64(a.ociSize)/(1<<20), len(a.layerTars), runs)
	fmt.Printf("| %-48s | %9s | %9s |\n", "measure", "median", "min")
	fmt.Printf("|%s|%s|%s|\n", dashes(50), dashes(11), dashes(11))
	for _, r := range rows {
		fmt.Printf("| %-48s | %6d ms | %6d ms |\n", r.name, r.median.Milliseconds(), r.min.Milliseconds())
	}
}

func dashes(n int) string { return string(bytes.Repeat([]byte("-"), n)) }
