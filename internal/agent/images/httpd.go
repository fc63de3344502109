package images

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// httpdPrefix is where the httpd image keeps Apache (HTTPD_PREFIX).
const httpdPrefix = "/usr/local/apache2"

// itWorks is Apache's default index.html.
const itWorks = "<html><body><h1>It works!</h1></body></html>\n"

// httpdVersion is the Apache version the container's image tag names
// (HTTPD_VERSION in the image's environment).
func httpdVersion(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "HTTPD_VERSION="); ok && v != "" {
			return v
		}
	}
	return "2.4.38"
}

// runHttpd is the httpd image's program: `httpd-foreground` (the image's
// command) and `httpd -D FOREGROUND` serve the document root on port 80
// as Apache's default configuration does; `httpd -v` prints the version.
func runHttpd(ctx context.Context, s stdio, name string, args []string) error {
	version := httpdVersion(s.environ)
	for _, a := range args {
		switch a {
		case "-v", "-V":
			fmt.Fprintf(s.out, "Server version: Apache/%s (Unix)\nServer built:   Apr  1 2019 10:00:00\n", version)
			return nil
		case "-t":
			fmt.Fprintln(s.errOut, "Syntax OK")
			return nil
		}
	}
	if name == "httpd" && !foreground(args) {
		return errors.New("httpd: svcplane's httpd runs in the foreground only (httpd -D FOREGROUND or httpd-foreground)")
	}
	ln, err := net.Listen("tcp", ":80")
	if err != nil {
		return fmt.Errorf("(98)Address in use: AH00072: make_sock: could not bind to address [::]:80: %w", err)
	}
	h := &httpdHandler{root: filepath.Join(httpdPrefix, "htdocs"), server: "Apache/" + version + " (Unix)", log: s}
	fmt.Fprintf(s.errOut, "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, "+
		"using %s. Set the 'ServerName' directive globally to suppress this message\n", localIP(hostname()))
	fmt.Fprintf(s.errOut, "%s [mpm_event:notice] [pid 1:tid 1] AH00489: %s configured -- resuming normal operations\n", apacheTime(), h.server)
	fmt.Fprintf(s.errOut, "%s [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n", apacheTime())
	err = serveHTTPListener(ctx, ln, h)
	if ctx.Err() != nil {
		fmt.Fprintf(s.errOut, "%s [mpm_event:notice] [pid 1:tid 1] AH00491: caught SIGTERM, shutting down\n", apacheTime())
	}
	return err
}

func foreground(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-D" && args[i+1] == "FOREGROUND" {
			return true
		}
	}
	return false
}

func localIP(host string) string {
	if addrs, err := net.LookupHost(host); err == nil && len(addrs) > 0 {
		return addrs[0]
	}
	return "127.0.0.1"
}

func apacheTime() string { return time.Now().Format("[Mon Jan 02 15:04:05.000000 2006]") }

// httpdHandler serves files under root as Apache with its default
// configuration: directories by their index.html, Apache's error pages,
// a common-log-format line per request on stdout.
type httpdHandler struct {
	root, server string
	log          stdio
}

func (h *httpdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", h.server)
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	h.serve(rec, r)
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	size := "-"
	if rec.n > 0 {
		size = fmt.Sprint(rec.n)
	}
	fmt.Fprintf(h.log.out, "%s - - [%s] \"%s %s %s\" %d %s\n", host, time.Now().Format("02/Jan/2006:15:04:05 -0700"),
		r.Method, r.RequestURI, r.Proto, rec.code, size)
}

func (h *httpdHandler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && r.Method != http.MethodPost {
		h.errorPage(w, http.StatusMethodNotAllowed, "Method Not Allowed",
			fmt.Sprintf("The requested method %s is not allowed for this URL.", r.Method))
		return
	}
	name := filepath.Join(h.root, filepath.FromSlash(path.Clean("/"+r.URL.Path)))
	fi, err := os.Stat(name)
	if err == nil && fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		name = filepath.Join(name, "index.html")
		fi, err = os.Stat(name)
	}
	if err != nil || fi.IsDir() {
		h.errorPage(w, http.StatusNotFound, "Not Found",
			fmt.Sprintf("The requested URL %s was not found on this server.", html.EscapeString(r.URL.Path)))
		return
	}
	f, err := os.Open(name)
	if err != nil {
		h.errorPage(w, http.StatusForbidden, "Forbidden", "You don't have permission to access this resource.")
		return
	}
	defer f.Close()
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// errorPage is Apache's built-in error document.
func (h *httpdHandler) errorPage(w http.ResponseWriter, code int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n"+
		"</head><body>\n<h1>%s</h1>\n<p>%s</p>\n</body></html>\n", code, title, title, text)
}

// httpdConf is the part of the image's httpd.conf that says what the
// server does (the real file has Apache's comments and modules).
const httpdConf = `ServerRoot "/usr/local/apache2"
Listen 80
User daemon
Group daemon
ServerAdmin you@example.com
DocumentRoot "/usr/local/apache2/htdocs"
<Directory "/usr/local/apache2/htdocs">
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
<IfModule dir_module>
    DirectoryIndex index.html
</IfModule>
ErrorLog /proc/self/fd/2
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog /proc/self/fd/1 common
`
