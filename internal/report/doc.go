// Package report owns the build report: what a classic compile records
// about itself and what bin/report prints from it, whatever the file holds.
package report
