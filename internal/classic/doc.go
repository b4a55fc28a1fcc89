// Package classic owns the Heroku classic buildpack contract: bin/detect,
// bin/compile and bin/release. It is a thin adapter: it decides where things
// go on a classic build (the slug's vendor directory, CACHE_DIR, .profile.d,
// the buildpack's export file) and leaves installing to package install.
package classic
