// Package source owns where release files come from: the official release
// bucket, a bucket that replaces it, or a mirror; what the bucket calls each
// file; and keeping the credentials a mirror URL may carry out of
// everything the buildpack prints or stores.
//
// A URL built here may carry credentials and is only ever handed to the
// HTTP client. Whatever is shown goes through Redact, and whatever is
// written down (layer metadata, the SBOM, the cache index) through Public.
package source
