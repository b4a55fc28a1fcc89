package fetch_test

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
)

// The fetch-and-verify path against its floor, hashing the same bytes from
// memory. `make bench` runs both and reports the throughput ratio.

const benchSize = 64 << 20

// benchData is made on first use, by a benchmark: tests never pay for it.
var benchData = sync.OnceValue(func() []byte {
	b := make([]byte, benchSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
})

func BenchmarkHashFromMemory(b *testing.B) {
	data := benchData()
	b.SetBytes(benchSize)
	for b.Loop() {
		h := sha256.New()
		h.Write(data)
		_ = h.Sum(nil)
	}
}

func BenchmarkFetchAndVerify(b *testing.B) {
	data := benchData()
	want := digest.Of(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(data) }))
	defer srv.Close()
	c := client()
	c.MaxSize = benchSize * 2
	dir := b.TempDir()
	b.SetBytes(benchSize)
	for b.Loop() {
		res, err := c.Get(context.Background(), fetch.Request{URL: srv.URL, Dir: dir, Want: want})
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(res.Path)
	}
}
