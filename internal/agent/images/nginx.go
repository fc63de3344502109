package images

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// welcomePage is the page nginx serves by default.
const welcomePage = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`

const nginxVersion = "nginx/1.27.3"

// runNginx serves the image's pages on every port until ctx ends.
func runNginx(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("nginx", flag.ContinueOnError)
	ports := fs.String("ports", "80", "comma-separated TCP ports to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &http.Server{Handler: accessLog(nginxHandler(nginxRoot)), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 4)
	for _, p := range strings.Split(*ports, ",") {
		ln, err := net.Listen("tcp", ":"+strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("nginx: [emerg] bind() to 0.0.0.0:%s failed: %w", p, err)
		}
		go func() { errc <- srv.Serve(ln) }()
	}
	fmt.Fprintf(os.Stdout, "%s [notice] 1#1: %s\n%s [notice] 1#1: start worker processes\n", nginxTime(), nginxVersion, nginxTime())
	select {
	case <-ctx.Done():
		fmt.Fprintf(os.Stdout, "%s [notice] 1#1: signal 15 (SIGTERM) received, exiting\n", nginxTime())
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

func nginxTime() string { return time.Now().Format("2006/01/02 15:04:05") }

// nginxRoot is where the image's default server reads its files.
const nginxRoot = "/usr/share/nginx/html"

// nginxHandler serves the files under root as the image's default server
// does (index.html for a directory), so a page written there is what
// clients get; without root (outside a container) it serves the welcome
// page alone.
func nginxHandler(root string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", nginxVersion)
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name = path.Join(name, "index.html")
		}
		if _, err := os.Stat(root); err != nil {
			if name != "/index.html" {
				nginxNotFound(w)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			http.ServeContent(w, r, "index.html", time.Time{}, strings.NewReader(welcomePage))
			return
		}
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			nginxNotFound(w)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			nginxNotFound(w)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
}

func nginxNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>%s</center>\r\n</body>\r\n</html>\r\n", nginxVersion)
}

// accessLog prints one line per request in nginx's combined format.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(os.Stdout, "%s - - [%s] \"%s %s %s\" %d %d \"-\" \"%s\" \"-\"\n", host,
			time.Now().Format("02/Jan/2006:15:04:05 -0700"), r.Method, r.RequestURI, r.Proto, rec.code, rec.n, r.UserAgent())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
	n    int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.n += n
	return n, err
}
