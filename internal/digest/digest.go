package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Digest is a sha256 digest. The zero value means "no digest".
type Digest struct {
	hex string
}

// Parse reads "sha256:<64 lowercase hex digits>", the form inventories,
// layer metadata and the cache index store.
func Parse(s string) (Digest, error) {
	algo, h, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, fmt.Errorf("checksum %q has no algorithm prefix: want sha256:<64 hex digits>", s)
	}
	if algo != "sha256" {
		return Digest{}, fmt.Errorf("checksum %q uses %q: only sha256 is supported", s, algo)
	}
	d, err := FromHex(h)
	if err != nil {
		return Digest{}, fmt.Errorf("checksum %q: %w", s, err)
	}
	return d, nil
}

// FromHex wraps a bare digest of 64 lowercase hex digits.
func FromHex(h string) (Digest, error) {
	if len(h) != 64 || strings.ToLower(h) != h {
		return Digest{}, fmt.Errorf("want 64 lowercase hex digits, got %d characters", len(h))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return Digest{}, fmt.Errorf("not hex: %w", err)
	}
	return Digest{hex: h}, nil
}

// Of hashes b.
func Of(b []byte) Digest {
	s := sha256.Sum256(b)
	return Digest{hex: hex.EncodeToString(s[:])}
}

// Hex is the bare digest, as cache entries are named.
func (d Digest) Hex() string { return d.hex }

// String is the stored form, "sha256:<hex>".
func (d Digest) String() string {
	if d.hex == "" {
		return ""
	}
	return "sha256:" + d.hex
}

// IsZero reports whether d is the zero Digest.
func (d Digest) IsZero() bool { return d.hex == "" }

// Equal reports whether d and o are the same digest (and lets go-cmp
// compare values that hold digests).
func (d Digest) Equal(o Digest) bool { return d == o }

// MarshalText lets TOML and JSON encoders write the stored form.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses the stored form.
func (d *Digest) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// WriteError is a failure to write the copy, so that callers never mistake
// a full disk for a flaky network.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }

func (e *WriteError) Unwrap() error { return e.Err }

// bufferSize and buffers bound the memory of a copy whatever its size.
const (
	bufferSize = 1 << 20
	buffers    = 4
)

// Copy copies src to dst and hashes the bytes in the same pass, with the
// hash running in its own goroutine on buffers the copy has finished with:
// sha256 is the slowest stage, and this way reading and writing overlap it
// instead of waiting for it. A failed write is a *WriteError; a failed read
// is returned as it is.
func Copy(dst io.Writer, src io.Reader) (Digest, int64, error) {
	h := sha256.New()
	n, err := copyHashing(dst, src, h)
	if err != nil {
		return Digest{}, n, err
	}
	return Digest{hex: hex.EncodeToString(h.Sum(nil))}, n, nil
}

func copyHashing(dst io.Writer, src io.Reader, h hash.Hash) (int64, error) {
	free := make(chan []byte, buffers)
	for range buffers {
		free <- make([]byte, bufferSize)
	}
	full := make(chan []byte, buffers)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var (
		n   int64
		err error
	)
	for {
		buf := <-free
		m, rerr := fill(src, buf)
		if m > 0 {
			if _, werr := dst.Write(buf[:m]); werr != nil {
				err = &WriteError{werr}
				break
			}
			n += int64(m)
			full <- buf[:m]
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	close(full)
	<-hashed
	return n, err
}

// fill reads until buf is full or src fails. Unlike io.ReadFull it passes
// every error through as it is: a body cut short says io.ErrUnexpectedEOF
// itself, and that must not read as a normal end.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
