// Package advice owns the checks a build runs on the app's AppLink setup
// once the mesh is installed: the Procfile, the mesh's config file and the
// add-on's config vars, in that order, each told what the others found.
// It reads the config vars' names, never a value. Classic and CNB builds
// run the same checks through it. Advice never fails a build.
package advice
