package builddata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

// Where compile keeps the data: the build cache's build-data folder, which
// Heroku's buildpacks share, one file each.
const (
	Dir      = "build-data"
	FileName = "heroku-applink-service-mesh.json"
)

// maxValue is the longest string kept, as Heroku's buildpacks cut theirs;
// maxSize bounds the file bin/report reads.
const (
	maxValue = 200
	maxSize  = 64 << 10
)

// Recorder collects one compile's data. A nil Recorder records nothing.
type Recorder struct {
	cacheDir string
	now      func() time.Time
	start    time.Time
	data     map[string]any
}

// Start begins recording a compile, and first replaces the previous
// build's data with none: a compile that dies before Finish must not
// leave another build's data to report.
func Start(cacheDir, buildpackVersion string, now func() time.Time) *Recorder {
	r := &Recorder{cacheDir: cacheDir, now: now, start: now(), data: map[string]any{}}
	r.save()
	r.data["buildpack_version"] = buildpackVersion
	return r
}

// set keeps a scalar: a string (cut to maxValue), a bool or a number.
func (r *Recorder) set(key string, value any) {
	if r == nil {
		return
	}
	if s, ok := value.(string); ok {
		value = cut(s)
	}
	r.data[key] = value
}

func cut(s string) string {
	if len(s) <= maxValue {
		return s
	}
	s = s[:maxValue]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func seconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }

// Stack records the stack the build ran on, when the platform says.
func (r *Recorder) Stack(stack string) {
	if stack != "" {
		r.set("stack", stack)
	}
}

// Release records what was asked for and what it resolved to.
func (r *Recorder) Release(rel install.Release) {
	r.set("mesh_version", rel.Version)
	r.set("mesh_arch", rel.Arch)
	r.set("mesh_version_request_type", rel.Request.Kind())
	if !rel.Request.IsDefault() {
		r.set("mesh_version_requested", rel.Request.String())
	}
	r.set("mesh_version_pinned", rel.Pinned())
	r.set("mesh_source", rel.Source.Kind())
}

// Installed records how the binary was verified and obtained. cached is
// false when the build had no usable cache.
func (r *Recorder) Installed(inst install.Installed, cached bool) {
	rec := inst.Record
	r.set("mesh_checksum", rec.Checksum.String())
	if rec.Signer != "" {
		r.set("mesh_verification", "signature")
		r.set("mesh_signing_key_fingerprint", rec.Signer)
	} else {
		r.set("mesh_verification", "pinned-checksum")
	}
	switch {
	case !cached:
		r.set("cache_status", "disabled")
	case inst.Reused:
		r.set("cache_status", "reused")
	case inst.Discarded != nil:
		r.set("cache_status", "discarded")
		r.set("cache_discard_reason", inst.Discarded.String())
	default:
		r.set("cache_status", "empty")
	}
	if inst.Download > 0 {
		r.set("mesh_download_duration", seconds(inst.Download))
	}
}

// Advice records the kinds of advice the build gave, each once, in the
// order given (the Procfile's first), as whole names: when they do not all
// fit in a value, the last ones go, and advice_count still counts them.
func (r *Recorder) Advice(kinds []string) {
	var given []string
	for _, k := range kinds {
		if !slices.Contains(given, k) {
			given = append(given, k)
		}
	}
	kept := given
	for len(strings.Join(kept, ",")) > maxValue {
		kept = kept[:len(kept)-1]
	}
	r.set("advice", strings.Join(kept, ","))
	r.set("advice_count", len(given))
}

// Finish records the total duration and, for a failed build, why; saves
// the data; and returns err unchanged.
func (r *Recorder) Finish(err error) error {
	if r == nil {
		return err
	}
	r.set("total_duration", seconds(r.now().Sub(r.start)))
	if err != nil {
		r.set("failure_reason", Reason(err))
		r.set("failure_detail", firstLine(err.Error()))
	}
	r.save()
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// save writes the data where bin/report finds it, best effort: a build
// whose cache cannot take it loses its report, nothing else. The folder
// is made without following a link, and the file replaced, never written
// through one.
func (r *Recorder) save() {
	if r.cacheDir == "" {
		return
	}
	data, err := json.Marshal(r.data)
	if err != nil {
		return
	}
	dir, err := files.MkdirUnder(r.cacheDir, Dir)
	if err != nil {
		return
	}
	files.Write(dir, FileName, data, 0o644)
}

// Reason names why a build failed, namespaced as Heroku's buildpacks name
// theirs.
func Reason(err error) string {
	var (
		configErr   *config.Error
		request     *version.InvalidRequestError
		unknown     *inventory.UnknownVersionError
		arch        *inventory.UnsupportedArchError
		mismatch    *fetch.ChecksumMismatchError
		badSig      *signature.BadSignatureError
		fingerprint *signature.FingerprintError
		keyErr      *signature.KeyError
		keyFetch    *install.KeyFetchError
		sigFetch    *install.SignatureFetchError
		tlsErr      *fetch.TLSError
		status      *fetch.StatusError
		webPage     *fetch.WebPageError
		tooSlow     *fetch.TooSlowError
		stalled     *fetch.StalledError
		network     *fetch.NetworkError
		download    *install.DownloadError
		write       *digest.WriteError
		path        *files.PathError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "build::cancelled"
	case errors.As(err, &request):
		return "config::invalid-version"
	case errors.As(err, &configErr):
		return "config::invalid"
	case errors.As(err, &unknown):
		return "version::no-match"
	case errors.As(err, &arch):
		return "platform::unsupported-arch"
	case errors.As(err, &mismatch):
		return "verify::checksum-mismatch"
	case errors.As(err, &badSig), errors.As(err, &fingerprint), errors.As(err, &keyErr):
		return "verify::signature"
	case errors.As(err, &keyFetch), errors.As(err, &sigFetch):
		return "download::signature-files"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "filesystem::no-space"
	case errors.As(err, &tlsErr):
		return "download::tls"
	case errors.As(err, &webPage):
		return "download::web-page"
	case errors.As(err, &status):
		return "download::http-status"
	case errors.As(err, &tooSlow), errors.As(err, &stalled):
		return "download::too-slow"
	case errors.As(err, &network):
		return "download::network"
	case errors.As(err, &download):
		return "download::failed"
	case errors.As(err, &write), errors.As(err, &path):
		return "filesystem::unusable"
	}
	return "internal-error::unhandled"
}

// Print writes the recorded data as bin/report prints it: one flat JSON
// object, keys sorted, which is also valid YAML. No data, or data that is
// not such an object, prints as {}: a report never fails.
func Print(w io.Writer, cacheDir string) error {
	data := map[string]any{}
	if raw, err := files.ReadRegular(filepath.Join(cacheDir, Dir, FileName), maxSize); err == nil {
		var got map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&got) == nil && got != nil && flat(got) {
			data = got
		}
	}
	out, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// flat: every value a string, number or boolean.
func flat(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case string, json.Number, bool:
		default:
			return false
		}
	}
	return true
}
