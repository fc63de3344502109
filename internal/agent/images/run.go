package images

import (
	"context"
	"fmt"
)

// Run is `svcplane image <name> [args]`: it runs a built-in image's
// program until it exits or ctx ends (SIGTERM).
func Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: svcplane image nginx|agnhost|nc|httpd|pause [args]")
	}
	switch args[0] {
	case "nginx":
		return runNginx(ctx, args[1:])
	case "agnhost":
		return runAgnhost(ctx, osStdio(), args[1:])
	case "nc":
		return runNetcat(ctx, osStdio(), args[1:])
	case "httpd":
		return runHttpd(ctx, osStdio(), "httpd-foreground", args[1:])
	case "pause":
		<-ctx.Done()
		return nil
	}
	return fmt.Errorf("no built-in image %q", args[0])
}
