// Package meshconfig owns the check of the mesh's own config file,
// heroku-applink-service-mesh.yaml. The mesh reads it strictly at boot and
// exits on anything it does not expect, long after the build said "Done";
// so the build reads it the same way, with the same YAML library, and says
// what the mesh will do: whether it starts, which routes skip
// authentication, and which copies of the file it will never read. It
// warns and never fails a build.
package meshconfig
