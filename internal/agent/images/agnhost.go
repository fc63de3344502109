package images

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// runAgnhost dispatches the agnhost subcommands svcplane implements.
func runAgnhost(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: agnhost pause|serve-hostname|netexec [flags]")
	}
	switch args[0] {
	case "pause":
		fmt.Println("Paused")
		<-ctx.Done()
		fmt.Println("Shutting down after receiving signal")
		return nil
	case "serve-hostname":
		return serveHostname(ctx, args[1:])
	case "netexec":
		return netexec(ctx, args[1:])
	}
	return fmt.Errorf("agnhost: subcommand %q is not built in (pause, serve-hostname, netexec are)", args[0])
}

// serveHostname answers every request with the hostname, over HTTP, UDP
// or TCP, as agnhost serve-hostname does.
func serveHostname(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve-hostname", flag.ContinueOnError)
	port := fs.Int("port", 9376, "port to serve on")
	useHTTP := fs.Bool("http", true, "serve HTTP")
	useTCP := fs.Bool("tcp", false, "serve raw TCP")
	useUDP := fs.Bool("udp", false, "serve UDP")
	closeConn := fs.Bool("close", false, "close HTTP connections after each response")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _ := os.Hostname()
	addr := fmt.Sprintf(":%d", *port)
	errc := make(chan error, 3)
	if *useUDP {
		go func() { errc <- serveUDP(ctx, addr, func([]byte, net.Addr) []byte { return []byte(host) }) }()
	}
	if *useTCP {
		go func() { errc <- serveTCPHostname(ctx, addr, host) }()
	}
	if *useHTTP {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if *closeConn {
				w.Header().Set("Connection", "close")
			}
			fmt.Fprint(w, host)
		})
		go func() { errc <- serveHTTP(ctx, addr, h) }()
	}
	fmt.Printf("Serving on port %d.\n", *port)
	return wait(ctx, errc)
}

func serveTCPHostname(ctx context.Context, addr, host string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			return ctx.Err()
		}
		_, _ = c.Write([]byte(host))
		c.Close()
	}
}

// serveUDP answers each datagram with reply's result.
func serveUDP(ctx context.Context, addr string, reply func(req []byte, from net.Addr) []byte) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); pc.Close() }()
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return ctx.Err()
		}
		if out := reply(buf[:n], from); out != nil {
			_, _ = pc.WriteTo(out, from)
		}
	}
}

func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// wait returns when ctx ends (nil) or a server fails.
func wait(ctx context.Context, errc <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}
