// Package meshconfig owns the check of the mesh's own config file,
// heroku-applink-service-mesh.yaml. The mesh reads it strictly at boot and
// exits on anything it does not expect, long after the build said "Done";
// so the build decodes it the same way, with the same YAML decoder and
// shape, reports what the decoder reports, and adds what the mesh takes
// without a word but that breaks routing or authentication: which routes
// skip authentication, where requests go, and which copies of the file it
// will never read. It warns and never fails a build.
package meshconfig
