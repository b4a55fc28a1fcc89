// Package report owns the build report: what a classic compile records
// about itself (the mesh version and how it was asked for, how it was
// verified, whether the cache was used, durations, the advice given, and
// why a build failed) and what bin/report prints from it afterwards, as
// Heroku's language buildpacks do. Recording never fails a build, and the
// report works after a failed compile, whatever its data file holds.
package report
