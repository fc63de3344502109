// Command apiserver measures svcplane's API server on this machine and
// prints a table: creates per second through the API next to raw etcd
// puts per second (the limit), list latency over many objects, and how
// long one change takes to reach many concurrent watchers. With -peer, it
// instead compares LIST with upstream kube-apiserver over one etcd.
//
//	go run ./bench/apiserver [-objects 10000] [-watchers 100] [-workers 32]
//	go run ./bench/apiserver -peer $(hack/upstream/build.sh kube-apiserver) [-peer-objects 20000] [-hogs 4]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/storage/etcd"
)

type config struct {
	objects  int
	watchers int
	workers  int
	rounds   int
}

func main() {
	var cfg config
	flag.IntVar(&cfg.objects, "objects", 10000, "objects created and listed")
	flag.IntVar(&cfg.watchers, "watchers", 100, "concurrent watchers")
	flag.IntVar(&cfg.workers, "workers", 32, "concurrent writers")
	flag.IntVar(&cfg.rounds, "rounds", 20, "changes sent to the watchers")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	var peer peerConfig
	flag.StringVar(&peer.binary, "peer", "", "kube-apiserver binary: compare LIST with it over one etcd instead")
	flag.IntVar(&peer.objects, "peer-objects", 20000, "configmaps listed in the comparison")
	flag.IntVar(&peer.rounds, "list-rounds", 5, "lists timed per case in the comparison")
	flag.IntVar(&peer.hogs, "hogs", 4, "CPU hog processes during the loaded lists of the comparison")
	flag.Parse()
	if *profile != "" {
		stop, err := benchutil.StartCPUProfile(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer stop()
	}
	run := run
	if peer.binary != "" {
		run = func(ctx context.Context, cfg config) error { return comparePeer(ctx, peer, cfg.workers) }
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func newTable() *tabwriter.Writer { return tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0) }

func run(ctx context.Context, cfg config) error {
	tw := newTable()
	fmt.Fprintf(tw, "measure\tvalue\tnote\n")
	putRate, err := rawEtcdPuts(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "raw etcd puts/s (embedded, %d writers)\t%.0f\tthe limit\n", cfg.workers, putRate)
	srv, client, stop, err := startServer(ctx)
	if err != nil {
		return err
	}
	defer stop()
	createRate, err := apiCreates(ctx, client, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "API creates/s (configmaps, %d writers)\t%.0f\t%.0f%% of raw puts\n", cfg.workers, createRate, 100*createRate/putRate)
	if err := listLatency(ctx, tw, client, cfg); err != nil {
		return err
	}
	if err := watchDelay(ctx, tw, client, cfg); err != nil {
		return err
	}
	_ = srv
	return tw.Flush()
}

// rawEtcdPuts measures plain puts to an embedded etcd of its own.
func rawEtcdPuts(ctx context.Context, cfg config) (float64, error) {
	dir, err := os.MkdirTemp("", "svcplane-bench-etcd")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, Logger: benchutil.Quiet()})
	if err != nil {
		return 0, err
	}
	defer e.Close()
	value := make([]byte, 400)
	return benchutil.Parallel(cfg.objects, cfg.workers, func(i int) error {
		_, err := e.Client().Put(ctx, "/bench/"+strconv.Itoa(i), string(value))
		return err
	})
}

func startServer(ctx context.Context) (*app.APIServer, kubernetes.Interface, func(), error) {
	dir, err := os.MkdirTemp("", "svcplane-bench")
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: dir, Port: 0, Logger: benchutil.Quiet()})
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	stop := func() { cancel(); <-srv.Done; os.RemoveAll(dir) }
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	rc.QPS, rc.Burst = 100000, 100000
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return srv, client, stop, nil
}

func apiCreates(ctx context.Context, client kubernetes.Interface, cfg config) (float64, error) {
	cms := client.CoreV1().ConfigMaps("default")
	return benchutil.Parallel(cfg.objects, cfg.workers, func(i int) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-" + strconv.Itoa(i), Labels: map[string]string{"bench": "yes"}},
			Data: map[string]string{"key": "some value of a modest size, as configuration often is"}}
		_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		return err
	})
}

func listLatency(ctx context.Context, tw io.Writer, client kubernetes.Interface, cfg config) error {
	cms := client.CoreV1().ConfigMaps("default")
	cases := []struct {
		name string
		opts metav1.ListOptions
	}{
		{"list all", metav1.ListOptions{}},
		{"list all, label selector", metav1.ListOptions{LabelSelector: "bench=yes"}},
		{"list first page of 500", metav1.ListOptions{Limit: 500}},
	}
	for _, tc := range cases {
		var samples []time.Duration
		for range 5 {
			start := time.Now()
			l, err := cms.List(ctx, tc.opts)
			if err != nil {
				return err
			}
			samples = append(samples, time.Since(start))
			if tc.opts.Limit == 0 && len(l.Items) < cfg.objects {
				return fmt.Errorf("listed %d objects, want %d", len(l.Items), cfg.objects)
			}
		}
		fmt.Fprintf(tw, "%s over %d configmaps (median of 5)\t%v\t\n", tc.name, cfg.objects, median(samples).Round(time.Millisecond))
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}
