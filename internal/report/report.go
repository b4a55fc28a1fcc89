package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
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
// build's data with none: a compile that dies before Finish must not leave
// another build's data to report.
func Start(cacheDir, buildpackVersion, stack string, now func() time.Time) *Recorder {
	r := &Recorder{cacheDir: cacheDir, now: now, start: now(), data: map[string]any{}}
	r.save()
	r.Set("buildpack_version", buildpackVersion)
	if stack != "" {
		r.Set("stack", stack)
	}
	return r
}

// Set keeps a scalar: a string (cut to maxValue), a bool or a number.
func (r *Recorder) Set(key string, value any) {
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

// Release records what was asked for and what it resolved to.
func (r *Recorder) Release(rel install.Release) {
	r.Set("mesh_version", rel.Version)
	r.Set("mesh_arch", rel.Arch)
	r.Set("mesh_version_request_type", rel.Request.Kind())
	if rel.Request.String() != "default" {
		r.Set("mesh_version_requested", rel.Request.String())
	}
	r.Set("mesh_version_pinned", rel.Pinned())
	r.Set("mesh_source", rel.Source.Kind())
}

// Installed records how the binary was verified and obtained; cached is
// false when the build had no usable cache.
func (r *Recorder) Installed(res install.Result, cached bool) {
	r.Set("mesh_checksum", res.Checksum)
	r.Set("mesh_verification", "pinned-checksum")
	if res.Signer != "" {
		r.Set("mesh_verification", "signature")
		r.Set("mesh_signing_key_fingerprint", res.Signer)
	}
	switch {
	case !cached:
		r.Set("cache_status", "disabled")
	case res.Reused:
		r.Set("cache_status", "reused")
	case res.Discarded != "":
		r.Set("cache_status", "discarded")
		r.Set("cache_discard_reason", res.Discarded)
	default:
		r.Set("cache_status", "empty")
	}
	if res.Download > 0 {
		r.Set("mesh_download_duration", seconds(res.Download))
	}
}

// Advice records the kinds of advice the build gave, each once, in the
// order given, as whole names: when they do not all fit in a value, the
// last ones go, and advice_count still counts them.
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
	r.Set("advice", strings.Join(kept, ","))
	r.Set("advice_count", len(given))
}

// Finish records the total duration and, for a failed build, why; saves
// the data; and returns err unchanged.
func (r *Recorder) Finish(err error) error {
	if r == nil {
		return err
	}
	r.Set("total_duration", seconds(r.now().Sub(r.start)))
	if err != nil {
		r.Set("failure_reason", Reason(err))
		line, _, _ := strings.Cut(err.Error(), "\n")
		r.Set("failure_detail", line)
	}
	r.save()
	return err
}

// Reason is how the build report names a failure: each error a user can
// meet names itself, namespaced as Heroku's buildpacks name theirs.
func Reason(err error) string {
	var named interface{ Reason() string }
	switch {
	case errors.As(err, &named):
		return named.Reason()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "build::cancelled"
	}
	return "internal-error::unhandled"
}

// save writes the data where bin/report finds it, best effort: a build
// whose cache cannot take it loses its report, nothing else.
func (r *Recorder) save() {
	data, err := json.Marshal(r.data)
	if r.cacheDir == "" || err != nil {
		return
	}
	root, err := os.OpenRoot(r.cacheDir)
	if err != nil {
		return
	}
	defer root.Close()
	if root.MkdirAll(Dir, 0o755) == nil {
		fsutil.WriteFile(root, Dir+"/"+FileName, data, 0o644)
	}
}

// Print writes the recorded data as bin/report prints it: one flat JSON
// object, keys sorted, which is also valid YAML. Strings are cut and
// escaped, numbers must be finite; data that is anything else (or none)
// prints as {}: a report never fails.
func Print(w io.Writer, cacheDir string) error {
	data := map[string]any{}
	if root, err := os.OpenRoot(cacheDir); err == nil {
		raw, err := fsutil.ReadFile(root, Dir+"/"+FileName, maxSize)
		root.Close()
		var got map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err == nil && dec.Decode(&got) == nil && got != nil && clean(got) {
			data = got
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

// clean checks every value is a string, a finite number or a boolean, and
// makes each string safe to print.
func clean(m map[string]any) bool {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			m[k] = output.Escape(cut(v))
		case json.Number:
			if f, err := v.Float64(); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return false
			}
		case bool:
		default:
			return false
		}
		if k != output.Escape(cut(k)) {
			return false
		}
	}
	return true
}
