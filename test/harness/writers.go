package harness

import (
	"bytes"
	"io"
	"sync"
)

// lockedWriter serialises writes from a process's stdout and stderr so the
// log keeps them in the order they were written.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

type teeWriter struct {
	a, b io.Writer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if _, err := t.b.Write(p); err != nil {
		return 0, err
	}
	return t.a.Write(p)
}
