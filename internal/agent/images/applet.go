package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/svcplane/svcplane/internal/agent/images/libcnslookup"
)

// Applet returns the program svcplane runs when its binary is started
// under name, through a link in a built-in image's tree: busybox 1.28's
// nslookup, agnhost (/agnhost, /agnhost-2), agnhost's netcat (nc) and
// httpd's server (httpd, httpd-foreground). The program takes the
// arguments and returns the exit code.
func Applet(name string) (func(args []string) int, bool) {
	switch name {
	case "nslookup":
		return func(args []string) int {
			return libcnslookup.Main(libcnslookup.Config{Stdout: os.Stdout, Stderr: os.Stderr}, args)
		}, true
	case "agnhost", "agnhost-2":
		return func(args []string) int { return runProgram(osStdio(), args, runAgnhost) }, true
	case "nc":
		return func(args []string) int { return runProgram(osStdio(), args, runNetcat) }, true
	case "httpd", "httpd-foreground":
		return func(args []string) int {
			return runProgram(osStdio(), args, func(ctx context.Context, s stdio, args []string) error {
				return runHttpd(ctx, s, name, args)
			})
		}, true
	}
	return nil, false
}

// libcApplet reports whether busybox 1.28's tree links an applet to the
// svcplane binary (its nslookup resolved through the C library).
func libcApplet(name string) bool { return name == "nslookup" }

// stdio is a program's standard streams, environment and command line.
type stdio struct {
	in          io.Reader
	out, errOut io.Writer
	// args are the whole command line (os.Args).
	args    []string
	environ []string
}

func osStdio() stdio {
	return stdio{in: os.Stdin, out: os.Stdout, errOut: os.Stderr, args: os.Args, environ: os.Environ()}
}

// exitCode is an error that ends a program with a status and no message
// (the program printed what it had to say).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// signalled is the cause of a program's context when a signal ends it.
type signalled struct{ sig os.Signal }

func (s signalled) Error() string { return "received " + s.sig.String() }

// runProgram runs a program until it returns, with a context that a
// SIGTERM or SIGINT cancels (its cause is a signalled), and returns the
// exit code: 0, the program's exitCode, or 1 after printing its error.
func runProgram(s stdio, args []string, run func(ctx context.Context, s stdio, args []string) error) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			cancel(signalled{sig})
		case <-ctx.Done():
		}
	}()
	return exitStatus(s, run(ctx, s, args))
}

func exitStatus(s stdio, err error) int {
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintf(s.errOut, "%v\n", err)
	return 1
}

// signalOf returns the signal that ended ctx, nil if none did.
func signalOf(ctx context.Context) os.Signal {
	var s signalled
	if errors.As(context.Cause(ctx), &s) {
		return s.sig
	}
	return nil
}
