// Command copyhash is the cached rebuild's baseline in make bench: the least
// a verified install from a cached file can do. It reads SRC once, hashing
// it with sha256 while it writes the copy DST, checks the sum against SHA256
// (hex) and makes DST executable.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: copyhash SRC DST SHA256")
		os.Exit(2)
	}
	if err := copyHash(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "copyhash:", err)
		os.Exit(1)
	}
}

func copyHash(src, dst, want string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s hashes to %s, not %s", src, got, want)
	}
	if err := out.Chmod(0o755); err != nil {
		return err
	}
	return out.Close()
}
