package dns

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthAndReady(t *testing.T) {
	answerer := NewFakeAnswerer()
	answerer.NotReady.Store(true)
	health, ready := HealthHandler(), ReadyHandler(answerer)
	for _, step := range []struct {
		name     string
		handler  http.Handler
		path     string
		notReady bool
		code     int
		body     string
	}{
		{"health", health, "/health", true, http.StatusOK, "OK"},
		{"health, other path", health, "/ready", true, http.StatusNotFound, "404 page not found\n"},
		{"not ready", ready, "/ready", true, http.StatusServiceUnavailable, "kubernetes"},
		{"ready", ready, "/ready", false, http.StatusOK, "OK"},
		{"stays ready", ready, "/ready", true, http.StatusOK, "OK"},
		{"nil answerer", ReadyHandler(nil), "/ready", true, http.StatusOK, "OK"},
	} {
		answerer.NotReady.Store(step.notReady)
		rec := httptest.NewRecorder()
		step.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, step.path, nil))
		if rec.Code != step.code || rec.Body.String() != step.body {
			t.Errorf("%s: %d %q, want %d %q", step.name, rec.Code, rec.Body.String(), step.code, step.body)
		}
	}
}
