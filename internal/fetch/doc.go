// Package fetch owns downloading and verifying: one artifact streamed from a
// URL into a private temporary file while its sha256 is computed in the same
// pass, with timeouts, a size cap and bounded retries.
//
// A file this package returns has matched its expected digest; on any error
// nothing it wrote is left behind.
package fetch
