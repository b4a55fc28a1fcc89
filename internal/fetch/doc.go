// Package fetch owns downloading: one file streamed from a URL while its
// sha256 is computed in the same pass, with timeouts, a size cap and bounded
// retries, every failure an error that says whether a retry could help.
package fetch
