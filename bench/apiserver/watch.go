package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// watchDelay opens many watches on one object, changes it, and measures
// how long each watcher takes to see the change.
func watchDelay(ctx context.Context, tw io.Writer, client kubernetes.Interface, cfg config) error {
	cms := client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "watched"}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	watchers := make([]watch.Interface, 0, cfg.watchers)
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()
	for range cfg.watchers {
		w, err := cms.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=watched", ResourceVersion: cm.ResourceVersion})
		if err != nil {
			return err
		}
		watchers = append(watchers, w)
	}
	var all, last []time.Duration
	for round := range cfg.rounds {
		start := time.Now()
		cm.Data = map[string]string{"round": strconv.Itoa(round)}
		if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return err
		}
		delays, err := collect(watchers, start)
		if err != nil {
			return err
		}
		all = append(all, delays...)
		last = append(last, maxOf(delays))
	}
	fmt.Fprintf(tw, "one change to %d watchers: median delay\t%v\tover %d changes\n", cfg.watchers, median(all).Round(10*time.Microsecond), cfg.rounds)
	fmt.Fprintf(tw, "one change to %d watchers: until the last one (median)\t%v\t\n", cfg.watchers, median(last).Round(10*time.Microsecond))
	return nil
}

func collect(watchers []watch.Interface, start time.Time) ([]time.Duration, error) {
	delays := make(chan time.Duration, len(watchers))
	for _, w := range watchers {
		go func() {
			select {
			case <-w.ResultChan():
				delays <- time.Since(start)
			case <-time.After(30 * time.Second):
				delays <- -1
			}
		}()
	}
	out := make([]time.Duration, 0, len(watchers))
	for range watchers {
		d := <-delays
		if d < 0 {
			return nil, fmt.Errorf("a watcher saw no event within 30s")
		}
		out = append(out, d)
	}
	return out, nil
}

func maxOf(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = max(m, x)
	}
	return m
}
