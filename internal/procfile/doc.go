// Package procfile owns reading an app's Procfile and the advice the
// buildpack gives about it. The mesh only works when the web process starts
// through it, and the most common AppLink deploy problem is a Procfile that
// does not; so the buildpack says what it sees, and never fails a build over
// it.
package procfile
