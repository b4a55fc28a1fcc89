// Package classic adapts the install to Heroku's classic contract
// (bin/compile): the slug's vendor directory, the build cache, .profile.d
// and the buildpack's export file.
package classic
