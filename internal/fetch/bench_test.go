package fetch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// The fetch-and-verify path against its floor, hashing the same bytes from
// memory. `make bench` runs both and reports the throughput ratio.

const benchSize = 64 << 20

var benchData = func() []byte {
	b := make([]byte, benchSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

func BenchmarkHashFromMemory(b *testing.B) {
	b.SetBytes(benchSize)
	for b.Loop() {
		h := sha256.New()
		h.Write(benchData)
		_ = h.Sum(nil)
	}
}

func BenchmarkFetchAndVerify(b *testing.B) {
	sum := sha256.Sum256(benchData)
	want := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(benchData) }))
	defer srv.Close()
	c := client()
	c.MaxSize = benchSize * 2
	dir := b.TempDir()
	b.SetBytes(benchSize)
	for b.Loop() {
		res, err := c.Fetch(context.Background(), srv.URL, dir, want)
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(res.Path)
	}
}
