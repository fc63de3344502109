package satoken

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestDiscoveryDocumentsVerifyTokens(t *testing.T) {
	w := newWorld(t)
	h, err := w.tokens.DiscoveryHandler()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, wantType string) []byte {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != wantType {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		body, _ := io.ReadAll(rec.Body)
		return body
	}
	cfg := get(OpenIDConfigurationPath, "application/json")
	want := `{"issuer":"` + issuer + `","jwks_uri":"https://kubernetes.default.svc.cluster.local/openid/v1/jwks",` +
		`"response_types_supported":["id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`
	if string(cfg) != want {
		t.Errorf("configuration %s\nwant %s", cfg, want)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(get(JWKSPath, "application/jwk-set+json"), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, set)
	}
	tok, err := jwt.ParseSigned(w.issue(t, Request{}).Token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	var claims jwt.Claims
	if len(keys) != 1 || tok.Claims(keys[0].Key, &claims) != nil || claims.Issuer != issuer {
		t.Fatalf("a token does not verify with the published key %+v", keys)
	}
}
