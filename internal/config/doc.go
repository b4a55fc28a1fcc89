// Package config owns the user's configuration: three config vars, read from
// a directory of one file per variable, never from the process environment
// (so the buildpack chooses what to trust), validated into a Config.
package config
