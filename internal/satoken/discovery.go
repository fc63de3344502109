package satoken

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	jose "github.com/go-jose/go-jose/v4"
)

// Paths of the issuer discovery documents, as upstream serves them.
const (
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
	JWKSPath                = "/openid/v1/jwks"
)

// openIDConfiguration is the discovery document, upstream's fields in
// upstream's order.
type openIDConfiguration struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

// DiscoveryHandler serves OpenID Connect discovery for the tokens, so that
// other systems can check them: the configuration document (jwks_uri at
// the issuer's host) and the public key set.
func (t *Tokens) DiscoveryHandler() (http.Handler, error) {
	iss, err := url.Parse(t.cfg.Issuer)
	if err != nil || iss.Scheme != "https" || iss.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an https URL: no discovery", t.cfg.Issuer)
	}
	cfg, err := json.Marshal(openIDConfiguration{
		Issuer:        t.cfg.Issuer,
		JWKSURI:       (&url.URL{Scheme: "https", Host: iss.Host, Path: JWKSPath}).String(),
		ResponseTypes: []string{"id_token"},
		SubjectTypes:  []string{"public"},
		SigningAlgs:   []string{string(jose.RS256)},
	})
	if err != nil {
		return nil, err
	}
	keys, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &t.cfg.Key.PublicKey, KeyID: t.kid, Algorithm: string(jose.RS256), Use: "sig"}}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+OpenIDConfigurationPath, staticJSON(cfg, "application/json"))
	mux.Handle("GET "+JWKSPath, staticJSON(keys, "application/jwk-set+json"))
	return mux, nil
}

func staticJSON(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	})
}
