// Package config owns the buildpack's configuration: the three config vars
// a user may set, read from a directory of one file per variable (a classic
// ENV_DIR or a CNB <platform>/env) and validated into a version request and
// a download source; and the operator's knobs (timeouts, retry delay), read
// from the build's own environment.
//
// Nothing here reads the process environment itself: the classic platform
// hands config vars over as files precisely so that a buildpack chooses
// what to trust, and this buildpack reads its own three names and ignores
// the rest.
package config
