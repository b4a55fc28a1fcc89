package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// The data lives in the build cache's build-data folder, which Heroku's
// buildpacks share; strings are cut to maxValue, as theirs are.
const (
	Dir      = "build-data"
	FileName = "heroku-applink-service-mesh.json"
	maxValue = 200
	maxSize  = 64 << 10
)

// Recorder collects one compile's data.
type Recorder struct {
	cacheDir string
	now      func() time.Time
	start    time.Time
	data     map[string]any
}

// Start begins recording, first replacing the last build's data with none:
// a compile that dies must not leave another build's data to report.
func Start(cacheDir, buildpackVersion, stack string, now func() time.Time) *Recorder {
	r := &Recorder{cacheDir: cacheDir, now: now, start: now(), data: map[string]any{}}
	if root, err := fsutil.OpenRoot(cacheDir); err == nil {
		root.Remove(Dir + "/" + FileName)
		root.Close()
	}
	r.set("buildpack_version", buildpackVersion)
	if stack != "" {
		r.set("stack", stack)
	}
	return r
}

func (r *Recorder) set(key string, value any) {
	if s, ok := value.(string); ok {
		value = cut(s)
	}
	r.data[key] = value
}

// cut keeps maxValue bytes at most, whole characters, invalid bytes as U+FFFD.
func cut(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	i := min(len(s), maxValue)
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// seconds is d to the microsecond, without d.Seconds()'s float noise (1.5900560000000001).
func seconds(d time.Duration) float64 { return float64(d.Round(time.Microsecond).Microseconds()) / 1e6 }

func (r *Recorder) Release(rel install.Release) {
	r.set("mesh_version", rel.Version)
	r.set("mesh_arch", rel.Arch)
	r.set("mesh_version_request_type", rel.Request.Kind())
	if rel.Request.String() != "default" {
		r.set("mesh_version_requested", rel.Request.String())
	}
	r.set("mesh_version_pinned", rel.Pinned())
	r.set("mesh_source", rel.Source.Kind())
}

// Installed records how the binary was verified and obtained.
func (r *Recorder) Installed(res install.Result, cached bool) {
	r.set("mesh_checksum", res.Checksum)
	r.set("mesh_verification", "pinned-checksum")
	if res.Signer != "" {
		r.set("mesh_verification", "signature")
		r.set("mesh_signing_key_fingerprint", res.Signer)
	}
	status := "empty"
	switch {
	case !cached:
		status = "disabled"
	case res.Reused:
		status = "reused"
	case res.Discarded != "":
		status = "discarded"
		r.set("cache_discard_reason", res.Discarded)
	}
	r.set("cache_status", status)
	if res.Download > 0 {
		r.set("mesh_download_duration", seconds(res.Download))
	}
}

// Advice records each kind of advice once, as whole names: the last ones
// go when they do not fit, and advice_count still counts them.
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

// Finish records the duration and why a build failed, saves, and returns err.
func (r *Recorder) Finish(err error) error {
	r.set("total_duration", seconds(r.now().Sub(r.start)))
	if err != nil {
		r.set("failure_reason", Reason(err))
		line, _, _ := strings.Cut(err.Error(), "\n")
		r.set("failure_detail", line)
	}
	r.save()
	return err
}

// Reason is how the report names a failure: each error names itself.
func Reason(err error) string {
	var named interface{ Reason() string }
	if errors.As(err, &named) {
		return named.Reason()
	} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "build::cancelled"
	}
	return "internal-error::unhandled"
}

// save is best effort: a cache that cannot take it costs the report only.
func (r *Recorder) save() {
	data, _ := json.Marshal(r.data)
	if root, err := fsutil.OpenRoot(r.cacheDir); err == nil {
		fsutil.WriteFile(root, Dir+"/"+FileName, bytes.NewReader(data), 0o644)
		root.Close()
	}
}

// Print writes the data as one flat JSON object, keys sorted, which is also
// YAML: strings cut and escaped, numbers finite; anything else prints {}.
func Print(w io.Writer, cacheDir string) error {
	data := map[string]any{}
	if root, err := fsutil.OpenRoot(cacheDir); err == nil {
		raw, err := fsutil.ReadFile(root, Dir+"/"+FileName, maxSize)
		root.Close()
		var got map[string]any
		// A number too large for a float64 fails to decode: none is infinite.
		if err == nil && json.Unmarshal(raw, &got) == nil && got != nil && clean(got) {
			data = got
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

func clean(m map[string]any) bool {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			m[k] = cut(output.Escape(v))
		case float64, bool: // a number prints as short as its value, whatever its text was
		default:
			return false
		}
		if k != output.Escape(cut(k)) {
			return false
		}
	}
	return true
}
