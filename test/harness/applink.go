package harness

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// AppLink is a fake AppLink add-on API: it authenticates invocations from
// connected orgs, as the mesh expects of the real one.
type AppLink struct {
	Token string
	srv   *httptest.Server
	mu    sync.Mutex
	orgs  map[string]bool
	calls int
}

// NewAppLink starts the fake API on loopback, accepting the bearer token and
// the orgs given.
func NewAppLink(token string, orgs ...string) *AppLink {
	a := &AppLink{Token: token, orgs: map[string]bool{}}
	for _, o := range orgs {
		a.orgs[o] = true
	}
	// httptest listens on 127.0.0.1: tests never leave the loopback.
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

func (a *AppLink) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.calls++
	a.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/invocations/authentication" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+a.Token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	var body struct {
		OrgID        string `json:"org_id"`
		OrgDomainURL string `json:"org_domain_url"`
		JWT          string `json:"core_jwt_token"`
		AppUUID      string `json:"app_uuid"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.JWT == "" || body.AppUUID == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	ok := a.orgs[body.OrgID]
	a.mu.Unlock()
	if !ok {
		http.Error(w, "org not connected", http.StatusForbidden)
		return
	}
	w.Write([]byte(`{"status":"ok"}`))
}

// URL is the API's base URL, for HEROKU_APPLINK_API_URL.
func (a *AppLink) URL() string { return a.srv.URL }

// Calls counts requests the API received.
func (a *AppLink) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// Close stops the API.
func (a *AppLink) Close() { a.srv.Close() }

// Config is the config vars an app gets when the AppLink add-on is attached.
func (a *AppLink) Config() map[string]string {
	return map[string]string{"HEROKU_APPLINK_API_URL": a.URL(), "HEROKU_APPLINK_TOKEN": a.Token}
}

// InvocationHeaders are the headers Salesforce sends with an invocation from
// org, as the mesh validates them.
func InvocationHeaders(org, user string) map[string]string {
	id := "00DSG000007a3BL-4a4b5e67-0f5b-4a5c-9d1e-" + strings.ToLower(org)
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.StdEncoding.EncodeToString(b)
	}
	return map[string]string{
		"x-request-id": id + "-2026-11-26T06:00:00.000000Z",
		"x-request-context": enc(map[string]string{
			"id": id, "auth": "jwt-for-" + org, "loginUrl": "https://login.salesforce.com",
			"orgDomainUrl": "https://" + strings.ToLower(org) + ".my.salesforce.com", "orgId": org,
			"resource": "https://api.example.com", "type": "ApexRequest", "appUuid": "5c3dcf46-4e2f-4e91-b7a4-7fa3a1c2c0de",
		}),
		"x-client-context": enc(map[string]any{
			"requestId": id, "accessToken": "token-for-" + org, "apiVersion": "62.0", "namespace": "",
			"orgId": org, "orgDomainUrl": "https://" + strings.ToLower(org) + ".my.salesforce.com",
			"userContext": map[string]string{"userId": "005xx0000012345", "username": user},
		}),
	}
}
