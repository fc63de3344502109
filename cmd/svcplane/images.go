package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/svcplane/svcplane/internal/agent/imagestore"
)

const imagesUsage = `usage: svcplane images <import|list|remove> [--data-dir DIR] ...
  import FILE    load the images of a docker save or OCI archive
  list           list the node's images
  remove REF...  remove images (by reference or ID)`

// runImages manages the node's imported images.
func runImages(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(imagesUsage)
	}
	fs := flag.NewFlagSet("images "+args[0], flag.ContinueOnError)
	dataDir := fs.String("data-dir", "/var/lib/svcplane", "data directory of the node (images are under images/)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	run, ok := map[string]func(context.Context, *imagestore.Store, []string, io.Writer) error{
		"import": imagesImport, "list": imagesList, "ls": imagesList, "remove": imagesRemove, "rm": imagesRemove,
	}[args[0]]
	if !ok {
		return fmt.Errorf("unknown images command %q\n%s", args[0], imagesUsage)
	}
	s, err := imagestore.Open(filepath.Join(*dataDir, "images"))
	if err != nil {
		return err
	}
	return run(ctx, s, fs.Args(), os.Stdout)
}

func imagesImport(ctx context.Context, s *imagestore.Store, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: svcplane images import [--data-dir DIR] FILE")
	}
	imgs, err := s.Import(ctx, args[0])
	if err != nil {
		return err
	}
	for _, img := range imgs {
		names := strings.Join(img.Refs, ", ")
		if names == "" {
			names = "<none>"
		}
		fmt.Fprintf(out, "imported %s (%s)\n", names, img.ID)
	}
	return nil
}

// imagesList prints a table as crictl images does.
func imagesList(_ context.Context, s *imagestore.Store, args []string, out io.Writer) error {
	if len(args) != 0 {
		return errors.New("usage: svcplane images list [--data-dir DIR]")
	}
	imgs, err := s.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
	for _, img := range imgs {
		id := strings.TrimPrefix(img.ID, "sha256:")[:13]
		refs := img.Refs
		if len(refs) == 0 {
			refs = []string{"<none>:<none>"}
		}
		for _, ref := range refs {
			repo, tag := splitTag(ref)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", repo, tag, id, humanSize(img.Size))
		}
	}
	return tw.Flush()
}

func splitTag(ref string) (repo, tag string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, "<none>"
	}
	return ref[:i], ref[i+1:]
}

// humanSize writes n bytes as crictl does (go-units' HumanSize: decimal
// units, four significant digits).
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

func imagesRemove(_ context.Context, s *imagestore.Store, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: svcplane images remove [--data-dir DIR] REF...")
	}
	var errs []error
	for _, ref := range args {
		if err := s.Remove(ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "Deleted: %s\n", ref)
	}
	return errors.Join(errs...)
}
