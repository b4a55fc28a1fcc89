// Package advice checks the app's AppLink setup once the mesh is installed, so
// that what would fail only at boot (or as a 401) is told at build time: the
// Procfile, read as bash reads it; the mesh's config file, decoded as the mesh
// decodes it; the add-on's config var names. Advice never fails a build.
package advice
