package install

import (
	"context"
	"errors"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// Trust says which key may sign an unpinned release and where the key
// comes from.
type Trust struct {
	// Fingerprint is the pinned key fingerprint, or empty.
	Fingerprint string
	// KeyFile is a key shipped in the buildpack, or empty.
	KeyFile string
	// KeyURL is where to fetch the key when no file is shipped: the official
	// bucket, or an overridden source only when the fingerprint is pinned,
	// since a source that serves the release could otherwise serve its own
	// key too. It may carry credentials.
	KeyURL string
}

// TrustFor applies that rule to a download source, the inventory's pinned
// fingerprint and a key file shipped in the buildpack.
func TrustFor(src source.Source, fingerprint, keyFile string) Trust {
	t := Trust{Fingerprint: fingerprint, KeyFile: keyFile, KeyURL: source.OfficialURL(source.KeyObject)}
	if src.Overridden() && fingerprint != "" {
		t.KeyURL = src.URL(source.KeyObject)
	}
	return t
}

// KeySource names where the key comes from, as records store it: the key
// file shipped in the buildpack (wherever the buildpack is unpacked), or
// the key's URL without credentials.
func (t Trust) KeySource() string {
	if t.KeyFile != "" {
		return "buildpack " + KeyFile
	}
	return source.Public(t.KeyURL)
}

// from says where the key comes from, for the log.
func (t Trust) from() string {
	if t.KeyFile != "" {
		return "the key file " + t.KeyFile
	}
	return source.Redact(t.KeyURL)
}

// LoadKey loads the signing key according to the trust rules, from the key
// file or by downloading it. The buildpack and the pin tool both use it,
// so they trust exactly the same keys.
func LoadKey(ctx context.Context, f Fetcher, t Trust) (*signature.Key, error) {
	var (
		data []byte
		err  error
	)
	if t.KeyFile != "" {
		data, err = files.ReadRegular(t.KeyFile, signature.MaxArmoredSize)
	} else {
		data, err = f.GetBytes(ctx, t.KeyURL, signature.MaxArmoredSize)
	}
	if err != nil {
		return nil, &KeyFetchError{From: t.from(), Err: err}
	}
	key, err := signature.ParseKey(data, t.Fingerprint)
	var unusable *signature.KeyError
	if errors.As(err, &unusable) {
		return nil, &KeyFetchError{From: t.from(), Err: err}
	}
	return key, err
}
