// Command bench measures what the buildpack costs, each figure a ratio
// against a baseline measured in the same run, and writes docs/BENCHMARKS.md.
// Run it with `make bench`; it is never part of `make test`.
//
// Builds fetch from a loopback mirror serving the artifacts from memory.
// The baselines are built in the run: copyhash (a cached rebuild's floor)
// and noop (an empty Go program, bin/detect's), both in this directory.
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

const mib = 1 << 20

type row struct {
	measure, ours, baseline, ratio, target string
	met                                    bool
}

type bench struct {
	root, work     string
	out            string // what a baseline writes
	bp             *harness.Buildpack
	mirror         *testhelpers.Mirror
	arts           map[int]testhelpers.Artifact // by size in MiB
	copyhash, noop string
	rows           []row
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

func run() error {
	defer harness.RemoveLifecycleCopies()
	start := time.Now()
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := harness.ReachableTempDir("bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{root: root, work: work, arts: map[int]testhelpers.Artifact{},
		copyhash: filepath.Join(work, "copyhash"), noop: filepath.Join(work, "noop"), out: filepath.Join(work, "baseline-out")}

	fmt.Println("-----> Building the buildpack, the baselines and the artifacts")
	bin, err := harness.BuildBinary(root, runtime.GOARCH, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}
	for _, out := range []string{b.copyhash, b.noop} {
		if err := harness.BuildGo(root, "./test/bench/"+filepath.Base(out), runtime.GOARCH, out); err != nil {
			return err
		}
	}
	b.mirror = testhelpers.NewMirror()
	defer b.mirror.Close()
	var arts []testhelpers.Artifact
	for _, size := range []int{10, 100, 500} {
		data := make([]byte, size*mib)
		rand.NewChaCha8([32]byte{byte(size)}).Read(data)
		a := testhelpers.Artifact{Version: fmt.Sprintf("%d.0.0", size), Arch: runtime.GOARCH, Data: data}
		b.arts[size] = a
		b.mirror.Put(a.Object(), a.Data)
		arts = append(arts, a)
	}
	// Pinned: a build keeps only a pinned release in its cache.
	if b.bp, err = harness.NewBuildpack(root, filepath.Join(work, "buildpack"), map[string]string{runtime.GOARCH: bin}, testhelpers.Inventory("", arts...)); err != nil {
		return err
	}

	for _, step := range []func() error{b.cachedRebuilds, b.detect, b.firstInstalls, b.memory, b.cnb} {
		if err := step(); err != nil {
			return err
		}
	}
	table := b.table()
	fmt.Print("\n" + table)
	if err := b.writeDoc(table, time.Since(start)); err != nil {
		return err
	}
	fmt.Printf("\n-----> Wrote docs/BENCHMARKS.md (%.0fs)\n", time.Since(start).Seconds())
	return nil
}

// measurement is one run of a command.
type measurement struct {
	took   time.Duration
	peakKB int64
}

// measure runs cmd and records its wall time and, with rss, its peak
// resident set.
func measure(cmd *exec.Cmd, rss bool) (m measurement, err error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err = cmd.Start(); err == nil {
		if rss {
			m.peakKB, err = watch(cmd)
		} else {
			err = cmd.Wait()
		}
	}
	m.took = time.Since(start)
	if err != nil {
		return m, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	return m, nil
}

var hwm = regexp.MustCompile(`(?m)^VmHWM:\s*(\d+) kB`)

// watch waits for a started cmd, polling its VmHWM in /proc, not wait4's
// rusage: a child forked from this process (which holds the artifacts in
// memory) reports this process's high-water mark as its own.
func watch(cmd *exec.Cmd) (int64, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	for {
		if data, err := os.ReadFile(status); err == nil {
			if m := hwm.FindSubmatch(data); m != nil {
				kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
				peak = max(peak, kb)
			}
		}
		select {
		case err := <-done:
			return peak, err
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// medians runs ours and base alternately, so that drift hits both alike,
// and returns the median wall time of each.
func medians(runs int, ours, base func() (measurement, error)) (time.Duration, time.Duration, error) {
	times := [2][]time.Duration{}
	for range runs {
		for i, f := range []func() (measurement, error){ours, base} {
			m, err := f()
			if err != nil {
				return 0, 0, err
			}
			times[i] = append(times[i], m.took)
		}
	}
	return median(times[0]), median(times[1]), nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// ratio adds a row comparing ours to base, met when at most target.
func (b *bench) ratio(measure string, ours, base time.Duration, target float64) {
	r := float64(ours) / float64(base)
	b.rows = append(b.rows, row{measure, ms(ours), ms(base), fmt.Sprintf("%.2f", r), fmt.Sprintf("≤ %g", target), r <= target})
}

// runs is how many times a build and its baseline run, alternately.
func runs(size int) int {
	if size >= 100 {
		return 11
	}
	return 21
}

// configVars name the release of size and the mirror.
func (b *bench) configVars(size int) map[string]string {
	return map[string]string{config.VarMirror: b.mirror.URL(), config.VarVersion: b.arts[size].Version}
}

// compile runs bin/compile as the platform does, on a fresh build dir
// holding the sample app, with the given cache and an env dir naming the
// release and the mirror; then it removes the build dir.
func (b *bench) compile(size int, cache string, rss bool) (measurement, error) {
	dir, err := os.MkdirTemp(b.work, "build-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	build, env := filepath.Join(dir, "app"), filepath.Join(dir, "env")
	if err := harness.PrepareSource(build, filepath.Join(b.root, "test/fixtures/sample-app"), nil); err != nil {
		return measurement{}, err
	}
	if err := os.MkdirAll(env, 0o755); err != nil {
		return measurement{}, err
	}
	for k, v := range b.configVars(size) {
		if err := os.WriteFile(filepath.Join(env, k), []byte(v), 0o644); err != nil {
			return measurement{}, err
		}
	}
	cmd := exec.Command(filepath.Join(b.bp.Dir, "bin/compile"), build, cache, env)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=heroku-24", "NO_COLOR=1"}
	return measure(cmd, rss)
}

// firstBuild runs bin/compile with an empty cache, then removes the cache.
func (b *bench) firstBuild(size int, rss bool) (measurement, error) {
	cache, err := os.MkdirTemp(b.work, "cache-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(cache)
	return b.compile(size, cache, rss)
}

// baseline runs a baseline command, which writes b.out, then removes it.
func (b *bench) baseline(args ...string) (measurement, error) {
	defer os.Remove(b.out)
	return measure(exec.Command(args[0], args[1:]...), false)
}

// cachedRebuilds: bin/compile with the cache of an earlier build, against
// copyhash from that cache's entry; and the mirror requests they made.
func (b *bench) cachedRebuilds() error {
	requests, total := 0, 0
	for _, size := range []int{10, 100} {
		fmt.Printf("-----> Cached rebuild, %d MiB\n", size)
		cache := filepath.Join(b.work, fmt.Sprintf("cache-warm-%d", size))
		if _, err := b.compile(size, cache, false); err != nil {
			return err
		}
		a := b.arts[size]
		entry := filepath.Join(cache, classic.CacheFolder, "sha256", a.Hex())
		if _, err := os.Stat(entry); err != nil {
			return fmt.Errorf("the first build kept no cache entry: %w", err)
		}
		before := b.mirror.Requests()
		ours, base, err := medians(runs(size),
			func() (measurement, error) { return b.compile(size, cache, false) },
			func() (measurement, error) { return b.baseline(b.copyhash, entry, b.out, a.Hex()) })
		if err != nil {
			return err
		}
		requests += b.mirror.Requests() - before
		total += runs(size)
		b.ratio(fmt.Sprintf("Cached rebuild, %d MiB (bin/compile vs copyhash of the cached file)", size), ours, base, 1.2)
	}
	b.rows = append(b.rows, row{fmt.Sprintf("Mirror requests during the %d cached rebuilds", total), strconv.Itoa(requests), "", "", "0", requests == 0})
	return nil
}

// detect: the packaged bin/detect against an empty Go program.
func (b *bench) detect() error {
	fmt.Println("-----> bin/detect")
	app := filepath.Join(b.work, "detect-app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return err
	}
	run := func(name string, args ...string) func() (measurement, error) {
		return func() (measurement, error) {
			cmd := exec.Command(name, args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			return measure(cmd, false)
		}
	}
	ours, base, err := medians(51, run(filepath.Join(b.bp.Dir, "bin/detect"), app), run(b.noop))
	if err != nil {
		return err
	}
	b.ratio("bin/detect, packaged (vs an empty Go program)", ours, base, 1.5)
	return nil
}

// firstInstalls: bin/compile with an empty cache against curl + sha256sum
// of the same artifact from the same mirror.
func (b *bench) firstInstalls() error {
	for _, size := range []int{10, 100} {
		fmt.Printf("-----> First install, %d MiB\n", size)
		url := b.mirror.URL() + "/" + b.arts[size].Object()
		ours, base, err := medians(runs(size),
			func() (measurement, error) { return b.firstBuild(size, false) },
			func() (measurement, error) {
				return b.baseline("sh", "-c", `curl -fsS -o "$1" "$2" && sha256sum "$1"`, "sh", b.out, url)
			})
		if err != nil {
			return err
		}
		b.ratio(fmt.Sprintf("First install, %d MiB (bin/compile vs curl + sha256sum)", size), ours, base, 0.9)
	}
	return nil
}

// memory: the peak resident set of bin/compile (the shim execs the binary in
// the same process) on first installs of 100 and 500 MiB, the highest of
// three runs each.
func (b *bench) memory() error {
	fmt.Println("-----> Peak resident memory")
	peak := map[int]int64{}
	for _, size := range []int{100, 500} {
		for range 3 {
			m, err := b.firstBuild(size, true)
			if err != nil {
				return err
			}
			peak[size] = max(peak[size], m.peakKB)
		}
	}
	const limit = 30 * 1024
	flat := float64(peak[500]) / float64(peak[100])
	mb := func(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
	b.rows = append(b.rows,
		row{"Peak RSS of bin/compile, 100 MiB", mb(peak[100]), "", "", "≤ 30 MiB", peak[100] <= limit},
		row{"Peak RSS of bin/compile, 500 MiB (vs 100 MiB: flat)", mb(peak[500]), mb(peak[100]), fmt.Sprintf("%.2f", flat),
			"≤ 30 MiB, ≤ 1.1", peak[500] <= limit && flat <= 1.1})
	return nil
}

// cnb, for reference: the lifecycle's builder on 100 MiB, a rebuild after
// the platform restored the layer against the first build.
func (b *bench) cnb() error {
	fmt.Println("-----> CNB builder (lifecycle " + harness.LifecycleVersion + ")")
	lc, err := harness.EnsureLifecycle(b.root)
	if err != nil {
		return err
	}
	version, err := harness.BuildpackVersion(b.root)
	if err != nil {
		return err
	}
	var first, again []time.Duration
	requests := 0
	for i := range 3 {
		p, err := harness.NewPlatform(lc, filepath.Join(b.work, fmt.Sprintf("platform-%d", i)), filepath.Join(b.root, "test/fixtures/sample-app"),
			harness.CNBBuildpack{Dir: b.bp.Dir, ID: "heroku/heroku-applink", Version: version})
		if err != nil {
			return err
		}
		for k, v := range b.configVars(100) {
			if err := p.SetEnv(k, v); err != nil {
				return err
			}
		}
		build := func(into *[]time.Duration) error {
			if res, err := p.Detect(context.Background()); err != nil || res.Code != 0 {
				return fmt.Errorf("detect: %v %s", err, res.Output)
			}
			start := time.Now()
			if res, err := p.Build(context.Background()); err != nil || res.Code != 0 {
				return fmt.Errorf("build: %v %s", err, res.Output)
			}
			*into = append(*into, time.Since(start))
			return nil
		}
		if err := build(&first); err != nil {
			return err
		}
		if err := p.Restore(); err != nil {
			return err
		}
		before := b.mirror.Requests()
		if err := build(&again); err != nil {
			return err
		}
		requests += b.mirror.Requests() - before
	}
	r := float64(median(again)) / float64(median(first))
	b.rows = append(b.rows,
		row{"CNB builder, 100 MiB: rebuild with the restored layer (vs first build)", ms(median(again)), ms(median(first)), fmt.Sprintf("%.2f", r), "", true},
		row{"Mirror requests during the 3 CNB rebuilds", strconv.Itoa(requests), "", "", "0", requests == 0})
	return nil
}

func (b *bench) table() string {
	var s strings.Builder
	s.WriteString("| Measure | Ours | Baseline | Ratio | Target | Met |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range b.rows {
		met := map[bool]string{true: "yes", false: "**no**"}[r.met]
		if r.target == "" {
			met = ""
		}
		fmt.Fprintf(&s, "| %s | %s | %s | %s | %s | %s |\n", r.measure, r.ours, r.baseline, r.ratio, r.target, met)
	}
	return s.String()
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(data); m != nil {
			cpu = string(m[1])
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(data); m != nil {
			kb, _ := strconv.Atoi(string(m[1]))
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/1024/1024)
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("%s, %d cores%s, Linux %s; load average %s at the end (1, 5, 15 min)",
		cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), load)
}

func (b *bench) writeDoc(table string, took time.Duration) error {
	curl := "unknown"
	if out, err := exec.Command("curl", "--version").Output(); err == nil {
		curl = strings.Join(strings.Fields(string(out))[:2], " ")
	}
	doc := fmt.Sprintf(`# Benchmarks

Written by `+"`make bench`"+` (test/bench) on %s, in %.0f s.

- Machine: %s
- Go: %s
- curl: %s

Each time is the median of repeated runs, interleaved with its baseline's in the same run. Builds
run the real `+"`bin/compile`"+` (shim included) of the buildpack as the platform sees it (prebuilt
binary, an inventory pinning the artifacts) on a fresh build dir, against a loopback mirror serving
random artifacts from memory. A machine busy with other work moves the figures: read them as
indicative.

%s
## Baselines

- **Cached rebuild**: bin/compile with the cache of an earlier build of the pinned release, against
  `+"`test/bench/copyhash`"+`: one Go process that reads the cached file once, hashing it with sha256
  while writing the copy into a new file (io.MultiWriter), checks the sum and sets mode 0755.
  The build copies in 1 MiB reads and writes, the baseline in io.Copy's 32 KiB ones. A build
  does about 5 ms of work besides the copy, which weighs on a 10 MiB artifact and not on a
  100 MiB one: the shim (under 1 ms), the start of a 9 MiB binary (about 5 ms to main's end for
  an unknown phase, against 1.6 ms for an empty Go program: page faults and package
  initialisation, 1 ms of it), then the config vars and the inventory, the slug's folders, the
  links, the PATH script, the export file, the build report and the Procfile check.
- **bin/detect**: the packaged bin/detect (a POSIX sh script) against `+"`test/bench/noop`"+`, a
  Go program that does nothing.
- **First install**: bin/compile with an empty cache, against
  `+"`curl -fsS -o FILE URL && sha256sum FILE`"+` on the same artifact from the same mirror. The build
  also writes the artifact a second time, into the cache; the baseline does not.
- **Peak RSS**: the highest VmHWM of bin/compile (the shim execs the binary in the same process)
  polled from /proc over three first installs; flat means the 500 MiB figure over the 100 MiB one.
- **CNB**, for reference: the lifecycle's builder after the platform restored the layer, against
  its first build (median of three). Cached rebuilds must make no mirror request.
`, time.Now().UTC().Format("2006-01-02 15:04 UTC"), took.Seconds(), machine(),
		runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH, curl, table)
	return os.WriteFile(filepath.Join(b.root, "docs", "BENCHMARKS.md"), []byte(doc), 0o644)
}
