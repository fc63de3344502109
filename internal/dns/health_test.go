package dns

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestHealthAndReady(t *testing.T) {
	answerer := NewFakeAnswerer()
	answerer.NotReady.Store(true)
	var stopping atomic.Bool
	health, ready := HealthHandler(), ReadyHandler(answerer, &stopping)
	for _, step := range []struct {
		name     string
		handler  http.Handler
		path     string
		notReady bool
		stopping bool
		code     int
		body     string
	}{
		{"health", health, "/health", true, false, http.StatusOK, "OK"},
		{"health, other path", health, "/ready", true, false, http.StatusNotFound, "404 page not found\n"},
		{"not ready", ready, "/ready", true, false, http.StatusServiceUnavailable, "kubernetes"},
		{"ready", ready, "/ready", false, false, http.StatusOK, "OK"},
		{"stays ready", ready, "/ready", true, false, http.StatusOK, "OK"},
		{"lameduck", ready, "/ready", false, true, http.StatusServiceUnavailable, "shutting down"},
		{"health in lameduck", health, "/health", false, true, http.StatusOK, "OK"},
		{"nil answerer", ReadyHandler(nil, nil), "/ready", true, false, http.StatusOK, "OK"},
	} {
		answerer.NotReady.Store(step.notReady)
		stopping.Store(step.stopping)
		rec := httptest.NewRecorder()
		step.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, step.path, nil))
		if rec.Code != step.code || rec.Body.String() != step.body {
			t.Errorf("%s: %d %q, want %d %q", step.name, rec.Code, rec.Body.String(), step.code, step.body)
		}
	}
}
