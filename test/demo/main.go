// Command demo shows the buildpack's main job offline: a loopback mirror
// serves a stand-in mesh release pinned in a demo inventory, and the real
// bin/detect, bin/compile and bin/release deploy a sample app with it; the
// slug then boots a one-off dyno, and a second push shows the cache.
//
// Run it with `make demo`.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) { fmt.Printf("\n\x1b[1;36m==> "+format+"\x1b[0m\n", a...) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "applink-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	say("Building the buildpack binary for linux/%s", runtime.GOARCH)
	bin, err := harness.BuildBinary(root, runtime.GOARCH, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}

	mirror := harness.NewMirror()
	defer mirror.Close()
	art := harness.Artifact{Version: "0.2.2", Arch: runtime.GOARCH,
		Data: []byte("#!/bin/sh\necho \"heroku-applink-service-mesh version v0.2.2 [os: linux, arch: " + runtime.GOARCH + "] (stand-in)\"\n")}
	mirror.Put(art.Object(), art.Data)
	say("Loopback release mirror at %s serves %s (%s)", mirror.URL(), art.Object(), art.Checksum())

	bp, err := harness.NewBuildpack(root, filepath.Join(work, "buildpack"), map[string]string{runtime.GOARCH: bin}, harness.Inventory(art))
	if err != nil {
		return err
	}
	app, err := harness.NewApp(bp, filepath.Join(root, "test/fixtures/node-app"), filepath.Join(work, "app"))
	if err != nil {
		return err
	}
	if err := app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", mirror.URL()); err != nil {
		return err
	}
	procfile, err := os.ReadFile(filepath.Join(root, "test/fixtures/node-app/Procfile"))
	if err != nil {
		return err
	}
	say("Deploying test/fixtures/node-app, whose Procfile is:")
	fmt.Print(indent(string(procfile)))

	say("git push heroku main  (detect, compile, release)")
	if err := app.Deploy(ctx); err != nil {
		return err
	}
	fmt.Print(app.RawOutput)
	say("bin/release printed:")
	fmt.Print(indent(app.Release))

	say("heroku run 'command -v heroku-applink-service-mesh && heroku-applink-service-mesh -v'  (slug at %s)", app.Slug)
	out, err := app.Run(ctx, "command -v heroku-applink-service-mesh && heroku-applink-service-mesh -v", nil)
	if err != nil {
		return fmt.Errorf("dyno: %v\n%s", err, out)
	}
	fmt.Print(indent(out))

	before := mirror.Requests()
	say("git push heroku main  (again: the build cache is used)")
	if err := app.Push(ctx); err != nil {
		return err
	}
	fmt.Print(app.RawOutput)
	say("The mirror served %d request(s) for the second build.", mirror.Requests()-before)
	return nil
}
