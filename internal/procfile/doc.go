// Package procfile owns reading an app's Procfile and the advice the
// buildpack gives about it. The mesh only works when the web process starts
// through it, and the most common AppLink deploy problem is a Procfile that
// does not; so the buildpack reads each command as bash does, with a bash
// parser, says what it sees, and suggests a line that means what it says.
// It never fails a build.
package procfile
