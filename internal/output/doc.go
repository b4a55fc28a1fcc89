// Package output owns everything the buildpack prints for humans, in the
// classic or the CNB style: steps and details on one stream, warnings and
// errors on the other, and every line escaped on its way out.
package output
