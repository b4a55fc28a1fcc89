package testhelpers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Mirror is a loopback release bucket. It serves files by object name, counts
// every request, and can be told to answer a path with a fault instead.
type Mirror struct {
	srv    *httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	faults map[string]http.HandlerFunc
	// scripts answer the next requests for a name, one handler each, before
	// the file (or fault) is served as usual.
	scripts map[string][]http.HandlerFunc
	hits    map[string]int
	total   int
}

// NewMirror starts a mirror on 127.0.0.1.
func NewMirror() *Mirror {
	m := &Mirror{files: map[string][]byte{}, faults: map[string]http.HandlerFunc{}, scripts: map[string][]http.HandlerFunc{}, hits: map[string]int{}}
	// httptest listens on 127.0.0.1: tests never leave the loopback.
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

func (m *Mirror) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	m.mu.Lock()
	m.total++
	m.hits[name]++
	fault, faulty := m.faults[name]
	if script := m.scripts[name]; len(script) > 0 {
		fault, faulty = script[0], true
		m.scripts[name] = script[1:]
	}
	data, ok := m.files[name]
	m.mu.Unlock()
	switch {
	case faulty:
		fault(w, r)
	case !ok:
		// S3 answers 403 for a missing key when listing is not public.
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	}
}

// URL is the mirror's base URL.
func (m *Mirror) URL() string { return m.srv.URL }

// Put publishes a file.
func (m *Mirror) Put(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = data
}

// Fault makes the mirror answer name with h until cleared with a nil h.
func (m *Mirror) Fault(name string, h http.HandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h == nil {
		delete(m.faults, name)
		return
	}
	m.faults[name] = h
}

// Script makes the next requests for name answered by handlers, in order;
// after them the mirror serves name as usual.
func (m *Mirror) Script(name string, handlers ...http.HandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scripts[name] = append([]http.HandlerFunc{}, handlers...)
}

// Hits is the number of requests for one object.
func (m *Mirror) Hits(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits[name]
}

// Requests is the number of requests served so far.
func (m *Mirror) Requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

// Close stops the mirror.
func (m *Mirror) Close() { m.srv.Close() }

// StartMirror starts a mirror that closes when the test ends.
func StartMirror(t testing.TB) *Mirror {
	m := NewMirror()
	t.Cleanup(m.Close)
	return m
}
