// Command docs writes the docs tour (docs/*.md and its screenshots) from
// a live sandboxed cluster: it runs internal/tour's steps against
// `svcplane up --sandbox` and removes the cluster afterwards, also on
// failure or Ctrl-C. hack/docs.sh builds svcplane and runs it;
// --check runs the short part and writes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/svcplane/svcplane/internal/tour"
)

func main() {
	bin := flag.String("bin", "bin/svcplane", "the svcplane binary (svcplane-init beside it)")
	out := flag.String("out", "docs", "directory the pages are written to")
	name := flag.String("sandbox", "tour", "the sandbox's name")
	check := flag.Bool("check", false, "run the short part of the tour and write nothing")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fail(err)
	}
	outAbs, err := filepath.Abs(*out)
	if err != nil {
		fail(err)
	}
	cfg := tour.Config{Bin: abs, Name: *name, OutDir: outAbs, Log: os.Stderr, Short: *check}
	if *check {
		cfg.OutDir = ""
	} else if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	if err := tour.Run(ctx, cfg, tour.Pages()); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "docs:", err)
	os.Exit(1)
}
