// Package config owns the user's configuration: the buildpack's three config
// vars, read from a directory of one file per variable (never from the
// process environment: the platform hands them over as files so that a
// buildpack chooses what to trust), validated into a version request and a
// download Source.
package config
