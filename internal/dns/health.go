package dns

import (
	"io"
	"net/http"
	"sync/atomic"
)

// HealthHandler serves /health as CoreDNS's health plugin: always 200
// "OK" while the process serves HTTP.
func HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, http.StatusText(http.StatusOK))
	})
	return mux
}

// ReadyHandler serves /ready as CoreDNS's ready plugin: 200 "OK" once
// answerer is ready (and from then on, as the plugin stops asking a
// plugin that was ready), else 503 with the names of the plugins not
// ready, here "kubernetes". A nil answerer is always ready. While
// stopping holds (the server's lameduck period before it stops; nil:
// never) it answers 503 "shutting down", as CoreDNS's ready plugin stops
// answering OK in health's lameduck, so the pod turns not ready.
func ReadyHandler(answerer Answerer, stopping *atomic.Bool) http.Handler {
	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if stopping != nil && stopping.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down")
			return
		}
		if ready.Load() || answerer == nil || answerer.Ready() {
			ready.Store(true)
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, http.StatusText(http.StatusOK))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, pluginK8s)
	})
	return mux
}
